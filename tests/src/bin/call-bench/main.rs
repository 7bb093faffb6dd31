//! `scripts/bench call`: a call between two real `duet up` processes on the
//! simulated LAN, compared in the same run with the in-process MediaSession
//! pair (`gst/examples/media-bench.rs`, the media floor). Prints Markdown
//! (copy it into BENCHMARKS.md).
//!
//! - first frame: from starting the `duet call bob` client process (wall
//!   clock) to `first_frame_at` of each side (when its first remote video
//!   frame reached the sink), read from `duet status --json` once connected;
//!   the callee answers at once (`--auto-answer`). The same two nodes make
//!   every call; the first one is reported on its own (warm-up), the others
//!   give the median and p95. Between calls: `duet hangup`, then both nodes
//!   have no call.
//! - steady state: on the last `--cpu-calls` calls, after `--settle` seconds,
//!   CPU of each node over `--window` seconds (/proc/PID/stat utime+stime,
//!   % of one core), VmRSS and VmHWM, glass-to-glass per direction
//!   (`stats.glass_to_glass_ms` of the receiving side: every frame of the
//!   call so far), CPU by thread.
//! - phases: node logs (`info,duet_node=debug`) timed against the start of
//!   `duet call`: median offset of each log message over the calls.
//! - floor: `media-bench --json` (built next to this binary, or
//!   `--media-bin PATH`), `--media-runs` runs: one after each steady-state
//!   call (so a change in the machine's load hits both alike), the rest
//!   before the calls; ratios call / floor.
//!
//! Options: --calls N (21: 1 warm-up + 20), --cpu-calls N (5), --settle S (2),
//! --window S (6), --media-runs N (8), --media-seconds S (5), --media-bin PATH,
//! --no-media, --log RUST_LOG (info,duet_node=debug), --codec vp8|h264,
//! --first-call-delay S (0: the first call as soon as both list each other),
//! --display none|window (none: headless; window: each node in window mode
//! on its own Xvfb — glass-to-glass is then read on the call window's
//! composed picture, when the remote frame is first composed; the window's
//! sink shows it without waiting on the clock),
//! --ring MS (0: auto-answer; else bob rings MS ms, is answered with
//! `duet answer`, and the first-frame figures count from that answer).
//!
//! This file runs the bench in order; the parts are [`args`] (options),
//! [`floor`] (media-bench runs), [`calls`] (placing and timing a call),
//! [`steady`] (CPU, memory, glass-to-glass during a call and between calls),
//! [`phases`] (the log timeline) and [`report`] (the Markdown and verdicts).
//! Shared with `discovery-bench`: [`duet_tests::measure`].

mod args;
mod calls;
mod floor;
mod phases;
mod report;
mod steady;

use anyhow::Context;
use duet_tests::measure::{loadavg, machine_line};
use duet_tests::node::{duet_bin, DuetNode};
use duet_tests::xvfb::Xvfb;
use duet_tests::Lan;
use serde_json::Value;
use std::time::Duration;

/// How long a node may take to list the other, end a call, show a frame.
const DEADLINE: Duration = Duration::from_secs(30);

/// A JSON number, NaN where there is none.
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn main() -> anyhow::Result<()> {
    let args = args::parse_args()?;
    let load0 = loadavg();
    let started = machine_line();
    eprintln!("duet binary: {}", duet_bin().display());
    // The floor's runs: some before the calls, one after each steady-state
    // call (interleaved, so a change in the machine's load hits both alike).
    let interleaved = if args.media {
        args.cpu_calls.min(args.media_runs)
    } else {
        0
    };
    let mut floor = if args.media {
        let before = args.media_runs - interleaved;
        eprintln!("media floor: media-bench, {before} runs now, {interleaved} between the calls…");
        Some(if before > 0 {
            floor::media_floor(&args, before)?
        } else {
            floor::media_floor(&args, 1)?
        })
    } else {
        None
    };

    let lan = Lan::new(2)?;
    // Window mode: one X server per node, kept until the end.
    let xs = if args.display == "window" {
        Some([Xvfb::start()?, Xvfb::start()?])
    } else {
        None
    };
    let x = |i: usize| xs.as_ref().map(|xs| xs[i].display.as_str());
    let alice = DuetNode::start_with(
        lan.host(0),
        calls::node_opts("alice", &args.log, &args.codec, x(0), args.ring_ms == 0),
    )?;
    let bob = DuetNode::start_with(
        lan.host(1),
        calls::node_opts("bob", &args.log, &args.codec, x(1), args.ring_ms == 0),
    )?;
    alice.wait_to_meet(&bob, DEADLINE)?;

    if args.first_call_delay > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(args.first_call_delay));
    }
    // VmRSS of both nodes with no call: before the first call, after each hangup.
    let mut idle_rss: Vec<[f64; 2]> = vec![[steady::rss_mib(&alice)?, steady::rss_mib(&bob)?]];
    // Threads and open files of both nodes with no call (a leak check).
    let mut idle_counts = vec![[steady::counts(&alice), steady::counts(&bob)]];
    let mut runs = Vec::new();
    let mut steadies: Vec<[steady::Steady; 2]> = Vec::new();
    for i in 0..args.calls {
        let ring = (args.ring_ms > 0).then(|| Duration::from_millis(args.ring_ms));
        let run = calls::one_call(&alice, &bob, ring).with_context(|| format!("call {}", i + 1))?;
        eprintln!(
            "call {:2}: connected {:6.1} ms, first frame caller {:6.1} ms callee {:6.1} ms \
             (media start → frame: {:5.1} / {:5.1} ms), RSS {:.1} / {:.1} MiB",
            i + 1,
            run.connected,
            run.caller,
            run.callee,
            run.caller_media,
            run.callee_media,
            steady::rss_mib(&alice)?,
            steady::rss_mib(&bob)?
        );
        runs.push(run);
        if i >= args.calls - args.cpu_calls {
            let s = steady::steady([&alice, &bob], args.settle, args.window)?;
            eprintln!(
                "         steady: CPU {:.1} % / {:.1} %, RSS {:.1} / {:.1} MiB, g2g a→b {:?} b→a {:?}",
                s[0].cpu, s[1].cpu, s[0].rss_mib, s[1].rss_mib, s[1].g2g, s[0].g2g
            );
            steadies.push(s);
        }
        calls::hang_up(&alice, &bob)?;
        idle_rss.push([steady::rss_mib(&alice)?, steady::rss_mib(&bob)?]);
        if i == 0 || i + 1 == args.calls {
            idle_counts.push([steady::counts(&alice), steady::counts(&bob)]);
        }
        let steady_index = (i + args.cpu_calls).checked_sub(args.calls);
        if let (Some(fl), Some(k)) = (floor.as_mut(), steady_index) {
            if k < interleaved {
                fl.extend(floor::media_floor(&args, 1)?);
            }
        }
    }
    let load1 = loadavg();

    report::print(
        &args,
        &report::Results {
            started,
            load0,
            load1,
            runs,
            steadies,
            floor,
            interleaved,
            idle_rss,
            idle_counts,
        },
    );
    Ok(())
}

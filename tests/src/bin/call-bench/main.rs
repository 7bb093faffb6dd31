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
//! - topologies (`--topology same,routed,relay`, or `all`; [`topology`]):
//!   one subnet, or two joined by a router with a `duet broker`, media
//!   direct, through the broker's TURN, or signalling over its relay
//!   circuit as well. Every topology gets its own LAN and nodes, set up
//!   before the first call; the calls take turns (call 1 in each topology,
//!   then call 2, …), so a change in the machine's load hits all alike.
//!   The route of every call (`stats.route` of both sides) is recorded.
//!   With more than one, a comparison table (ratios to the first) comes
//!   first, then each topology's own report.
//!
//! Options: --calls N (21: 1 warm-up + 20), --cpu-calls N (5), --settle S (2),
//! --window S (6), --media-runs N (8), --media-seconds S (5), --media-bin PATH,
//! --no-media, --log RUST_LOG (info,duet_node=debug), --codec vp8|h264,
//! --video-fec SPEC (the node's default),
//! --first-call-delay S (0: the first call as soon as both list each other),
//! --display none|window (none: headless; window: each node in window mode
//! on its own Xvfb — glass-to-glass is then read on the call window's
//! composed picture, when the remote frame is first composed; the window's
//! sink shows it without waiting on the clock),
//! --ring MS (0: auto-answer; else bob rings MS ms, is answered with
//! `duet answer`, and the first-frame figures count from that answer),
//! --topology LIST (same).
//!
//! This file runs the bench in order; the parts are [`args`] (options),
//! [`floor`] (media-bench runs), [`calls`] (placing and timing a call),
//! [`steady`] (CPU, memory, glass-to-glass during a call and between calls),
//! [`phases`] (the log timeline), [`topology`] (where the nodes sit),
//! [`report`] (the Markdown and verdicts) and [`compare`] (topologies side
//! by side).
//! Shared with `discovery-bench`: [`duet_tests::measure`].

mod args;
mod calls;
mod compare;
mod floor;
mod phases;
mod report;
mod steady;
mod topology;

use anyhow::Context;
use duet_tests::measure::{loadavg, machine_line};
use duet_tests::node::duet_bin;
use serde_json::Value;
use std::time::Duration;
use topology::Setup;

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

    let mut benches = Vec::new();
    for &t in &args.topologies {
        eprintln!("topology {}: {}", t.name(), t.describe());
        let setup = Setup::start(t, &args).with_context(|| format!("topology {}", t.name()))?;
        benches.push(Bench::new(setup)?);
    }
    if args.first_call_delay > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(args.first_call_delay));
    }
    for i in 0..args.calls {
        for b in &mut benches {
            b.call(&args, i)
                .with_context(|| format!("topology {}, call {}", b.setup.topology.name(), i + 1))?;
        }
        let steady_index = (i + args.cpu_calls).checked_sub(args.calls);
        if let (Some(fl), Some(k)) = (floor.as_mut(), steady_index) {
            if k < interleaved {
                fl.extend(floor::media_floor(&args, 1)?);
            }
        }
    }
    let load1 = loadavg();
    let results: Vec<report::Results> = benches
        .into_iter()
        .map(|b| report::Results {
            topology: b.setup.topology,
            started: started.clone(),
            load0: load0.clone(),
            load1: load1.clone(),
            runs: b.runs,
            steadies: b.steadies,
            floor: None,
            interleaved,
            idle_rss: b.idle_rss,
            idle_counts: b.idle_counts,
        })
        .collect();
    if results.len() > 1 {
        compare::print(&args, &results, floor.as_ref());
    }
    for r in results {
        if args.topologies.len() > 1 {
            println!();
            println!("### Topology `{}`", r.topology.name());
            println!();
        }
        report::print(
            &args,
            &report::Results {
                floor: floor.clone(),
                ..r
            },
        );
    }
    Ok(())
}

/// One topology's nodes and what their calls measured so far.
struct Bench {
    setup: Setup,
    runs: Vec<calls::CallRun>,
    steadies: Vec<[steady::Steady; 2]>,
    /// VmRSS of both nodes with no call: before the first call, after each hangup.
    idle_rss: Vec<[f64; 2]>,
    /// Threads and open files of both nodes with no call (a leak check).
    idle_counts: Vec<[(usize, usize); 2]>,
}

impl Bench {
    fn new(setup: Setup) -> anyhow::Result<Bench> {
        let (alice, bob) = (&setup.alice, &setup.bob);
        Ok(Bench {
            idle_rss: vec![[steady::rss_mib(alice)?, steady::rss_mib(bob)?]],
            idle_counts: vec![[steady::counts(alice), steady::counts(bob)]],
            runs: Vec::new(),
            steadies: Vec::new(),
            setup,
        })
    }

    /// Call `i` (0-based) of this topology: timed, measured steady if it
    /// is one of the last `--cpu-calls`, hung up.
    fn call(&mut self, args: &args::Args, i: usize) -> anyhow::Result<()> {
        let (alice, bob) = (&self.setup.alice, &self.setup.bob);
        let ring = (args.ring_ms > 0).then(|| Duration::from_millis(args.ring_ms));
        let run = calls::one_call(alice, bob, ring)?;
        eprintln!(
            "{:>11} call {:2}: connected {:6.1} ms, first frame caller {:6.1} ms callee {:6.1} ms \
             (media start → frame: {:5.1} / {:5.1} ms), route {}, RSS {:.1} / {:.1} MiB",
            self.setup.topology.name(),
            i + 1,
            run.connected,
            run.caller,
            run.callee,
            run.caller_media,
            run.callee_media,
            run.route,
            steady::rss_mib(alice)?,
            steady::rss_mib(bob)?
        );
        self.runs.push(run);
        if i >= args.calls - args.cpu_calls {
            let s = steady::steady([alice, bob], args.settle, args.window)?;
            eprintln!(
                "         steady: CPU {:.1} % / {:.1} %, RSS {:.1} / {:.1} MiB, g2g a→b {:?} b→a {:?}",
                s[0].cpu, s[1].cpu, s[0].rss_mib, s[1].rss_mib, s[1].g2g, s[0].g2g
            );
            self.steadies.push(s);
        }
        calls::hang_up(alice, bob)?;
        self.idle_rss
            .push([steady::rss_mib(alice)?, steady::rss_mib(bob)?]);
        if i == 0 || i + 1 == args.calls {
            self.idle_counts
                .push([steady::counts(alice), steady::counts(bob)]);
        }
        Ok(())
    }
}

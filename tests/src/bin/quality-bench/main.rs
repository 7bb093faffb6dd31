//! `scripts/bench quality`: how a call holds up on a lossy network. Two
//! real `duet up` processes (release build) on the simulated LAN; for each
//! loss level (`--losses`, default 0/1/5/10/20 %) the callee's host drops
//! that share of its UDP packets at random, each way (`lan-sim loss`,
//! nftables), alice calls bob, and the bench reports per side: video fps
//! decoded over the window, freezes (gaps > 200 ms between frames),
//! glass-to-glass median/p95 (latency probe), received bitrate, the video
//! encoder's target (the bitrate controller's), packets lost for good, and
//! `duet call` → first frame on both sides (setup). The highest level's
//! window is `--long-seconds` (does the call stay up?). The in-process
//! MediaSession pair (`media-bench --json`, no loss) is the floor, run in
//! the same bench. Prints Markdown and writes an SVG plot of fps and
//! glass-to-glass against loss (`--plot`, default docs/quality-loss.svg).
//!
//! Then jitter levels (`--jitters`, no loss): each packet of the callee's
//! host delayed J ± J ms each way (`lan-sim jitter`: nftables queues them
//! to the `net-jitter` helper; the kernel here has no netem). Then call
//! setup alone, `--setup-calls` calls at each of `--setup-losses`: median,
//! p90 and max of `duet call` → first frame on both sides.
//!
//! Parts: [`args`] (options), [`level`] (one loss level), [`report`]
//! (Markdown, targets), [`plot`] (the SVG).

mod args;
mod level;
mod plot;
mod report;

use anyhow::Context;
use duet_tests::measure::{loadavg, machine_line, media_bench_json, median, percentile};
use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::Lan;
use serde_json::Value;
use std::time::Duration;

/// The floor: glass-to-glass of the in-process pair (both directions).
pub struct Floor {
    pub runs: usize,
    pub g2g_median: f64,
    pub g2g_p95: f64,
    pub first_frame_ms: f64,
}

fn floor(args: &args::Args) -> anyhow::Result<Floor> {
    let runs = args.media_runs.to_string();
    let v = media_bench_json(args.media_bin.as_deref(), &["--runs", &runs])?;
    let list = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let mut g2g = list("g2g_a2b_ms");
    g2g.extend(list("g2g_b2a_ms"));
    let mut ff = list("ff_offerer_ms");
    ff.extend(list("ff_answerer_ms"));
    Ok(Floor {
        runs: v["runs"].as_u64().unwrap_or(0) as usize,
        g2g_median: median(&g2g),
        g2g_p95: percentile(&g2g, 0.95),
        first_frame_ms: median(&ff),
    })
}

fn node(lan: &Lan, i: usize, name: &str, args: &args::Args) -> anyhow::Result<DuetNode> {
    let mut o = NodeOptions::named(name).args([
        "--latency-probe",
        "--no-console",
        "--video-fec",
        &args.video_fec,
        "--video",
        &args.video,
        "--resolution",
        &args.resolution,
    ]);
    if name == "bob" {
        o = o.args(duet_tests::node::AUTO_ANSWER_ANY);
    }
    DuetNode::start_with(
        lan.host(i),
        NodeOptions {
            rust_log: Some("info".into()),
            ..o
        },
    )
}

fn main() -> anyhow::Result<()> {
    let args = args::parse_args()?;
    let started = machine_line();
    let load0 = loadavg();
    eprintln!("duet binary: {}", duet_tests::node::duet_bin().display());
    let floor = if args.media {
        eprintln!("media floor: media-bench, {} runs…", args.media_runs);
        Some(floor(&args)?)
    } else {
        None
    };
    let lan = Lan::new(2)?;
    let alice = node(&lan, 0, "alice", &args)?;
    let bob = node(&lan, 1, "bob", &args)?;
    alice.wait_to_meet(&bob, Duration::from_secs(30))?;
    let top = args.losses.iter().copied().max().unwrap_or(0);
    let nets = args
        .losses
        .iter()
        .map(|&l| level::Net::loss(l))
        .chain(args.jitters.iter().map(|&j| level::Net {
            loss: 0,
            jitter_ms: j,
        }));
    let mut levels = Vec::new();
    for net in nets {
        let secs = if net.jitter_ms == 0 && net.loss == top && net.loss > 0 {
            args.long_seconds
        } else {
            args.seconds
        };
        let l = level::run(&lan, &alice, &bob, net, Duration::from_secs(secs))
            .with_context(|| net.label())?;
        eprintln!(
            "{}: setup {:6.0} ms, fps {:4.1} / {:4.1}, freezes {} / {}, gap {:.0} / {:.0} ms, g2g {:.1} / {:.1} ms (p95 {:.1} / {:.1}), rx {:.0} / {:.0} kbit/s, caller sent {:.0} kbit/s, cpu {:.0} / {:.0} %, lost {} / {}, up {}, load {}",
            net.label(),
            l.setup_ms,
            l.sides[0].fps,
            l.sides[1].fps,
            l.sides[0].freezes,
            l.sides[1].freezes,
            l.sides[0].longest_gap_ms,
            l.sides[1].longest_gap_ms,
            l.sides[0].g2g_median,
            l.sides[1].g2g_median,
            l.sides[0].g2g_p95,
            l.sides[1].g2g_p95,
            l.sides[0].rx_kbps,
            l.sides[1].rx_kbps,
            l.caller_wire_kbps,
            l.sides[0].cpu,
            l.sides[1].cpu,
            l.sides[0].packets_lost,
            l.sides[1].packets_lost,
            l.up,
            loadavg()
        );
        levels.push(l);
    }
    let load1 = loadavg();
    plot::write(&args.plot, &levels, floor.as_ref())?;
    report::print(&args, &started, &load0, &load1, &levels, floor.as_ref());
    let mut setups = Vec::new();
    for &loss in &args.setup_losses {
        let net = level::Net::loss(loss);
        let mut s = report::Setup {
            net,
            ..Default::default()
        };
        for i in 0..args.setup_calls {
            // The callee refuses invites that come faster than one a second.
            std::thread::sleep(duet_tests::memory::CALL_SPACING);
            let (c, f) = level::setup_only(&lan, &alice, &bob, net)
                .with_context(|| format!("setup call {i} at {}", net.label()))?;
            eprintln!(
                "setup at {}: connected {c:.0} ms, first frames {f:.0} ms",
                net.label()
            );
            s.connect_ms.push(c);
            s.first_ms.push(f);
        }
        setups.push(s);
    }
    report::print_setups(&setups, &loadavg());
    Ok(())
}

//! The command line of `call-bench`: its options and their defaults, kept
//! apart so the list in `main.rs`'s doc and the parser can be read together.

use crate::topology::Topology;
use anyhow::{bail, Context};
use std::path::PathBuf;

const USAGE: &str = "\
call-bench: times `duet call` between two nodes on a simulated LAN (needs root;
DUET_BIN names the duet binary). Options (defaults in brackets):
  --calls N              calls to place, the first reported alone [21]
  --cpu-calls N          last N calls measured for CPU, RSS, glass-to-glass [5]
  --settle S             seconds before a measurement window [2]
  --window S             seconds of a measurement window [6]
  --media-runs N         in-process media-bench runs for the floor [8]
  --media-seconds S      seconds of each media-bench run [5]
  --media-bin PATH       the media-bench binary [target/release/examples/media-bench]
  --no-media             skip the floor
  --log FILTER           RUST_LOG of the nodes [info,duet_node=debug]
  --codec vp8|h264       video codec [vp8]
  --video-fec SPEC       both nodes run with `duet up --video-fec SPEC` [the node's default]
  --first-call-delay S   wait between listing and the first call [0]
  --display none|window  headless nodes, or each node in window mode on its own Xvfb [none]
  --ring MS              0: bob auto-answers, figures from `duet call`; else bob rings and
                         `duet answer` runs MS ms after it rings, figures from `duet answer` [0]
  --topology LIST        where the nodes sit, comma-separated, calls taking turns:
                         same (one subnet, no broker), same-broker, routed (two subnets,
                         a router, a broker), relay (routed, UDP between the subnets
                         dropped but to the broker: TURN), circuit (routed, everything
                         dropped but to the broker), or all [same]";

pub struct Args {
    pub calls: usize,
    pub cpu_calls: usize,
    pub settle: u64,
    pub window: u64,
    pub media_runs: usize,
    pub media_seconds: u64,
    pub media_bin: Option<PathBuf>,
    pub media: bool,
    pub log: String,
    pub codec: String,
    /// `duet up --video-fec` of both nodes; None: the node's default.
    pub video_fec: Option<String>,
    pub first_call_delay: f64,
    /// `none` (headless) or `window` (each node on its own Xvfb).
    pub display: String,
    /// 0: auto-answer; else ms of ringing before `duet answer`.
    pub ring_ms: u64,
    /// Where the nodes sit; with several, the calls take turns.
    pub topologies: Vec<Topology>,
}

pub fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        calls: 21,
        cpu_calls: 5,
        settle: 2,
        window: 6,
        media_runs: 8,
        media_seconds: 5,
        media_bin: None,
        media: true,
        log: "info,duet_node=debug".into(),
        codec: "vp8".into(),
        video_fec: None,
        first_call_delay: 0.0,
        display: "none".into(),
        ring_ms: 0,
        topologies: vec![Topology::Same],
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--help" || k == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        if k == "--no-media" {
            a.media = false;
            continue;
        }
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--calls" => a.calls = v.parse()?,
            "--cpu-calls" => a.cpu_calls = v.parse()?,
            "--settle" => a.settle = v.parse()?,
            "--window" => a.window = v.parse()?,
            "--media-runs" => a.media_runs = v.parse()?,
            "--media-seconds" => a.media_seconds = v.parse()?,
            "--media-bin" => a.media_bin = Some(PathBuf::from(v)),
            "--log" => a.log = v,
            "--codec" => a.codec = v,
            "--video-fec" => a.video_fec = Some(v),
            "--first-call-delay" => a.first_call_delay = v.parse()?,
            "--ring" => a.ring_ms = v.parse()?,
            "--topology" => a.topologies = Topology::parse_list(&v)?,
            "--display" if v == "none" || v == "window" => a.display = v,
            _ => bail!("unknown option {k}"),
        }
    }
    if a.calls < 2 {
        bail!("--calls must be at least 2 (the first is reported on its own)");
    }
    a.cpu_calls = a.cpu_calls.min(a.calls - 1);
    Ok(a)
}

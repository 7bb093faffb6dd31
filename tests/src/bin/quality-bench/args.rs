//! The command line of `quality-bench`, apart so the usage text and the
//! parser can be read together.

use anyhow::{bail, Context};
use std::path::PathBuf;

const USAGE: &str = "\
quality-bench: a call between two nodes on a simulated LAN under random UDP
loss and jitter (nftables in the callee's host, each way); needs root, DUET_BIN names
the duet binary. Options (defaults in brackets; --quick in parentheses):
  --quick                shorter windows, fewer floor runs
  --losses A,B,…         loss levels in % [0,1,5,10,20]
  --jitters A,B,…        jitter levels in ms, no loss: each packet delayed
                         A ± A ms each way (lan-sim jitter) [5,20]; 0: none
  --setup-calls N        extra calls per setup level, timed to the first
                         frames only [10] (5)
  --setup-losses A,B,…   the loss levels those calls run at [5,10]
  --seconds S            measurement window per level [20] (8)
  --long-seconds S       how long the call must stay up at the highest level [60] (20)
  --media-runs N         in-process media-bench runs for the floor [3] (1)
  --media-bin PATH       the media-bench binary [target/release/examples/media-bench]
  --no-media             skip the floor
  --plot PATH            the SVG plot [docs/quality-loss.svg]
  --video-fec SPEC       both nodes run with `duet up --video-fec SPEC` [ulpfec+copies]
  --video SRC            both nodes' video source [test: the ball, one packet
                         a frame]; test:snow fills the bitrate (several packets a frame)
  --resolution WxH       both nodes' `duet up --resolution` [640x480]";

pub struct Args {
    pub quick: bool,
    pub losses: Vec<u32>,
    pub jitters: Vec<u32>,
    pub setup_calls: usize,
    pub setup_losses: Vec<u32>,
    pub seconds: u64,
    pub long_seconds: u64,
    pub media_runs: usize,
    pub media_bin: Option<PathBuf>,
    pub media: bool,
    pub plot: PathBuf,
    pub video_fec: String,
    pub video: String,
    pub resolution: String,
}

pub fn parse_args() -> anyhow::Result<Args> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let quick = all.iter().any(|a| a == "--quick");
    let mut a = Args {
        quick,
        losses: vec![0, 1, 5, 10, 20],
        jitters: vec![5, 20],
        setup_calls: if quick { 5 } else { 10 },
        setup_losses: vec![5, 10],
        seconds: if quick { 8 } else { 20 },
        long_seconds: if quick { 20 } else { 60 },
        media_runs: if quick { 1 } else { 3 },
        media_bin: None,
        media: true,
        plot: duet_tests::workspace_root().join("docs/quality-loss.svg"),
        video_fec: "ulpfec+copies".into(),
        video: "test".into(),
        resolution: "640x480".into(),
    };
    let mut it = all.into_iter();
    while let Some(k) = it.next() {
        match k.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--quick" => continue,
            "--no-media" => {
                a.media = false;
                continue;
            }
            _ => {}
        }
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--losses" => a.losses = list(&v)?,
            "--jitters" => a.jitters = list(&v)?.into_iter().filter(|j| *j > 0).collect(),
            "--setup-calls" => a.setup_calls = v.parse()?,
            "--setup-losses" => a.setup_losses = list(&v)?,
            "--seconds" => a.seconds = v.parse()?,
            "--long-seconds" => a.long_seconds = v.parse()?,
            "--media-runs" => a.media_runs = v.parse()?,
            "--media-bin" => a.media_bin = Some(PathBuf::from(v)),
            "--plot" => a.plot = PathBuf::from(v),
            "--video-fec" => a.video_fec = v,
            "--video" => a.video = v,
            "--resolution" => a.resolution = v,
            _ => bail!("unknown option {k}\n{USAGE}"),
        }
    }
    if a.jitters.iter().any(|j| *j > 1000) {
        bail!("--jitters takes milliseconds up to 1000");
    }
    if a.losses.is_empty() || a.losses.iter().chain(&a.setup_losses).any(|l| *l > 100) {
        bail!("--losses takes percentages from 0 to 100");
    }
    Ok(a)
}

fn list(v: &str) -> anyhow::Result<Vec<u32>> {
    Ok(v.split(',')
        .map(|x| x.trim().parse::<u32>())
        .collect::<Result<_, _>>()?)
}

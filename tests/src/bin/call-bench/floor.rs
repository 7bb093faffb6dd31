//! The media floor: what the same media costs with no node around it, from
//! `media-bench --json` (`gst/examples/media-bench.rs`, an in-process
//! MediaSession pair) run in the same bench, so that call figures can be
//! given as a ratio to it on the same machine under the same load.

use crate::args::Args;
use crate::num;
use anyhow::{bail, Context};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

/// The floor: `media-bench --json` figures.
pub struct Floor {
    pub runs: usize,
    pub ff_offerer: Vec<f64>,
    pub ff_answerer: Vec<f64>,
    pub cpu: Vec<f64>,
    pub hwm: Vec<f64>,
    pub a2b: Vec<f64>,
    pub b2a: Vec<f64>,
    pub latency_ms: f64,
    /// Per thread name: the median of each media-bench invocation (both sides).
    pub threads: BTreeMap<String, Vec<f64>>,
}

impl Floor {
    /// Adds the figures of more runs.
    pub fn extend(&mut self, o: Floor) {
        self.runs += o.runs;
        self.ff_offerer.extend(o.ff_offerer);
        self.ff_answerer.extend(o.ff_answerer);
        self.cpu.extend(o.cpu);
        self.hwm.extend(o.hwm);
        self.a2b.extend(o.a2b);
        self.b2a.extend(o.b2a);
        self.latency_ms = o.latency_ms;
        for (k, v) in o.threads {
            self.threads.entry(k).or_default().extend(v);
        }
    }
}

/// `runs` runs of media-bench (next to this binary, or `--media-bin`).
pub fn media_floor(args: &Args, runs: usize) -> anyhow::Result<Floor> {
    let bin = match &args.media_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no folder of the running binary")?
            .join("examples/media-bench"),
    };
    if !bin.exists() {
        bail!(
            "{} not found: build it (cargo build --release -p duet-gst --example media-bench) \
             or pass --media-bin / --no-media",
            bin.display()
        );
    }
    let out = Command::new(&bin)
        .args([
            "--json",
            "--runs",
            &runs.to_string(),
            "--seconds",
            &args.media_seconds.to_string(),
            "--codec",
            &args.codec,
        ])
        .current_dir(duet_tests::workspace_root())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", bin.display(), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("media-bench printed no JSON (does it have --json?)")?;
    let v: Value = serde_json::from_str(line)?;
    let list = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    Ok(Floor {
        runs: v["runs"].as_u64().unwrap_or(0) as usize,
        ff_offerer: list("ff_offerer_ms"),
        ff_answerer: list("ff_answerer_ms"),
        cpu: list("cpu_per_side_pct"),
        hwm: list("vmhwm_mib"),
        a2b: list("g2g_a2b_ms"),
        b2a: list("g2g_b2a_ms"),
        latency_ms: num(&v["latency_ms"]),
        threads: v["threads_pct"]
            .as_object()
            .map(|m| m.iter().map(|(k, x)| (k.clone(), vec![num(x)])).collect())
            .unwrap_or_default(),
    })
}

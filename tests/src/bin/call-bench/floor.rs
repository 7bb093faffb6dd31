//! The media floor: what the same media costs with no node around it, from
//! `media-bench --json` (`gst/examples/media-bench.rs`, an in-process
//! MediaSession pair) run in the same bench, so that call figures can be
//! given as a ratio to it on the same machine under the same load.

use crate::args::Args;
use crate::num;
use serde_json::Value;
use std::collections::BTreeMap;

/// The floor: `media-bench --json` figures.
#[derive(Clone)]
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
    let v = duet_tests::measure::media_bench_json(
        args.media_bin.as_deref(),
        &[
            "--runs",
            &runs.to_string(),
            "--seconds",
            &args.media_seconds.to_string(),
            "--codec",
            &args.codec,
        ],
    )?;
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

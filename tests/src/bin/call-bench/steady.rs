//! What a node costs while a call runs, and what it keeps when none does:
//! CPU (whole process and by thread), VmRSS/VmHWM and glass-to-glass over
//! a steady window of a call; VmRSS, threads and open files between calls
//! (a leak shows as growth from call to call).

use crate::calls::call_of;
use crate::num;
use anyhow::{bail, Context};
use duet_tests::measure::{clock_ticks, cpu_percent, process_ticks, stat_ticks, status_kb};
use duet_tests::node::DuetNode;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// One node's steady-state figures during a call.
#[derive(Default, Clone)]
pub struct Steady {
    pub cpu: f64,
    pub rss_mib: f64,
    pub hwm_mib: f64,
    /// Glass-to-glass of the frames this node received: (median, p95, count).
    pub g2g: Option<(f64, f64, u64)>,
    pub threads: BTreeMap<String, f64>,
}

/// CPU ticks so far of each thread of `pid`, by (tid, name).
fn thread_ticks(pid: u32) -> HashMap<(String, String), u64> {
    let mut m = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return m;
    };
    for t in dir.flatten() {
        if let Some((name, ticks)) = stat_ticks(&t.path().join("stat")) {
            m.insert((t.file_name().to_string_lossy().to_string(), name), ticks);
        }
    }
    m
}

/// A thread name without digits (`tokio-rt-worker`, not `…-3`), spaces as `_`,
/// so threads of a pool add up.
fn thread_kind(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_ascii_digit())
        .map(|c| if c == ' ' { '_' } else { c })
        .collect()
}

/// CPU, memory and glass-to-glass of both nodes over a steady window.
pub fn steady(nodes: [&DuetNode; 2], settle: u64, window: u64) -> anyhow::Result<[Steady; 2]> {
    std::thread::sleep(Duration::from_secs(settle));
    let ticks = clock_ticks()?;
    let pids: Vec<u32> = nodes
        .iter()
        .map(|n| n.pid().context("node not running"))
        .collect::<anyhow::Result<_>>()?;
    let c0: Vec<Option<u64>> = pids.iter().map(|p| process_ticks(*p)).collect();
    let th0: Vec<_> = pids.iter().map(|p| thread_ticks(*p)).collect();
    let w0 = Instant::now();
    std::thread::sleep(Duration::from_secs(window));
    let c1: Vec<Option<u64>> = pids.iter().map(|p| process_ticks(*p)).collect();
    let th1: Vec<_> = pids.iter().map(|p| thread_ticks(*p)).collect();
    let secs = w0.elapsed().as_secs_f64();
    let mut out = [Steady::default(), Steady::default()];
    for i in 0..2 {
        let (Some(a), Some(b)) = (c0[i], c1[i]) else {
            bail!("could not read /proc/{}/stat", pids[i]);
        };
        out[i].cpu = cpu_percent(b - a, ticks, secs);
        out[i].rss_mib = status_kb(pids[i], "VmRSS:")? / 1024.0;
        out[i].hwm_mib = status_kb(pids[i], "VmHWM:")? / 1024.0;
        for (k, v) in &th1[i] {
            let d = v.saturating_sub(th0[i].get(k).copied().unwrap_or(0));
            *out[i].threads.entry(thread_kind(&k.1)).or_default() += cpu_percent(d, ticks, secs);
        }
        let c = call_of(nodes[i])?;
        let g = &c["stats"]["glass_to_glass_ms"];
        if g.is_object() {
            out[i].g2g = Some((
                num(&g["median"]),
                num(&g["p95"]),
                g["count"].as_u64().unwrap_or(0),
            ));
        }
    }
    Ok(out)
}

/// VmRSS of a node, MiB.
pub fn rss_mib(n: &DuetNode) -> anyhow::Result<f64> {
    Ok(status_kb(n.pid().context("node not running")?, "VmRSS:")? / 1024.0)
}

/// Threads and open files of a node (0 where /proc cannot tell).
pub fn counts(n: &DuetNode) -> (usize, usize) {
    let count = |what: &str| {
        n.pid()
            .and_then(|p| std::fs::read_dir(format!("/proc/{p}/{what}")).ok())
            .map_or(0, Iterator::count)
    };
    (count("task"), count("fd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_kinds() {
        assert_eq!(thread_kind("tokio-rt-worker"), "tokio-rt-worker");
        assert_eq!(thread_kind("queue12:src"), "queue:src");
        assert_eq!(thread_kind("rtpjitterbuffer 3"), "rtpjitterbuffer_");
    }
}

//! `scripts/bench discovery`: how fast nodes find each other on the
//! simulated LAN, how fast they notice one leaving, and what an idle node
//! costs. Prints Markdown (copy it into BENCHMARKS.md).
//!
//! - newcomer: N-1 nodes run and list each other; the N-th starts (fresh
//!   identity, so its PeerId order vs the others is random); time from
//!   spawning its process to the `peer_up` event on every other node.
//! - cold start: N nodes spawned at once; time until all list all others.
//! - leave: SIGTERM / kill -9 / unplugged cable -> `peer_down` everywhere.
//! - idle: VmRSS and CPU of one node over a quiet period.
//!
//! Options: --runs3 N (default 12), --runs20 N (default 4), --idle-secs S (15).

use anyhow::{bail, Context};
use duet_tests::measure::{
    clock_ticks, cpu_percent, machine_line, median, percentile, process_ticks, status_kb,
    table_head,
};
use duet_tests::node::{duet_bin, DuetNode, EventStream, NodeOptions};
use duet_tests::Lan;
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LOG: &str = "warn";
const DEADLINE: Duration = Duration::from_secs(30);

struct Args {
    runs3: usize,
    runs20: usize,
    idle_secs: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        runs3: 12,
        runs20: 4,
        idle_secs: 15,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--runs3" => a.runs3 = v.parse()?,
            "--runs20" => a.runs20 = v.parse()?,
            "--idle-secs" => a.idle_secs = v.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    Ok(a)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A row of the main table: median, p95 and max by nearest rank.
fn row(what: &str, v: &[f64], target: &str) -> String {
    let (med, p95, max) = (median(v), percentile(v, 0.95), percentile(v, 1.0));
    format!(
        "| {what} | {} | {med:.0} | {p95:.0} | {max:.0} | {target} |",
        v.len()
    )
}

/// A fresh identity dir and its PeerId (not timed).
fn fresh_identity(root: &std::path::Path, n: usize) -> anyhow::Result<(PathBuf, String)> {
    let dir = root.join(format!("id{n}"));
    let out = std::process::Command::new(duet_bin())
        .args(["id", "--json", "--data-dir"])
        .arg(&dir)
        .output()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let id = v["peer_id"]
        .as_str()
        .context("duet id printed no peer_id")?
        .to_string();
    Ok((dir, id))
}

fn opts(name: &str, dir: &std::path::Path) -> NodeOptions {
    NodeOptions {
        rust_log: Some(LOG.into()),
        ..NodeOptions::named(name).data_dir(dir)
    }
}

/// Waits for `kind` about `peer` on every stream; returns the latest arrival.
fn all_saw(streams: &[EventStream], kind: &str, peer: &str) -> anyhow::Result<Instant> {
    let mut last: Option<Instant> = None;
    for s in streams {
        let at = s.wait_peer(kind, peer, DEADLINE)?.at;
        last = Some(last.map_or(at, |l| l.max(at)));
    }
    last.context("no streams")
}

struct LanBench {
    joined: Vec<f64>,
    stopped: Vec<f64>,
    killed: Vec<f64>,
    unplugged: Vec<f64>,
    cold: Option<f64>,
    idle: Option<(f64, f64, f64)>,
}

fn bench_lan(n: usize, runs: usize, leave_runs: usize, idle_secs: u64) -> anyhow::Result<LanBench> {
    let mut lan = Lan::new(n)?;
    let ids_root = tempfile::tempdir()?;
    // Cold start: all n nodes at once, until every one lists all others.
    let mut idents = Vec::new();
    for i in 0..n {
        idents.push(fresh_identity(ids_root.path(), i)?);
    }
    let t0 = Instant::now();
    let mut nodes: Vec<DuetNode> = (0..n)
        .map(|i| DuetNode::spawn(lan.host(i), opts(&format!("node{i}"), &idents[i].0)))
        .collect::<anyhow::Result<_>>()?;
    let want: Vec<HashSet<String>> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|j| *j != i)
                .map(|j| idents[j].1.clone())
                .collect()
        })
        .collect();
    let mut done = vec![false; n];
    duet_tests::wait_until(
        "all nodes to list each other",
        Duration::from_secs(60),
        || {
            for (i, node) in nodes.iter().enumerate() {
                if done[i] {
                    continue;
                }
                let Ok(r) = node.request(&json!({"cmd": "peers"})) else {
                    continue;
                };
                let got: HashSet<String> = r["peers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| p["peer_id"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                done[i] = got == want[i];
            }
            Ok(done.iter().all(|d| *d).then_some(()))
        },
    )?;
    let cold = ms(t0.elapsed());
    // The last host becomes the newcomers' host.
    let mut last = nodes.pop().context("no nodes")?;
    let streams: Vec<EventStream> = nodes
        .iter()
        .map(DuetNode::events)
        .collect::<anyhow::Result<_>>()?;
    last.stop()?;
    all_saw(&streams, "peer_down", &idents[n - 1].1)?;
    let newcomer_host = lan.host(n - 1).clone();
    let mut r = LanBench {
        joined: vec![],
        stopped: vec![],
        killed: vec![],
        unplugged: vec![],
        cold: Some(cold),
        idle: None,
    };
    for run in 0..runs {
        settle();
        let (dir, id) = fresh_identity(ids_root.path(), 1000 + run)?;
        let t = Instant::now();
        let mut node = DuetNode::spawn(&newcomer_host, opts("newcomer", &dir))?;
        r.joined.push(ms(all_saw(&streams, "peer_up", &id)? - t));
        node.wait_ready(DEADLINE)?;
        if run + 1 == runs && idle_secs > 0 {
            // Let it settle, then measure the idle cost of the newcomer.
            std::thread::sleep(Duration::from_secs(2));
            r.idle = Some(idle_cost(&node, Duration::from_secs(idle_secs))?);
        }
        let t = Instant::now();
        let status = node.stop()?;
        if !status.success() {
            bail!("newcomer exited with {status}");
        }
        r.stopped.push(ms(all_saw(&streams, "peer_down", &id)? - t));
    }
    for run in 0..leave_runs {
        settle();
        let (dir, id) = fresh_identity(ids_root.path(), 2000 + run)?;
        let mut node = DuetNode::spawn(&newcomer_host, opts("victim", &dir))?;
        all_saw(&streams, "peer_up", &id)?;
        let t = Instant::now();
        node.kill()?;
        r.killed.push(ms(all_saw(&streams, "peer_down", &id)? - t));
    }
    for run in 0..leave_runs {
        let host = lan.add_host()?;
        let (dir, id) = fresh_identity(ids_root.path(), 3000 + run)?;
        let node = DuetNode::spawn(&host, opts("unplugged", &dir))?;
        all_saw(&streams, "peer_up", &id)?;
        let t = Instant::now();
        lan.set_link(&host, false)?;
        r.unplugged
            .push(ms(all_saw(&streams, "peer_down", &id)? - t));
        drop(node);
    }
    Ok(r)
}

/// Joins a second apart: mDNS multicasts each record at most once a second
/// per link (RFC 6762 §6), so back-to-back newcomers would find the others'
/// answers rate-limited — an artifact of the loop, not of a real join.
fn settle() {
    std::thread::sleep(Duration::from_millis(1500));
}

/// (VmRSS MiB, RssAnon MiB, CPU % of one core) of a node over `period`.
/// RssAnon is the node's private memory; the rest of VmRSS is mapped
/// files (the binary, GStreamer's libraries) shared with other processes.
fn idle_cost(node: &DuetNode, period: Duration) -> anyhow::Result<(f64, f64, f64)> {
    let pid = node.pid().context("node not running")?;
    let cpu = || process_ticks(pid).with_context(|| format!("could not read /proc/{pid}/stat"));
    let ticks = clock_ticks()?;
    let (c0, t0) = (cpu()?, Instant::now());
    std::thread::sleep(period);
    let (c1, secs) = (cpu()?, t0.elapsed().as_secs_f64());
    let rss_kb = status_kb(pid, "VmRSS:")?;
    let anon_kb = status_kb(pid, "RssAnon:")?;
    Ok((
        rss_kb / 1024.0,
        anon_kb / 1024.0,
        cpu_percent(c1 - c0, ticks, secs),
    ))
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    eprintln!("duet binary: {}", duet_bin().display());
    eprintln!("3 hosts: {} runs…", args.runs3);
    let three = bench_lan(3, args.runs3, 3, args.idle_secs)?;
    eprintln!("20 hosts: {} runs…", args.runs20);
    let twenty = bench_lan(20, args.runs20, 0, args.idle_secs)?;
    println!(
        "Measured {} with `scripts/bench discovery` (release build, simulated LAN of",
        machine_line()
    );
    println!("network namespaces on one bridge; times in ms, from spawning `duet up` or the");
    println!("event to the `peer_up`/`peer_down` event read from `duet events --json` on");
    println!("every other node).\n");
    println!(
        "{}",
        table_head(&["what", "runs", "median", "p95", "max", "target"])
    );
    println!(
        "{}",
        row(
            "3 hosts: newcomer listed by both others",
            &three.joined,
            "median < 300"
        )
    );
    println!(
        "{}",
        row(
            "20 hosts: newcomer listed by all 19 others",
            &twenty.joined,
            ""
        )
    );
    if let Some(c) = twenty.cold {
        println!("| 20 hosts started at once: all 20 mutually listed | 1 | {c:.0} | | | < 3000 |");
    }
    if let Some(c) = three.cold {
        println!("| 3 hosts started at once: all mutually listed | 1 | {c:.0} | | | |");
    }
    println!(
        "{}",
        row(
            "clean stop (SIGTERM) -> gone everywhere, 3 hosts",
            &three.stopped,
            "< 3000"
        )
    );
    println!(
        "{}",
        row(
            "clean stop (SIGTERM) -> gone everywhere, 20 hosts",
            &twenty.stopped,
            "< 3000"
        )
    );
    println!(
        "{}",
        row(
            "kill -9 -> gone everywhere, 3 hosts",
            &three.killed,
            "< 15000"
        )
    );
    println!(
        "{}",
        row(
            "cable unplugged -> gone everywhere, 3 hosts",
            &three.unplugged,
            "< 15000"
        )
    );
    println!();
    println!(
        "{}",
        table_head(&["idle node", "VmRSS", "of it RssAnon", "CPU", "target"])
    );
    for (what, r) in [
        ("in a 3-host LAN", three.idle),
        ("in a 20-host LAN", twenty.idle),
    ] {
        if let Some((rss, anon, cpu)) = r {
            println!(
                "| {what}, {} s | {rss:.1} MiB | {anon:.1} MiB | {cpu:.2} % | < 30 MB, < 1 % |",
                args.idle_secs
            );
        }
    }
    Ok(())
}

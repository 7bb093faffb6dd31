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
//! --first-call-delay S (0: the first call as soon as both list each other).

use anyhow::{bail, Context};
use duet_tests::node::{duet_bin, DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEADLINE: Duration = Duration::from_secs(30);

struct Args {
    calls: usize,
    cpu_calls: usize,
    settle: u64,
    window: u64,
    media_runs: usize,
    media_seconds: u64,
    media_bin: Option<PathBuf>,
    media: bool,
    log: String,
    codec: String,
    first_call_delay: f64,
}

fn parse_args() -> anyhow::Result<Args> {
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
        first_call_delay: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
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
            "--first-call-delay" => a.first_call_delay = v.parse()?,
            _ => bail!("unknown option {k}"),
        }
    }
    if a.calls < 2 {
        bail!("--calls must be at least 2 (the first is reported on its own)");
    }
    a.cpu_calls = a.cpu_calls.min(a.calls - 1);
    Ok(a)
}

/// Median and p95 by nearest rank (the same for call and floor figures).
fn q(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

fn med(v: &[f64]) -> f64 {
    q(v, 0.5)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn node_opts(name: &str, log: &str, codec: &str) -> NodeOptions {
    let mut o = NodeOptions::named(name);
    for a in [
        "--video",
        "test",
        "--audio",
        "test",
        "--display",
        "none",
        "--latency-probe",
        "--codec",
        codec,
        "--no-console",
    ] {
        o = o.arg(a);
    }
    if name == "bob" {
        o = o.arg("--auto-answer");
    }
    NodeOptions {
        rust_log: Some(log.into()),
        ..o
    }
}

/// One call's first-frame figures, ms from starting `duet call`.
struct CallRun {
    connected: f64,
    caller: f64,
    callee: f64,
    /// `first_frame_ms` of each side (from its own media start).
    caller_media: f64,
    callee_media: f64,
    /// (side, message) -> ms after the start of `duet call`.
    phases: Vec<(String, f64)>,
}

impl CallRun {
    fn both(&self) -> f64 {
        self.caller.max(self.callee)
    }
}

/// One node's steady-state figures during a call.
#[derive(Default, Clone)]
struct Steady {
    cpu: f64,
    rss_mib: f64,
    hwm_mib: f64,
    /// Glass-to-glass of the frames this node received: (median, p95, count).
    g2g: Option<(f64, f64, u64)>,
    threads: BTreeMap<String, f64>,
}

fn call_of(node: &DuetNode) -> anyhow::Result<Value> {
    Ok(node.status()?.call)
}

fn wait_no_call(nodes: &[&DuetNode]) -> anyhow::Result<()> {
    for n in nodes {
        wait_until(&format!("{} to have no call", n.name), DEADLINE, || {
            let s = n.status()?;
            Ok((s.call.is_null() && s.status == "available").then_some(()))
        })?;
    }
    Ok(())
}

/// Waits until `node`'s call is connected and has a first frame; returns the call.
fn wait_first_frame(node: &DuetNode) -> anyhow::Result<Value> {
    wait_until(
        &format!("{} to show a first remote frame", node.name),
        DEADLINE,
        || {
            let c = call_of(node)?;
            let ok = c["state"] == "connected" && c["stats"]["first_frame_at"].is_f64();
            Ok(ok.then_some(c))
        },
    )
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn log_len(node: &DuetNode) -> u64 {
    std::fs::metadata(&node.log).map(|m| m.len()).unwrap_or(0)
}

/// Unix seconds of an RFC 3339 UTC timestamp as tracing-subscriber writes it
/// (`2026-11-25T23:10:00.123456Z`).
fn parse_ts(s: &str) -> Option<f64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (h, mi, sec) = (
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86400.0 + h * 3600.0 + mi * 60.0 + sec)
}

/// A log message with ids and numbers taken out, so calls can be compared.
fn normalize(msg: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut last_digit = false;
    for c in msg.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth > 0 => {}
            c if c.is_ascii_digit() || c == '.' && last_digit => {
                if !last_digit {
                    out.push('N');
                }
                last_digit = true;
                continue;
            }
            c => out.push(c),
        }
        last_digit = false;
    }
    let words: Vec<&str> = out
        .split_whitespace()
        .filter(|w| w.len() < 40) // PeerIds, call ids
        .collect();
    let s = words.join(" ");
    s.chars().take(70).collect()
}

/// New log lines of `node` since byte `from`: (normalized message, ms after t0).
fn phases(node: &DuetNode, from: u64, t0: f64) -> Vec<(String, f64)> {
    let text = std::fs::read(&node.log).unwrap_or_default();
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or(&[]));
    let mut seen = HashMap::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let Some(ts) = parts.next().and_then(parse_ts) else {
            continue;
        };
        // "<ts>  LEVEL target: message"
        let Some(msg) = line.split_once(": ").map(|(_, m)| m) else {
            continue;
        };
        let key = format!("{}: {}", node.name, normalize(msg));
        seen.entry(key).or_insert((ts - t0) * 1000.0);
    }
    seen.into_iter().collect()
}

fn one_call(alice: &DuetNode, bob: &DuetNode) -> anyhow::Result<CallRun> {
    wait_no_call(&[alice, bob])?;
    let (la, lb) = (log_len(alice), log_len(bob));
    let t0 = unix_now();
    let out = alice
        .cli()
        .args(["call", "bob"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    let connected = (unix_now() - t0) * 1000.0;
    if !out.status.success() {
        bail!(
            "duet call bob failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ca = wait_first_frame(alice)?;
    let cb = wait_first_frame(bob)?;
    let mut ph = phases(alice, la, t0);
    ph.extend(phases(bob, lb, t0));
    Ok(CallRun {
        connected,
        caller: (f(&ca["stats"]["first_frame_at"]) - t0) * 1000.0,
        callee: (f(&cb["stats"]["first_frame_at"]) - t0) * 1000.0,
        caller_media: f(&ca["stats"]["first_frame_ms"]),
        callee_media: f(&cb["stats"]["first_frame_ms"]),
        phases: ph,
    })
}

fn hang_up(alice: &DuetNode, bob: &DuetNode) -> anyhow::Result<()> {
    let out = alice.cli().arg("hangup").output()?;
    if !out.status.success() {
        bail!("duet hangup: {}", String::from_utf8_lossy(&out.stderr));
    }
    wait_no_call(&[alice, bob])
}

fn proc_ticks(path: &Path) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let name = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after "pid (comm)".
    let t = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((name, t))
}

fn thread_ticks(pid: u32) -> HashMap<(String, String), u64> {
    let mut m = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return m;
    };
    for t in dir.flatten() {
        if let Some((name, ticks)) = proc_ticks(&t.path().join("stat")) {
            m.insert((t.file_name().to_string_lossy().to_string(), name), ticks);
        }
    }
    m
}

fn status_kb(pid: u32, key: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|l| l.split_whitespace().next())
        .with_context(|| format!("no {key} in /proc/{pid}/status"))?
        .parse::<f64>()
        .map_err(Into::into)
}

/// CPU, memory and glass-to-glass of both nodes over a steady window.
fn steady(nodes: [&DuetNode; 2], settle: u64, window: u64) -> anyhow::Result<[Steady; 2]> {
    std::thread::sleep(Duration::from_secs(settle));
    let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?.unwrap_or(100) as f64;
    let pids: Vec<u32> = nodes
        .iter()
        .map(|n| n.pid().context("node not running"))
        .collect::<anyhow::Result<_>>()?;
    let stat = |pid: u32| proc_ticks(Path::new(&format!("/proc/{pid}/stat"))).map(|(_, t)| t);
    let c0: Vec<Option<u64>> = pids.iter().map(|p| stat(*p)).collect();
    let th0: Vec<_> = pids.iter().map(|p| thread_ticks(*p)).collect();
    let w0 = Instant::now();
    std::thread::sleep(Duration::from_secs(window));
    let c1: Vec<Option<u64>> = pids.iter().map(|p| stat(*p)).collect();
    let th1: Vec<_> = pids.iter().map(|p| thread_ticks(*p)).collect();
    let secs = w0.elapsed().as_secs_f64();
    let mut out = [Steady::default(), Steady::default()];
    for i in 0..2 {
        let (Some(a), Some(b)) = (c0[i], c1[i]) else {
            bail!("could not read /proc/{}/stat", pids[i]);
        };
        out[i].cpu = 100.0 * (b - a) as f64 / ticks / secs;
        out[i].rss_mib = status_kb(pids[i], "VmRSS:")? / 1024.0;
        out[i].hwm_mib = status_kb(pids[i], "VmHWM:")? / 1024.0;
        for (k, v) in &th1[i] {
            let name: String =
                k.1.chars()
                    .filter(|c| !c.is_ascii_digit())
                    .map(|c| if c == ' ' { '_' } else { c })
                    .collect();
            let d = v.saturating_sub(th0[i].get(k).copied().unwrap_or(0));
            *out[i].threads.entry(name).or_default() += 100.0 * d as f64 / ticks / secs;
        }
        let c = call_of(nodes[i])?;
        let g = &c["stats"]["glass_to_glass_ms"];
        if g.is_object() {
            out[i].g2g = Some((
                f(&g["median"]),
                f(&g["p95"]),
                g["count"].as_u64().unwrap_or(0),
            ));
        }
    }
    Ok(out)
}

/// The floor: `media-bench --json` figures.
struct Floor {
    runs: usize,
    ff_offerer: Vec<f64>,
    ff_answerer: Vec<f64>,
    cpu: Vec<f64>,
    hwm: Vec<f64>,
    a2b: Vec<f64>,
    b2a: Vec<f64>,
    latency_ms: f64,
    /// Per thread name: the median of each media-bench invocation (both sides).
    threads: BTreeMap<String, Vec<f64>>,
}

impl Floor {
    fn extend(&mut self, o: Floor) {
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

fn media_floor(args: &Args, runs: usize) -> anyhow::Result<Floor> {
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
        latency_ms: f(&v["latency_ms"]),
        threads: v["threads_pct"]
            .as_object()
            .map(|m| m.iter().map(|(k, x)| (k.clone(), vec![f(x)])).collect())
            .unwrap_or_default(),
    })
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{nproc} × {cpu}, {date}")
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let load0 = loadavg();
    let started = machine();
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
            media_floor(&args, before)?
        } else {
            media_floor(&args, 1)?
        })
    } else {
        None
    };

    let lan = Lan::new(2)?;
    let alice = DuetNode::start_with(lan.host(0), node_opts("alice", &args.log, &args.codec))?;
    let bob = DuetNode::start_with(lan.host(1), node_opts("bob", &args.log, &args.codec))?;
    let (aid, bid) = (alice.peer_id()?, bob.peer_id()?);
    alice.wait_for_peers(&[&bid], DEADLINE)?;
    bob.wait_for_peers(&[&aid], DEADLINE)?;

    if args.first_call_delay > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(args.first_call_delay));
    }
    let rss_of = |n: &DuetNode| -> anyhow::Result<f64> {
        Ok(status_kb(n.pid().context("node not running")?, "VmRSS:")? / 1024.0)
    };
    // VmRSS of both nodes with no call: before the first call, after each hangup.
    let mut idle_rss: Vec<[f64; 2]> = vec![[rss_of(&alice)?, rss_of(&bob)?]];
    // Threads and open files of both nodes with no call (a leak check).
    let counts = |n: &DuetNode| -> (usize, usize) {
        let count = |what: &str| {
            n.pid()
                .and_then(|p| std::fs::read_dir(format!("/proc/{p}/{what}")).ok())
                .map_or(0, Iterator::count)
        };
        (count("task"), count("fd"))
    };
    let mut idle_counts = vec![[counts(&alice), counts(&bob)]];
    let mut runs = Vec::new();
    let mut steadies: Vec<[Steady; 2]> = Vec::new();
    for i in 0..args.calls {
        let run = one_call(&alice, &bob).with_context(|| format!("call {}", i + 1))?;
        eprintln!(
            "call {:2}: connected {:6.1} ms, first frame caller {:6.1} ms callee {:6.1} ms \
             (media start → frame: {:5.1} / {:5.1} ms), RSS {:.1} / {:.1} MiB",
            i + 1,
            run.connected,
            run.caller,
            run.callee,
            run.caller_media,
            run.callee_media,
            rss_of(&alice)?,
            rss_of(&bob)?
        );
        runs.push(run);
        if i >= args.calls - args.cpu_calls {
            let s = steady([&alice, &bob], args.settle, args.window)?;
            eprintln!(
                "         steady: CPU {:.1} % / {:.1} %, RSS {:.1} / {:.1} MiB, g2g a→b {:?} b→a {:?}",
                s[0].cpu, s[1].cpu, s[0].rss_mib, s[1].rss_mib, s[1].g2g, s[0].g2g
            );
            steadies.push(s);
        }
        hang_up(&alice, &bob)?;
        idle_rss.push([rss_of(&alice)?, rss_of(&bob)?]);
        if i == 0 || i + 1 == args.calls {
            idle_counts.push([counts(&alice), counts(&bob)]);
        }
        let steady_index = (i + args.cpu_calls).checked_sub(args.calls);
        if let (Some(fl), Some(k)) = (floor.as_mut(), steady_index) {
            if k < interleaved {
                fl.extend(media_floor(&args, 1)?);
            }
        }
    }
    let load1 = loadavg();

    // ---- figures ----
    let first = &runs[0];
    let warm = &runs[1..];
    let col = |g: fn(&CallRun) -> f64| warm.iter().map(g).collect::<Vec<f64>>();
    let (caller, callee, both) = (col(|r| r.caller), col(|r| r.callee), col(CallRun::both));
    let connected = col(|r| r.connected);
    let (caller_media, callee_media) = (col(|r| r.caller_media), col(|r| r.callee_media));
    let side =
        |i: usize, g: fn(&Steady) -> f64| steadies.iter().map(|s| g(&s[i])).collect::<Vec<f64>>();
    let cpu = [side(0, |s| s.cpu), side(1, |s| s.cpu)];
    let rss = [side(0, |s| s.rss_mib), side(1, |s| s.rss_mib)];
    let hwm = [side(0, |s| s.hwm_mib), side(1, |s| s.hwm_mib)];
    // Direction alice → bob is measured by bob (the receiver).
    let g2g_med = |recv: usize| -> Vec<f64> {
        steadies
            .iter()
            .filter_map(|s| s[recv].g2g.map(|g| g.0))
            .collect()
    };
    let g2g_p95 = |recv: usize| -> Vec<f64> {
        steadies
            .iter()
            .filter_map(|s| s[recv].g2g.map(|g| g.1))
            .collect()
    };
    let g2g_n = |recv: usize| -> u64 {
        steadies
            .iter()
            .filter_map(|s| s[recv].g2g.map(|g| g.2))
            .sum()
    };
    let (a2b, b2a) = (g2g_med(1), g2g_med(0));

    println!(
        "Measured {started} with `scripts/bench call` (release build; load average {load0} \
         at the start, {load1} at the end)."
    );
    println!();
    println!(
        "Settings: two `duet up --video test --audio test --display none --latency-probe \
         --codec {}` nodes (bob with `--auto-answer`) on a simulated LAN of two network \
         namespaces, 640x480@30 + Opus (node defaults), node logs at `{}`; {} calls \
         alice → bob by name between the same two nodes (the first reported alone), \
         `duet hangup` and no call on either side between calls; steady window {} s \
         after {} s of settling on the last {} calls. Floor: `media-bench --json`, {} runs \
         × {} s in the same run ({} of them one after each steady-state call).",
        args.codec,
        args.log,
        args.calls,
        args.window,
        args.settle,
        args.cpu_calls,
        floor.as_ref().map_or(0, |f| f.runs),
        args.media_seconds,
        interleaved
    );
    println!();
    println!("| metric | first call | median | p95 | floor (median) | call ÷ floor | target |");
    println!("|---|---|---|---|---|---|---|");
    let ratio = |a: f64, b: Option<f64>| match b {
        Some(b) if b > 0.0 => format!("{:.2}×", a / b),
        _ => String::new(),
    };
    let fl = |g: fn(&Floor) -> f64| floor.as_ref().map(g);
    let floor_both = fl(|f| {
        med(&f
            .ff_offerer
            .iter()
            .zip(&f.ff_answerer)
            .map(|(a, b)| a.max(*b))
            .collect::<Vec<_>>())
    });
    let floor_off = fl(|f| med(&f.ff_offerer));
    let floor_ans = fl(|f| med(&f.ff_answerer));
    let show = |x: Option<f64>| x.map(|v| format!("{v:.1} ms")).unwrap_or_default();
    let n = warm.len();
    println!(
        "| `duet call` → `connected` (client returns) | {:.1} ms | {:.1} ms | {:.1} ms | | | |",
        first.connected,
        med(&connected),
        q(&connected, 0.95)
    );
    println!(
        "| `duet call` → first remote frame, caller ({n} calls) | {:.1} ms | {:.1} ms | {:.1} ms | {} (offerer) | {} | |",
        first.caller,
        med(&caller),
        q(&caller, 0.95),
        show(floor_off),
        ratio(med(&caller), floor_off)
    );
    println!(
        "| `duet call` → first remote frame, callee ({n} calls) | {:.1} ms | {:.1} ms | {:.1} ms | {} (answerer) | {} | |",
        first.callee,
        med(&callee),
        q(&callee, 0.95),
        show(floor_ans),
        ratio(med(&callee), floor_ans)
    );
    println!(
        "| `duet call` → first remote frame on both sides ({n} calls) | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | < 150 ms, ≤ 1.5× |",
        first.both(),
        med(&both),
        q(&both, 0.95),
        show(floor_both),
        ratio(med(&both), floor_both)
    );
    println!(
        "| media start → first remote frame (node's `first_frame_ms`), caller / callee | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {:.1} / {:.1} ms | | | |",
        first.caller_media,
        first.callee_media,
        med(&caller_media),
        med(&callee_media),
        q(&caller_media, 0.95),
        q(&callee_media, 0.95)
    );
    let floor_a2b = fl(|f| med(&f.a2b));
    let floor_b2a = fl(|f| med(&f.b2a));
    println!(
        "| glass-to-glass caller → callee ({} frames, median of per-call medians; p95 = median of per-call p95) | | {:.1} ms | {:.1} ms | {} | {} | ≤ 1.2× |",
        g2g_n(1),
        med(&a2b),
        med(&g2g_p95(1)),
        show(floor_a2b),
        ratio(med(&a2b), floor_a2b)
    );
    println!(
        "| glass-to-glass callee → caller ({} frames) | | {:.1} ms | {:.1} ms | {} | {} | ≤ 1.2× |",
        g2g_n(0),
        med(&b2a),
        med(&g2g_p95(0)),
        show(floor_b2a),
        ratio(med(&b2a), floor_b2a)
    );
    let floor_cpu = fl(|f| med(&f.cpu));
    for (i, who) in ["caller (alice)", "callee (bob)"].iter().enumerate() {
        println!(
            "| CPU of the {who} node ({} windows) | | {:.1} % | {:.1} % | {} | {} | ≤ 1.15× |",
            cpu[i].len(),
            med(&cpu[i]),
            q(&cpu[i], 0.95),
            floor_cpu
                .map(|c| format!("{c:.1} % per side"))
                .unwrap_or_default(),
            ratio(med(&cpu[i]), floor_cpu)
        );
    }
    let floor_hwm = fl(|f| med(&f.hwm));
    for (i, who) in ["caller", "callee"].iter().enumerate() {
        println!(
            "| VmRSS / VmHWM of the {who} node | | {:.1} / {:.1} MiB | | {} | | |",
            med(&rss[i]),
            med(&hwm[i]),
            floor_hwm
                .map(|h| format!("{h:.1} MiB (HWM, both sides in one process)"))
                .unwrap_or_default()
        );
    }

    let (r0, r1, rl) = (idle_rss[0], idle_rss[1], idle_rss[idle_rss.len() - 1]);
    let per_call = |i: usize| (rl[i] - r1[i]) / (idle_rss.len() - 2).max(1) as f64;
    println!(
        "| VmRSS with no call: before the first call / after it / after the last ({} calls), caller | | {:.1} / {:.1} / {:.1} MiB ({:+.2} MiB per call after the first) | | | | |",
        args.calls, r0[0], r1[0], rl[0], per_call(0)
    );
    println!(
        "| … callee | | {:.1} / {:.1} / {:.1} MiB ({:+.2} MiB per call after the first) | | | | |",
        r0[1],
        r1[1],
        rl[1],
        per_call(1)
    );

    let ic = |i: usize| {
        idle_counts
            .iter()
            .map(|c| format!("{} / {}", c[i].0, c[i].1))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    println!(
        "| threads / open fds with no call (before the first call → after it → after the last), caller; callee | | {}; {} | | | | |",
        ic(0),
        ic(1)
    );

    // ---- targets ----
    println!();
    println!("| target | result |");
    println!("|---|---|");
    let m = med(&both);
    println!(
        "| first frame on both sides, median < 150 ms | {:.1} ms: {} |",
        m,
        verdict(m < 150.0)
    );
    if let Some(fb) = floor_both {
        println!(
            "| … within 1.5× of the floor | {:.2}× ({m:.1} vs {fb:.1} ms): {} |",
            m / fb,
            verdict(m <= 1.5 * fb)
        );
    }
    for (what, c, fl) in [
        (
            "glass-to-glass caller → callee within 1.2×",
            med(&a2b),
            floor_a2b,
        ),
        (
            "glass-to-glass callee → caller within 1.2×",
            med(&b2a),
            floor_b2a,
        ),
    ] {
        if let Some(fv) = fl {
            println!(
                "| {what} | {:.2}× ({c:.1} vs {fv:.1} ms): {} |",
                c / fv,
                verdict(c <= 1.2 * fv)
            );
        }
    }
    if let Some(fc) = floor_cpu {
        for (i, who) in ["caller", "callee"].iter().enumerate() {
            let c = med(&cpu[i]);
            println!(
                "| CPU of the {who} node within 1.15× of a side | {:.2}× ({c:.1} vs {fc:.1} %): {} |",
                c / fc,
                verdict(c <= 1.15 * fc)
            );
        }
    }

    // ---- phases ----
    println!();
    println!(
        "Phases (node log lines, ms after starting `duet call`: median over the {n} warm calls, \
         and the first call; lines seen in at least half of the warm calls):"
    );
    println!();
    println!("| warm calls (median) | first call | node: message |");
    println!("|---|---|---|");
    let first_at: HashMap<&str, f64> = first.phases.iter().map(|(k, t)| (k.as_str(), *t)).collect();
    let mut by_key: HashMap<&str, Vec<f64>> = HashMap::new();
    for r in warm {
        for (k, t) in &r.phases {
            by_key.entry(k.as_str()).or_default().push(*t);
        }
    }
    let mut rows: Vec<(f64, &str)> = by_key
        .iter()
        .filter(|(_, v)| v.len() * 2 >= n)
        .map(|(k, v)| (med(v), *k))
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, k) in rows {
        if t > 2000.0 {
            continue; // logged during the steady window or the hangup
        }
        let f1 = first_at
            .get(k)
            .map(|t| format!("{t:.1}"))
            .unwrap_or_default();
        println!("| {t:.1} | {f1} | {} |", k.replace('|', "/"));
    }

    // ---- threads ----
    println!();
    println!("CPU by thread during the steady windows (% of one core, median over windows; names without digits; ≥ 0.3 %):");
    println!();
    println!("| thread | caller | callee | pair ÷ 2 |");
    println!("|---|---|---|---|");
    let floor_thread = |name: &str| -> Option<f64> {
        floor
            .as_ref()
            .and_then(|f| f.threads.get(name))
            .map(|v| med(v) / 2.0)
    };
    let mut names: Vec<String> = steadies
        .iter()
        .flat_map(|s| s.iter().flat_map(|x| x.threads.keys().cloned()))
        .chain(floor.iter().flat_map(|f| f.threads.keys().cloned()))
        .collect();
    names.sort();
    names.dedup();
    let mut trows: Vec<(f64, String, f64, f64, Option<f64>)> = names
        .into_iter()
        .map(|name| {
            let per = |i: usize| {
                med(&steadies
                    .iter()
                    .map(|s| s[i].threads.get(&name).copied().unwrap_or(0.0))
                    .collect::<Vec<_>>())
            };
            let (a, b) = (per(0), per(1));
            let p = floor_thread(&name);
            (a + b, name, a, b, p)
        })
        .filter(|r| r.2 >= 0.3 || r.3 >= 0.3 || r.4.is_some_and(|p| p >= 0.3))
        .collect();
    trows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut sa, mut sb, mut sp) = (0.0, 0.0, 0.0);
    for (_, name, a, b, p) in trows {
        sa += a;
        sb += b;
        sp += p.unwrap_or(0.0);
        let p = p.map(|p| format!("{p:.1} %")).unwrap_or_default();
        println!("| {name} | {a:.1} % | {b:.1} % | {p} |");
    }
    println!("| sum of these | {sa:.1} % | {sb:.1} % | {sp:.1} % |");
    if let Some(f) = &floor {
        println!();
        println!(
            "Floor ({} runs): first frame offerer {:.1} / {:.1} ms, answerer {:.1} / {:.1} ms \
             (median / p95); glass-to-glass {:.1} / {:.1} ms and {:.1} / {:.1} ms; CPU per side \
             {:.1} / {:.1} %; webrtcbin latency {} ms.",
            f.runs,
            med(&f.ff_offerer),
            q(&f.ff_offerer, 0.95),
            med(&f.ff_answerer),
            q(&f.ff_answerer, 0.95),
            med(&f.a2b),
            q(&f.a2b, 0.95),
            med(&f.b2a),
            q(&f.b2a, 0.95),
            med(&f.cpu),
            q(&f.cpu, 0.95),
            f.latency_ms
        );
    }
    Ok(())
}

//! Media benchmark: an in-process MediaSession pair (640x480@30 VP8 + Opus,
//! both directions, test sources, headless sync=true sinks), each run a
//! fresh process inside a fresh network namespace (`duet_tests::Lan`).
//!
//! Prints Markdown: create-offer → first decoded remote frame (both sides),
//! glass-to-glass per direction (latency probe), CPU per side (process CPU
//! over a steady window ÷ 2: both sides share the process), peak RSS.
//!
//!     scripts/bench media [--runs 10] [--seconds 5] [--latency MS] [--codec vp8|h264]
//!                         [--resolution WxH] [--json]
//!
//! `--json` prints one JSON object instead (the raw figures, for
//! `scripts/bench call`, which compares a call with this floor).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use duet_gst::{MediaConfig, MediaEvent, MediaSession, Role, VideoCodec};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Args {
    runs: usize,
    seconds: u64,
    latency: Option<u32>,
    codec: VideoCodec,
    resolution: duet_gst::Resolution,
    child: bool,
    json: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        runs: 10,
        seconds: 5,
        latency: None,
        codec: VideoCodec::Vp8,
        resolution: duet_gst::Resolution::default(),
        child: false,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => a.runs = val().parse().expect("--runs N"),
            "--seconds" => a.seconds = val().parse().expect("--seconds N"),
            "--latency" => a.latency = Some(val().parse().expect("--latency MS")),
            "--codec" => a.codec = val().parse().expect("--codec vp8|h264"),
            "--resolution" => a.resolution = val().parse().expect("--resolution WxH"),
            "--child" => a.child = true,
            "--json" => a.json = true,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn config(args: &Args) -> MediaConfig {
    let mut c = MediaConfig {
        latency_probe: true,
        codec: args.codec,
        ..MediaConfig::test()
    }
    .with_resolution(args.resolution);
    if let Some(l) = args.latency {
        c.latency_ms = l;
    }
    c
}

type Log = Arc<Mutex<Vec<(Instant, MediaEvent)>>>;

fn false_after(d: Duration, t0: Instant) -> bool {
    t0.elapsed() >= d
}

fn pump(mut rx: tokio::sync::mpsc::Receiver<MediaEvent>, log: Log, peer: Weak<MediaSession>) {
    std::thread::spawn(move || {
        while let Some(ev) = rx.blocking_recv() {
            if let Some(peer) = peer.upgrade() {
                let r = match &ev {
                    MediaEvent::LocalDescription { kind, sdp } => {
                        peer.set_remote_description(*kind, sdp)
                    }
                    MediaEvent::LocalCandidate { mline, candidate } => {
                        peer.add_remote_candidate(*mline, candidate)
                    }
                    _ => Ok(()),
                };
                if let Err(e) = r {
                    eprintln!("signalling: {e}");
                }
            }
            if let MediaEvent::Error(e) = &ev {
                eprintln!("media error: {e}");
            }
            log.lock().unwrap().push((Instant::now(), ev));
        }
    });
}

fn first_frame(log: &Log) -> Option<Instant> {
    log.lock().unwrap().iter().find_map(|(_, e)| match e {
        MediaEvent::FirstRemoteVideoFrame { at, .. } => Some(*at),
        _ => None,
    })
}

fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the ")" of comm: state is field 3; utime 14, stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// CPU ticks per thread: (tid, name) -> ticks.
fn thread_ticks() -> std::collections::HashMap<(String, String), u64> {
    let mut m = std::collections::HashMap::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let f: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks = f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
        m.insert((t.file_name().to_string_lossy().to_string(), name), ticks);
    }
    m
}

fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmHWM:")
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

fn wait(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// One run, inside the namespace: prints `RESULT key=value…` and sample lines.
fn child(args: &Args) {
    duet_gst::init().unwrap();
    let cfg = config(args);
    duet_gst::warm_up(&cfg);
    let (b, b_rx) = MediaSession::start(cfg.clone(), Role::Answerer).unwrap();
    let b = Arc::new(b);
    let (a, a_rx) = MediaSession::start(cfg, Role::Offerer).unwrap();
    let a = Arc::new(a);
    let (a_log, b_log): (Log, Log) = Default::default();
    pump(a_rx, a_log.clone(), Arc::downgrade(&b));
    pump(b_rx, b_log.clone(), Arc::downgrade(&a));
    wait("first frames", 30, || {
        first_frame(&a_log).is_some() && first_frame(&b_log).is_some()
    });
    let t0 = a.offer_started_at().unwrap();
    if std::env::var_os("DUET_BENCH_TRACE").is_some() {
        wait("settle", 5, || false_after(Duration::from_millis(500), t0));
        for (name, log) in [("A", &a_log), ("B", &b_log)] {
            for (t, e) in log.lock().unwrap().iter() {
                let dt = t
                    .checked_duration_since(t0)
                    .map(|d| d.as_secs_f64() * 1000.0)
                    .unwrap_or(-(t0.duration_since(*t).as_secs_f64() * 1000.0));
                let s = format!("{e:?}");
                eprintln!("{name} {dt:8.1} {}", &s[..s.len().min(90)]);
            }
        }
    }
    let ff_a = first_frame(&a_log).unwrap().duration_since(t0);
    let ff_b = first_frame(&b_log).unwrap().duration_since(t0);
    // Settle, then a steady window.
    std::thread::sleep(Duration::from_secs(2));
    a.take_latency_samples();
    b.take_latency_samples();
    let (c0, w0, t0s) = (cpu_ticks(), Instant::now(), thread_ticks());
    std::thread::sleep(Duration::from_secs(args.seconds));
    let (c1, w1, t1s) = (cpu_ticks(), Instant::now(), thread_ticks());
    // Per-thread CPU, grouped by thread name with digits removed (both sides).
    let mut by_name: std::collections::BTreeMap<String, u64> = Default::default();
    for (k, v) in &t1s {
        let name: String = k.1.chars().filter(|c| !c.is_ascii_digit()).collect();
        *by_name.entry(name).or_default() += v - t0s.get(k).copied().unwrap_or(0);
    }
    let secs = (w1 - w0).as_secs_f64() * clk_tck();
    let threads: Vec<String> = by_name
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{}={:.2}", k.replace(' ', "_"), *v as f64 / secs * 100.0))
        .collect();
    println!("THREADS {}", threads.join(" "));
    let a_to_b = b.take_latency_samples();
    let b_to_a = a.take_latency_samples();
    let cpu = (c1 - c0) as f64 / clk_tck() / (w1 - w0).as_secs_f64() / 2.0;
    let (sa, sb) = (a.stats(), b.stats());
    println!(
        "RESULT ff_offerer_ms={:.1} ff_answerer_ms={:.1} cpu_per_side={:.4} vmhwm_kb={} frames_a={} frames_b={}",
        ff_a.as_secs_f64() * 1000.0,
        ff_b.as_secs_f64() * 1000.0,
        cpu,
        vm_hwm_kb(),
        sa.video_frames_received,
        sb.video_frames_received
    );
    println!(
        "A2B {}",
        a_to_b
            .iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "B2A {}",
        b_to_a
            .iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for s in [a, b] {
        let s = Arc::try_unwrap(s).unwrap_or_else(|_| panic!("session still shared"));
        s.close_blocking();
    }
}

fn quantile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args = parse_args();
    if args.child {
        child(&args);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let (mut ff_a, mut ff_b, mut cpu, mut rss) = (vec![], vec![], vec![], vec![]);
    let (mut a2b, mut b2a) = (vec![], vec![]);
    let mut threads: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for run in 0..args.runs {
        let lan = duet_tests::Lan::new(1).expect("creating a namespace (needs root)");
        let mut cmd = lan.host(0).command(&exe);
        cmd.args([
            "--child",
            "--seconds",
            &args.seconds.to_string(),
            "--codec",
            &args.codec.to_string(),
            "--resolution",
            &args.resolution.to_string(),
        ]);
        if let Some(l) = args.latency {
            cmd.args(["--latency", &l.to_string()]);
        }
        let out = cmd
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "run {run} failed: {}", out.status);
        let (mut run_a2b, mut run_b2a) = (vec![], vec![]);
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("RESULT") => {
                    for kv in words {
                        let (k, v) = kv.split_once('=').unwrap();
                        let v: f64 = v.parse().unwrap();
                        match k {
                            "ff_offerer_ms" => ff_a.push(v),
                            "ff_answerer_ms" => ff_b.push(v),
                            "cpu_per_side" => cpu.push(v * 100.0),
                            "vmhwm_kb" => rss.push(v / 1024.0),
                            _ => {}
                        }
                    }
                    eprintln!("run {run}: {line}");
                }
                Some("THREADS") => {
                    for kv in words {
                        if let Some((k, v)) = kv.rsplit_once('=') {
                            threads
                                .entry(k.to_string())
                                .or_default()
                                .push(v.parse().unwrap_or(0.0));
                        }
                    }
                }
                Some("A2B") => run_a2b.extend(words.map(|w| w.parse::<f64>().unwrap())),
                Some("B2A") => run_b2a.extend(words.map(|w| w.parse::<f64>().unwrap())),
                _ => {}
            }
        }
        // Per-run medians: glass-to-glass can differ from call to call.
        eprintln!(
            "run {run}: glass-to-glass median a→b {:.1} ms, b→a {:.1} ms",
            quantile(&mut run_a2b.clone(), 0.5),
            quantile(&mut run_b2a.clone(), 0.5)
        );
        a2b.append(&mut run_a2b);
        b2a.append(&mut run_b2a);
    }
    let cfg = config(&args);
    if args.json {
        let list = |v: &[f64]| {
            let items: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
            format!("[{}]", items.join(","))
        };
        // Median CPU of each thread name over the runs (both sides, % of a core).
        let per_thread: Vec<String> = threads
            .iter()
            .map(|(k, v)| format!("\"{k}\":{:.3}", quantile(&mut v.clone(), 0.5)))
            .collect();
        println!(
            "{{\"runs\":{},\"seconds\":{},\"latency_ms\":{},\"ff_offerer_ms\":{},\"ff_answerer_ms\":{},\"cpu_per_side_pct\":{},\"vmhwm_mib\":{},\"g2g_a2b_ms\":{},\"g2g_b2a_ms\":{},\"threads_pct\":{{{}}}}}",
            args.runs,
            args.seconds,
            cfg.latency_ms,
            list(&ff_a),
            list(&ff_b),
            list(&cpu),
            list(&rss),
            list(&a2b),
            list(&b2a),
            per_thread.join(",")
        );
        return;
    }
    println!("Settings: {}x{}@{} {} + Opus, video {} kbit/s, webrtcbin latency {} ms, {} runs, {} s steady window per run, release build.\n",
        cfg.width, cfg.height, cfg.framerate, args.codec, cfg.video_bitrate_kbps, cfg.latency_ms, args.runs, args.seconds);
    println!("| metric | median | p95 | target |");
    println!("|---|---|---|---|");
    let row = |name: &str, v: &mut Vec<f64>, unit: &str, target: &str| {
        let (m, p) = (quantile(v, 0.5), quantile(v, 0.95));
        println!("| {name} | {m:.1} {unit} | {p:.1} {unit} | {target} |");
    };
    row(
        "create-offer → first remote frame, offerer",
        &mut ff_a,
        "ms",
        "< 100 ms",
    );
    row(
        "create-offer → first remote frame, answerer",
        &mut ff_b,
        "ms",
        "< 100 ms",
    );
    row(
        &format!("glass-to-glass offerer → answerer ({} frames)", a2b.len()),
        &mut a2b,
        "ms",
        "< 40 ms",
    );
    row(
        &format!("glass-to-glass answerer → offerer ({} frames)", b2a.len()),
        &mut b2a,
        "ms",
        "< 40 ms",
    );
    row(
        "CPU per side (process CPU ÷ 2)",
        &mut cpu,
        "% of a core",
        "< 20 %",
    );
    row(
        "peak RSS (VmHWM) of the process (both sides)",
        &mut rss,
        "MiB",
        "",
    );
    println!("\nCPU by thread (both sides together, % of a core, median over runs; thread names without digits):\n");
    println!("| thread | CPU |");
    println!("|---|---|");
    let mut t: Vec<(String, f64)> = threads
        .into_iter()
        .map(|(k, mut v)| (k, quantile(&mut v, 0.5)))
        .collect();
    t.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (k, v) in t.into_iter().filter(|(_, v)| *v >= 0.5) {
        println!("| {k} | {v:.1} % |");
    }
}

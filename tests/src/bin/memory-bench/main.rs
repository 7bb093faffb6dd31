//! `scripts/bench memory`: the memory curve of two real `duet up` nodes
//! over many calls (issue 12). alice calls bob (auto-answer) `--calls`
//! times, paced ([`duet_tests::memory::CALL_SPACING`]: bob's invite rate
//! limit), each call held `--hold` seconds after both sides show a remote
//! frame. Before the first call and after each hangup, once the node's
//! threads have settled, both nodes' VmRSS, RssAnon, open fds and threads
//! are read from /proc. Prints Markdown (copy it into BENCHMARKS.md) and
//! draws RSS and RssAnon against the call count into `--plot` (SVG).
//!
//! Options: --calls N (100), --hold S (1), --plot PATH
//! (docs/memory-curve.svg), --codec vp8|h264 (vp8), --log RUST_LOG (warn).
//! The nodes set glibc's arena limit and trim/mmap thresholds themselves at
//! start (node/src/allocator.rs), so `MALLOC_ARENA_MAX` and the threshold
//! variables in the environment no longer change what is measured.

mod plot;

use anyhow::{bail, Context};
use duet_tests::measure::{loadavg, machine_line, table_head};
use duet_tests::memory::{settled_footprint, Caller, Footprint};
use duet_tests::node::{duet_bin, DuetNode, NodeOptions};
use duet_tests::Lan;
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Args {
    calls: usize,
    hold: f64,
    plot: PathBuf,
    codec: String,
    log: String,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        calls: 100,
        hold: 1.0,
        plot: duet_tests::workspace_root().join("docs/memory-curve.svg"),
        codec: "vp8".into(),
        log: "warn".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().with_context(|| format!("{k} needs a value"))?;
        match k.as_str() {
            "--calls" => a.calls = v.parse()?,
            "--hold" => a.hold = v.parse()?,
            "--plot" => a.plot = PathBuf::from(v),
            "--codec" => a.codec = v,
            "--log" => a.log = v,
            _ => bail!(
                "unknown option {k} (--calls N, --hold S, --plot PATH, --codec C, --log FILTER)"
            ),
        }
    }
    if a.calls < 2 {
        bail!("--calls must be at least 2");
    }
    Ok(a)
}

fn node_opts(name: &str, args: &Args) -> NodeOptions {
    let mut o = NodeOptions::named(name).args(["--no-console", "--codec", &args.codec]);
    if name == "bob" {
        o = o.args(duet_tests::node::AUTO_ANSWER_ANY);
    }
    NodeOptions {
        rust_log: Some(args.log.clone()),
        ..o
    }
}

fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let started = machine_line();
    let load0 = loadavg();
    eprintln!("duet binary: {}", duet_bin().display());
    let lan = Lan::new(2)?;
    let alice = DuetNode::start_with(lan.host(0), node_opts("alice", &args))?;
    let bob = DuetNode::start_with(lan.host(1), node_opts("bob", &args))?;
    alice.wait_to_meet(&bob, Duration::from_secs(30))?;
    // Let the start-up warm-up end before the baseline.
    std::thread::sleep(Duration::from_secs(2));
    let mut curve: Vec<[Footprint; 2]> =
        vec![[settled_footprint(&alice)?, settled_footprint(&bob)?]];
    let mut caller = Caller::default();
    let t0 = Instant::now();
    for i in 1..=args.calls {
        caller
            .cycle(&alice, &bob, "bob", Duration::from_secs_f64(args.hold))
            .with_context(|| format!("call {i}"))?;
        let f = [settled_footprint(&alice)?, settled_footprint(&bob)?];
        eprintln!(
            "call {i:3}: RSS {:6.1} / {:6.1} MiB, RssAnon {:6.1} / {:6.1} MiB, fds {} / {}, threads {} / {}",
            f[0].rss_mib(),
            f[1].rss_mib(),
            f[0].anon_mib(),
            f[1].anon_mib(),
            f[0].fds,
            f[1].fds,
            f[0].threads,
            f[1].threads
        );
        curve.push(f);
    }
    let minutes = t0.elapsed().as_secs_f64() / 60.0;
    plot::draw(&args.plot, &curve)?;
    report(&args, &curve, &started, &load0, minutes);
    Ok(())
}

fn report(args: &Args, curve: &[[Footprint; 2]], started: &str, load0: &str, minutes: f64) {
    let n = curve.len() - 1;
    println!(
        "{n} calls alice → bob (auto-answer), each held {} s after both sides showed a \
         remote frame, paced ≥ 1.1 s apart; `duet up --video test --audio test --display none \
         --codec {}`, {} build. Measured on {started} (load {load0} → {}), {minutes:.1} min.\n",
        args.hold,
        args.codec,
        if duet_bin().to_string_lossy().contains("/debug/") {
            "debug"
        } else {
            "release"
        },
        loadavg(),
    );
    println!(
        "{}",
        table_head(&[
            "after call",
            "VmRSS alice / bob (MiB)",
            "RssAnon alice / bob (MiB)",
            "fds alice / bob",
            "threads alice / bob"
        ])
    );
    let mut rows: Vec<usize> = vec![0, 1, 2, 5];
    rows.extend((10..=n).step_by(10));
    rows.push(n);
    rows.dedup();
    for i in rows.into_iter().filter(|i| *i <= n) {
        let [a, b] = curve[i];
        println!(
            "| {} | {:.1} / {:.1} | {:.1} / {:.1} | {} / {} | {} / {} |",
            if i == 0 {
                "none yet".to_string()
            } else {
                i.to_string()
            },
            a.rss_mib(),
            b.rss_mib(),
            a.anon_mib(),
            b.anon_mib(),
            a.fds,
            b.fds,
            a.threads,
            b.threads
        );
    }
    println!();
    for (side, name) in [(0, "alice (caller)"), (1, "bob (callee)")] {
        let first = curve[1][side];
        let last = curve[n][side];
        let max = curve[1..]
            .iter()
            .map(|f| f[side].rss_kib)
            .fold(0.0, f64::max)
            / 1024.0;
        let ratio = last.rss_kib / first.rss_kib;
        println!(
            "- {name}: VmRSS with no call after call {n} is {:.2}× its value after call 1 \
             ({:.1} → {:.1} MiB, max {max:.1}; target ≤ 1.1×: {}); RssAnon before any call \
             {:.1} MiB (target ≤ 10 MiB: {}); fds {} → {}, threads {} → {}.",
            ratio,
            first.rss_mib(),
            last.rss_mib(),
            if ratio <= 1.1 { "met" } else { "**missed**" },
            curve[0][side].anon_mib(),
            if curve[0][side].anon_mib() <= 10.0 {
                "met"
            } else {
                "**missed**"
            },
            first.fds,
            last.fds,
            first.threads,
            last.threads,
        );
    }
    println!("\nPlot: `{}`.", args.plot.display());
}

//! The Markdown `call-bench` prints for BENCHMARKS.md: the settings, the
//! figures of the calls next to the floor's (with the ratio the targets are
//! set on), whether each target was met, the phases, CPU by thread, and the
//! floor's own figures. Only formatting and summary statistics here: every
//! figure was measured before printing starts.

use crate::args::Args;
use crate::calls::CallRun;
use crate::floor::Floor;
use crate::phases;
use crate::steady::Steady;
use crate::topology::Topology;
use duet_tests::measure::{median as med, percentile, table_head, verdict};

/// Everything one bench measured.
pub struct Results {
    /// Where the two nodes sat.
    pub topology: Topology,
    /// [`duet_tests::measure::machine_line`] at the start.
    pub started: String,
    /// Load averages at the start and at the end.
    pub load0: String,
    pub load1: String,
    /// Every call, the warm-up first.
    pub runs: Vec<CallRun>,
    /// Steady windows of the last calls: [caller, callee].
    pub steadies: Vec<[Steady; 2]>,
    pub floor: Option<Floor>,
    /// How many floor runs were made between the calls.
    pub interleaved: usize,
    /// VmRSS MiB with no call: before the first call, then after each hangup.
    pub idle_rss: Vec<[f64; 2]>,
    /// (threads, open fds) with no call: before the first call, after it, after the last.
    pub idle_counts: Vec<[(usize, usize); 2]>,
}

/// The p95 by nearest rank.
fn p95(v: &[f64]) -> f64 {
    percentile(v, 0.95)
}

/// `a ÷ b` as `"1.23×"`, or "" with no floor.
fn ratio(a: f64, b: Option<f64>) -> String {
    match b {
        Some(b) if b > 0.0 => format!("{:.2}×", a / b),
        _ => String::new(),
    }
}

fn show(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1} ms")).unwrap_or_default()
}

pub fn print(args: &Args, r: &Results) {
    let (floor, steadies) = (&r.floor, &r.steadies);
    let first = &r.runs[0];
    let warm = &r.runs[1..];
    let col = |g: fn(&CallRun) -> f64| warm.iter().map(g).collect::<Vec<f64>>();
    let (caller, callee, both) = (col(|r| r.caller), col(|r| r.callee), col(CallRun::both));
    let connected = col(|r| r.connected);
    let (caller_media, callee_media) = (col(|r| r.caller_media), col(|r| r.callee_media));
    let side =
        |i: usize, g: fn(&Steady) -> f64| steadies.iter().map(|s| g(&s[i])).collect::<Vec<f64>>();
    let cpu = [side(0, |s| s.cpu), side(1, |s| s.cpu)];
    let rss = [side(0, |s| s.rss_mib), side(1, |s| s.rss_mib)];
    let hwm = [side(0, |s| s.hwm_mib), side(1, |s| s.hwm_mib)];
    // Direction alice → bob is measured by bob (the receiver); g2g is
    // (median, p95, count) of one call.
    let g2g = |recv: usize, g: fn(&(f64, f64, u64)) -> f64| -> Vec<f64> {
        steadies
            .iter()
            .filter_map(|s| s[recv].g2g.as_ref().map(g))
            .collect()
    };
    let g2g_n = |recv: usize| -> u64 {
        steadies
            .iter()
            .filter_map(|s| s[recv].g2g.map(|g| g.2))
            .sum()
    };
    let (a2b, b2a) = (g2g(1, |g| g.0), g2g(0, |g| g.0));

    println!(
        "Measured {} with `scripts/bench call` (release build; load average {} \
         at the start, {} at the end).",
        r.started, r.load0, r.load1
    );
    println!();
    println!(
        "Settings: two `duet up --video test --audio test --display {} --latency-probe \
         --codec {}{}` nodes ({}; in window mode each on its own Xvfb) on a simulated LAN \
         (network namespaces; topology `{}`: {}), 640x480@30 + Opus (node defaults), node logs at `{}`; {} calls \
         alice → bob by name between the same two nodes (the first reported alone), \
         `duet hangup` and no call on either side between calls; steady window {} s \
         after {} s of settling on the last {} calls. Floor: `media-bench --json`, {} runs \
         × {} s in the same run ({} of them one after each steady-state call).",
        args.display,
        args.codec,
        args.video_fec
            .as_ref()
            .map(|f| format!(" --video-fec {f}"))
            .unwrap_or_default(),
        answer_mode(args.ring_ms),
        r.topology.name(),
        r.topology.describe(),
        args.log,
        args.calls,
        args.window,
        args.settle,
        args.cpu_calls,
        floor.as_ref().map_or(0, |f| f.runs),
        args.media_seconds,
        r.interleaved
    );
    println!();
    println!(
        "{}",
        table_head(&[
            "metric",
            "first call",
            "median",
            "p95",
            "floor (median)",
            "call ÷ floor",
            "target",
        ])
    );
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
    let n = warm.len();
    let (from, target) = if args.ring_ms > 0 {
        ("`duet answer`", "≤ 50 ms")
    } else {
        ("`duet call`", "< 150 ms, ≤ 1.5×")
    };
    println!(
        "| {from} → `connected` (client returns) | {:.1} ms | {:.1} ms | {:.1} ms | | | |",
        first.connected,
        med(&connected),
        p95(&connected)
    );
    for (who, role, v, first_v, fv) in [
        ("caller", "offerer", &caller, first.caller, floor_off),
        ("callee", "answerer", &callee, first.callee, floor_ans),
    ] {
        println!(
            "| {from} → first remote frame, {who} ({n} calls) | {first_v:.1} ms | {:.1} ms | {:.1} ms | {} ({role}) | {} | |",
            med(v),
            p95(v),
            show(fv),
            ratio(med(v), fv)
        );
    }
    println!(
        "| {from} → first remote frame on both sides ({n} calls) | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {target} |",
        first.both(),
        med(&both),
        p95(&both),
        show(floor_both),
        ratio(med(&both), floor_both)
    );
    println!(
        "| media start → first remote frame (node's `first_frame_ms`), caller / callee | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {:.1} / {:.1} ms | | | |",
        first.caller_media,
        first.callee_media,
        med(&caller_media),
        med(&callee_media),
        p95(&caller_media),
        p95(&callee_media)
    );
    println!(
        "| media route (`stats.route`, both sides) | {} | {} | | | | |",
        first.route,
        routes(warm)
    );
    let floor_a2b = fl(|f| med(&f.a2b));
    let floor_b2a = fl(|f| med(&f.b2a));
    for (dir, recv, note, v, fv) in [
        (
            "caller → callee",
            1,
            ", median of per-call medians; p95 = median of per-call p95",
            &a2b,
            floor_a2b,
        ),
        ("callee → caller", 0, "", &b2a, floor_b2a),
    ] {
        println!(
            "| glass-to-glass {dir} ({} frames{note}) | | {:.1} ms | {:.1} ms | {} | {} | ≤ 1.2× |",
            g2g_n(recv),
            med(v),
            med(&g2g(recv, |g| g.1)),
            show(fv),
            ratio(med(v), fv)
        );
    }
    let floor_cpu = fl(|f| med(&f.cpu));
    for (i, who) in ["caller (alice)", "callee (bob)"].iter().enumerate() {
        println!(
            "| CPU of the {who} node ({} windows) | | {:.1} % | {:.1} % | {} | {} | ≤ 1.15× |",
            cpu[i].len(),
            med(&cpu[i]),
            p95(&cpu[i]),
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
    idle_rows(args, r);

    // ---- targets ----
    println!();
    println!("{}", table_head(&["target", "result"]));
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

    phases::print_table(first, warm);
    thread_table(steadies, floor.as_ref());
    if let Some(f) = floor {
        floor_line(f);
    }
}

/// Each route the calls took, with how many calls took it: `direct (20)`.
pub fn routes(runs: &[CallRun]) -> String {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for r in runs {
        match seen.iter_mut().find(|(k, _)| *k == r.route) {
            Some((_, n)) => *n += 1,
            None => seen.push((r.route.as_str(), 1)),
        }
    }
    seen.iter()
        .map(|(k, n)| format!("{k} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of the main table on what the nodes keep with no call.
fn idle_rows(args: &Args, r: &Results) {
    let idle_rss = &r.idle_rss;
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
        r.idle_counts
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
}

/// CPU by thread kind, caller and callee, next to the floor's (÷ 2: the
/// floor's one process holds both sides).
fn thread_table(steadies: &[[Steady; 2]], floor: Option<&Floor>) {
    println!();
    println!("CPU by thread during the steady windows (% of one core, median over windows; names without digits; ≥ 0.3 %):");
    println!();
    println!(
        "{}",
        table_head(&["thread", "caller", "callee", "pair ÷ 2"])
    );
    let floor_thread = |name: &str| -> Option<f64> {
        floor
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
}

/// The floor's own figures, one paragraph.
fn floor_line(f: &Floor) {
    println!();
    println!(
        "Floor ({} runs): first frame offerer {:.1} / {:.1} ms, answerer {:.1} / {:.1} ms \
         (median / p95); glass-to-glass {:.1} / {:.1} ms and {:.1} / {:.1} ms; CPU per side \
         {:.1} / {:.1} %; webrtcbin latency {} ms.",
        f.runs,
        med(&f.ff_offerer),
        p95(&f.ff_offerer),
        med(&f.ff_answerer),
        p95(&f.ff_answerer),
        med(&f.a2b),
        p95(&f.a2b),
        med(&f.b2a),
        p95(&f.b2a),
        med(&f.cpu),
        p95(&f.cpu),
        f.latency_ms
    );
}

/// How bob answers, and where the first-frame figures count from.
fn answer_mode(ring_ms: u64) -> String {
    if ring_ms == 0 {
        "bob with `--auto-answer`; first frame from the start of `duet call`".into()
    } else {
        format!(
            "bob rings {ring_ms} ms and is answered with `duet answer`; first frame from \
             the start of `duet answer`"
        )
    }
}

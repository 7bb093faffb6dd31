//! Topologies side by side, for a run with several (`--topology
//! same,routed,relay`): first frame on both sides and glass-to-glass per
//! direction of each, as ratios and differences to the first topology
//! given (the same subnet, normally), with the targets of calls across
//! subnets: first frame within 1.2× of the same subnet's, glass-to-glass
//! through TURN within 5 ms of direct media's.

use crate::args::Args;
use crate::calls::CallRun;
use crate::floor::Floor;
use crate::report::{routes, Results};
use crate::topology::Topology;
use duet_tests::measure::{median as med, percentile, table_head, verdict};

/// One topology's summary figures (medians over the calls after the first).
struct Row {
    topology: Topology,
    route: String,
    connected: f64,
    both: f64,
    both_p95: f64,
    /// Glass-to-glass caller → callee and back: median of per-call medians.
    a2b: f64,
    b2a: f64,
    /// CPU of caller and callee, median of the steady windows.
    cpu: [f64; 2],
}

fn row(r: &Results) -> Row {
    let warm = &r.runs[1..];
    let col = |g: fn(&CallRun) -> f64| warm.iter().map(g).collect::<Vec<f64>>();
    let both = col(CallRun::both);
    // The receiver measures a direction: bob (1) alice → bob.
    let g2g = |recv: usize| {
        med(&r
            .steadies
            .iter()
            .filter_map(|s| s[recv].g2g.map(|g| g.0))
            .collect::<Vec<_>>())
    };
    let cpu = |i: usize| med(&r.steadies.iter().map(|s| s[i].cpu).collect::<Vec<_>>());
    Row {
        topology: r.topology,
        route: routes(&r.runs),
        connected: med(&col(|r| r.connected)),
        both: med(&both),
        both_p95: percentile(&both, 0.95),
        a2b: g2g(1),
        b2a: g2g(0),
        cpu: [cpu(0), cpu(1)],
    }
}

/// The comparison table and its verdicts, Markdown.
pub fn print(args: &Args, results: &[Results], floor: Option<&Floor>) {
    let rows: Vec<Row> = results.iter().map(row).collect();
    let Some(base) = rows.first() else { return };
    // Relayed media is held against direct media across the same router
    // when that was measured, else against the first topology.
    let direct = rows
        .iter()
        .find(|r| r.topology == Topology::Routed)
        .unwrap_or(base);
    let r0 = &results[0];
    println!(
        "Measured {} with `scripts/bench call --topology {}` (release build; load average {} \
         at the start, {} at the end). {} calls alice → bob in each topology, taking turns \
         (call 1 in each, then call 2, …; the first reported alone), glass-to-glass and CPU \
         over {} s windows of the last {} calls; codec {}, {}.",
        r0.started,
        args.topologies
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(","),
        r0.load0,
        r0.load1,
        args.calls,
        args.window,
        args.cpu_calls,
        args.codec,
        if args.ring_ms == 0 {
            "bob auto-answers"
        } else {
            "bob rings and is answered with `duet answer` (figures from the answer)"
        }
    );
    println!();
    for r in &rows {
        println!("- `{}`: {}", r.topology.name(), r.topology.describe());
    }
    println!();
    let delta = format!("Δ vs `{}`", direct.topology.name());
    println!(
        "{}",
        table_head(&[
            "topology",
            "route",
            "→ connected",
            "→ first frame both sides, median / p95",
            "÷ first row",
            "glass-to-glass caller → callee / callee → caller",
            &delta,
            "CPU caller / callee",
        ])
    );
    for r in &rows {
        println!(
            "| `{}` | {} | {:.1} ms | {:.1} / {:.1} ms | {:.2}× | {:.1} / {:.1} ms | {:+.1} / {:+.1} ms | {:.1} / {:.1} % |",
            r.topology.name(),
            r.route,
            r.connected,
            r.both,
            r.both_p95,
            r.both / base.both,
            r.a2b,
            r.b2a,
            r.a2b - direct.a2b,
            r.b2a - direct.b2a,
            r.cpu[0],
            r.cpu[1]
        );
    }
    if let Some(f) = floor {
        println!(
            "| media floor (in-process pair, no node) | | | {:.1} ms (both) | | {:.1} / {:.1} ms | | {:.1} % per side |",
            med(&f
                .ff_offerer
                .iter()
                .zip(&f.ff_answerer)
                .map(|(a, b)| a.max(*b))
                .collect::<Vec<_>>()),
            med(&f.a2b),
            med(&f.b2a),
            med(&f.cpu)
        );
    }
    println!();
    println!("{}", table_head(&["target", "result"]));
    for r in rows.iter().skip(1) {
        println!(
            "| `{}` → first frame both sides ≤ 1.2× `{}` | {:.2}× ({:.1} vs {:.1} ms): {} |",
            r.topology.name(),
            base.topology.name(),
            r.both / base.both,
            r.both,
            base.both,
            verdict(r.both <= 1.2 * base.both)
        );
    }
    for r in rows
        .iter()
        .filter(|r| matches!(r.topology, Topology::Relay | Topology::Circuit))
    {
        for (dir, g, d) in [
            ("caller → callee", r.a2b, direct.a2b),
            ("callee → caller", r.b2a, direct.b2a),
        ] {
            println!(
                "| `{}` glass-to-glass {dir} ≤ `{}` + 5 ms | {:+.1} ms ({g:.1} vs {d:.1} ms): {} |",
                r.topology.name(),
                direct.topology.name(),
                g - d,
                verdict(g <= d + 5.0)
            );
        }
    }
    println!();
}

//! The Markdown of `quality-bench`: one row per loss level, the floor, and
//! the targets with a verdict each.

use crate::args::Args;
use crate::level::Level;
use crate::level::Net;
use crate::Floor;
use duet_tests::measure::{median, percentile, table_head, verdict};

/// Call setup alone, repeated at one network condition.
#[derive(Debug, Default)]
pub struct Setup {
    pub net: Net,
    pub connect_ms: Vec<f64>,
    pub first_ms: Vec<f64>,
}

pub fn print_setups(setups: &[Setup], load: &str) {
    if setups.is_empty() {
        return;
    }
    println!(
        "\nCall setup alone: `duet call` → connected, and → first frame on both sides, \
         over repeated calls, 1.1 s apart (load average {load} at the end).\n"
    );
    println!(
        "{}",
        table_head(&[
            "network",
            "calls",
            "connected median / p90 ms",
            "first frames median / p90 / max ms",
            "first frames > 500 ms",
        ])
    );
    for s in setups {
        let max = s.first_ms.iter().copied().fold(f64::NAN, f64::max);
        println!(
            "| {} | {} | {:.0} / {:.0} | {:.0} / {:.0} / {:.0} | {} |",
            s.net.label(),
            s.first_ms.len(),
            median(&s.connect_ms),
            percentile(&s.connect_ms, 0.9),
            median(&s.first_ms),
            percentile(&s.first_ms, 0.9),
            max,
            s.first_ms.iter().filter(|f| **f > 500.0).count()
        );
    }
    if let Some(s) = setups.iter().find(|s| s.net == Net::loss(5)) {
        let (m, p) = (median(&s.first_ms), percentile(&s.first_ms, 0.9));
        println!("\n{}", table_head(&["target", "measured", "verdict"]));
        row(
            "5 % loss: first frame ≤ 500 ms (median and p90)",
            format!("{m:.0} / {p:.0} ms over {} calls", s.first_ms.len()),
            m <= 500.0 && p <= 500.0,
        );
    }
}

fn pair(a: f64, b: f64, digits: usize) -> String {
    format!("{a:.digits$} / {b:.digits$}")
}

pub fn print(
    args: &Args,
    started: &str,
    load0: &str,
    load1: &str,
    levels: &[Level],
    floor: Option<&Floor>,
) {
    println!("Measured on {started} (load average {load0} at the start, {load1} at the end); `duet up --video-fec {} --video {} --resolution {}`.\n", args.video_fec, args.video, args.resolution);
    println!(
        "Loss: each level drops that share of the callee's UDP packets at random, each way \
         (nftables in its host); jitter delays each of them J ± J ms, each way (nftables \
         queue and the net-jitter helper). Window {} s per level ({} s at the highest), after 2 s of \
         settling; figures are caller / callee (what each side received). Glass-to-glass \
         median and p95 are over the window's last 10 s (the node's `recent`); the last \
         column is the p95 over every frame since the call began.{}\n",
        args.seconds,
        args.long_seconds,
        if args.quick { " `--quick` run." } else { "" }
    );
    println!(
        "{}",
        table_head(&[
            "network",
            "connected / first frames ms",
            "fps decoded",
            "freezes > 200 ms",
            "longest gap ms",
            "glass-to-glass median ms",
            "p95 ms",
            "p95 ms, whole call",
            "received kbit/s",
            "caller sent kbit/s (wire)",
            "video target kbit/s",
            "packets lost",
            "CPU % of a core",
            "call up",
        ])
    );
    for l in levels {
        let [a, b] = &l.sides;
        println!(
            "| {} | {:.0} / {:.0} | {} | {} / {} | {} | {} | {} | {} | {} | {:.0} | {} | {} / {} | {} | {} ({:.0} s) |",
            l.net.label(),
            l.connect_ms,
            l.setup_ms,
            pair(a.fps, b.fps, 1),
            a.freezes,
            b.freezes,
            pair(a.longest_gap_ms, b.longest_gap_ms, 0),
            pair(a.g2g_median, b.g2g_median, 1),
            pair(a.g2g_p95, b.g2g_p95, 1),
            pair(a.g2g_p95_call, b.g2g_p95_call, 1),
            pair(a.rx_kbps, b.rx_kbps, 0),
            l.caller_wire_kbps,
            pair(a.target_kbps, b.target_kbps, 0),
            a.packets_lost,
            b.packets_lost,
            pair(a.cpu, b.cpu, 0),
            if l.up { "yes" } else { "**no**" },
            l.window_s
        );
    }
    if let Some(f) = floor {
        println!(
            "\nFloor (in-process MediaSession pair, no loss, {} runs): glass-to-glass {:.1} ms \
             median, {:.1} ms p95; create-offer → first frame {:.0} ms median.",
            f.runs, f.g2g_median, f.g2g_p95, f.first_frame_ms
        );
    }
    println!("\n{}", table_head(&["target", "measured", "verdict"]));
    let at = |p: u32| levels.iter().find(|l| l.net == crate::level::Net::loss(p));
    let min_fps = |l: &Level| l.sides[0].fps.min(l.sides[1].fps);
    let longest = |l: &Level| l.sides[0].longest_gap_ms.max(l.sides[1].longest_gap_ms);
    if let Some(l) = at(10) {
        row(
            "10 % loss: ≥ 24 fps both sides",
            format!("{:.1} fps", min_fps(l)),
            min_fps(l) >= 24.0,
        );
    }
    if let Some(l) = at(20) {
        row(
            &format!("20 % loss: call up {} s with ≥ 15 fps", args.long_seconds),
            format!("up {:.0} s, {:.1} fps", l.window_s, min_fps(l)),
            l.up && min_fps(l) >= 15.0,
        );
    }
    if let Some(l) = at(5) {
        row(
            "5 % loss: no freeze > 500 ms",
            format!("longest gap {:.0} ms", longest(l)),
            longest(l) <= 500.0,
        );
        row(
            "5 % loss: first frame ≤ 500 ms",
            format!("{:.0} ms", l.setup_ms),
            l.setup_ms <= 500.0,
        );
    }
    if let Some(l) = at(1) {
        let n = l.sides[0].freezes + l.sides[1].freezes;
        row("1 % loss: no freezes", format!("{n} freezes"), n == 0);
    }
    if let Some(l) = at(0) {
        let med = l.sides[0].g2g_median.max(l.sides[1].g2g_median);
        row(
            "no loss: glass-to-glass median ≤ 20 ms",
            format!("{med:.1} ms"),
            med <= 20.0,
        );
        if let Some(f) = floor {
            let p95 = l.sides[0].g2g_p95.max(l.sides[1].g2g_p95);
            row(
                "no loss: call p95 ≤ 1.2× the pair's p95",
                format!("{p95:.1} ms = {:.2}×", p95 / f.g2g_p95),
                p95 <= 1.2 * f.g2g_p95,
            );
        }
    }
    println!("\nPlot: {}", args.plot.display());
}

fn row(what: &str, measured: String, ok: bool) {
    println!("| {what} | {measured} | {} |", verdict(ok));
}

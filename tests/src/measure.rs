//! Measurement helpers shared by the benchmark binaries (`call-bench`,
//! `discovery-bench`), so that both describe the machine, read a process's
//! CPU and memory from /proc, and rank figures the same way: their numbers
//! end up side by side in BENCHMARKS.md and must mean the same thing.
//!
//! - the machine: [`machine_line`] (nproc × CPU model, date), [`loadavg`];
//! - a process: CPU ticks from `/proc/PID/stat` ([`stat_ticks`],
//!   [`process_ticks`]), kB fields of `/proc/PID/status` ([`status_kb`],
//!   e.g. `VmRSS:` and `VmHWM:`), CPU % over a window ([`cpu_percent`]);
//! - figures: nearest-rank [`percentile`], [`median`];
//! - Markdown: [`table_head`], [`verdict`];
//! - the media floor: [`media_bench_json`] (one `media-bench --json` run).

use anyhow::Context;
use std::path::Path;
use std::process::Command;

/// `"{nproc} × {CPU model}, {date UTC}"`, for the "Measured …" line.
pub fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| cpu_model(&c))
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

/// The first `model name` of a /proc/cpuinfo text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
}

/// The three load averages of /proc/loadavg (`"0.52 0.40 0.33"`), or "".
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Clock ticks per second (the unit of utime and stime in /proc).
pub fn clock_ticks() -> anyhow::Result<f64> {
    Ok(nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?.unwrap_or(100) as f64)
}

/// The name and utime + stime (clock ticks) of a /proc `stat` line
/// (`pid (comm) state …`; comm may hold spaces and parentheses).
pub fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let name = stat.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after "pid (comm)".
    let t = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((name, t))
}

/// [`parse_stat`] of a `stat` file (`/proc/PID/stat`, `/proc/PID/task/TID/stat`).
pub fn stat_ticks(path: &Path) -> Option<(String, u64)> {
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// utime + stime of process `pid` so far, in clock ticks.
pub fn process_ticks(pid: u32) -> Option<u64> {
    stat_ticks(Path::new(&format!("/proc/{pid}/stat"))).map(|(_, t)| t)
}

/// CPU in % of one core from `ticks` clock ticks used over `secs` seconds.
pub fn cpu_percent(ticks: u64, ticks_per_sec: f64, secs: f64) -> f64 {
    100.0 * ticks as f64 / ticks_per_sec / secs
}

/// The number of a `key` line of a /proc `status` text (`VmRSS:  1234 kB`).
pub fn parse_status_kb(status: &str, key: &str) -> Option<f64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|l| l.split_whitespace().next())?
        .parse::<f64>()
        .ok()
}

/// A kB field of `/proc/PID/status` (`"VmRSS:"`, `"VmHWM:"`).
pub fn status_kb(pid: u32, key: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status_kb(&status, key).with_context(|| format!("no {key} in /proc/{pid}/status"))
}

/// The `p` quantile (0 < p ≤ 1) by nearest rank; NaN for no figures.
/// `percentile(v, 1.0)` is the maximum.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
    v.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// The median by nearest rank (the lower middle of an even count).
pub fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

/// The head of a Markdown table: the column names and the `|---|` line.
pub fn table_head(columns: &[&str]) -> String {
    format!(
        "| {} |\n|{}",
        columns.join(" | "),
        "---|".repeat(columns.len())
    )
}

/// A target's result in a Markdown table.
pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// Runs `media-bench --json ARGS` (the in-process MediaSession pair,
/// `gst/examples/media-bench.rs`; `bin`, else next to the running binary)
/// and returns its JSON figures.
pub fn media_bench_json(bin: Option<&Path>, args: &[&str]) -> anyhow::Result<serde_json::Value> {
    let bin = match bin {
        Some(b) => b.to_path_buf(),
        None => std::env::current_exe()?
            .parent()
            .context("no folder of the running binary")?
            .join("examples/media-bench"),
    };
    if !bin.exists() {
        anyhow::bail!(
            "{} not found: build it (cargo build --release -p duet-gst --example media-bench) \
             or pass --media-bin / --no-media",
            bin.display()
        );
    }
    let out = Command::new(&bin)
        .arg("--json")
        .args(args)
        .current_dir(crate::workspace_root())
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    if !out.status.success() {
        anyhow::bail!("{} failed: {}", bin.display(), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("media-bench printed no JSON (does it have --json?)")?;
    Ok(serde_json::from_str(line)?)
}

/// The font the benches' plots use for their labels: DejaVu Sans
/// (fonts-dejavu-core, which scripts/install-deps installs), registered
/// with plotters as "sans-serif" (plotters draws text only with a font it
/// was given).
pub const PLOT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Registers [`PLOT_FONT`] with plotters; call before drawing.
pub fn register_plot_font() -> anyhow::Result<()> {
    let bytes = std::fs::read(PLOT_FONT).with_context(|| format!("reading {PLOT_FONT}"))?;
    // plotters keeps the font for the life of the process.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, bytes)
        .map_err(|_| anyhow::anyhow!("{PLOT_FONT} is not a font plotters can read"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(median(&v), 3.0);
        assert_eq!(percentile(&v, 0.95), 5.0);
        assert_eq!(percentile(&v, 1.0), 5.0);
        assert_eq!(percentile(&v, 0.2), 1.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        // Even count: the lower middle.
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.0);
        // 20 figures: p95 is the 19th.
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&twenty, 0.95), 19.0);
        assert_eq!(median(&[7.0]), 7.0);
        assert!(median(&[]).is_nan());
        assert!(percentile(&[], 0.95).is_nan());
    }

    #[test]
    fn stat_line() {
        let line = "4242 (tokio-rt (w) 1) S 1 4242 4242 0 -1 4194560 2188 0 0 0 \
                    137 25 0 0 20 0 12 0 123456 987654321 4321 18446744073709551615";
        assert_eq!(parse_stat(line), Some(("tokio-rt (w) 1".to_string(), 162)));
        assert_eq!(parse_stat("4242 (x) S 1 2"), None);
        assert_eq!(parse_stat("no parentheses"), None);
    }

    #[test]
    fn status_fields() {
        let status = "Name:\tduet\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t12\n";
        assert_eq!(parse_status_kb(status, "VmRSS:"), Some(40960.0));
        assert_eq!(parse_status_kb(status, "VmHWM:"), Some(51200.0));
        assert_eq!(parse_status_kb(status, "VmSwap:"), None);
    }

    #[test]
    fn cpu_model_and_percent() {
        let info = "processor\t: 0\nmodel name\t: Example CPU @ 3.00GHz\nflags\t: fpu\n";
        assert_eq!(cpu_model(info).as_deref(), Some("Example CPU @ 3.00GHz"));
        assert_eq!(cpu_model("processor\t: 0\n"), None);
        assert_eq!(cpu_percent(150, 100.0, 6.0), 25.0);
    }

    #[test]
    fn markdown() {
        assert_eq!(table_head(&["a", "b c"]), "| a | b c |\n|---|---|");
        assert_eq!(verdict(true), "met");
        assert_eq!(verdict(false), "**missed**");
    }
}

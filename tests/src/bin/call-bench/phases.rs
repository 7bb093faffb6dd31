//! The timeline of a call from the nodes' own logs: each log line a node
//! wrote during a call, with ids and numbers taken out so that the same
//! step lines up across calls, timed against the start of `duet call`.
//! Shows where the time to a first frame goes, which the totals cannot.

use crate::calls::CallRun;
use duet_tests::measure::{median, table_head};
use duet_tests::node::DuetNode;
use std::collections::HashMap;

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
pub fn phases(node: &DuetNode, from: u64, t0: f64) -> Vec<(String, f64)> {
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

/// The phases table: per log line seen in at least half of the warm calls,
/// its median offset over them and its offset in the first call.
pub fn print_table(first: &CallRun, warm: &[CallRun]) {
    let n = warm.len();
    println!();
    println!(
        "Phases (node log lines, ms after starting `duet call`: median over the {n} warm calls, \
         and the first call; lines seen in at least half of the warm calls):"
    );
    println!();
    println!(
        "{}",
        table_head(&["warm calls (median)", "first call", "node: message"])
    );
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
        .map(|(k, v)| (median(v), *k))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_ts("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_ts("2000-03-01T00:00:01.5Z"), Some(951_868_801.5));
        assert_eq!(parse_ts("2026-11-25T23:10:00"), None);
        assert_eq!(parse_ts("INFO"), None);
    }

    #[test]
    fn messages_without_ids_and_numbers() {
        assert_eq!(
            normalize("call 12D3KooWAbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGhIjKlMnOp offer sent (1234 bytes) in 1.25 ms"),
            "call offer sent in N ms"
        );
    }
}

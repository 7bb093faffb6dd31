//! `duet call`'s exit codes, one per outcome, so a script can tell a busy
//! peer from one that is not there; and the durations its options take.

use crate::call::EndCode;
use std::time::Duration;

/// How a call attempt ended. The code is the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallExit {
    /// Connected (and, with `--for`, held and hung up).
    Completed = 0,
    /// No node answers on the control socket.
    NoNode = 2,
    /// The target is not on the LAN, or its name is shared by several peers.
    NotFound = 3,
    Declined = 4,
    Busy = 5,
    /// Nobody answered in time (ring timeout, or `--timeout`).
    NoAnswer = 6,
    /// The callee takes no calls from this node (`--reject-others`).
    NotAllowed = 7,
    /// The callee could not be reached, or media could not be set up.
    Unreachable = 8,
    /// With `--for`: the call ended before its time.
    EndedEarly = 9,
    /// The callee refused the invite: too many calls from this node just
    /// now (its per-peer rate limit); try again in a second.
    RateLimited = 10,
}

/// The table shown by `duet call --help` and in the README.
pub const HELP: &str = "Exit status:
  0  connected (with --for: held for the duration and hung up)
  1  any other error (bad arguments, the node refused the request)
  2  no node is running at the control socket
  3  target not found, or ambiguous
  4  declined
  5  busy (in a call, or do-not-disturb)
  6  no answer (ring timeout, or --timeout reached)
  7  not allowed (the callee takes calls only from its allow-list)
  8  unreachable, lost, or media failure
  9  ended early (with --for: the call dropped before its time)
  10  rate-limited (the callee refused: too many calls to it just now; retry in a second)";

impl CallExit {
    /// The exit for a failed call's reason word (`call_ended` reasons, and
    /// `not-found`/`ambiguous` of an unresolved target).
    pub fn of_reason(reason: &str) -> CallExit {
        match reason.parse() {
            Ok(code) => CallExit::of_end(code),
            Err(_) if matches!(reason, "not-found" | "ambiguous") => CallExit::NotFound,
            Err(_) => CallExit::Unreachable,
        }
    }

    /// The exit for a call that ended with `code`.
    pub fn of_end(code: EndCode) -> CallExit {
        match code {
            EndCode::Declined => CallExit::Declined,
            EndCode::Busy => CallExit::Busy,
            EndCode::Timeout | EndCode::Cancelled => CallExit::NoAnswer,
            EndCode::NotAllowed => CallExit::NotAllowed,
            EndCode::RateLimited => CallExit::RateLimited,
            _ => CallExit::Unreachable,
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A duration as `3`, `3s`, `1.5s`, `250ms`, `2m` or `1h` (bare numbers
/// are seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 30, 30s, 2m, 500ms)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        u => return Err(format!("unknown unit {u:?} in {s:?} (ms, s, m, h)")),
    };
    let secs = n * scale;
    if !secs.is_finite() || !(0.0..=86_400.0 * 365.0).contains(&secs) {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn every_outcome_has_its_own_code() {
        let all = [
            CallExit::Completed,
            CallExit::NoNode,
            CallExit::NotFound,
            CallExit::Declined,
            CallExit::Busy,
            CallExit::NoAnswer,
            CallExit::NotAllowed,
            CallExit::Unreachable,
            CallExit::EndedEarly,
            CallExit::RateLimited,
        ];
        let mut codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(!codes.contains(&1), "1 stays for other errors");
        for e in all {
            assert!(HELP.contains(&format!("  {}  ", e.code())));
        }
        assert_eq!(CallExit::of_reason("not-allowed"), CallExit::NotAllowed);
        assert_eq!(CallExit::of_reason("media-failed"), CallExit::Unreachable);
        assert_eq!(CallExit::of_reason("ambiguous"), CallExit::NotFound);
        assert_eq!(CallExit::of_reason("rate-limited"), CallExit::RateLimited);
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in ["", "s", "3 weeks", "-1", "1e999"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

//! Per-peer limits on inbound call signalling. A peer on the LAN may send
//! anything as fast as it likes; each message costs this node a decode, a
//! queue slot and often a reply. Token buckets per authenticated PeerId
//! bound what one peer can make the node do: a few invites, then one a
//! second, and a steady message rate far above what a call needs
//! (a call is a few dozen messages). Over the limit, a message is refused
//! (the sender sees `refused`) and never reaches the call actor. Entries
//! are forgotten when the peer's last connection closes, so the table is
//! bounded by the connection limits.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Steady signalling messages per second per peer, and the burst above it.
pub const MESSAGES_PER_SEC: f64 = 50.0;
pub const MESSAGE_BURST: f64 = 100.0;
/// Invites per second per peer, and the burst above it (a person calls
/// far less often; a benchmark placing calls back to back stays under it).
pub const INVITES_PER_SEC: f64 = 1.0;
pub const INVITE_BURST: f64 = 8.0;
/// At most one warning per peer this often, with the count refused since.
const WARN_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Self {
        Bucket {
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, rate: f64, burst: f64, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + dt * rate).min(burst);
        self.last = now;
    }
}

/// Counts repeated happenings and says when one log line summing them up
/// is due (at most once per [`WARN_EVERY`]), so a flood cannot flood the log.
#[derive(Debug, Clone, Default)]
pub struct Throttle {
    count: u64,
    logged_at: Option<Instant>,
}

impl Throttle {
    /// Counts one; returns the count since the last line when one is due.
    pub fn hit(&mut self, now: Instant) -> Option<u64> {
        self.count += 1;
        let due = self
            .logged_at
            .is_none_or(|at| now.saturating_duration_since(at) >= WARN_EVERY);
        due.then(|| {
            self.logged_at = Some(now);
            std::mem::take(&mut self.count)
        })
    }
}

#[derive(Debug, Clone)]
struct PeerLimits {
    messages: Bucket,
    invites: Bucket,
    refused: Throttle,
}

/// What to do with one inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Refuse it; `warn` carries how many were refused since the last
    /// warning when one is due now.
    Refuse {
        warn: Option<u64>,
    },
}

/// Token buckets per peer.
#[derive(Debug)]
pub struct SignalLimiter<P> {
    peers: HashMap<P, PeerLimits>,
}

impl<P> Default for SignalLimiter<P> {
    fn default() -> Self {
        SignalLimiter {
            peers: HashMap::new(),
        }
    }
}

impl<P: Eq + Hash> SignalLimiter<P> {
    /// Counts one message from `peer` (an invite if `invite`).
    pub fn check(&mut self, peer: P, invite: bool, now: Instant) -> Verdict {
        let l = self.peers.entry(peer).or_insert_with(|| PeerLimits {
            messages: Bucket::full(MESSAGE_BURST, now),
            invites: Bucket::full(INVITE_BURST, now),
            refused: Throttle::default(),
        });
        l.messages.refill(MESSAGES_PER_SEC, MESSAGE_BURST, now);
        l.invites.refill(INVITES_PER_SEC, INVITE_BURST, now);
        let ok = l.messages.tokens >= 1.0 && (!invite || l.invites.tokens >= 1.0);
        if ok {
            l.messages.tokens -= 1.0;
            if invite {
                l.invites.tokens -= 1.0;
            }
            return Verdict::Allow;
        }
        Verdict::Refuse {
            warn: l.refused.hit(now),
        }
    }

    /// The peer's last connection closed.
    pub fn forget(&mut self, peer: &P) {
        self.peers.remove(peer);
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn allowed(l: &mut SignalLimiter<u32>, peer: u32, invite: bool, n: usize, t: Instant) -> usize {
        (0..n)
            .filter(|_| l.check(peer, invite, t) == Verdict::Allow)
            .count()
    }

    #[test]
    fn invites_get_a_burst_then_a_trickle() {
        let mut l = SignalLimiter::default();
        let t0 = Instant::now();
        assert_eq!(allowed(&mut l, 1, true, 1000, t0), INVITE_BURST as usize);
        // A second later: one more.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(allowed(&mut l, 1, true, 1000, t1), 1);
        // Another peer is not affected, nor are this peer's other messages.
        assert_eq!(allowed(&mut l, 2, true, 1, t1), 1);
        assert_eq!(allowed(&mut l, 1, false, 10, t1), 10);
    }

    #[test]
    fn messages_are_limited_per_second_and_warnings_are_rare() {
        let mut l = SignalLimiter::default();
        let t0 = Instant::now();
        let mut warnings = 0;
        let mut allowed_n = 0;
        // 1000 messages/s for 10 s.
        for i in 0..10_000u64 {
            let t = t0 + Duration::from_millis(i);
            match l.check(7, false, t) {
                Verdict::Allow => allowed_n += 1,
                Verdict::Refuse { warn: Some(_) } => warnings += 1,
                Verdict::Refuse { warn: None } => {}
            }
        }
        let most = (MESSAGE_BURST + 10.0 * MESSAGES_PER_SEC) as usize + 1;
        assert!(allowed_n <= most, "{allowed_n} > {most}");
        assert!(allowed_n >= most - 2, "{allowed_n}");
        assert!(warnings <= 2, "{warnings} warnings");
        l.forget(&7);
        assert!(l.is_empty());
    }
}

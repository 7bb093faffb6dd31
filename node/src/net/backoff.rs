//! The capped, doubling delay between attempts at one thing that keeps
//! failing (a broker, a DNS-SD record's peer, a peer handed out by a
//! broker, a direct route to a circuit-only peer): each owner keeps one per
//! target so that an unreachable one is retried less and less often, and
//! starts over once it is reached.

use std::time::Duration;

/// A retry delay that doubles after each attempt, up to a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Starts at `first`, never exceeds `max`.
    pub const fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            first,
            max,
            next: first,
        }
    }

    /// The delay to wait after the attempt just made; the next one doubles.
    pub fn step(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay
    }

    /// The target was reached: the next failure waits `first` again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_starts_over_when_reset() {
        let s = Duration::from_secs;
        let mut b = Backoff::new(s(2), s(10));
        let delays: Vec<_> = (0..5).map(|_| b.step()).collect();
        assert_eq!(delays, [s(2), s(4), s(8), s(10), s(10)]);
        b.reset();
        assert_eq!(b.step(), s(2));
    }
}

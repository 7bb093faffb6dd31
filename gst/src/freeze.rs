//! Freezes of the remote picture: gaps between decoded remote video
//! frames longer than [`FREEZE_AFTER`], as a person would see them (a
//! frame every 33 ms at 30 fps; 200 ms without one is a visible stall).
//!
//! Pure: the receive branch's sink probe feeds it the time of each frame;
//! the counts go out in [`crate::MediaStats`].

use std::time::Duration;

/// A gap between two frames longer than this is a freeze.
pub const FREEZE_AFTER: Duration = Duration::from_millis(200);

/// Counts freezes from frame times (any monotonic clock, µs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FreezeMeter {
    last_us: Option<u64>,
    /// Gaps longer than [`FREEZE_AFTER`] so far.
    pub freezes: u64,
    /// The longest gap between two frames so far (ms), freeze or not.
    pub longest_gap_ms: f64,
}

impl FreezeMeter {
    /// A frame was shown at `now_us`.
    pub fn frame(&mut self, now_us: u64) {
        if let Some(last) = self.last_us {
            let gap_us = now_us.saturating_sub(last);
            if gap_us > FREEZE_AFTER.as_micros() as u64 {
                self.freezes += 1;
            }
            self.longest_gap_ms = self.longest_gap_ms.max(gap_us as f64 / 1000.0);
        }
        self.last_us = Some(now_us);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_over_200_ms_are_freezes() {
        let mut m = FreezeMeter::default();
        m.frame(1_000_000);
        assert_eq!((m.freezes, m.longest_gap_ms), (0, 0.0));
        m.frame(1_033_000);
        m.frame(1_233_000); // exactly 200 ms: not a freeze
        m.frame(1_733_500);
        m.frame(1_766_000);
        assert_eq!(m.freezes, 1);
        assert_eq!(m.longest_gap_ms, 500.5);
        m.frame(1_000); // a clock that went back counts as no gap
        assert_eq!(m.freezes, 1);
    }
}

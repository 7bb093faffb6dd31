//! The pure part of `net-jitter` (the NFQUEUE helper behind `lan-sim
//! jitter`): the delay each packet gets, `delay` ± `jitter` ms, uniform,
//! never below 0. A small xorshift generator keeps it reproducible with a
//! seed and free of I/O.

use anyhow::bail;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct Delays {
    delay_ms: f64,
    jitter_ms: f64,
    state: u64,
}

/// A seed from the wall clock (a different run each time).
pub fn seed_from_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

impl Delays {
    pub fn new(delay_ms: f64, jitter_ms: f64, seed: u64) -> anyhow::Result<Delays> {
        let ok = |v: f64| v.is_finite() && (0.0..=10_000.0).contains(&v);
        if !ok(delay_ms) || !ok(jitter_ms) {
            bail!("delay and jitter are milliseconds from 0 to 10000");
        }
        Ok(Delays {
            delay_ms,
            jitter_ms,
            state: seed | 1,
        })
    }

    /// A uniform number in [0, 1).
    fn unit(&mut self) -> f64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next packet's delay.
    pub fn next_delay(&mut self) -> Duration {
        let ms = self.delay_ms + self.jitter_ms * (2.0 * self.unit() - 1.0);
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn delays_spread_over_delay_plus_minus_jitter() {
        let mut d = Delays::new(20.0, 10.0, 42).unwrap();
        let v: Vec<f64> = (0..10_000)
            .map(|_| d.next_delay().as_secs_f64() * 1000.0)
            .collect();
        let (min, max) = v
            .iter()
            .fold((f64::MAX, 0f64), |(a, b), x| (a.min(*x), b.max(*x)));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((10.0..10.1).contains(&min), "min {min}");
        assert!(max <= 30.0 && max > 29.9, "max {max}");
        assert!((mean - 20.0).abs() < 0.3, "mean {mean}");
    }

    #[test]
    fn never_negative_and_bad_input_is_refused() {
        let mut d = Delays::new(0.0, 30.0, 7).unwrap();
        let zeros = (0..1000)
            .filter(|_| d.next_delay() == Duration::ZERO)
            .count();
        assert!((400..600).contains(&zeros), "{zeros} of 1000 at 0");
        assert!(Delays::new(f64::NAN, 1.0, 1).is_err());
        assert!(Delays::new(1.0, -1.0, 1).is_err());
    }
}

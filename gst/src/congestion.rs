//! The video bitrate controller: a loss-based rule in the manner of
//! GCC's loss controller (draft-ietf-rmcat-gcc §6), fed once per stats
//! interval with what the peer's RTCP receiver reports say about our
//! video (fraction lost) and the round-trip time.
//!
//! GStreamer 1.22 on Debian 12 has no `rtpgccbwe` (it ships with the Rust
//! plugins, not packaged here), so the session adapts the encoder itself.
//! Pure: no GStreamer, no clock; [`crate::resilience`] applies its
//! decisions to the encoders. Under random loss a lower bitrate means fewer
//! packets per frame, so fewer frames lose a packet; under congestion it
//! relieves the link. The same report sets how much in-band FEC Opus adds,
//! and whether media is sent twice (random loss of a few percent and more,
//! with no sign of a queue: a repetition code, `crate::redundancy`).

/// What the controller decided after one report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The video encoder's target bitrate (kbit/s).
    pub video_kbps: u32,
    /// The loss Opus should protect against with in-band FEC (0–100 %).
    pub audio_loss_percent: u32,
    /// Send each media packet twice (`crate::redundancy`): random loss
    /// high enough, and no sign of congestion.
    pub redundant_media: bool,
}

/// Loss below this is noise: the bitrate may grow.
const LOSS_LOW: f64 = 0.02;
/// Loss above this cuts the bitrate in proportion.
const LOSS_HIGH: f64 = 0.10;
/// Growth per report with low loss.
const GROWTH: f64 = 1.08;
/// The floor of the video bitrate, as a share of the configured one.
const MIN_SHARE: f64 = 0.2;
/// RTT above this many times the smallest seen (and above [`RTT_SLACK_MS`])
/// is a queue building up: treated as congestion.
const RTT_RISE: f64 = 3.0;
const RTT_SLACK_MS: f64 = 30.0;
/// Media is sent twice while the link's loss (smoothed) is at least this…
const REDUNDANCY_ON: f64 = 0.03;
/// …until it falls below this.
const REDUNDANCY_OFF: f64 = 0.01;
/// Weight of the newest report in the smoothed loss.
const SMOOTHING: f64 = 0.3;

#[derive(Debug, Clone)]
pub struct Controller {
    max_kbps: f64,
    min_kbps: f64,
    kbps: f64,
    min_rtt_ms: Option<f64>,
    redundant: bool,
    copies_allowed: bool,
    smoothed_loss: f64,
}

impl Controller {
    /// Starts at the configured bitrate, which is also the ceiling.
    pub fn new(configured_kbps: u32) -> Controller {
        let max = f64::from(configured_kbps.max(1));
        Controller {
            max_kbps: max,
            min_kbps: (max * MIN_SHARE).max(50.0).min(max),
            kbps: max,
            min_rtt_ms: None,
            redundant: false,
            copies_allowed: true,
            smoothed_loss: 0.0,
        }
    }

    /// Never sends media twice (video FEC protects it instead, `crate::fec`).
    pub fn without_media_copies(mut self) -> Controller {
        self.copies_allowed = false;
        self
    }

    /// The current target (kbit/s).
    pub fn kbps(&self) -> u32 {
        self.kbps.round() as u32
    }

    /// One receiver report: `fraction_lost` (0..1) of our video since the
    /// last report, the RTT when known.
    ///
    /// While media is sent twice, a packet is lost only if both copies are:
    /// under random loss the peer reports the link's loss squared, so the
    /// link's is taken as its square root.
    pub fn on_report(&mut self, fraction_lost: f64, rtt_ms: Option<f64>) -> Decision {
        let reported = if fraction_lost.is_finite() {
            fraction_lost.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let loss = if self.redundant {
            reported.sqrt()
        } else {
            reported
        };
        self.smoothed_loss = self.smoothed_loss * (1.0 - SMOOTHING) + loss * SMOOTHING;
        let queueing = match rtt_ms.filter(|r| r.is_finite() && *r > 0.0) {
            Some(rtt) => {
                let min = self.min_rtt_ms.map_or(rtt, |m| m.min(rtt));
                self.min_rtt_ms = Some(min);
                rtt > min * RTT_RISE && rtt > min + RTT_SLACK_MS
            }
            None => false,
        };
        if loss > LOSS_HIGH {
            self.kbps *= 1.0 - 0.5 * loss;
        } else if queueing {
            self.kbps *= 0.85;
        } else if loss < LOSS_LOW {
            self.kbps *= GROWTH;
        }
        self.kbps = self.kbps.clamp(self.min_kbps, self.max_kbps);
        self.redundant = if queueing || !self.copies_allowed {
            false
        } else if self.redundant {
            self.smoothed_loss >= REDUNDANCY_OFF
        } else {
            self.smoothed_loss >= REDUNDANCY_ON
        };
        Decision {
            video_kbps: self.kbps(),
            audio_loss_percent: audio_loss_percent(loss),
            redundant_media: self.redundant,
        }
    }
}

/// The loss Opus's in-band FEC is told to expect: what was measured,
/// rounded up, with a floor of 1 % once any loss was seen, at most 30 %.
pub fn audio_loss_percent(loss: f64) -> u32 {
    if loss <= 0.0 {
        0
    } else {
        ((loss * 100.0).ceil() as u32).clamp(1, 30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_loss_cuts_low_loss_grows_back_to_the_ceiling() {
        let mut c = Controller::new(1500);
        assert_eq!(c.on_report(0.0, None).video_kbps, 1500);
        // Moderate loss holds the rate.
        assert_eq!(c.on_report(0.05, None).video_kbps, 1500);
        let d = c.on_report(0.2, None);
        assert_eq!(d.video_kbps, 1350);
        assert_eq!(d.audio_loss_percent, 20);
        for _ in 0..20 {
            c.on_report(0.3, None);
        }
        assert_eq!(c.kbps(), 300, "never below a fifth of the ceiling");
        let mut last = 300;
        for _ in 0..40 {
            last = c.on_report(0.0, None).video_kbps;
        }
        assert_eq!(last, 1500);
    }

    #[test]
    fn a_growing_rtt_is_congestion_and_nonsense_is_ignored() {
        let mut c = Controller::new(1000);
        c.on_report(0.0, Some(1.0));
        assert_eq!(c.on_report(0.0, Some(80.0)).video_kbps, 850);
        assert_eq!(c.on_report(0.0, Some(20.0)).video_kbps, 918);
        let d = c.on_report(f64::NAN, Some(-1.0));
        assert_eq!((d.video_kbps, d.audio_loss_percent), (991, 0));
        assert_eq!(Controller::new(100).on_report(1.0, None).video_kbps, 50);
    }

    #[test]
    fn media_goes_twice_under_random_loss_and_stops_when_it_ends_or_queues() {
        let mut c = Controller::new(1000);
        assert!(!c.on_report(0.01, Some(1.0)).redundant_media);
        // 10 % loss: on at once; a single 3 % report would not do it.
        assert!(c.on_report(0.1, Some(1.0)).redundant_media);
        // Sent twice, the peer sees 1 %: that is still 10 % on the link.
        for _ in 0..20 {
            let d = c.on_report(0.01, Some(1.0));
            assert!(d.redundant_media);
            assert_eq!(d.video_kbps, c.kbps());
        }
        // Reports with no loss at all turn it off after a few.
        let off = (0..10)
            .map(|_| c.on_report(0.0, Some(1.0)).redundant_media)
            .position(|r| !r);
        assert!(matches!(off, Some(3..=8)), "{off:?}");
        // A queue building up: never, whatever the loss.
        for _ in 0..3 {
            c.on_report(0.1, Some(1.0));
        }
        assert!(!c.on_report(0.1, Some(100.0)).redundant_media);
    }

    #[test]
    fn no_media_copies_when_fec_replaces_them() {
        let mut c = Controller::new(1000).without_media_copies();
        for _ in 0..10 {
            assert!(!c.on_report(0.2, Some(1.0)).redundant_media);
        }
        // The reported loss is the link's: no square root is taken.
        assert!(c.kbps() < 1000);
    }

    #[test]
    fn opus_is_told_the_loss_rounded_up() {
        assert_eq!(audio_loss_percent(0.0), 0);
        assert_eq!(audio_loss_percent(0.001), 1);
        assert_eq!(audio_loss_percent(0.101), 11);
        assert_eq!(audio_loss_percent(0.9), 30);
    }
}

//! The session's watchdog, run by the service thread every turn and at
//! the latest at [`Health::next_check`] (so a silent peer is noticed the
//! moment its silence reaches the media timeout): tells a
//! peer that went silent ([`MediaEvent::MediaTimeout`], the call ends as
//! peer-lost) from a pipeline of our own that stopped
//! ([`MediaError::Stalled`], the call ends as media-failed with the detail).
//!
//! A local stall shows in two ways: the pipeline is not PLAYING for
//! [`STALL_AFTER`] (a state change that never completes, e.g. a sink waiting
//! for a preroll that cannot come), or our own sources stopped producing
//! while the remote side went silent. Blaming the network for either would
//! send the user looking in the wrong place.

use crate::events::MediaEvent;
use crate::shared::Shared;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long the pipeline may stay out of PLAYING before the call is failed.
pub(crate) const STALL_AFTER: Duration = Duration::from_secs(2);
/// How often the pipeline state is looked at.
const STATE_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug)]
pub(crate) struct Health {
    reported: bool,
    next_state_check: Instant,
    not_playing_since: Option<Instant>,
    local_count: u64,
    local_moved_at: Instant,
}

impl Health {
    pub(crate) fn new() -> Health {
        let now = Instant::now();
        Health {
            reported: false,
            next_state_check: now + STATE_EVERY,
            not_playing_since: None,
            local_count: 0,
            local_moved_at: now,
        }
    }

    /// When [`Self::check`] must run next: the next look at the pipeline
    /// state, or the moment the remote silence reaches the media timeout
    /// (unless media arrives before). `None` once reported.
    pub(crate) fn next_check(&self, shared: &Shared) -> Option<Instant> {
        if self.reported {
            return None;
        }
        let last = shared.last_media_us.load(Ordering::Relaxed);
        let silence_due = (last != 0)
            .then(|| shared.start + Duration::from_micros(last) + shared.config.media_timeout);
        Some(silence_due.map_or(self.next_state_check, |d| d.min(self.next_state_check)))
    }

    pub(crate) fn check(&mut self, shared: &Shared, pipeline: &gst::Pipeline) {
        if self.reported {
            return;
        }
        let now = Instant::now();
        let local =
            shared.video_tx.load(Ordering::Relaxed) + shared.audio_tx.load(Ordering::Relaxed);
        if local != self.local_count {
            self.local_count = local;
            self.local_moved_at = now;
        }
        if now >= self.next_state_check {
            self.next_state_check = now + STATE_EVERY;
            if let Some(detail) = self.check_state(pipeline, now) {
                return self.report(shared, MediaEvent::Error(MediaError::Stalled(detail)));
            }
        }
        let last = shared.last_media_us.load(Ordering::Relaxed);
        if last == 0 {
            return;
        }
        let silent = shared
            .start
            .elapsed()
            .saturating_sub(Duration::from_micros(last));
        if silent < shared.config.media_timeout {
            return;
        }
        let local_idle = now.duration_since(self.local_moved_at);
        let ev = if self.local_count > 0 && local_idle >= Duration::from_secs(1) {
            MediaEvent::Error(MediaError::Stalled(format!(
                "our own camera/microphone produced nothing for {:.1} s (and no remote media for {:.1} s)",
                local_idle.as_secs_f64(),
                silent.as_secs_f64()
            )))
        } else {
            MediaEvent::MediaTimeout { silent_for: silent }
        };
        self.report(shared, ev);
    }

    fn report(&mut self, shared: &Shared, ev: MediaEvent) {
        self.reported = true;
        shared.events.send(ev);
    }

    /// Some(detail) once the pipeline has been out of PLAYING for too long.
    fn check_state(&mut self, pipeline: &gst::Pipeline, now: Instant) -> Option<String> {
        let (_, current, pending) = pipeline.state(gst::ClockTime::ZERO);
        if current == gst::State::Playing {
            self.not_playing_since = None;
            return None;
        }
        let since = *self.not_playing_since.get_or_insert(now);
        if now.duration_since(since) < STALL_AFTER {
            return None;
        }
        let waiting: Vec<String> = pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| {
                let (_, cur, pend) = e.state(gst::ClockTime::ZERO);
                cur != gst::State::Playing && pend != gst::State::VoidPending
            })
            .map(|e| e.name().to_string())
            .collect();
        Some(format!(
            "the pipeline is stuck in {current:?} (pending {pending:?}) for {:.1} s{}",
            now.duration_since(since).as_secs_f64(),
            if waiting.is_empty() {
                String::new()
            } else {
                format!("; waiting: {}", waiting.join(", "))
            }
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_next_check_is_when_the_silence_reaches_the_media_timeout() {
        use crate::config::MediaConfig;
        use crate::shared::{Role, Shared};
        let config = MediaConfig {
            media_timeout: Duration::from_millis(50),
            ..MediaConfig::test()
        };
        let (events, _rx) = crate::events::Events::channel();
        let shared = Shared::new(config, Role::Offerer, events);
        let mut h = Health::new();
        // No remote media yet: only the pipeline state is due.
        assert_eq!(h.next_check(&shared), Some(h.next_state_check));
        shared.touch_media();
        let last = Duration::from_micros(shared.last_media_us.load(Ordering::Relaxed));
        let due = shared.start + last + Duration::from_millis(50);
        assert_eq!(h.next_check(&shared), Some(due));
        h.report(&shared, MediaEvent::MediaTimeout { silent_for: last });
        assert_eq!(h.next_check(&shared), None);
    }

    /// The root cause of the callee's frozen calls, reproduced: a new live
    /// branch (source and a sink that waits for preroll) added to a PLAYING
    /// pipeline, downstream first. The sink's ASYNC_START drops the pipeline
    /// to PAUSED, the source then starts in PAUSED where a live source
    /// produces nothing, so the sink never prerolls: stuck for good. The
    /// watchdog names it; with `async=false` the pipeline stays PLAYING.
    #[test]
    fn a_live_branch_added_to_a_running_pipeline_stalls_it_unless_async_is_off() {
        gst::init().unwrap();
        for async_sink in [true, false] {
            let p = gst::parse::launch("audiotestsrc is-live=true ! fakesink async=false")
                .unwrap()
                .downcast::<gst::Pipeline>()
                .unwrap();
            p.set_state(gst::State::Playing).unwrap();
            let _ = p.state(gst::ClockTime::from_seconds(5));
            assert_eq!(p.state(gst::ClockTime::ZERO).1, gst::State::Playing);
            let src = gst::ElementFactory::make("videotestsrc")
                .property("is-live", true)
                .build()
                .unwrap();
            let sink = gst::ElementFactory::make("fakesink")
                .name("late-sink")
                .property("async", async_sink)
                .build()
                .unwrap();
            p.add_many([&src, &sink]).unwrap();
            src.link(&sink).unwrap();
            let _ = sink.sync_state_with_parent();
            let _ = src.sync_state_with_parent();
            let mut h = Health::new();
            let start = Instant::now();
            let mut found = None;
            while start.elapsed() < STALL_AFTER + Duration::from_secs(2) && found.is_none() {
                found = h.check_state(&p, Instant::now());
                std::thread::sleep(Duration::from_millis(50));
            }
            p.set_state(gst::State::Null).unwrap();
            if async_sink {
                let detail = found.unwrap();
                assert!(
                    detail.contains("Paused") && detail.contains("late-sink"),
                    "{detail}"
                );
            } else {
                assert_eq!(found, None);
            }
        }
    }
}

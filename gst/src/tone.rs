//! Ringing sounds on the speaker: the ringback a caller hears while the
//! other side rings, and the ringtone of an incoming call. Short generated
//! tones (`audiotestsrc`), switched on and off by a small thread to the
//! cadence of each, in a pipeline of their own (no media session exists
//! yet for the callee). With no output device autoaudiosink falls back to
//! a fake sink: nothing is heard, nothing fails.

use crate::background::Background;
use crate::elements::make;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Which ringing sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToneKind {
    /// The caller's: 440 + 480 Hz, 2 s on, 4 s off (the North American ringback).
    Ringback,
    /// The callee's: 2 short bursts of 880 Hz, then 2 s of silence.
    Ringtone,
}

impl ToneKind {
    /// (frequency in Hz, on/off steps of the cadence in ms, starting on).
    fn cadence(self) -> (f64, &'static [u64]) {
        match self {
            ToneKind::Ringback => (460.0, &[2000, 4000]),
            ToneKind::Ringtone => (880.0, &[400, 200, 400, 2000]),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ToneKind::Ringback => "ringback",
            ToneKind::Ringtone => "ringtone",
        }
    }
}

/// A playing tone (started in the background: [`Tone::play`] returns
/// before the audio device is open); stops on drop.
#[derive(Debug)]
pub struct Tone {
    kind: ToneKind,
    run: Background,
}

impl Tone {
    pub fn play(kind: ToneKind) -> Result<Tone, MediaError> {
        crate::init()?;
        let (freq, cadence) = kind.cadence();
        let pipeline = gst::Pipeline::with_name(&format!("duet-{}", kind.as_str()));
        let src = make("audiotestsrc", None)?;
        src.set_property("is-live", true);
        src.set_property("freq", freq);
        src.set_property("volume", 0.3f64);
        let volume = make("volume", None)?;
        let conv = make("audioconvert", None)?;
        let sink = make("autoaudiosink", None)?;
        let chain = [&src, &volume, &conv, &sink];
        pipeline
            .add_many(chain)
            .map_err(|e| MediaError::Negotiation(e.to_string()))?;
        gst::Element::link_many(chain)
            .map_err(|e| MediaError::Negotiation(format!("linking the {}: {e}", kind.as_str())))?;
        // Started and stopped on its own thread (see `background`).
        let run = Background::spawn("duet-tone", kind.as_str(), pipeline, move |_, stop| {
            for (i, ms) in cadence.iter().cycle().enumerate() {
                volume.set_property("mute", i % 2 == 1);
                let mut left = *ms;
                while left > 0 {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    let step = left.min(50);
                    std::thread::sleep(Duration::from_millis(step));
                    left -= step;
                }
            }
        })?;
        Ok(Tone { kind, run })
    }

    pub fn kind(&self) -> ToneKind {
        self.kind
    }

    /// Whether the tone's pipeline is running (PLAYING).
    pub fn is_playing(&self) -> bool {
        self.run.pipeline().current_state() == gst::State::Playing
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tones_play_and_stop() {
        for kind in [ToneKind::Ringback, ToneKind::Ringtone] {
            let tone = Tone::play(kind).unwrap();
            let start = std::time::Instant::now();
            while !tone.is_playing() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(tone.is_playing(), "{kind:?}");
            assert_eq!(tone.kind(), kind);
            let pipeline = tone.run.pipeline().clone();
            drop(tone);
            while pipeline.current_state() != gst::State::Null
                && start.elapsed() < Duration::from_secs(20)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(pipeline.current_state(), gst::State::Null, "{kind:?}");
        }
    }
}

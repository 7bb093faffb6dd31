//! The first key frame at once when media connects.
//!
//! At `connected` each side asks its encoder for a key frame (what it
//! encoded before was dropped at the DTLS gate, `dtls_trust`). The encoder
//! makes the next frame it gets a key frame: up to one frame interval
//! later from a live source (0–33 ms at 30 fps), then a key frame's
//! encoding (6–9 ms at 640x480 on a busy 2-core machine). Both come after
//! the ICE checks and the DTLS handshake, so two ways to skip them:
//!
//! - While those run (from ICE `checking` to `connected`, [`start_hold`]),
//!   every frame is encoded as a key frame and the latest one is held
//!   back instead of sent (nothing could pass the gate anyway). At
//!   `connected` ([`release`]) it is sent at once; the encoder's next frame
//!   refers to it, since it was the last one encoded.
//! - Without one (the hold ran out, the codec made a delta frame), the raw
//!   frame last given to the encoder is given to it again, stamped now,
//!   right after the key frame request: it is that key frame, encoded at
//!   once instead of with the source's next frame.
//!
//! [`start_hold`]: LastFrame::start_hold
//! [`release`]: LastFrame::release

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Leave the key frame to the source's next frame when it is due this soon.
const DUE_MARGIN: gst::ClockTime = gst::ClockTime::from_mseconds(3);
/// A frame's duration when the buffer carries none (30 fps).
const DEFAULT_FRAME: gst::ClockTime = gst::ClockTime::from_nseconds(33_333_333);
/// Key frames only for this long: ICE + DTLS take tens of milliseconds on
/// a LAN; a connection that takes longer gets the repeated frame instead.
const HOLD_FOR: Duration = Duration::from_secs(2);

/// The frames around one encoder (video), for the first key frame.
#[derive(Debug)]
pub(crate) struct LastFrame {
    /// The encoder's sink pad: raw frames in.
    pad: gst::Pad,
    /// The encoder's src pad: encoded frames out.
    src: gst::Pad,
    last: Mutex<Option<gst::Buffer>>,
    hold: Mutex<Hold>,
    /// Mirrors `Hold::holding` for the raw side, which needs no lock.
    holding: AtomicBool,
}

#[derive(Debug, Default)]
struct Hold {
    /// Decided under this lock, so that the encoder's output and
    /// [`LastFrame::release`] agree on which frame is the last one held.
    holding: bool,
    since: Option<Instant>,
    /// The latest key frame held back, and whether it is the last frame
    /// the encoder made (a delta frame after it refers to frames dropped).
    key: Option<gst::Buffer>,
    key_is_last: bool,
}

fn force_key_unit() -> gst::Event {
    gst_video::UpstreamForceKeyUnitEvent::builder()
        .all_headers(true)
        .build()
}

impl LastFrame {
    /// Watches `encoder`: keeps each raw frame it gets, and holds back its
    /// output while a hold runs.
    pub(crate) fn watch(encoder: &gst::Element) -> Option<Arc<LastFrame>> {
        let pad = encoder.static_pad("sink")?;
        let src = encoder.static_pad("src")?;
        let kept = Arc::new(LastFrame {
            pad: pad.clone(),
            src: src.clone(),
            last: Mutex::new(None),
            hold: Mutex::new(Hold::default()),
            holding: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&kept);
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let (Some(k), Some(buf)) = (weak.upgrade(), info.buffer()) {
                if let Ok(mut g) = k.last.lock() {
                    *g = Some(buf.clone());
                }
                if k.holding.load(Ordering::Acquire) && k.keys_wanted() {
                    k.src.send_event(force_key_unit());
                }
            }
            gst::PadProbeReturn::Ok
        });
        let weak = Arc::downgrade(&kept);
        src.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            let Some(k) = weak.upgrade() else {
                return gst::PadProbeReturn::Ok;
            };
            let Some(buf) = info.buffer() else {
                return gst::PadProbeReturn::Ok;
            };
            let Ok(mut h) = k.hold.lock() else {
                return gst::PadProbeReturn::Ok;
            };
            if !h.holding {
                return gst::PadProbeReturn::Ok;
            }
            let key = !buf.flags().contains(gst::BufferFlags::DELTA_UNIT);
            if key {
                h.key = Some(buf.clone());
            }
            h.key_is_last = key;
            // Held (or, a delta frame, dropped): the binding frees it.
            gst::PadProbeReturn::Handled
        });
        Some(kept)
    }

    /// Whether frames are still to be encoded as key frames.
    fn keys_wanted(&self) -> bool {
        self.hold
            .lock()
            .ok()
            .and_then(|h| h.since)
            .is_some_and(|t| t.elapsed() < HOLD_FOR)
    }

    /// ICE checks began: key frames only, the latest held back, until
    /// [`Self::release`]. Once per session.
    pub(crate) fn start_hold(&self) {
        let Ok(mut h) = self.hold.lock() else { return };
        if h.since.is_some() {
            return;
        }
        h.since = Some(Instant::now());
        h.holding = true;
        self.holding.store(true, Ordering::Release);
    }

    /// Media connected: sends the held key frame now, else makes one of the
    /// last raw frame (on a thread of its own: encoding takes
    /// milliseconds). Call right after asking the encoder for a key frame.
    pub(crate) fn release(self: &Arc<Self>) {
        if self.send_held() {
            return;
        }
        let this = self.clone();
        let spawned = std::thread::Builder::new()
            .name("duet-first-key".into())
            .spawn(move || this.push_now());
        if let Err(e) = spawned {
            tracing::debug!("no repeated frame: {e}");
        }
    }

    /// Ends the hold; sends the held key frame if it is the encoder's last.
    fn send_held(&self) -> bool {
        // An encoded frame the hold let pass waits behind this one at the
        // next element (its sink's stream lock): frames stay in order.
        let next = self.src.peer();
        let _stream = next.as_ref().map(|p| p.stream_lock());
        self.holding.store(false, Ordering::Release);
        let key = match self.hold.lock() {
            Ok(mut h) => {
                h.holding = false;
                h.key.take().filter(|_| h.key_is_last)
            }
            Err(_) => None,
        };
        let Some(key) = key else { return false };
        match self.src.push(key) {
            Ok(_) => {
                tracing::debug!("held key frame sent at connect");
                true
            }
            Err(e) => {
                tracing::debug!("held key frame: {e:?}");
                false
            }
        }
    }

    /// Gives the last raw frame to the encoder again, stamped now.
    fn push_now(&self) {
        // Held across the check and the push: no source frame can come in
        // between (the lock is recursive; chain takes it again).
        let _stream = self.pad.stream_lock();
        let Some(last) = self.last.lock().ok().and_then(|g| g.clone()) else {
            return;
        };
        let Some(now) = self
            .pad
            .parent_element()
            .and_then(|e| e.current_running_time())
        else {
            return;
        };
        let Some(pts) = last.pts() else { return };
        let next = pts + last.duration().unwrap_or(DEFAULT_FRAME);
        // Stamps stay increasing; a frame due now is the key frame anyway.
        if now <= pts || now + DUE_MARGIN >= next {
            return;
        }
        let mut frame = last.copy();
        {
            let b = frame.make_mut();
            b.set_pts(now);
            b.set_dts(gst::ClockTime::NONE);
            b.set_duration(next - now);
            b.unset_flags(gst::BufferFlags::DISCONT);
        }
        match self.pad.chain(frame) {
            Ok(_) => tracing::debug!(
                "last frame given again as the key frame, {:.1} ms before the next",
                (next - now).nseconds() as f64 / 1e6
            ),
            Err(e) => tracing::debug!("repeated frame: {e:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    type Seen = Arc<Mutex<Vec<(bool, gst::ClockTime)>>>;

    fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
        let end = Instant::now() + Duration::from_secs(20);
        while !cond() {
            assert!(Instant::now() < end, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A live test source into VP8 into a sink; what reaches the sink
    /// (key frame?, pts) is recorded.
    fn encoder_pipeline() -> (gst::Pipeline, Arc<LastFrame>, Seen) {
        crate::init().unwrap();
        let p = gst::parse::launch(
            "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 \
             ! vp8enc name=enc deadline=1 keyframe-max-dist=1000 ! fakesink name=sink sync=false",
        )
        .unwrap()
        .downcast::<gst::Pipeline>()
        .unwrap();
        let last = LastFrame::watch(&p.by_name("enc").unwrap()).unwrap();
        let seen: Seen = Arc::default();
        let s = seen.clone();
        let sink = p.by_name("sink").unwrap().static_pad("sink").unwrap();
        sink.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(b) = info.buffer() {
                let key = !b.flags().contains(gst::BufferFlags::DELTA_UNIT);
                s.lock().unwrap().push((key, b.pts().unwrap()));
            }
            gst::PadProbeReturn::Ok
        });
        p.set_state(gst::State::Playing).unwrap();
        (p, last, seen)
    }

    fn held_pts(last: &LastFrame) -> Option<gst::ClockTime> {
        last.hold.lock().unwrap().key.as_ref().and_then(|k| k.pts())
    }

    #[test]
    fn held_key_frame_is_sent_first_at_release_and_nothing_before() {
        let (p, last, seen) = encoder_pipeline();
        wait_for("frames before the hold", || seen.lock().unwrap().len() >= 3);
        last.start_hold();
        let first_held = {
            wait_for("a held key frame", || held_pts(&last).is_some());
            held_pts(&last).unwrap()
        };
        // Two frames later: every frame meanwhile was held, none sent.
        wait_for("more held key frames", || {
            held_pts(&last).is_some_and(|t| t >= first_held + DEFAULT_FRAME * 2)
        });
        assert!(last.hold.lock().unwrap().key_is_last);
        let held = held_pts(&last).unwrap();
        let before = {
            let s = seen.lock().unwrap();
            assert!(s.iter().all(|(_, pts)| *pts < first_held), "{s:?}");
            s.len()
        };
        last.release();
        wait_for("frames after the release", || {
            seen.lock().unwrap().len() >= before + 3
        });
        p.set_state(gst::State::Null).unwrap();
        let s = seen.lock().unwrap();
        let after = &s[before..];
        // The held key frame first (no newer frame overtook it), then
        // frames that refer to it, in order.
        assert!(after[0].0, "{after:?}");
        assert!(after[0].1 >= held, "{after:?}");
        assert!(after.windows(2).all(|w| w[0].1 < w[1].1), "{after:?}");
    }
}

//! The call window's local preview: the camera's picture scaled once to
//! its corner's size (a nearest-neighbour `videoscale` before the
//! compositor, so that the compositor scales nothing in a default call),
//! with a "camera off" marker and a thin white frame drawn in place
//! ([`super::frame`]).
//!
//! It keeps the camera's 30 frames a second: at 15 (every other frame
//! dropped, each lasting two) its compositor input had no frame queued
//! every other period, and the compositor, which composes as soon as each
//! input has one, then waited for its timeout: remote frames were shown up
//! to the remote path's latency later (glass-to-glass 3 ms or 12–37 ms
//! depending on the phase, against 3 ms), for 0.2 % of a core saved.

use super::layout::preview_rect;
use super::parts::{set_str, text_overlay};
use super::{frame, on_time, CallWindow, PREVIEW_BORDER, PREVIEW_HEIGHT, PREVIEW_WIDTH};
use crate::elements::make;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;

impl CallWindow {
    /// Adds the local preview: a tee (returned, for the send chain) and
    /// its branch into the bottom-right corner (returned, to be started):
    /// a leaky queue, a `videoscale` to the corner's size (once, before
    /// the compositor: it cost 0.8 ms per frame in the compositor, which
    /// scaled the framed picture, against ~0.15 ms here), the "camera off"
    /// marker (a text overlay) and a thin white frame drawn on the
    /// picture's edge, so a dark picture still shows where it is.
    pub(crate) fn add_preview(
        &self,
        pipeline: &gst::Pipeline,
        muted: bool,
    ) -> Result<(gst::Element, Vec<gst::Element>), MediaError> {
        let pad = self.request_pad(preview_rect(self.size()), 2)?;
        if let Ok(mut g) = self.preview_pad.lock() {
            *g = Some(pad.clone());
        }
        let tee = make("tee", None)?;
        let q = make("queue", Some("preview-queue"))?;
        set_str(&q, "leaky", "downstream");
        q.set_property("max-size-buffers", 2u32);
        let scale = make("videoscale", None)?;
        set_str(&scale, "method", "nearest-neighbour");
        let size = make("capsfilter", None)?;
        size.set_property(
            "caps",
            gst::Caps::builder("video/x-raw")
                .field("width", PREVIEW_WIDTH as i32)
                .field("height", PREVIEW_HEIGHT as i32)
                .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
                .build(),
        );
        let marker = text_overlay("preview-marker", "Sans 14", "center", "center")?;
        let chain = [&tee, &q, &scale, &size, &marker];
        pipeline
            .add_many(chain)
            .map_err(|e| MediaError::Negotiation(e.to_string()))?;
        gst::Element::link_many(chain)
            .map_err(|e| MediaError::Negotiation(format!("linking the preview: {e}")))?;
        let out = marker
            .static_pad("src")
            .ok_or_else(|| MediaError::Negotiation("no src pad".into()))?;
        frame::draw_white_frame_on(&out, PREVIEW_BORDER);
        out.link(&pad)
            .map_err(|e| MediaError::Negotiation(format!("linking the preview: {e:?}")))?;
        on_time::local_input_on_time(&pad);
        if let Ok(mut g) = self.preview_marker.lock() {
            *g = Some(marker.clone());
        }
        self.set_local_video_muted(muted);
        Ok((tee, vec![q, scale, size, marker]))
    }

    pub(crate) fn set_local_video_muted(&self, muted: bool) {
        let marker = self.preview_marker.lock().ok().and_then(|g| g.clone());
        if let Some(m) = marker {
            m.set_property("text", if muted { "camera off" } else { "" });
        }
    }
}

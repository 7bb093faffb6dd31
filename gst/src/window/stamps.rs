//! Glass-to-glass in window mode, read on the composed picture: the
//! latency probe's stamp is decoded from the remote picture's rectangle in
//! the compositor's output (before the text overlays, which may cover the
//! top-left corner), and the frame counts as shown when it is composed:
//! the window's sink does not wait on the clock (`sync=false`). So the
//! figure includes the compositor's wait for its inputs. Read only while
//! the remote picture is composed unscaled — it fills the window
//! ([`super::layout`]), so when it has the window's size: a default call's
//! 640x480 (a scaled picture's 16x16 blocks are not read back exactly, so
//! other sizes and fullscreen give no figure); each stamped frame is
//! counted once, when first composed.

use super::layout::remote_rect;
use super::CallWindow;
use crate::probe;
use crate::shared::Shared;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::VideoFrameExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Weak;

impl CallWindow {
    /// Records the glass-to-glass latency of each remote frame as composed.
    pub(crate) fn read_stamps(&self, shared: Weak<Shared>) {
        let Some(pad) = self.compositor.static_pad("src") else {
            return;
        };
        let state = std::sync::Arc::downgrade(&self.state);
        let last_frame = AtomicU64::new(u64::MAX);
        pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
            let (Some(s), Some(state)) = (shared.upgrade(), state.upgrade()) else {
                return gst::PadProbeReturn::Ok;
            };
            let Some(rect) = state
                .lock()
                .ok()
                .and_then(|s| unscaled(s.size, s.remote_to_place()))
            else {
                return gst::PadProbeReturn::Ok;
            };
            let Some(stamp) = decode_at(pad, info.buffer(), rect) else {
                return gst::PadProbeReturn::Ok;
            };
            if last_frame.swap(u64::from(stamp.frame), Ordering::Relaxed) != u64::from(stamp.frame)
            {
                let ms = probe::now_us().saturating_sub(stamp.time_us) as f64 / 1000.0;
                s.samples.push(ms);
            }
            gst::PadProbeReturn::Ok
        });
    }
}

/// The remote picture's rectangle when it is composed at its own size.
fn unscaled(size: (u32, u32), remote: Option<(u32, u32)>) -> Option<super::layout::Rect> {
    let rect = remote_rect(size, remote);
    (Some((rect.2, rect.3)) == remote).then_some(rect)
}

fn decode_at(
    pad: &gst::Pad,
    buffer: Option<&gst::Buffer>,
    (x, y, w, h): super::layout::Rect,
) -> Option<probe::Stamp> {
    let caps = pad.current_caps()?;
    let vinfo = gst_video::VideoInfo::from_caps(&caps).ok()?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer?, &vinfo).ok()?;
    let stride = usize::try_from(frame.plane_stride()[0]).ok()?;
    let luma = frame.plane_data(0).ok()?;
    let start = (y as usize).checked_mul(stride)?.checked_add(x as usize)?;
    probe::decode(luma.get(start..)?, stride, w as usize, h as usize)
}

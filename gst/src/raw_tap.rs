//! The raw video tap: a pad probe on the sent video before the encoder.
//!
//! It does three jobs that must touch raw frames: counting frames sent,
//! painting the picture black while muted (the stream keeps flowing, so the
//! peer's "media stopped" watchdog does not fire) and stamping the latency
//! probe.

use crate::probe::{self, Stamp};
use crate::shared::Shared;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::VideoFrameExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Adds the probe on the raw video before the encoder: count, mute, stamp.
pub(crate) fn add_raw_video_tap(pad: &gst::Pad, shared: &Arc<Shared>) {
    let shared = Arc::downgrade(shared);
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, probe_info| {
        let Some(s) = shared.upgrade() else {
            return gst::PadProbeReturn::Ok;
        };
        let n = s.video_tx.fetch_add(1, Ordering::Relaxed);
        let muted = s.muted_video.load(Ordering::Relaxed);
        if !muted && !s.config.latency_probe {
            return gst::PadProbeReturn::Ok;
        }
        let Some(caps) = pad.current_caps() else {
            return gst::PadProbeReturn::Ok;
        };
        let Ok(vinfo) = gst_video::VideoInfo::from_caps(&caps) else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(buffer) = probe_info.buffer_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let buffer = buffer.make_mut();
        let Ok(mut frame) = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, &vinfo)
        else {
            return gst::PadProbeReturn::Ok;
        };
        let (w, h) = (vinfo.width() as usize, vinfo.height() as usize);
        if muted {
            for (plane, v) in [(0u32, 16u8), (1, 128), (2, 128)] {
                if let Ok(d) = frame.plane_data_mut(plane) {
                    d.fill(v);
                }
            }
        }
        if s.config.latency_probe {
            let stride = frame.plane_stride()[0] as usize;
            if let Ok(y) = frame.plane_data_mut(0) {
                let stamp = Stamp {
                    time_us: probe::now_us(),
                    frame: n as u32,
                };
                probe::encode(stamp, y, stride, w, h);
            }
            // Neutral chroma under the blocks, so colour never bleeds into luma.
            if let Some(sh) = probe::stamp_height(w) {
                for plane in [1u32, 2] {
                    let cstride = frame.plane_stride()[plane as usize] as usize;
                    if let Ok(d) = frame.plane_data_mut(plane) {
                        for row in 0..sh / 2 {
                            let start = row * cstride;
                            if let Some(r) = d.get_mut(start..start + w / 2) {
                                r.fill(128);
                            }
                        }
                    }
                }
            }
        }
        gst::PadProbeReturn::Ok
    });
}

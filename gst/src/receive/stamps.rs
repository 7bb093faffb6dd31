//! The latency probe's reading side for a headless or X-sink stream: the
//! stamp each decoded frame carries (`crate::probe`) against the time the
//! sink will show it, for glass-to-glass in the call's stats. (Window mode
//! reads them on the composed picture instead: `crate::window`.)

use crate::probe;
use crate::shared::Shared;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::prelude::BaseSinkExt;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::VideoFrameExt;
use std::sync::Weak;

/// Reads the stamp of each decoded frame and records when it is due on the
/// glass: base time + running time + the sink's configured latency.
pub(super) fn add_stamp_reader(
    pad: &gst::Pad,
    shared: Weak<Shared>,
    pipeline: &gst::Pipeline,
    sink: &gst::Element,
) {
    let pipeline = pipeline.downgrade();
    let basesink = sink
        .clone()
        .downcast::<gst_base::BaseSink>()
        .ok()
        .map(|b| b.downgrade());
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, probe_info| {
        let Some(s) = shared.upgrade() else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(caps) = pad.current_caps() else {
            return gst::PadProbeReturn::Ok;
        };
        let Ok(vinfo) = gst_video::VideoInfo::from_caps(&caps) else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(buffer) = probe_info.buffer() else {
            return gst::PadProbeReturn::Ok;
        };
        let Ok(frame) = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &vinfo) else {
            return gst::PadProbeReturn::Ok;
        };
        let stride = frame.plane_stride()[0] as usize;
        let Ok(y) = frame.plane_data(0) else {
            return gst::PadProbeReturn::Ok;
        };
        let Some(stamp) = probe::decode(y, stride, vinfo.width() as usize, vinfo.height() as usize)
        else {
            return gst::PadProbeReturn::Ok;
        };
        let now = probe::now_us();
        let due = due_time_us(
            pad,
            buffer.pts(),
            pipeline.upgrade().as_ref(),
            basesink.as_ref().and_then(|b| b.upgrade()),
        );
        let shown = due.map_or(now, |d| d.max(now));
        s.samples
            .push(shown.saturating_sub(stamp.time_us) as f64 / 1000.0);
        gst::PadProbeReturn::Ok
    });
}

fn due_time_us(
    pad: &gst::Pad,
    pts: Option<gst::ClockTime>,
    pipeline: Option<&gst::Pipeline>,
    sink: Option<gst_base::BaseSink>,
) -> Option<u64> {
    let pts = pts?;
    let seg = pad.sticky_event::<gst::event::Segment>(0)?;
    let seg = seg.segment().downcast_ref::<gst::ClockTime>()?.clone();
    let running = seg.to_running_time(pts)?;
    let base = pipeline?.base_time()?;
    let sink = sink?;
    let due = base + running + sink.latency() + sink.render_delay();
    Some(due.useconds())
}

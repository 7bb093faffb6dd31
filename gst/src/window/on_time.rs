//! The call window's local live inputs (the black clock, the preview)
//! arrive "on time": a live source pushes each frame at its end, one frame
//! period after its timestamp, and reports that period as latency. The
//! compositor's output waits for the largest latency of its inputs, so
//! these 33 ms came before every remote frame could be shown, although the
//! remote path's own latency is ~15 ms. Their compositor pads shift them
//! by the latency their source reports, and report none instead: they are
//! composed one frame later (invisible for a local preview), the remote
//! picture as soon as its own latency allows.

use gstreamer as gst;
use gstreamer::prelude::*;

/// Makes the compositor input `pad` (fed by a local live source) on time.
pub(crate) fn local_input_on_time(pad: &gst::Pad) {
    pad.add_probe(gst::PadProbeType::QUERY_UPSTREAM, |pad, info| {
        let Some(query) = info.query_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        if !matches!(query.view(), gst::QueryView::Latency(_)) {
            return gst::PadProbeReturn::Ok;
        }
        let Some(peer) = pad.peer() else {
            return gst::PadProbeReturn::Ok;
        };
        if !peer.query(query) {
            return gst::PadProbeReturn::Ok;
        }
        let gst::QueryViewMut::Latency(q) = query.view_mut() else {
            return gst::PadProbeReturn::Ok;
        };
        let (live, min, max) = q.result();
        if !live {
            return gst::PadProbeReturn::Handled;
        }
        pad.set_offset(i64::try_from(min.nseconds()).unwrap_or(0));
        q.set(
            true,
            gst::ClockTime::ZERO,
            max.map(|m| m.saturating_sub(min)),
        );
        gst::PadProbeReturn::Handled
    });
}

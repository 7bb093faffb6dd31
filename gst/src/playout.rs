//! When a received frame is played: as soon as its own path allows, never
//! held back to line up with the other stream (RTCP lip-sync off).
//!
//! rtpbin lines up the streams of one sender from its RTCP sender reports:
//! it delays whichever stream arrives relatively earlier (a jitterbuffer
//! `ts-offset`) until both play in capture order. Our audio leaves the
//! sender ~5–6 ms after the video of the same instant (a 10 ms capture
//! buffer before a 10 ms Opus frame, against a frame stamped and encoded in
//! ~2 ms), so in about half the calls rtpbin delayed every video frame by
//! that much: glass-to-glass was 20.6 or 26.5 ms per call, by which stream
//! the first reports happened to favour. On a loaded machine the offsets it
//! computed from reports that waited for a core reached 35–480 ms (traced:
//! `GST_DEBUG=rtpbin:5`, `stream_set_ts_offset`), the call's latency tail.
//!
//! Without it each stream plays after its own jitterbuffer latency: video
//! leads audio by the audio's longer capture path, ~5–10 ms — far under the
//! ~45 ms of audio lag (and ~125 ms of lead) that viewers notice (ITU-R
//! BT.1359), and what a listener ~3 m away hears anyway. Both streams come
//! from one sender's clock, so they do not drift apart over a call.

use gstreamer as gst;
use gstreamer::prelude::*;

/// rtpbin applies a lip-sync offset only up to this size (ns); every real
/// one is larger, so none is applied. (0 would mean "no limit".)
const MAX_TS_OFFSET_NS: i64 = 1;

/// Turns rtpbin's inter-stream (RTCP sender report) synchronisation off.
pub(crate) fn play_each_stream_on_its_own(rtpbin: &gst::Element) {
    if rtpbin.find_property("max-ts-offset").is_some() {
        rtpbin.set_property("max-ts-offset", MAX_TS_OFFSET_NS);
    }
}

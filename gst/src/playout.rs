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
//!
//! Also here: when the jitterbuffer asks for a missing packet. Its latency
//! (10 ms) is the whole window a retransmission has; the NACK goes out
//! early in it ([`RTX_DELAY_MS`]).

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

/// How long after a packet was due the jitterbuffer asks for it (ms).
/// rtpjitterbuffer's automatic delay is half the packet spacing (16 ms for
/// one-packet frames at 30 fps) capped near its latency, so the NACK left
/// ~8 ms into the 10 ms window and a retransmission had ~2 ms to come back.
/// Lip-sync's offsets used to widen that window (the lost-packet timeout
/// counts the jitterbuffer's `ts-offset`); without them, on a loaded
/// machine, 1 % loss lost 52 packets for good and froze the picture for up
/// to 534 ms, where 2 ms leaves ~8 ms for the retransmission (LAN RTT
/// < 1 ms). A packet merely late by more than this costs a duplicate.
const RTX_DELAY_MS: i32 = 2;

/// Asks for a missing packet soon after it was due, in every jitterbuffer
/// rtpbin creates from now on (only video's retransmits: webrtcbin turns
/// retransmission on where RTX was negotiated).
pub(crate) fn ask_for_missing_packets_early(rtpbin: &gst::Element) {
    rtpbin.connect("new-jitterbuffer", false, |values| {
        let jb = values.get(1)?.get::<gst::Element>().ok()?;
        if jb.find_property("rtx-delay").is_some() {
            jb.set_property("rtx-delay", RTX_DELAY_MS);
        }
        None
    });
}

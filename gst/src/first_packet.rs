//! The peer's first packets, passed on at once.
//!
//! An RTP session keeps a new sender "on probation" (RFC 3550 A.1): it
//! queues the sender's packets until two have arrived in sequence. Our
//! video sends one packet per frame of the test pattern (a few for a
//! camera's key frame), so the first packet — the key frame sent the moment
//! media connects — waited in the session for the next frame's packet,
//! ~33 ms at 30 fps, before it reached the jitterbuffer; the first picture
//! waited with it (traced: the packet left srtpdec 29 ms before the
//! jitterbuffer saw it, together with its successor). Probation guards a
//! plain RTP port against stray packets; ours arrive over SRTP, whose
//! authentication refuses anything the peer did not send, so each of
//! webrtcbin's RTP sessions accepts a sender on its first packet.
//!
//! A probation of 1, not 0: with 1 the first packet ends the probation and
//! the source is validated as usual; with 0 rtpsession skips that step, and
//! the peer's RTCP BYE no longer ended its media (`remote_bye`).

use gstreamer as gst;
use gstreamer::prelude::*;

/// Sources validated by their first in-sequence packet.
const PROBATION: u32 = 1;

/// Shortens probation to one packet in every RTP session `rtpbin` creates from now on
/// (webrtcbin requests a session's pads when it applies a description,
/// before any media flows).
pub(crate) fn accept_senders_at_once(rtpbin: &gst::Element) {
    rtpbin.connect_pad_added(|rtpbin, pad| {
        let Some(id) = session_id(pad.name().as_str()) else {
            return;
        };
        let session =
            rtpbin.emit_by_name::<Option<gst::glib::Object>>("get-internal-session", &[&id]);
        if let Some(session) = session.filter(|s| s.find_property("probation").is_some()) {
            session.set_property("probation", PROBATION);
        }
    });
}

/// The session of one of rtpbin's request pads (`recv_rtp_sink_0` → 0).
fn session_id(pad: &str) -> Option<u32> {
    let (kind, id) = pad.rsplit_once('_')?;
    if !(kind.starts_with("recv_") || kind.starts_with("send_")) || !kind.ends_with("_sink") {
        return None;
    }
    id.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn session_ids_come_from_request_pads_only() {
        assert_eq!(session_id("recv_rtp_sink_0"), Some(0));
        assert_eq!(session_id("send_rtp_sink_3"), Some(3));
        assert_eq!(session_id("recv_rtcp_sink_1"), Some(1));
        assert_eq!(session_id("recv_rtp_src_0_1234_96"), None);
        assert_eq!(session_id("send_rtp_src_0"), None);
        assert_eq!(session_id("sink"), None);
    }

    #[test]
    fn a_new_session_accepts_senders_at_once() {
        crate::init().unwrap();
        let rtpbin = gst::ElementFactory::make("rtpbin").build().unwrap();
        accept_senders_at_once(&rtpbin);
        let _pad = rtpbin.request_pad_simple("recv_rtp_sink_0").unwrap();
        let session = rtpbin
            .emit_by_name::<Option<gst::glib::Object>>("get-internal-session", &[&0u32])
            .unwrap();
        assert_eq!(session.property::<u32>("probation"), PROBATION);
    }
}

//! What keeps a call going on a lossy network, in one place:
//!
//! - Opus in-band FEC: the encoder adds a low-rate copy of each frame to
//!   the next one, sized by the loss it is told to expect; the decoder
//!   rebuilds a lost frame from it.
//! - The bitrate controller ([`crate::congestion`]) fed from the peer's
//!   RTCP receiver reports each stats poll, driving the video encoder's
//!   bitrate and Opus's expected loss.
//! - Liveness from RTCP: a peer whose RTCP still arrives is alive even
//!   while its RTP does not (a sender muted by loss, a camera that stalls),
//!   so the media-silence timeout (`crate::health`) counts RTCP too.
//!
//! - RTCP often enough that NACKs go out in time ([`RTCP_BANDWIDTH`]).
//! - DTLS handshakes, RTCP and retransmissions sent more than once, and
//!   media twice while the controller says so (`crate::redundancy`).
//! - An RTCP BYE ends the peer's media only for an SSRC whose RTP reached
//!   us (`crate::remote_bye`).
//!
//! NACK/RTX on video and PLI on loss (the depayloader's
//! `request-keyframe`) are set where the branches are built (`send`,
//! `receive`).

use crate::shared::Shared;
use crate::stats::NetStats;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Opus encoder: in-band FEC on; the expected loss starts at 0 (no FEC
/// bits spent) until receiver reports show loss.
pub(crate) fn tune_opus_encoder(enc: &gst::Element) {
    if enc.find_property("inband-fec").is_some() {
        enc.set_property("inband-fec", true);
    }
}

/// Opus decoder: in-band FEC stays off here. Measured: opusdec with
/// `use-inband-fec` reports ~120 ms more latency (it must hold a packet
/// until the next one shows whether to rebuild it), and the pipeline's
/// latency is one for all sinks, so video glass-to-glass went from ~26 to
/// ~146 ms. The encoder still sends FEC data once loss is reported: a
/// browser peer uses it.
pub(crate) fn tune_opus_decoder(dec: &gst::Element) {
    if dec.find_property("use-inband-fec").is_some() {
        dec.set_property("use-inband-fec", false);
    }
}

/// Counts RTCP from the peer as a sign of life (`on-ssrc-active` is
/// emitted for every RTCP packet a remote source sends).
pub(crate) fn watch_rtcp(rtpbin: &gst::Element, shared: &Arc<Shared>) {
    let s = Arc::downgrade(shared);
    rtpbin.connect("on-ssrc-active", false, move |_| {
        if let Some(s) = s.upgrade() {
            s.touch_media();
        }
        None
    });
}

/// RTCP bandwidth (bit/s) for receiver and sender reports alike. webrtcbin
/// leaves it to the RTP session's default, which spaces RTCP ~0.7–1.1 s
/// apart; a NACK may go early only once per interval, so most waited,
/// expired against the 10 ms jitterbuffer and were never sent (10 % loss:
/// 14–19 fps). At 200 kbit/s the interval is a few ms: NACKs go at once
/// (21–25 fps at 10 % loss). The real RTCP rate stays far below it.
pub(crate) const RTCP_BANDWIDTH: i32 = 200_000;

/// RTCP often enough for NACKs to be useful (set once connected, when
/// webrtcbin's RTP session exists; it takes effect from the next report).
pub(crate) fn tune_rtcp(webrtc: &gst::Element) {
    let Some(rtpbin) = rtpbin_of(webrtc) else {
        return;
    };
    let session =
        rtpbin.emit_by_name::<Option<gst::glib::Object>>("get-internal-session", &[&0u32]);
    if let Some(session) = session {
        for prop in ["rtcp-rr-bandwidth", "rtcp-rs-bandwidth"] {
            if session.find_property(prop).is_some() {
                session.set_property(prop, RTCP_BANDWIDTH);
            }
        }
    }
}

/// webrtcbin's rtpbin.
pub(crate) fn rtpbin_of(webrtc: &gst::Element) -> Option<gst::Element> {
    webrtc
        .downcast_ref::<gst::Bin>()?
        .iterate_elements()
        .into_iter()
        .flatten()
        .find(|e| e.factory().is_some_and(|f| f.name() == "rtpbin"))
}

/// The loss of our video over the last poll, from the peer's cumulative
/// "lost" against our packets sent; None when nothing was sent.
pub(crate) fn loss_between(prev: &NetStats, now: &NetStats) -> Option<f64> {
    let sent = now
        .video_packets_sent
        .checked_sub(prev.video_packets_sent)?;
    if sent == 0 {
        return None;
    }
    let lost = now
        .video_lost_by_peer
        .saturating_sub(prev.video_lost_by_peer);
    Some((lost as f64 / sent as f64).min(1.0))
}

/// One stats poll: feeds the controller and applies its decision to the
/// encoders (both accept new rates while playing).
pub(crate) fn adapt(shared: &Shared, prev: &NetStats, now: &NetStats) {
    let Some(loss) = loss_between(prev, now) else {
        return;
    };
    let decision = match shared.bitrate.lock() {
        Ok(mut c) => c.on_report(loss, now.rtt_ms),
        Err(_) => return,
    };
    let video_enc = encoder(shared.video_send.lock().ok().as_deref(), "video-enc");
    if let Some(enc) = video_enc {
        let kbps = decision.video_kbps;
        if shared.video_kbps.swap(kbps, Ordering::Relaxed) != kbps {
            tracing::debug!("video bitrate {kbps} kbit/s (loss {:.1} %)", loss * 100.0);
            match enc.factory().map(|f| f.name()) {
                Some(n) if n == "vp8enc" => {
                    enc.set_property("target-bitrate", (kbps * 1000) as i32)
                }
                Some(n) if n == "x264enc" => enc.set_property("bitrate", kbps),
                _ => {}
            }
        }
    }
    if shared.redundancy.set_media(decision.redundant_media) {
        tracing::info!(
            "media sent {} (loss {:.1} %)",
            if decision.redundant_media {
                "twice"
            } else {
                "once"
            },
            loss * 100.0
        );
    }
    let audio_enc = encoder(shared.audio_send.lock().ok().as_deref(), "audio-enc");
    if let Some(enc) = audio_enc.filter(|e| e.find_property("packet-loss-percentage").is_some()) {
        enc.set_property("packet-loss-percentage", decision.audio_loss_percent as i32);
    }
}

/// The encoder named `name` in the pipeline of a send branch.
fn encoder(branch: Option<&Option<crate::shared::SendBranch>>, name: &str) -> Option<gst::Element> {
    let pay = branch?.as_ref()?.payloader.clone();
    let bin = pay.parent()?.downcast::<gst::Bin>().ok()?;
    bin.by_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_is_the_peers_lost_over_our_sent() {
        let prev = NetStats {
            video_packets_sent: 100,
            video_lost_by_peer: 5,
            ..NetStats::default()
        };
        let now = NetStats {
            video_packets_sent: 300,
            video_lost_by_peer: 25,
            ..NetStats::default()
        };
        assert_eq!(loss_between(&prev, &now), Some(0.1));
        assert_eq!(loss_between(&now, &now), None);
        assert_eq!(loss_between(&now, &prev), None);
    }
}

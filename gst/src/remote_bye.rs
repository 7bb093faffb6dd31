//! The peer's RTCP BYE, told apart from an SSRC the peer merely retires.
//!
//! A BYE from the peer is the quickest sign it left ([`MediaEvent::RemoteEnded`]:
//! a closing session ends its streams, and rtpbin says BYE for each of its
//! sources). But rtpbin reports *every* BYE of the session (`on-bye-ssrc`),
//! and not every BYE means the peer left. An rtpsession that sends RTCP
//! before its senders exist reports from a receiver-only SSRC of its own;
//! once its real senders run, that SSRC has no use, and when it has been
//! idle for rtpsession's source timeout (five RTCP intervals, at least 5 s)
//! rtpsession retires it with a BYE (reason "timed out") while the peer's
//! audio and video go on. Taking that BYE for the peer leaving ended
//! healthy calls as `peer-lost` 6–9 s in (the 1 s grace of the call machine
//! after it). Whether a session reports from such an SSRC first depends on
//! whether its first RTCP report goes out before its first RTP packet: a race,
//! lost in about half the calls on this machine, in window mode and headless
//! alike; the window-mode tests were simply the first to hold calls that long.
//!
//! So the peer's media has ended only when the BYE names an SSRC whose RTP
//! reached one of our depayloaders: [`crate::remote_senders::RemoteSenders`]
//! keeps those SSRCs.

use crate::events::MediaEvent;
use crate::remote_senders::rtp_ssrc;
use crate::shared::Shared;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Notes the SSRC of the RTP crossing `pad` (a depayloader's sink pad).
/// Only a change of SSRC takes the lock.
pub(crate) fn track_senders(pad: &gst::Pad, shared: &Arc<Shared>) {
    let shared = Arc::downgrade(shared);
    // The last SSRC noted plus one (0: none yet).
    let last = AtomicU64::new(0);
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        let mut header = [0u8; 12];
        let ssrc = info
            .buffer()
            .and_then(|b| b.copy_to_slice(0, &mut header).ok())
            .and_then(|()| rtp_ssrc(&header));
        if let (Some(ssrc), Some(s)) = (ssrc, shared.upgrade()) {
            if last.swap(u64::from(ssrc) + 1, Ordering::Relaxed) != u64::from(ssrc) + 1 {
                s.remote_senders.note(ssrc);
            }
        }
        gst::PadProbeReturn::Ok
    });
}

/// Turns a BYE of one of the peer's media SSRCs into
/// [`MediaEvent::RemoteEnded`] (once); other BYEs are logged and ignored.
pub(crate) fn watch(rtpbin: &gst::Element, shared: &Arc<Shared>) {
    let s = Arc::downgrade(shared);
    rtpbin.connect("on-bye-ssrc", false, move |values| {
        let ssrc = values.get(2).and_then(|v| v.get::<u32>().ok());
        let s = s.upgrade()?;
        match ssrc {
            Some(ssrc) if s.remote_senders.contains(ssrc) => {
                tracing::debug!("RTCP BYE for the peer's media SSRC {ssrc:08x}");
                if !s.remote_bye.swap(true, Ordering::AcqRel) {
                    s.events.send(MediaEvent::RemoteEnded);
                }
            }
            _ => tracing::debug!(
                "RTCP BYE for SSRC {:08x}, none of the peer's media streams: ignored",
                ssrc.unwrap_or_default()
            ),
        }
        None
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A real rtpbin's `on-bye-ssrc`: the BYE of an SSRC the peer only
    /// reported from is not the peer leaving; the BYE of its media SSRC is.
    #[test]
    fn only_a_bye_for_the_peers_media_ssrc_ends_its_media() {
        use crate::config::MediaConfig;
        use crate::shared::{Role, Shared};
        gst::init().unwrap();
        let (events, mut rx) = crate::events::Events::channel();
        let shared = Arc::new(Shared::new(MediaConfig::test(), Role::Offerer, events));
        let rtpbin = gst::ElementFactory::make("rtpbin").build().unwrap();
        watch(&rtpbin, &shared);
        shared.remote_senders.note(0x2099_af97);
        rtpbin.emit_by_name::<()>("on-bye-ssrc", &[&0u32, &0xeadf_4cc6u32]);
        assert!(rx.try_recv().is_err(), "a retired receiver-only SSRC");
        rtpbin.emit_by_name::<()>("on-bye-ssrc", &[&0u32, &0x2099_af97u32]);
        assert!(matches!(rx.try_recv(), Ok(MediaEvent::RemoteEnded)));
    }
}

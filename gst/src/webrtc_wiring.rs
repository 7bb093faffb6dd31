//! The call's pipeline wired together: webrtcbin with its settings, the
//! call window, the offerer's send branches, the DTLS gate, and handlers
//! on webrtcbin's GObject signals.
//!
//! Named for what it does — wiring webrtcbin — and not after GObject's
//! "signals", because in Duet "signalling" is the call's SDP/ICE exchange
//! between peers, which lives in the node and never touches this module.
//!
//! The handlers run on GStreamer threads and never block: they queue a
//! [`Cmd`] to the service thread or an event to the owner, and take
//! short locks on the session's shared state — except `pad-added`, which
//! must build and link the receive branch before the new pad's first buffer
//! returns (see [`crate::receive`]). Also here: the webrtcbin settings
//! measured to matter on a LAN (max-bundle, latency, ICE pacing, no
//! send-side clocksync).

use crate::command::{Cmd, CmdTx};
use crate::events::{ConnectionState, IceState, MediaEvent};
use crate::shared::{Role, Shared};
use crate::{elements, send, MediaError};
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_webrtc as gst_webrtc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Makes the pipeline with webrtcbin, the offerer's send branches and the
/// signal handlers.
pub(crate) fn build(
    shared: &Arc<Shared>,
    cmd: &CmdTx,
) -> Result<(gst::Pipeline, gst::Element), MediaError> {
    let pipeline = gst::Pipeline::with_name("duet-call");
    // The stamps of the latency probe use CLOCK_MONOTONIC: so must the pipeline.
    pipeline.use_clock(Some(&gst::SystemClock::obtain()));
    let webrtc = elements::make("webrtcbin", Some("webrtc"))?;
    webrtc.set_property_from_str("bundle-policy", "max-bundle");
    webrtc.set_property("latency", shared.config.latency_ms);
    for server in &shared.config.ice_servers {
        match crate::config::IceServer::parse(server)? {
            crate::config::IceServer::Stun(url) => webrtc.set_property("stun-server", url),
            crate::config::IceServer::Turn(url) => {
                let _ = webrtc.emit_by_name::<bool>("add-turn-server", &[&url]);
            }
        }
    }
    // webrtcbin 1.22 paces each send stream with a `clocksync`, which waits
    // until pts + the *pipeline* latency — the receive path's jitterbuffer
    // and sink deadline, ~30 ms — before sending. Our sources are live and
    // already paced: send at once.
    // The transport's sink and the RTX senders: what to send twice
    // (see redundancy).
    let redundancy = shared.redundancy.clone();
    webrtc.connect("deep-element-added", false, move |values| {
        let element = values.get(2)?.get::<gst::Element>().ok()?;
        match element.factory()?.name().as_str() {
            "clocksync" => element.set_property("sync", false),
            "nicesink" => crate::redundancy::install(&element, redundancy.clone()),
            "rtprtxsend" => crate::redundancy::watch_rtx_sender(&element, redundancy.clone()),
            "dtlssrtpdec" => crate::dtls_cert::install(&element),
            _ => {}
        }
        None
    });
    // RTCP from the peer is a sign of life; its BYE (sent when it closes)
    // the quickest sign it left — for its media SSRCs only (see remote_bye).
    if let Some(rtpbin) = crate::resilience::rtpbin_of(&webrtc) {
        crate::resilience::watch_rtcp(&rtpbin, shared);
        crate::remote_bye::watch(&rtpbin, shared);
        crate::first_packet::accept_senders_at_once(&rtpbin);
        crate::playout::play_each_stream_on_its_own(&rtpbin);
        crate::playout::ask_for_missing_packets_early(&rtpbin);
    }
    // On a LAN, UDP host candidates connect; ICE-TCP pairs only slow the
    // connectivity checks down (a TURN server still relays over TCP).
    if let Some(agent) = webrtc
        .find_property("ice-agent")
        .map(|_| webrtc.property::<gst::glib::Object>("ice-agent"))
    {
        if let Some(nice) = agent
            .find_property("agent")
            .map(|_| agent.property::<gst::glib::Object>("agent"))
        {
            // RFC 8445 allows a 5 ms pacing (Ta); libnice's 20 ms default made
            // the checks take ~60 ms of a ~100 ms call setup here.
            if nice.find_property("stun-pacing-timer").is_some() {
                nice.set_property("stun-pacing-timer", 5u32);
            }
            // A lost connectivity check is retried after this (libnice: 200 ms);
            // on a LAN the answer comes within a few ms.
            if nice.find_property("stun-initial-timeout").is_some() {
                nice.set_property("stun-initial-timeout", 50u32);
            }
            if let Err(e) = crate::ice_nomination::make_aggressive(&nice) {
                tracing::warn!("ICE keeps regular nomination (connects ~10 ms later): {e}");
            }
        }
        if agent.find_property("ice-tcp").is_some() {
            agent.set_property("ice-tcp", false);
        }
    }
    pipeline
        .add(&webrtc)
        .map_err(|e| MediaError::Negotiation(e.to_string()))?;
    if shared.config.display.is_windowed() {
        let fullscreen = shared.config.display == crate::config::Display::Fullscreen;
        let window =
            crate::window::CallWindow::build(&pipeline, shared.events.clone(), fullscreen)?;
        let _ = shared.window.set(window);
    }
    if shared.role == Role::Offerer {
        send::add_offerer_branches(&pipeline, &webrtc, shared)?;
    }
    crate::dtls_trust::install(&webrtc, &shared.trust);
    connect_signals(&webrtc, shared, cmd);
    Ok((pipeline, webrtc))
}

fn connect_signals(webrtc: &gst::Element, shared: &Arc<Shared>, cmd: &CmdTx) {
    if shared.role == Role::Offerer {
        let cmd = cmd.clone();
        let offered = std::sync::atomic::AtomicBool::new(false);
        webrtc.connect("on-negotiation-needed", false, move |_| {
            if !offered.swap(true, Ordering::AcqRel) {
                cmd.post(Cmd::CreateOffer);
            }
            None
        });
    }
    let s = Arc::downgrade(shared);
    webrtc.connect("on-ice-candidate", false, move |values| {
        let s = s.upgrade()?;
        let mline = values.get(1)?.get::<u32>().ok()?;
        let candidate = values.get(2)?.get::<String>().ok()?;
        s.candidates.fetch_add(1, Ordering::Relaxed);
        s.events
            .send(MediaEvent::LocalCandidate { mline, candidate });
        None
    });
    let s = Arc::downgrade(shared);
    webrtc.connect_notify(Some("ice-gathering-state"), move |w, _| {
        let Some(s) = s.upgrade() else { return };
        let st = w.property::<gst_webrtc::WebRTCICEGatheringState>("ice-gathering-state");
        if st == gst_webrtc::WebRTCICEGatheringState::Complete {
            let candidates = s.candidates.load(Ordering::Relaxed);
            s.events.send(MediaEvent::GatheringComplete { candidates });
            if candidates == 0 {
                s.events
                    .send(MediaEvent::Error(MediaError::NoNetworkInterface));
            }
        }
    });
    let s = Arc::downgrade(shared);
    webrtc.connect_notify(Some("ice-connection-state"), move |w, _| {
        if let Some(s) = s.upgrade() {
            let st = w.property::<gst_webrtc::WebRTCICEConnectionState>("ice-connection-state");
            if st == gst_webrtc::WebRTCICEConnectionState::Checking {
                // The first key frame is made while ICE and DTLS run.
                if let Some(r) = s.repeat_frame() {
                    r.start_hold();
                }
            }
            s.events.send(MediaEvent::IceState(IceState::from(st)));
        }
    });
    let s = Arc::downgrade(shared);
    let c = cmd.clone();
    webrtc.connect_notify(Some("connection-state"), move |w, _| {
        if let Some(s) = s.upgrade() {
            let st = ConnectionState::from(
                w.property::<gst_webrtc::WebRTCPeerConnectionState>("connection-state"),
            );
            // Connected is told by the service thread once the peer's
            // DTLS certificate matched its fingerprint (`dtls_trust`).
            if st == ConnectionState::Connected {
                s.connected.store(true, Ordering::Release);
                c.post(Cmd::Connected);
            } else {
                s.events.send(MediaEvent::ConnectionState(st));
            }
        }
    });
    let s = Arc::downgrade(shared);
    webrtc.connect_pad_added(move |w, pad| {
        if let Some(s) = s.upgrade() {
            crate::receive::on_pad_added(w, pad, &s);
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The call's webrtcbin, as built for either role, nominates
    /// aggressively and paces its checks at 5 ms.
    #[test]
    fn the_calls_ice_agent_is_aggressive_and_paced_at_5_ms() {
        use crate::config::MediaConfig;
        crate::init().unwrap();
        for role in [Role::Offerer, Role::Answerer] {
            let (events, _rx) = crate::events::Events::channel();
            let shared = Arc::new(Shared::new(MediaConfig::test(), role, events));
            let (cmd, _cmd_rx) = CmdTx::channel();
            let (pipeline, webrtc) = build(&shared, &cmd).unwrap();
            let agent = webrtc
                .property::<gst::glib::Object>("ice-agent")
                .property::<gst::glib::Object>("agent");
            assert_eq!(
                crate::ice_nomination::mode(&agent).as_deref(),
                Some("aggressive"),
                "{role:?}"
            );
            assert_eq!(agent.property::<u32>("stun-pacing-timer"), 5, "{role:?}");
            pipeline.set_state(gst::State::Null).unwrap();
        }
    }
}

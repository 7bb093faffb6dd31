//! One MediaSession against headless Chromium, both directions of offer:
//! the SDP and ICE candidates are carried by the test itself (DevTools
//! `Runtime.evaluate` into a small RTCPeerConnection harness), so what is
//! tested is only media interop — payload types, bundle, the answer's SSRC
//! lines, mDNS host candidates — with the browser decoding our video and
//! we decoding its.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use duet_gst::{MediaConfig, MediaEvent, MediaSession, Role, SdpKind};
use duet_tests::chromium::{Chromium, PEER_HARNESS as HARNESS};
use std::time::Duration;

/// Runs one call: `role` is the MediaSession's side.
fn call_browser(role: Role, mdns: bool) {
    duet_gst::init().unwrap();
    let mut page = Chromium::launch(None).unwrap();
    let url =
        duet_tests::chromium::serve_local_page("<!doctype html><title>duet test</title>").unwrap();
    page.navigate(&url).unwrap();
    page.eval(HARNESS).unwrap();
    page.eval("h.start()").unwrap();
    let (session, mut events) = MediaSession::start(MediaConfig::test(), role).unwrap();
    if role == Role::Answerer {
        let offer = page.eval("h.offer()").unwrap();
        session
            .set_remote_description(SdpKind::Offer, offer.as_str().unwrap())
            .unwrap();
    }
    let mut answer_sdp = None;
    let mut log = Vec::new();
    let r = duet_tests::wait_until(
        "media both ways: >= 30 frames decoded by Duet and by Chromium",
        Duration::from_secs(40),
        || {
            let hide = |c: &str| {
                if mdns {
                    duet_tests::browser_pair::hide_address(c)
                } else {
                    c.to_string()
                }
            };
            for ev in duet_tests::browser_pair::pump_with(&mut page, &session, &mut events, hide)? {
                match ev {
                    MediaEvent::LocalDescription {
                        kind: SdpKind::Answer,
                        sdp,
                    } => answer_sdp = Some(sdp),
                    MediaEvent::Stats(_) => {}
                    other => log.push(format!("{other:?}")),
                }
            }
            let ours = session.stats().video_frames_received;
            let theirs = page.eval("h.frames()")?.as_u64().unwrap_or(0);
            Ok((ours >= 30 && theirs >= 30).then_some((ours, theirs)))
        },
    );
    if let Err(e) = r {
        panic!(
            "{e:#}\nstats: {:?}\nevents: {log:#?}\npage console: {:?}\npc: {}",
            session.stats(),
            page.console(),
            page.eval("h.pc && h.pc.connectionState")
                .unwrap_or_default()
        );
    }
    if let Some(a) = answer_sdp {
        assert!(!a.contains("a=ssrc"), "our answer lists SSRCs:\n{a}");
    }
    let before = page.eval("h.frames()").unwrap().as_u64().unwrap();
    duet_tests::wait_until(
        "Chromium's frame count rising",
        Duration::from_secs(10),
        || Ok((page.eval("h.frames()")?.as_u64().unwrap_or(0) > before + 10).then_some(())),
    )
    .unwrap();
    session.close_blocking();
}

#[test]
fn chromium_offers_duet_answers() {
    duet_tests::in_host("chromium_offers_duet_answers", || {
        call_browser(Role::Answerer, false)
    });
}

#[test]
fn duet_offers_chromium_answers() {
    duet_tests::in_host("duet_offers_chromium_answers", || {
        call_browser(Role::Offerer, false)
    });
}

/// What a browser without camera permission (or Firefox) sends: host
/// candidates as `<uuid>.local` names, which libnice cannot use. On one
/// LAN the call must still connect: the browser's checks reach our host
/// candidates, and we answer them (peer-reflexive).
#[test]
fn chromium_behind_mdns_names_still_connects() {
    duet_tests::in_host("chromium_behind_mdns_names_still_connects", || {
        call_browser(Role::Answerer, true)
    });
}

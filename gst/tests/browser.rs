//! One MediaSession against headless Chromium, both directions of offer:
//! the SDP and ICE candidates are carried by the test itself (DevTools
//! `Runtime.evaluate` into a small RTCPeerConnection harness), so what is
//! tested is only media interop — payload types, bundle, the answer's SSRC
//! lines, mDNS host candidates — with the browser decoding our video and
//! we decoding its.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use duet_gst::{MediaConfig, MediaEvent, MediaSession, Role, SdpKind};
use duet_tests::chromium::Chromium;
use std::time::Duration;

/// The page side: a peer connection with the fake camera and microphone;
/// local candidates queue in `h.ice` for the test to collect.
const HARNESS: &str = r#"
window.h = {
  ice: [], pc: null,
  async start() {
    const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
    const pc = new RTCPeerConnection({bundlePolicy: 'max-bundle'});
    this.pc = pc;
    for (const t of s.getTracks()) pc.addTrack(t, s);
    const v = document.createElement('video');
    v.id = 'remote'; v.autoplay = true; v.muted = true; document.body.append(v);
    const remote = new MediaStream();
    pc.ontrack = (e) => { remote.addTrack(e.track); v.srcObject = remote; };
    pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) this.ice.push([e.candidate.sdpMLineIndex || 0, e.candidate.candidate]);
    };
  },
  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription.sdp;
  },
  async answer(sdp) {
    await this.pc.setRemoteDescription({type: 'offer', sdp});
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription.sdp;
  },
  async remote(type, sdp) { await this.pc.setRemoteDescription({type, sdp}); },
  async add(mline, candidate) { await this.pc.addIceCandidate({candidate, sdpMLineIndex: mline}); },
  frames() { return document.getElementById('remote').getVideoPlaybackQuality().totalVideoFrames; },
};
"#;

fn js_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Runs one call: `role` is the MediaSession's side.
fn call_browser(role: Role) {
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
            while let Ok(ev) = events.try_recv() {
                match &ev {
                    MediaEvent::LocalDescription {
                        kind: SdpKind::Offer,
                        sdp,
                    } => {
                        let answer = page.eval(&format!("h.answer({})", js_str(sdp)))?;
                        session.set_remote_description(
                            SdpKind::Answer,
                            answer.as_str().unwrap_or(""),
                        )?;
                    }
                    MediaEvent::LocalDescription {
                        kind: SdpKind::Answer,
                        sdp,
                    } => {
                        answer_sdp = Some(sdp.clone());
                        page.eval(&format!("h.remote('answer', {})", js_str(sdp)))?;
                    }
                    MediaEvent::LocalCandidate { mline, candidate } => {
                        page.eval(&format!("h.add({mline}, {})", js_str(candidate)))?;
                    }
                    MediaEvent::Error(e) => anyhow::bail!("media error: {e}"),
                    MediaEvent::Stats(_) => {}
                    other => log.push(format!("{other:?}")),
                }
            }
            for c in page
                .eval("h.ice.splice(0)")?
                .as_array()
                .into_iter()
                .flatten()
            {
                let (mline, cand) = (c[0].as_u64().unwrap_or(0), c[1].as_str().unwrap_or(""));
                // A `.local` name libnice cannot resolve is refused or ignored;
                // the call must connect through peer-reflexive candidates then.
                let _ = session.add_remote_candidate(mline as u32, cand);
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
        call_browser(Role::Answerer)
    });
}

#[test]
fn duet_offers_chromium_answers() {
    duet_tests::in_host("duet_offers_chromium_answers", || {
        call_browser(Role::Offerer)
    });
}

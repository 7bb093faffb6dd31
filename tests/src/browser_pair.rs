//! One duet-gst [`MediaSession`] and one bare RTCPeerConnection in a
//! [`Chromium`] page ([`crate::chromium::PEER_HARNESS`]), with the SDP and
//! ICE carried by the test process over DevTools: media interop between
//! webrtcbin and a browser without the broker (the gst browser test and
//! `scripts/bench web`'s bare pair).

use crate::chromium::Chromium;
use duet_gst::{MediaEvent, MediaSession, SdpKind};
use tokio::sync::mpsc::Receiver;

fn js_str(s: &str) -> anyhow::Result<String> {
    Ok(serde_json::to_string(s)?)
}

/// Carries what is pending between the two: the session's descriptions
/// and candidates to the page, the page's answer and candidates to the
/// session. Returns the session's other events; a media error is an error.
pub fn pump(
    page: &mut Chromium,
    session: &MediaSession,
    events: &mut Receiver<MediaEvent>,
) -> anyhow::Result<Vec<MediaEvent>> {
    pump_with(page, session, events, |c| c.to_string())
}

/// [`pump`], with each of the browser's candidates rewritten on its way.
pub fn pump_with(
    page: &mut Chromium,
    session: &MediaSession,
    events: &mut Receiver<MediaEvent>,
    browser_candidate: impl Fn(&str) -> String,
) -> anyhow::Result<Vec<MediaEvent>> {
    let mut rest = Vec::new();
    while let Ok(ev) = events.try_recv() {
        match &ev {
            MediaEvent::LocalDescription {
                kind: SdpKind::Offer,
                sdp,
            } => {
                let answer = page.eval(&format!("h.answer({})", js_str(sdp)?))?;
                session.set_remote_description(SdpKind::Answer, answer.as_str().unwrap_or(""))?;
            }
            MediaEvent::LocalDescription {
                kind: SdpKind::Answer,
                sdp,
            } => {
                page.eval(&format!("h.remote('answer', {})", js_str(sdp)?))?;
            }
            MediaEvent::LocalCandidate { mline, candidate } => {
                page.eval(&format!("h.add({mline}, {})", js_str(candidate)?))?;
            }
            MediaEvent::Error(e) => anyhow::bail!("media error: {e}"),
            _ => {}
        }
        rest.push(ev);
    }
    for c in page
        .eval("h.ice.splice(0)")?
        .as_array()
        .into_iter()
        .flatten()
    {
        let (mline, cand) = (c[0].as_u64().unwrap_or(0), c[1].as_str().unwrap_or(""));
        // A `.local` name libnice cannot resolve is refused or ignored; the
        // call then connects through peer-reflexive candidates.
        let _ = session.add_remote_candidate(mline as u32, &browser_candidate(cand));
    }
    Ok(rest)
}

/// A browser candidate as a browser without camera permission sends it:
/// its address hidden behind an mDNS name (`<uuid>.local`).
pub fn hide_address(candidate: &str) -> String {
    let mut f: Vec<String> = candidate.split(' ').map(str::to_string).collect();
    if let Some(addr) = f.get_mut(4) {
        *addr = "5f0b7c2e-9d1a-4c3e-8f6b-2a7d9e1c4b30.local".to_string();
    }
    f.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn hides_the_address_only() {
        assert_eq!(
            super::hide_address("candidate:1 1 udp 2122260223 10.77.0.1 46657 typ host generation 0"),
            "candidate:1 1 udp 2122260223 5f0b7c2e-9d1a-4c3e-8f6b-2a7d9e1c4b30.local 46657 typ host generation 0"
        );
    }
}

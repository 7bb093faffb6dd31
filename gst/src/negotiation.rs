//! The negotiation steps, done in order on the service thread: create the
//! offer or the answer, set the descriptions, link the answerer's send
//! branches with the offered payload types, add remote candidates, check
//! the peer's DTLS certificate and ask for key frames once it matched.
//!
//! webrtcbin answers through promises, whose callbacks run on GStreamer
//! threads: they only queue the reply as the next [`Cmd`].

use crate::command::{Cmd, CmdTx};
use crate::config::{AudioSource, VideoSource};
use crate::dtls_trust::Step;
use crate::events::{ConnectionState, MediaEvent, SdpKind};
use crate::sdp::Plan;
use crate::send;
use crate::shared::Shared;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_webrtc as gst_webrtc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

fn promise_desc(
    cmd: CmdTx,
    field: &'static str,
    wrap: fn(Result<gst_webrtc::WebRTCSessionDescription, MediaError>) -> Cmd,
) -> gst::Promise {
    gst::Promise::with_change_func(move |reply| {
        let r = match reply {
            Ok(Some(s)) => match s.get::<gst_webrtc::WebRTCSessionDescription>(field) {
                Ok(d) => Ok(d),
                Err(_) => Err(MediaError::Negotiation(
                    reply_error(s).unwrap_or_else(|| format!("no {field} in reply")),
                )),
            },
            Ok(None) => Err(MediaError::Negotiation(format!(
                "empty reply to create-{field}"
            ))),
            Err(e) => Err(MediaError::Negotiation(format!("create-{field}: {e:?}"))),
        };
        cmd.post(wrap(r));
    })
}

fn reply_error(s: &gst::StructureRef) -> Option<String> {
    s.get::<gst::glib::Error>("error")
        .ok()
        .map(|e| e.to_string())
}

/// A promise for set-*-description: on success sends `ok`, else Fail.
fn promise_set(cmd: CmdTx, what: &'static str, ok: Option<Cmd>) -> gst::Promise {
    gst::Promise::with_change_func(move |reply| {
        let err = match reply {
            Ok(Some(s)) => reply_error(s),
            Ok(None) => None,
            Err(e) => Some(format!("{e:?}")),
        };
        match (err, ok) {
            (Some(e), _) => cmd.post(Cmd::Fail(MediaError::Negotiation(format!("{what}: {e}")))),
            (None, Some(c)) => cmd.post(c),
            (None, None) => {}
        }
    })
}

fn sdp_text(desc: &gst_webrtc::WebRTCSessionDescription) -> Result<String, MediaError> {
    desc.sdp()
        .as_text()
        .map_err(|e| MediaError::Negotiation(format!("SDP to text: {e}")))
}

/// The service thread's handle on webrtcbin.
pub(crate) struct Negotiator {
    pub shared: Arc<Shared>,
    pub pipeline: gst::Pipeline,
    pub webrtc: gst::Element,
    pub tx: CmdTx,
}

impl Negotiator {
    pub(crate) fn fail(&self, e: MediaError) {
        tracing::warn!("media session: {e}");
        self.shared.events.send(MediaEvent::Error(e));
    }

    /// Does one negotiation step (the commands other than `Bus` and `Stop`).
    pub(crate) fn handle(&self, cmd: Cmd) {
        match cmd {
            Cmd::CreateOffer => {
                if let Ok(mut g) = self.shared.offer_started.lock() {
                    *g = Some(Instant::now());
                }
                let p = promise_desc(self.tx.clone(), "offer", Cmd::OfferCreated);
                self.webrtc
                    .emit_by_name::<()>("create-offer", &[&None::<gst::Structure>, &p]);
            }
            Cmd::OfferCreated(Ok(desc)) => {
                let desc = crate::dtls_cert::true_fingerprint(desc);
                if let Ok(mut g) = self.shared.local_offer.lock() {
                    *g = Some(desc.sdp().to_owned());
                }
                self.shared
                    .mlines
                    .store(desc.sdp().medias_len(), Ordering::Release);
                self.set_local(desc, SdpKind::Offer);
            }
            Cmd::AnswerCreated(Ok(desc)) => {
                self.set_local(crate::dtls_cert::true_fingerprint(desc), SdpKind::Answer)
            }
            Cmd::OfferCreated(Err(e)) | Cmd::AnswerCreated(Err(e)) | Cmd::Fail(e) => self.fail(e),
            Cmd::SetRemoteOffer(msg, plan) => {
                if let Err(e) = self.shared.trust.expect(&msg) {
                    return self.fail(e);
                }
                let desc = gst_webrtc::WebRTCSessionDescription::new(
                    gst_webrtc::WebRTCSDPType::Offer,
                    msg,
                );
                let p = promise_set(
                    self.tx.clone(),
                    "set-remote-description(offer)",
                    Some(Cmd::RemoteOfferSet(plan)),
                );
                self.webrtc
                    .emit_by_name::<()>("set-remote-description", &[&desc, &p]);
            }
            Cmd::RemoteOfferSet(plan) => {
                if let Err(e) = self.link_answerer(plan) {
                    return self.fail(e);
                }
                let p = promise_desc(self.tx.clone(), "answer", Cmd::AnswerCreated);
                self.webrtc
                    .emit_by_name::<()>("create-answer", &[&None::<gst::Structure>, &p]);
            }
            Cmd::SetRemoteAnswer(msg) => {
                if let Err(e) = self.shared.trust.expect(&msg) {
                    return self.fail(e);
                }
                let desc = gst_webrtc::WebRTCSessionDescription::new(
                    gst_webrtc::WebRTCSDPType::Answer,
                    msg,
                );
                let p = promise_set(self.tx.clone(), "set-remote-description(answer)", None);
                self.webrtc
                    .emit_by_name::<()>("set-remote-description", &[&desc, &p]);
            }
            Cmd::AddCandidate(mline, cand) => {
                self.webrtc
                    .emit_by_name::<()>("add-ice-candidate", &[&mline, &cand]);
            }
            Cmd::Connected | Cmd::DtlsState => self.check_trust(),
            Cmd::Keyframe => self.keyframes(),
            Cmd::Bus(_) | Cmd::Stop => {}
        }
    }

    fn set_local(&self, desc: gst_webrtc::WebRTCSessionDescription, kind: SdpKind) {
        let text = sdp_text(&desc);
        let p = promise_set(self.tx.clone(), "set-local-description", None);
        self.webrtc
            .emit_by_name::<()>("set-local-description", &[&desc, &p]);
        // A browser drops our RTP when the answer's SSRC lines do not match it.
        let text = text.map(|sdp| match kind {
            SdpKind::Answer => crate::sdp::strip_ssrc_lines(&sdp),
            SdpKind::Offer => sdp,
        });
        match text {
            Ok(sdp) => self
                .shared
                .events
                .send(MediaEvent::LocalDescription { kind, sdp }),
            Err(e) => self.fail(e),
        }
    }

    /// Answerer: link the send branches to the offer's m-lines with the
    /// offered payload types (after set-remote-description, so that the
    /// requested `sink_N` pads are the offer's m-lines).
    fn link_answerer(&self, plan: Plan) -> Result<(), MediaError> {
        let c = &self.shared.config;
        if let (Some(v), false) = (plan.video, c.video == VideoSource::None) {
            let b = send::add_video(
                &self.pipeline,
                &self.webrtc,
                &self.shared,
                v.pt,
                Some(v.mline),
            )?;
            if let Ok(mut g) = self.shared.video_send.lock() {
                *g = Some(b);
            }
        }
        if let (Some(a), false) = (plan.audio, c.audio == AudioSource::None) {
            let b = send::add_audio(
                &self.pipeline,
                &self.webrtc,
                &self.shared,
                a.pt,
                Some(a.mline),
            )?;
            if let Ok(mut g) = self.shared.audio_send.lock() {
                *g = Some(b.clone());
            }
            // A set_muted that raced with the linking is applied now.
            if let Some(v) = &b.volume {
                v.set_property("mute", self.shared.muted_audio.load(Ordering::Relaxed));
            }
        }
        Ok(())
    }

    /// Checks the peer's DTLS certificate (until decided): trusted opens the
    /// media gate, announces Connected once webrtcbin is connected and asks
    /// for key frames (those before were dropped); untrusted is fatal.
    pub(crate) fn check_trust(&self) {
        let tx = self.tx.clone();
        let wake = move || tx.post(Cmd::DtlsState);
        let connected = self.shared.connected.load(Ordering::Acquire);
        match self.shared.trust.step(&self.webrtc, connected, wake) {
            Step::Untrusted(why) => self.fail(MediaError::Untrusted(why)),
            Step::Announce => {
                self.shared
                    .events
                    .send(MediaEvent::ConnectionState(ConnectionState::Connected));
                if let Some(w) = self.shared.window.get() {
                    w.on_connected();
                }
                crate::resilience::tune_rtcp(&self.webrtc);
                self.keyframes();
                self.repeat_last_frame();
            }
            Step::Wait => {}
        }
    }

    /// Right after [`Self::keyframes`] at connect: the key frame leaves
    /// now, not with the source's next frame (`repeat_frame`).
    fn repeat_last_frame(&self) {
        if let Some(r) = self.shared.repeat_frame() {
            r.release();
        }
    }

    /// Our encoder sends a key frame now, and we ask the peer for one: the
    /// ones sent before DTLS was up were lost.
    pub(crate) fn keyframes(&self) {
        let ev = || {
            gst_video::UpstreamForceKeyUnitEvent::builder()
                .all_headers(true)
                .build()
        };
        if let Some(b) = self.shared.video_send.lock().ok().and_then(|g| g.clone()) {
            b.payloader.send_event(ev());
        }
        if let Some(d) = self
            .shared
            .remote_video_depay
            .lock()
            .ok()
            .and_then(|g| g.clone())
        {
            d.send_event(ev());
        }
    }
}

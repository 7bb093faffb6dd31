//! The session's service thread.
//!
//! webrtcbin's signal handlers ([`crate::signals`]) and promise callbacks run
//! on GStreamer threads; they only push a [`Cmd`] into this thread's channel
//! (or an event to the owner). The service thread does the negotiation steps in order (create offer/answer,
//! set descriptions, link the answerer's send branches with the offered
//! payload types), polls the bus, emits periodic stats and watches for
//! remote media that stopped.

use crate::config::{AudioSource, MediaConfig, VideoSource};
use crate::dtls_trust::Step;
use crate::events::{ConnectionState, MediaEvent, SdpKind};
use crate::health::Health;
use crate::sdp::Plan;
use crate::send::{self, AUDIO_SRC, VIDEO_SRC};
use crate::session::Shared;
use crate::stats::parse_webrtc_stats;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_sdp as gst_sdp;
use gstreamer_video as gst_video;
use gstreamer_webrtc as gst_webrtc;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Work for the service thread.
#[derive(Debug)]
pub(crate) enum Cmd {
    CreateOffer,
    OfferCreated(Result<gst_webrtc::WebRTCSessionDescription, MediaError>),
    SetRemoteOffer(gst_sdp::SDPMessage, Plan),
    RemoteOfferSet(Plan),
    AnswerCreated(Result<gst_webrtc::WebRTCSessionDescription, MediaError>),
    SetRemoteAnswer(gst_sdp::SDPMessage),
    AddCandidate(u32, String),
    Connected,
    /// A DTLS transport changed state: check the peer's certificate.
    DtlsState,
    Keyframe,
    Fail(MediaError),
    Stop,
}

/// Maps a failed start (state change) to the most specific error.
pub(crate) fn startup_error(
    pipeline: &gst::Pipeline,
    config: &MediaConfig,
    e: gst::StateChangeError,
) -> MediaError {
    let Some(bus) = pipeline.bus() else {
        return MediaError::StateChange(e.to_string());
    };
    while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        if let gst::MessageView::Error(err) = msg.view() {
            let src = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
            let reason = err.error().to_string();
            // Sources inside auto*src bins have their own names: match the path.
            let path = msg
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_default();
            if src == VIDEO_SRC || path.contains(VIDEO_SRC) {
                return MediaError::CameraUnavailable {
                    device: config.video.to_string(),
                    reason,
                };
            }
            if src == AUDIO_SRC || path.contains(AUDIO_SRC) {
                return MediaError::MicrophoneUnavailable {
                    device: config.audio.to_string(),
                    reason,
                };
            }
            return MediaError::Pipeline {
                element: src,
                message: reason,
            };
        }
    }
    MediaError::StateChange(e.to_string())
}

fn promise_desc(
    cmd: mpsc::Sender<Cmd>,
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
        let _ = cmd.send(wrap(r));
    })
}

fn reply_error(s: &gst::StructureRef) -> Option<String> {
    s.get::<gst::glib::Error>("error")
        .ok()
        .map(|e| e.to_string())
}

/// A promise for set-*-description: on success sends `ok`, else Fail.
fn promise_set(cmd: mpsc::Sender<Cmd>, what: &'static str, ok: Option<Cmd>) -> gst::Promise {
    gst::Promise::with_change_func(move |reply| {
        let err = match reply {
            Ok(Some(s)) => reply_error(s),
            Ok(None) => None,
            Err(e) => Some(format!("{e:?}")),
        };
        let _ = match (err, ok) {
            (Some(e), _) => cmd.send(Cmd::Fail(MediaError::Negotiation(format!("{what}: {e}")))),
            (None, Some(c)) => cmd.send(c),
            (None, None) => Ok(()),
        };
    })
}

fn sdp_text(desc: &gst_webrtc::WebRTCSessionDescription) -> Result<String, MediaError> {
    desc.sdp()
        .as_text()
        .map_err(|e| MediaError::Negotiation(format!("SDP to text: {e}")))
}

struct Service {
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    webrtc: gst::Element,
    tx: mpsc::Sender<Cmd>,
    health: Health,
    window_closed: bool,
}

/// The service thread's loop; returns on `Cmd::Stop`.
pub(crate) fn run(
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    webrtc: gst::Element,
    tx: mpsc::Sender<Cmd>,
    rx: mpsc::Receiver<Cmd>,
) {
    let mut svc = Service {
        shared,
        pipeline,
        webrtc,
        tx,
        health: Health::new(),
        window_closed: false,
    };
    let bus = svc.pipeline.bus();
    let interval = svc
        .shared
        .config
        .stats_interval
        .max(Duration::from_millis(100));
    let mut next_stats = Instant::now() + interval;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(Cmd::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Ok(cmd) => svc.handle(cmd),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Some(bus) = &bus {
            while let Some(msg) = bus.pop() {
                svc.on_bus(&msg);
            }
        }
        if svc.shared.trust.is_undecided() && svc.shared.remote_set.load(Ordering::Acquire) {
            svc.check_trust();
        }
        // Atomic loads (and a state query every 250 ms): cheap enough to
        // run every turn, so a silent peer is noticed within 20 ms.
        svc.health.check(&svc.shared, &svc.pipeline);
        if Instant::now() >= next_stats {
            next_stats += interval;
            svc.poll_stats();
            if let Some(w) = svc.shared.window.get() {
                w.tick();
            }
        }
    }
}

impl Service {
    fn fail(&self, e: MediaError) {
        tracing::warn!("media session: {e}");
        self.shared.events.send(MediaEvent::Error(e));
    }

    fn handle(&mut self, cmd: Cmd) {
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
                if let Ok(mut g) = self.shared.local_offer.lock() {
                    *g = Some(desc.sdp().to_owned());
                }
                self.shared
                    .mlines
                    .store(desc.sdp().medias_len(), Ordering::Release);
                self.set_local(desc, SdpKind::Offer);
            }
            Cmd::AnswerCreated(Ok(desc)) => self.set_local(desc, SdpKind::Answer),
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
            Cmd::Stop => {}
        }
    }

    fn set_local(&self, desc: gst_webrtc::WebRTCSessionDescription, kind: SdpKind) {
        let text = sdp_text(&desc);
        let p = promise_set(self.tx.clone(), "set-local-description", None);
        self.webrtc
            .emit_by_name::<()>("set-local-description", &[&desc, &p]);
        match text {
            Ok(sdp) => self
                .shared
                .events
                .send(MediaEvent::LocalDescription { kind, sdp }),
            Err(e) => self.fail(e),
        }
    }

    /// Answerer: link the send branches to the offer's m-lines with the
    /// offered payload types (after set-remote-description, DESIGN.md).
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
    fn check_trust(&self) {
        let tx = self.tx.clone();
        let wake = move || {
            let _ = tx.send(Cmd::DtlsState);
        };
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
                self.keyframes();
            }
            Step::Wait => {}
        }
    }

    /// Our encoder sends a key frame now, and we ask the peer for one: the
    /// ones sent before DTLS was up were lost.
    fn keyframes(&self) {
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

    /// ximagesink's only runtime error: its window was closed.
    fn on_window_closed(&mut self) {
        if !self.window_closed {
            self.window_closed = true;
            self.shared.events.send(MediaEvent::WindowClosed);
        }
    }

    fn on_bus(&mut self, msg: &gst::Message) {
        match msg.view() {
            gst::MessageView::Error(_)
                if msg
                    .src()
                    .is_some_and(|s| s.name() == crate::window::WINDOW_SINK) =>
            {
                self.on_window_closed()
            }
            gst::MessageView::Error(err) => {
                let element = msg
                    .src()
                    .map(|s| s.path_string().to_string())
                    .unwrap_or_default();
                let message = err.error().to_string();
                let e = if element.contains(VIDEO_SRC) {
                    MediaError::CameraUnavailable {
                        device: self.shared.config.video.to_string(),
                        reason: message,
                    }
                } else if element.contains(AUDIO_SRC) {
                    MediaError::MicrophoneUnavailable {
                        device: self.shared.config.audio.to_string(),
                        reason: message,
                    }
                } else {
                    MediaError::Pipeline { element, message }
                };
                self.fail(e);
            }
            gst::MessageView::Warning(w) => {
                tracing::debug!(
                    "gstreamer warning from {:?}: {}",
                    msg.src().map(|s| s.path_string()),
                    w.error()
                );
            }
            gst::MessageView::Latency(_) => {
                let _ = self.pipeline.recalculate_latency();
            }
            _ => {}
        }
    }

    fn poll_stats(&self) {
        let s = Arc::downgrade(&self.shared);
        let p = gst::Promise::with_change_func(move |reply| {
            let Some(s) = s.upgrade() else { return };
            if let Ok(Some(reply)) = reply {
                let net = parse_webrtc_stats(reply);
                if let Ok(mut g) = s.net.lock() {
                    *g = net;
                }
            }
            s.events.send(MediaEvent::Stats(s.snapshot()));
        });
        self.webrtc
            .emit_by_name::<()>("get-stats", &[&None::<gst::Pad>, &p]);
    }
}

//! `MediaSession`: the public handle of one call's media, the top floor.
//!
//! The handle is `Send + Sync` and every input method is non-blocking: it
//! checks what it can synchronously (typed errors at the call site) and
//! queues the rest to the session's service thread (module `service`),
//! which is the only place that waits on webrtcbin; a full queue is
//! refused ([`MediaError::QueueFull`]). Tearing down (module `teardown`)
//! happens in `close`, on a blocking thread, or — when the handle is
//! dropped without `close` — on a std thread of its own, so a dropped
//! session never leaves a running pipeline behind.

use crate::command::{Cmd, CmdTx};
use crate::config::{MediaConfig, MediaKind, VideoSource};
use crate::events::{Events, MediaEvent, SdpKind};
use crate::service;
pub use crate::shared::Role;
use crate::shared::Shared;
use crate::stats::MediaStats;
use crate::teardown::{teardown, Running};
use crate::{elements, sdp, MediaError};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

mod window;

/// One call's media: one webrtcbin pipeline. See the crate docs for the flow.
pub struct MediaSession {
    shared: Arc<Shared>,
    inner: Mutex<Option<Running>>,
}

impl std::fmt::Debug for MediaSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSession")
            .field("role", &self.shared.role)
            .finish_non_exhaustive()
    }
}

fn has_network_interface() -> bool {
    match if_addrs::get_if_addrs() {
        Ok(ifs) => ifs.iter().any(|i| !i.is_loopback()),
        Err(e) => {
            tracing::warn!("listing network interfaces: {e}; assuming one exists");
            true
        }
    }
}

impl MediaSession {
    /// Builds and starts the pipeline. Fails fast on missing elements, an
    /// absent display, camera or microphone, or no network interface. Takes
    /// a few ms (the state change to PLAYING); call [`crate::warm_up`] once
    /// at program start so the first call does not pay plugin loading.
    pub fn start(
        config: MediaConfig,
        role: Role,
    ) -> Result<(MediaSession, mpsc::Receiver<MediaEvent>), MediaError> {
        crate::init()?;
        config.validate()?;
        elements::check_elements(&config)?;
        if config.display.is_windowed() && std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty())
        {
            return Err(MediaError::NoDisplay);
        }
        if let VideoSource::Device(path) = &config.video {
            if !std::path::Path::new(path).exists() {
                return Err(MediaError::CameraUnavailable {
                    device: path.clone(),
                    reason: "no such device".into(),
                });
            }
        }
        if !has_network_interface() {
            return Err(MediaError::NoNetworkInterface);
        }
        let (events, rx) = Events::channel();
        let shared = Arc::new(Shared::new(config, role, events));
        let (cmd_tx, cmd_rx) = CmdTx::channel();
        let t0 = Instant::now();
        let (pipeline, webrtc) = crate::webrtc_wiring::build(&shared, &cmd_tx)?;
        let built = t0.elapsed();
        if let Err(e) = pipeline.set_state(gst::State::Playing) {
            let err = crate::bus::startup_error(&pipeline, &shared.config, e);
            let _ = pipeline.set_state(gst::State::Null);
            return Err(err);
        }
        tracing::debug!(
            "pipeline built in {:.1} ms, playing {:.1} ms later",
            built.as_secs_f64() * 1000.0,
            (t0.elapsed() - built).as_secs_f64() * 1000.0
        );
        let thread_shared = shared.clone();
        let thread_pipeline = pipeline.clone();
        let thread_tx = cmd_tx.clone();
        let service = std::thread::Builder::new()
            .name("duet-media".into())
            .spawn(move || service::run(thread_shared, thread_pipeline, webrtc, thread_tx, cmd_rx))
            .map_err(|e| MediaError::StateChange(format!("spawning the media thread: {e}")))?;
        let inner = Running {
            pipeline,
            cmd: cmd_tx,
            service: Some(service),
        };
        Ok((
            MediaSession {
                shared,
                inner: Mutex::new(Some(inner)),
            },
            rx,
        ))
    }

    fn send_cmd(&self, cmd: Cmd) -> Result<(), MediaError> {
        let g = self.inner.lock().map_err(|_| MediaError::Closed)?;
        let inner = g.as_ref().ok_or(MediaError::Closed)?;
        inner.cmd.try_send(cmd)
    }

    /// Gives the peer's SDP. Malformed or incompatible SDP, an SDP without
    /// a DTLS fingerprint we can check (`Untrusted`) and an SDP that does
    /// not fit the role/state are refused here; webrtcbin's own failures
    /// arrive later as `MediaEvent::Error`.
    pub fn set_remote_description(&self, kind: SdpKind, sdp_text: &str) -> Result<(), MediaError> {
        let msg = sdp::parse(sdp_text)?;
        crate::dtls_trust::expected(&msg)?;
        match (self.shared.role, kind) {
            (Role::Answerer, SdpKind::Offer) => {
                if self.shared.remote_set.swap(true, Ordering::AcqRel) {
                    return Err(MediaError::WrongState(
                        "an offer was already given (no renegotiation)".into(),
                    ));
                }
                let plan = sdp::plan_answer(&msg, self.shared.config.codec).inspect_err(|_| {
                    self.shared.remote_set.store(false, Ordering::Release);
                })?;
                self.shared.mlines.store(plan.mlines, Ordering::Release);
                self.send_cmd(Cmd::SetRemoteOffer(msg, plan))
                    .inspect_err(|_| self.shared.remote_set.store(false, Ordering::Release))
            }
            (Role::Offerer, SdpKind::Answer) => {
                {
                    let offer = self
                        .shared
                        .local_offer
                        .lock()
                        .map_err(|_| MediaError::Closed)?;
                    let offer = offer
                        .as_ref()
                        .ok_or_else(|| MediaError::WrongState("no local offer yet".into()))?;
                    sdp::check_answer(&msg, offer)?;
                }
                if self.shared.remote_set.swap(true, Ordering::AcqRel) {
                    return Err(MediaError::WrongState("an answer was already given".into()));
                }
                self.send_cmd(Cmd::SetRemoteAnswer(msg))
                    .inspect_err(|_| self.shared.remote_set.store(false, Ordering::Release))
            }
            (role, kind) => Err(MediaError::WrongState(format!(
                "a {role:?} cannot take a remote {kind:?}"
            ))),
        }
    }

    /// Gives one of the peer's ICE candidates (`candidate:…`, or empty for
    /// end-of-candidates). A candidate before the remote description is
    /// queued by webrtcbin.
    pub fn add_remote_candidate(&self, mline: u32, candidate: &str) -> Result<(), MediaError> {
        let cand = candidate.trim().trim_start_matches("a=");
        if !cand.is_empty() && !cand.starts_with("candidate:") {
            return Err(MediaError::InvalidCandidate(
                candidate.chars().take(80).collect(),
            ));
        }
        let count = self.shared.mlines.load(Ordering::Acquire);
        if count > 0 && mline >= count {
            return Err(MediaError::UnknownMline { mline, count });
        }
        self.send_cmd(Cmd::AddCandidate(mline, cand.to_string()))
    }

    /// Mutes or unmutes what we send. Muted video is sent as black frames and
    /// muted audio as silence, so the peer still sees the stream alive.
    pub fn set_muted(&self, kind: MediaKind, muted: bool) -> Result<(), MediaError> {
        match kind {
            MediaKind::Video => {
                if self.shared.config.video == VideoSource::None {
                    return Err(MediaError::NoSuchMedia(kind));
                }
                self.shared.muted_video.store(muted, Ordering::Relaxed);
                if let Some(w) = self.shared.window.get() {
                    w.set_local_video_muted(muted);
                }
            }
            MediaKind::Audio => {
                if self.shared.config.audio == crate::config::AudioSource::None {
                    return Err(MediaError::NoSuchMedia(kind));
                }
                // Remembered for a branch linked later (the answerer's).
                self.shared.muted_audio.store(muted, Ordering::Relaxed);
                let vol = self
                    .shared
                    .audio_send
                    .lock()
                    .ok()
                    .and_then(|g| g.as_ref().and_then(|b| b.volume.clone()));
                if let Some(v) = vol {
                    v.set_property("mute", muted);
                }
            }
        }
        Ok(())
    }

    /// Asks the peer for a key frame (RTCP PLI/FIR) and makes our encoder
    /// send one.
    pub fn request_keyframe(&self) -> Result<(), MediaError> {
        self.send_cmd(Cmd::Keyframe)
    }

    /// A snapshot of the counters and the last network statistics.
    pub fn stats(&self) -> MediaStats {
        self.shared.snapshot()
    }

    /// Removes and returns the glass-to-glass samples (ms) gathered so far.
    pub fn take_latency_samples(&self) -> Vec<f64> {
        self.shared.samples.take()
    }

    /// When create-offer was issued (offerer only).
    pub fn offer_started_at(&self) -> Option<Instant> {
        self.shared.offer_started.lock().ok().and_then(|g| *g)
    }

    /// When the session started.
    pub fn started_at(&self) -> Instant {
        self.shared.start
    }

    /// Tears the pipeline down on a blocking thread; `Ended` is the last event.
    pub async fn close(self) {
        let inner = self.inner.lock().ok().and_then(|mut g| g.take());
        let shared = self.shared.clone();
        if let Some(inner) = inner {
            let _ = tokio::task::spawn_blocking(move || teardown(inner, &shared)).await;
        }
    }

    /// `close` for callers outside an async runtime: blocks until torn down.
    pub fn close_blocking(self) {
        let inner = self.inner.lock().ok().and_then(|mut g| g.take());
        if let Some(inner) = inner {
            teardown(inner, &self.shared);
        }
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().ok().and_then(|g| g.take());
        if let Some(inner) = inner {
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("duet-media-drop".into())
                .spawn(move || teardown(inner, &shared));
            if let Err(e) = spawned {
                tracing::error!("could not spawn the teardown thread: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::MediaSession>();
    }
}

//! `MediaSession`: the public handle of one call's media, and its teardown.
//!
//! The handle is `Send + Sync` and every input method is non-blocking: it
//! checks what it can synchronously (typed errors at the call site) and
//! queues the rest to the session's service thread (module `service`),
//! which is the only place that waits on webrtcbin. Tearing down (the NULL
//! state change can take a while) happens in `close`, on a blocking thread,
//! or — when the handle is dropped without `close` — on a std thread of its
//! own, so a dropped session never leaves a running pipeline behind.

use crate::config::{MediaConfig, MediaKind, VideoSource};
use crate::events::{Events, MediaEvent, SdpKind};
use crate::probe::Samples;
use crate::send::SendBranch;
use crate::service::{self, Cmd};
use crate::stats::{MediaStats, NetStats};
use crate::{elements, sdp, MediaError};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::sync::mpsc;

mod window;

/// Which side of the negotiation this session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Creates the offer as soon as the pipeline runs.
    Offerer,
    /// Waits for `set_remote_description(Offer, …)`, then answers.
    Answerer,
}

/// Payload types the offerer uses.
pub(crate) const VIDEO_PT: u32 = 96;
pub(crate) const AUDIO_PT: u32 = 111;

/// State shared by the handle, the service thread and GStreamer callbacks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: MediaConfig,
    pub role: Role,
    pub events: Events,
    pub start: Instant,
    pub video_rx: AtomicU64,
    pub audio_rx: AtomicU64,
    pub video_tx: AtomicU64,
    pub audio_tx: AtomicU64,
    pub first_video: AtomicBool,
    pub first_audio: AtomicBool,
    pub muted_video: AtomicBool,
    pub muted_audio: AtomicBool,
    /// What the peer said it sends muted (signalled, not seen in the media).
    pub remote_muted_video: AtomicBool,
    pub remote_muted_audio: AtomicBool,
    pub remote_bye: AtomicBool,
    /// Last remote audio peak in millionths, plus one (0: none yet).
    pub audio_peak_rx: AtomicU32,
    /// The peer connection reached Connected once.
    pub connected: AtomicBool,
    /// Microseconds since `start` of the last remote media at a sink (0: none yet).
    pub last_media_us: AtomicU64,
    pub candidates: AtomicU32,
    /// Number of m-lines once a description is known (0: not yet).
    pub mlines: AtomicU32,
    pub net: Mutex<NetStats>,
    pub samples: Samples,
    pub offer_started: Mutex<Option<Instant>>,
    pub local_offer: Mutex<Option<gstreamer_sdp::SDPMessage>>,
    pub remote_set: AtomicBool,
    pub video_send: Mutex<Option<SendBranch>>,
    pub audio_send: Mutex<Option<SendBranch>>,
    pub remote_video_depay: Mutex<Option<gst::Element>>,
    pub trust: Arc<crate::dtls_trust::Trust>,
    pub audio_output: Mutex<Option<crate::stats::AudioOutput>>,
    /// The call window (window mode), set once while the pipeline is built.
    pub window: std::sync::OnceLock<crate::window::CallWindow>,
    pub recorder: Mutex<Option<Arc<crate::record::Recorder>>>,
}

impl Shared {
    fn remote_muted(&self, kind: MediaKind) -> &AtomicBool {
        match kind {
            MediaKind::Video => &self.remote_muted_video,
            MediaKind::Audio => &self.remote_muted_audio,
        }
    }

    pub(crate) fn touch_media(&self) {
        let us = (self.start.elapsed().as_micros() as u64).max(1);
        self.last_media_us.store(us, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MediaStats {
        let net = self.net.lock().map(|g| *g).unwrap_or_default();
        MediaStats {
            video_frames_received: self.video_rx.load(Ordering::Relaxed),
            audio_buffers_received: self.audio_rx.load(Ordering::Relaxed),
            video_frames_sent: self.video_tx.load(Ordering::Relaxed),
            audio_buffers_sent: self.audio_tx.load(Ordering::Relaxed),
            bytes_sent: net.bytes_sent,
            bytes_received: net.bytes_received,
            packets_sent: net.packets_sent,
            packets_received: net.packets_received,
            rtt_ms: net.rtt_ms,
            audio_peak_received: match self.audio_peak_rx.load(Ordering::Relaxed) {
                0 => None,
                p => Some(f64::from(p - 1) / 1e6),
            },
            glass_to_glass: self.samples.summary(),
            audio_output: self.audio_output.lock().ok().and_then(|g| *g),
        }
    }
}

struct Inner {
    pipeline: gst::Pipeline,
    cmd: std_mpsc::Sender<Cmd>,
    service: Option<JoinHandle<()>>,
}

/// One call's media: one webrtcbin pipeline. See the crate docs for the flow.
pub struct MediaSession {
    shared: Arc<Shared>,
    inner: Mutex<Option<Inner>>,
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
        let shared = Arc::new(Shared {
            config,
            role,
            events,
            start: Instant::now(),
            video_rx: AtomicU64::new(0),
            audio_rx: AtomicU64::new(0),
            video_tx: AtomicU64::new(0),
            audio_tx: AtomicU64::new(0),
            first_video: AtomicBool::new(false),
            first_audio: AtomicBool::new(false),
            muted_video: AtomicBool::new(false),
            muted_audio: AtomicBool::new(false),
            remote_muted_video: AtomicBool::new(false),
            remote_muted_audio: AtomicBool::new(false),
            remote_bye: AtomicBool::new(false),
            audio_peak_rx: AtomicU32::new(0),
            connected: AtomicBool::new(false),
            last_media_us: AtomicU64::new(0),
            candidates: AtomicU32::new(0),
            mlines: AtomicU32::new(0),
            net: Mutex::new(NetStats::default()),
            samples: Samples::default(),
            offer_started: Mutex::new(None),
            local_offer: Mutex::new(None),
            remote_set: AtomicBool::new(false),
            video_send: Mutex::new(None),
            audio_send: Mutex::new(None),
            remote_video_depay: Mutex::new(None),
            trust: Arc::default(),
            audio_output: Mutex::new(None),
            window: std::sync::OnceLock::new(),
            recorder: Mutex::new(None),
        });
        let (cmd_tx, cmd_rx) = std_mpsc::channel();
        let (pipeline, webrtc) = crate::signals::build(&shared, &cmd_tx)?;
        if let Err(e) = pipeline.set_state(gst::State::Playing) {
            let err = service::startup_error(&pipeline, &shared.config, e);
            let _ = pipeline.set_state(gst::State::Null);
            return Err(err);
        }
        let thread_shared = shared.clone();
        let thread_pipeline = pipeline.clone();
        let thread_tx = cmd_tx.clone();
        let service = std::thread::Builder::new()
            .name("duet-media".into())
            .spawn(move || service::run(thread_shared, thread_pipeline, webrtc, thread_tx, cmd_rx))
            .map_err(|e| MediaError::StateChange(format!("spawning the media thread: {e}")))?;
        let inner = Inner {
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
        inner.cmd.send(cmd).map_err(|_| MediaError::Closed)
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

fn teardown(mut inner: Inner, shared: &Shared) {
    let _ = inner.cmd.send(Cmd::Stop);
    if let Some(h) = inner.service.take() {
        let _ = h.join();
    }
    crate::record::finish(shared);
    say_bye(&inner.pipeline, shared);
    if let Err(e) = inner.pipeline.set_state(gst::State::Null) {
        tracing::warn!("pipeline to NULL: {e}");
    }
    for slot in [&shared.video_send, &shared.audio_send] {
        if let Ok(mut g) = slot.lock() {
            *g = None;
        }
    }
    if let Ok(mut g) = shared.remote_video_depay.lock() {
        *g = None;
    }
    shared.events.send(MediaEvent::Ended);
}

/// Ends our streams so rtpbin sends RTCP BYE: the peer learns at once that
/// we left (`MediaEvent::RemoteEnded`) instead of after its media timeout.
/// Only once connected (webrtcbin blocks its input pads until negotiated, and
/// an EOS would wait there), and from a helper thread waited on for at most
/// 100 ms: the BYE leaves within a millisecond here, and the NULL state
/// change that follows unblocks anything still stuck.
fn say_bye(pipeline: &gst::Pipeline, shared: &Shared) {
    if !shared.connected.load(Ordering::Acquire) {
        return;
    }
    let Some(webrtc) = pipeline.by_name("webrtc") else {
        return;
    };
    let (done_tx, done_rx) = std_mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("duet-media-bye".into())
        .spawn(move || {
            for pad in webrtc.sink_pads() {
                pad.send_event(gst::event::Eos::new());
            }
            let _ = done_tx.send(());
        });
    if spawned.is_ok()
        && done_rx
            .recv_timeout(std::time::Duration::from_millis(100))
            .is_ok()
    {
        // Let the RTCP thread send the BYE it just scheduled.
        std::thread::sleep(std::time::Duration::from_millis(20));
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

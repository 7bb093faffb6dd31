//! The state one session shares between its handle, its service thread and
//! GStreamer's callbacks, and the constants every part agrees on.
//!
//! The bottom of the session's floors: it knows the configuration, the
//! event stream and the handles other floors store here, but builds and
//! drives nothing.

use crate::config::{MediaConfig, MediaKind};
use crate::events::Events;
use crate::probe::Samples;
use crate::record::RecordSlot;
use crate::stats::{AudioOutput, MediaStats, NetStats};
use gstreamer as gst;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// `Shared::fec_recovered` while FEC is not negotiated (`fec::recovered`).
const NO_FEC: u64 = u64::MAX;

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

/// Handles kept by the session for one sending branch.
#[derive(Debug, Clone)]
pub(crate) struct SendBranch {
    /// The payloader: upstream force-key-unit events go in here.
    pub payloader: gst::Element,
    /// The `volume` element (audio only), for mute.
    pub volume: Option<gst::Element>,
    /// The encoder's last raw frame (video only), given again at connect.
    pub repeat: Option<Arc<crate::repeat_frame::LastFrame>>,
}

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
    /// The SSRCs the peer's media came from: only their BYE ends its media.
    pub remote_senders: crate::remote_senders::RemoteSenders,
    /// Last remote audio peak in millionths, plus one (0: none yet).
    pub audio_peak_rx: AtomicU32,
    /// Decoded remote video size, width << 32 | height (0: none yet).
    pub video_size_rx: AtomicU64,
    /// The peer connection reached Connected once.
    pub connected: AtomicBool,
    /// Microseconds since `start` of the last remote media at a sink (0: none yet).
    pub last_media_us: AtomicU64,
    pub candidates: AtomicU32,
    /// Number of m-lines once a description is known (0: not yet); the
    /// recorder reads it too.
    pub mlines: Arc<AtomicU32>,
    pub net: Mutex<NetStats>,
    pub samples: Samples,
    pub offer_started: Mutex<Option<Instant>>,
    pub local_offer: Mutex<Option<gstreamer_sdp::SDPMessage>>,
    pub remote_set: AtomicBool,
    pub video_send: Mutex<Option<SendBranch>>,
    pub audio_send: Mutex<Option<SendBranch>>,
    pub remote_video_depay: Mutex<Option<gst::Element>>,
    pub trust: Arc<crate::dtls_trust::Trust>,
    pub audio_output: Mutex<Option<AudioOutput>>,
    /// The call window (window mode), set once while the pipeline is built.
    pub window: OnceLock<crate::window::CallWindow>,
    pub recorder: RecordSlot,
    /// The video bitrate controller and the rate it last set (kbit/s).
    pub bitrate: Mutex<crate::congestion::Controller>,
    pub video_kbps: AtomicU32,
    /// Remote video packets rebuilt from ULPFEC (`crate::fec`), so far;
    /// [`NO_FEC`] while FEC is not negotiated.
    pub fec_recovered: AtomicU64,
    /// Freezes of the remote picture.
    pub freeze: Mutex<crate::freeze::FreezeMeter>,
    /// What the transport sends more than once (`crate::redundancy`).
    pub redundancy: Arc<crate::redundancy::State>,
}

impl Shared {
    pub(crate) fn new(config: MediaConfig, role: Role, events: Events) -> Shared {
        let mlines = Arc::new(AtomicU32::new(0));
        let recorder = RecordSlot::new(config.record.clone(), mlines.clone());
        let mut bitrate = crate::congestion::Controller::new(config.video_bitrate_kbps);
        if !config.video_fec.media_copies() {
            bitrate = bitrate.without_media_copies();
        }
        let video_kbps = AtomicU32::new(bitrate.kbps());
        Shared {
            config,
            role,
            events,
            start: Instant::now(),
            video_rx: AtomicU64::new(0),
            fec_recovered: AtomicU64::new(NO_FEC),
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
            remote_senders: Default::default(),
            audio_peak_rx: AtomicU32::new(0),
            video_size_rx: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            last_media_us: AtomicU64::new(0),
            candidates: AtomicU32::new(0),
            mlines,
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
            window: OnceLock::new(),
            recorder,
            bitrate: Mutex::new(bitrate),
            video_kbps,
            freeze: Mutex::default(),
            redundancy: Arc::default(),
        }
    }

    pub(crate) fn remote_muted(&self, kind: MediaKind) -> &AtomicBool {
        match kind {
            MediaKind::Video => &self.remote_muted_video,
            MediaKind::Audio => &self.remote_muted_audio,
        }
    }

    /// The video encoder's first-key-frame helper, if video is sent.
    pub(crate) fn repeat_frame(&self) -> Option<Arc<crate::repeat_frame::LastFrame>> {
        let branch = self.video_send.lock().ok().and_then(|g| g.clone());
        branch.and_then(|b| b.repeat)
    }

    /// Remote media or RTCP arrived: the peer is alive.
    pub(crate) fn touch_media(&self) {
        let us = (self.start.elapsed().as_micros() as u64).max(1);
        self.last_media_us.store(us, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> MediaStats {
        let net = self.net.lock().map(|g| *g).unwrap_or_default();
        let freeze = self.freeze.lock().map(|g| g.clone()).unwrap_or_default();
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
            packets_lost: net.packets_lost,
            video_fec_recovered: match self.fec_recovered.load(Ordering::Relaxed) {
                NO_FEC => None,
                n => Some(n),
            },
            video_freezes: freeze.freezes,
            longest_freeze_ms: freeze.longest_gap_ms,
            video_bitrate_kbps: if self.config.video == crate::config::VideoSource::None {
                0
            } else {
                self.video_kbps.load(Ordering::Relaxed)
            },
            route: net.route,
            audio_peak_received: match self.audio_peak_rx.load(Ordering::Relaxed) {
                0 => None,
                p => Some(f64::from(p - 1) / 1e6),
            },
            glass_to_glass: self.samples.summary(),
            glass_to_glass_recent: self.samples.recent(),
            audio_output: self.audio_output.lock().ok().and_then(|g| *g),
            video_size_received: match self.video_size_rx.load(Ordering::Relaxed) {
                0 => None,
                v => Some(((v >> 32) as u32, v as u32)),
            },
        }
    }
}

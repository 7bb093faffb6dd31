//! What a session tells its owner, through one bounded channel.
//!
//! GStreamer callbacks run on streaming threads and must never block, so
//! every event is sent with `try_send`; the capacity is generous and an
//! overflow (an owner that stopped reading) is logged and the event dropped.

use crate::stats::MediaStats;
use crate::MediaError;
use gstreamer_webrtc as gst_webrtc;
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Capacity of the event channel.
pub const EVENT_CAPACITY: usize = 1024;

/// Offer or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpKind {
    Offer,
    Answer,
}

/// ICE connection state (webrtcbin's `ice-connection-state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IceState {
    New,
    Checking,
    Connected,
    Completed,
    Failed,
    Disconnected,
    Closed,
}

/// Peer connection state (webrtcbin's `connection-state`: ICE + DTLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    New,
    Connecting,
    Connected,
    Disconnected,
    Failed,
    Closed,
}

impl ConnectionState {
    /// The call cannot go on: end it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ConnectionState::Failed | ConnectionState::Closed | ConnectionState::Disconnected
        )
    }
}

/// Events of one session, in order.
#[derive(Debug, Clone)]
pub enum MediaEvent {
    /// Send this SDP to the peer.
    LocalDescription {
        kind: SdpKind,
        sdp: String,
    },
    /// Send this ICE candidate to the peer (trickle ICE).
    LocalCandidate {
        mline: u32,
        candidate: String,
    },
    /// Local ICE gathering is complete (no more `LocalCandidate`).
    GatheringComplete {
        candidates: u32,
    },
    IceState(IceState),
    ConnectionState(ConnectionState),
    /// The first decoded remote video frame reached the sink.
    FirstRemoteVideoFrame {
        at: Instant,
        since_start: Duration,
    },
    /// The first decoded remote audio buffer reached the sink.
    FirstRemoteAudio {
        at: Instant,
        since_start: Duration,
    },
    /// No audio output device could be opened: remote audio is dropped and
    /// the call goes on with video (a warning, not a failure).
    AudioOutputUnavailable {
        reason: String,
    },
    /// A key pressed in the call window (window mode).
    Key(WindowKey),
    /// The call window was closed from the window manager.
    WindowClosed,
    /// Periodic snapshot (every `MediaConfig::stats_interval`).
    Stats(MediaStats),
    /// The peer ended its media (RTCP BYE, sent when it closes): end the call.
    RemoteEnded,
    /// Remote media flowed, then nothing arrived for
    /// `MediaConfig::media_timeout`: the peer is gone. End the call.
    MediaTimeout {
        silent_for: Duration,
    },
    /// Something failed; fatal unless the owner decides otherwise.
    Error(MediaError),
    /// The pipeline is torn down; the last event.
    Ended,
}

/// A key of the call window. The session knows nothing of calls: what a
/// key does is the owner's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WindowKey {
    /// `y`: answer.
    Yes,
    /// `n`: reject.
    No,
    /// `m`: microphone off/on.
    Mic,
    /// `v`: camera off/on.
    Camera,
    /// `h` or Escape: hang up.
    Hangup,
    /// `f`: fullscreen on/off.
    Fullscreen,
}

impl WindowKey {
    /// From an X key name as navigation events carry it (`y`, `Escape`, …).
    pub fn from_key_name(key: &str) -> Option<WindowKey> {
        Some(match key {
            "y" | "Y" => WindowKey::Yes,
            "n" | "N" => WindowKey::No,
            "m" | "M" => WindowKey::Mic,
            "v" | "V" => WindowKey::Camera,
            "h" | "H" | "Escape" => WindowKey::Hangup,
            "f" | "F" => WindowKey::Fullscreen,
            _ => return None,
        })
    }
}

/// The sending half, shared by all callbacks.
#[derive(Debug, Clone)]
pub(crate) struct Events(mpsc::Sender<MediaEvent>);

impl Events {
    pub(crate) fn channel() -> (Events, mpsc::Receiver<MediaEvent>) {
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        (Events(tx), rx)
    }

    /// Never blocks; drops (and logs) when the owner is not reading.
    pub(crate) fn send(&self, ev: MediaEvent) {
        match self.0.try_send(ev) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(ev)) => {
                tracing::warn!(?ev, "media event channel full: event dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

impl From<gst_webrtc::WebRTCICEConnectionState> for IceState {
    fn from(s: gst_webrtc::WebRTCICEConnectionState) -> Self {
        use gst_webrtc::WebRTCICEConnectionState as S;
        match s {
            S::Checking => IceState::Checking,
            S::Connected => IceState::Connected,
            S::Completed => IceState::Completed,
            S::Failed => IceState::Failed,
            S::Disconnected => IceState::Disconnected,
            S::Closed => IceState::Closed,
            _ => IceState::New,
        }
    }
}

impl From<gst_webrtc::WebRTCPeerConnectionState> for ConnectionState {
    fn from(s: gst_webrtc::WebRTCPeerConnectionState) -> Self {
        use gst_webrtc::WebRTCPeerConnectionState as S;
        match s {
            S::Connecting => ConnectionState::Connecting,
            S::Connected => ConnectionState::Connected,
            S::Disconnected => ConnectionState::Disconnected,
            S::Failed => ConnectionState::Failed,
            S::Closed => ConnectionState::Closed,
            _ => ConnectionState::New,
        }
    }
}

//! The vocabulary of the call state machine: phases, roles, timers, why a
//! call ended, and what the machine asks the actor to do.

use crate::proto::call::{CallId, CallSignal};
use duet_gst::MediaKind;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Outgoing,
    Incoming,
}

/// Shown as its JSON word (`outgoing`), in the console and logs.
impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        serde::Serialize::serialize(self, f)
    }
}

/// Where a live call is. `Idle` is the absence of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Outgoing: media starting, invite on its way.
    Dialing,
    /// The callee's side is ringing.
    Ringing,
    /// Answered; media (ICE, DTLS) connecting.
    Connecting,
    Connected,
}

/// The media role this side plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRole {
    Offerer,
    Answerer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpKind {
    Offer,
    Answer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Unanswered call (both sides).
    Ring,
    /// Answered but media not connected.
    Connect,
    /// The peer's media ended; its hangup did not follow.
    RemoteEnd,
}

/// Why a call ended, from this side's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// This side hung up (or cancelled before an answer).
    HungUp,
    /// The other side hung up.
    RemoteHungUp,
    /// The caller gave up before this side answered.
    Cancelled,
    Declined,
    Busy,
    NotAllowed,
    /// Nobody answered in time.
    Timeout,
    /// The peer vanished: connection lost, process gone.
    PeerLost,
    /// The peer could not be reached with the invite.
    Unreachable,
    /// The peer refused our signalling: over its per-peer rate limit
    /// (too many calls placed to it just now).
    RateLimited,
    /// Media could not be set up or broke.
    MediaFailed(String),
    /// The media's DTLS certificate did not match the SDP fingerprint (or
    /// the SDP had none), on this side or the peer's: a man in the middle?
    MediaUntrusted(String),
}

impl EndReason {
    /// The short word shown to users and in JSON events.
    pub fn code(&self) -> EndCode {
        match self {
            EndReason::HungUp => EndCode::HungUp,
            EndReason::RemoteHungUp => EndCode::RemoteHungUp,
            EndReason::Cancelled => EndCode::Cancelled,
            EndReason::Declined => EndCode::Declined,
            EndReason::Busy => EndCode::Busy,
            EndReason::NotAllowed => EndCode::NotAllowed,
            EndReason::Timeout => EndCode::Timeout,
            EndReason::PeerLost => EndCode::PeerLost,
            EndReason::Unreachable => EndCode::Unreachable,
            EndReason::RateLimited => EndCode::RateLimited,
            EndReason::MediaFailed(_) => EndCode::MediaFailed,
            EndReason::MediaUntrusted(_) => EndCode::MediaUntrusted,
        }
    }

    /// What failed, for the reasons that carry it.
    pub fn detail(&self) -> Option<&str> {
        match self {
            EndReason::MediaFailed(why) | EndReason::MediaUntrusted(why) => Some(why),
            _ => None,
        }
    }
}

/// Why a call ended, as the word in `call_ended` events and failed `call`
/// replies (`reason`); [`EndReason`] without its detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndCode {
    #[serde(rename = "hangup")]
    HungUp,
    #[serde(rename = "remote-hangup")]
    RemoteHungUp,
    Cancelled,
    Declined,
    Busy,
    NotAllowed,
    Timeout,
    PeerLost,
    Unreachable,
    MediaFailed,
    MediaUntrusted,
    RateLimited,
}

impl std::fmt::Display for EndCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        serde::Serialize::serialize(self, f)
    }
}

impl std::str::FromStr for EndCode {
    type Err = serde::de::value::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use serde::de::IntoDeserializer;
        serde::Deserialize::deserialize(s.into_deserializer())
    }
}

/// What one side of a call sends muted (silence, black frames).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mute {
    pub audio: bool,
    pub video: bool,
}

impl Mute {
    pub fn get(&self, kind: MediaKind) -> bool {
        match kind {
            MediaKind::Audio => self.audio,
            MediaKind::Video => self.video,
        }
    }

    pub fn set(&mut self, kind: MediaKind, muted: bool) {
        match kind {
            MediaKind::Audio => self.audio = muted,
            MediaKind::Video => self.video = muted,
        }
    }
}

/// What the user (and `duet events`) is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent<P> {
    Incoming {
        call_id: CallId,
        peer: P,
        peer_name: String,
    },
    Ringing {
        call_id: CallId,
    },
    Connecting {
        call_id: CallId,
    },
    Connected {
        call_id: CallId,
    },
    /// Both sides called each other at once; the outgoing call `old` became
    /// the peer's call `new`, which this side took at once.
    Replaced {
        old: CallId,
        new: CallId,
    },
    Ended {
        call_id: CallId,
        peer: P,
        direction: Direction,
        reason: EndReason,
    },
    /// The peer's mute state changed (its `mute` message).
    RemoteMuted {
        call_id: CallId,
        muted: Mute,
    },
}

/// What the actor must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<P> {
    StartMedia(MediaRole),
    SetRemoteDescription {
        kind: SdpKind,
        sdp: String,
    },
    AddRemoteCandidate {
        mline: u32,
        candidate: String,
    },
    StopMedia,
    Send {
        to: P,
        signal: CallSignal,
    },
    /// Deliver `Timer` for `call_id` after `after`; stale timers are ignored.
    Arm {
        call_id: CallId,
        timer: Timer,
        after: Duration,
    },
    Notify(CallEvent<P>),
    /// Mute (or unmute) what this side sends.
    MuteMedia {
        kind: MediaKind,
        muted: bool,
    },
    /// The peer now sends `Mute` muted: tell the media (it shows it).
    RemoteMuted(Mute),
}

/// A user command that does not fit the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("already in a call")]
    InCall,
    #[error("cannot call yourself")]
    SelfCall,
    #[error("no incoming call to answer")]
    NothingToAnswer,
    #[error("no incoming call to reject")]
    NothingToReject,
    #[error("no call to hang up")]
    NoCall,
    #[error("no call: mute and unmute apply to the current call")]
    NoCallToMute,
}
/// Timeouts the machine arms.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub ring: Duration,
    pub connect: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            ring: Duration::from_secs(30),
            connect: Duration::from_secs(15),
        }
    }
}

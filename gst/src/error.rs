//! The one error type of the media engine.
//!
//! Every failure the node can act on has its own variant, so the call actor
//! can tell "the user has no camera" from "the peer sent garbage" without
//! parsing strings. Errors are `Clone` because they also travel inside
//! [`crate::MediaEvent::Error`].

use crate::kind::MediaKind;

/// What went wrong in a media session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// `gst::init` failed (no GStreamer installation usable).
    #[error("GStreamer could not be initialised: {0}")]
    Init(String),
    /// A required GStreamer element is not installed.
    #[error("GStreamer element `{element}` is missing: install the Debian package {package}")]
    MissingElement {
        element: String,
        /// The Debian package that provides it (or a hint when unknown).
        package: String,
    },
    /// An element exists but could not be created or configured.
    #[error("could not create GStreamer element `{0}`")]
    ElementCreation(String),
    /// The camera (video device) does not exist or cannot be opened.
    #[error("camera {device} is not available: {reason}")]
    CameraUnavailable { device: String, reason: String },
    /// The microphone (audio device) does not exist or cannot be opened.
    #[error("microphone {device} is not available: {reason}")]
    MicrophoneUnavailable { device: String, reason: String },
    /// The speaker (audio output device) does not exist or cannot be opened.
    #[error("speaker {device} is not available: {reason}")]
    SpeakerUnavailable { device: String, reason: String },
    /// A window was asked for but there is no display ($DISPLAY unset).
    #[error(
        "no display: a window needs $DISPLAY (X11) to be set; use the headless display instead"
    )]
    NoDisplay,
    /// No network interface other than loopback: ICE can gather no candidate.
    #[error("no usable network interface for ICE (only loopback?)")]
    NoNetworkInterface,
    /// A remote SDP that does not parse.
    #[error("malformed SDP: {0}")]
    InvalidSdp(String),
    /// A remote SDP that parses but cannot be used with this session.
    #[error("incompatible remote SDP: {0}")]
    IncompatibleSdp(String),
    /// An input that is not valid in the session's current state
    /// (e.g. an offer given to the offerer, an answer before any offer).
    #[error("wrong signalling state: {0}")]
    WrongState(String),
    /// A remote ICE candidate for an m-line the session does not have.
    #[error("ICE candidate for unknown m-line {mline} (the session has {count})")]
    UnknownMline { mline: u32, count: u32 },
    /// A remote ICE candidate that is not a `candidate:` line.
    #[error("malformed ICE candidate: {0}")]
    InvalidCandidate(String),
    /// An ICE server URL that is neither `stun:` nor `turn:`/`turns:`.
    #[error("invalid ICE server URL `{0}` (expected stun:host:port or turn:user:pass@host:port)")]
    InvalidIceServer(String),
    /// A configuration value that cannot be parsed or is out of range.
    #[error("invalid media configuration: {0}")]
    InvalidConfig(String),
    /// Muting a kind of media the session does not send.
    #[error("the session sends no {0:?}")]
    NoSuchMedia(MediaKind),
    /// webrtcbin refused an operation (create-offer, set-*-description, …).
    #[error("webrtcbin: {0}")]
    Negotiation(String),
    /// An error posted on the pipeline's bus.
    #[error("pipeline error in {element}: {message}")]
    Pipeline { element: String, message: String },
    /// A state change of the pipeline failed.
    #[error("pipeline state change failed: {0}")]
    StateChange(String),
    /// The peer's media cannot be tied to its signalled identity: its SDP
    /// has no DTLS fingerprint, or the certificate it showed in the DTLS
    /// handshake does not match that fingerprint (a man in the middle?).
    #[error("media not trusted: {0}")]
    Untrusted(String),
    /// Our own pipeline stopped (stuck out of PLAYING, or our sources went
    /// silent): a local failure, not the peer's.
    #[error("local media pipeline stalled: {0}")]
    Stalled(String),
    /// The session's command queue (of this many commands) is full: the
    /// input was refused rather than block the caller.
    #[error("the media session is overloaded: its queue of {0} commands is full")]
    QueueFull(usize),
    /// The session was already closed.
    #[error("the media session is closed")]
    Closed,
}

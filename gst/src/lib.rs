//! duet-gst: the media half of a Duet call — one webrtcbin pipeline per call.
//!
//! It knows nothing of libp2p, names or calls: SDP and ICE candidates go in,
//! SDP, ICE candidates and events come out. The node's call actor drives one
//! [`MediaSession`] per call and carries the signalling.
//!
//! # Use
//!
//! ```no_run
//! # async fn f() -> Result<(), duet_gst::MediaError> {
//! use duet_gst::{MediaConfig, MediaEvent, MediaSession, Role, SdpKind};
//! duet_gst::init()?;          // once: gst::init + element check
//! duet_gst::warm_up(&MediaConfig::test()); // once: preload plugins (~200 ms otherwise paid by the first call)
//! let (session, mut events) = MediaSession::start(MediaConfig::test(), Role::Offerer)?;
//! while let Some(ev) = events.recv().await {
//!     match ev {
//!         MediaEvent::LocalDescription { kind, sdp } => { /* send to the peer */ }
//!         MediaEvent::LocalCandidate { mline, candidate } => { /* send to the peer */ }
//!         MediaEvent::ConnectionState(s) if s.is_terminal() => break,
//!         MediaEvent::RemoteEnded | MediaEvent::MediaTimeout { .. } => break,
//!         MediaEvent::Error(_) => break,
//!         _ => {}
//!     }
//!     // from the peer: session.set_remote_description(SdpKind::Answer, &sdp)?;
//!     //                session.add_remote_candidate(mline, &candidate)?;
//! }
//! session.close().await;      // NULL state change on a blocking thread; `Ended` follows
//! # Ok(()) }
//! ```
//!
//! - Offerer: creates the offer as soon as the pipeline runs and emits
//!   `LocalDescription { kind: Offer }`. Answerer: waits for
//!   `set_remote_description(Offer, …)`, links its send branches to the
//!   offered m-lines with the offered payload types, emits the answer.
//! - Trickle ICE both ways; candidates for an m-line the session does not
//!   have are refused (`UnknownMline`).
//! - The peer's DTLS certificate must match the `a=fingerprint` of its SDP
//!   (webrtcbin 1.22 does not check it): a remote SDP without one is
//!   refused ([`MediaError::Untrusted`]); a mismatch is
//!   `Error(Untrusted)`. Until the certificate matched, every buffer
//!   crossing webrtcbin's pads is dropped (nothing decoded reaches a sink,
//!   nothing captured is sent), and `ConnectionState(Connected)` is only
//!   emitted once it has.
//! - The session ends when the owner calls [`MediaSession::close`] (or drops
//!   it: teardown then runs on a thread of its own); `Ended` is the last
//!   event. How the owner learns that the *peer* is gone, fastest first:
//!   `RemoteEnded` (the peer's RTCP BYE, which a closing or dropped session
//!   sends once connected — within milliseconds); `ConnectionState(Failed |
//!   Disconnected | Closed)` when webrtcbin notices (1.22 has no ICE consent
//!   freshness and usually does not); and `MediaTimeout`, the backstop for a
//!   peer that vanished without a BYE: remote media flowed, then nothing
//!   arrived for `media_timeout` (5 s).
//! - Threads: each session has one service thread (`duet-media`) that does
//!   every webrtcbin operation, polls the bus, polls `get-stats` every
//!   `stats_interval` and runs the media watchdog. webrtcbin callbacks only
//!   push into channels; no method of [`MediaSession`] waits on GStreamer
//!   except `start` (the state change to PLAYING, a few ms) and
//!   `close_blocking`. Events go through a bounded channel
//!   ([`EVENT_CAPACITY`]); when the owner does not read, events are dropped
//!   with a warning rather than blocking a streaming thread.
//! - Display: [`Display::Window`] composes one call window (module
//!   [`window`]: remote picture, local preview in a corner, name, call time,
//!   cards; keys come back as [`MediaEvent::Key`]) and plays remote audio
//!   on [`MediaConfig::speaker`] (`autoaudiosink` by default; no device:
//!   [`MediaEvent::AudioOutputUnavailable`],
//!   the call goes on); it needs `$DISPLAY` ([`MediaError::NoDisplay`]
//!   otherwise). [`Display::Fullscreen`] is the same window covering the
//!   screen with the cursor hidden (module `x11_window`; the `f` key
//!   toggles any call window). [`Display::Headless`] uses `fakesink sync=true`. Either way
//!   the frames/buffers reaching the sinks (the window's compositor) are
//!   counted in [`MediaStats`]. Every sink is `async=false`: see `health`.
//! - Latency probe ([`MediaConfig::latency_probe`], both peers): the sender
//!   stamps raw frames with CLOCK_MONOTONIC, the receiver records
//!   glass-to-glass samples ([`MediaStats::glass_to_glass`],
//!   [`MediaSession::take_latency_samples`]); valid between processes on
//!   one machine.
//!
//! # Modules (one concern each)
//!
//! - [`config`]: what to send and show; CLI parsing of sources and codec.
//! - [`devices`]: the cameras, microphones and speakers GStreamer's
//!   DeviceMonitor finds, and the start-up check of the chosen ones.
//! - [`audio_device`]: ALSA/PulseAudio device strings, the audio output.
//! - [`elements`]: required elements and the Debian package of each.
//! - [`session`]: the public handle, inputs, teardown.
//! - `service`: the service thread: negotiation steps, bus, stats, watchdog.
//! - `signals`: webrtcbin settings and signal handlers (which only push into
//!   channels).
//! - `send` / `receive`: the sending branches and the remote-stream sinks.
//! - `sdp`: checks on remote SDP, offered payload types.
//! - `dtls_trust`: the peer's DTLS certificate against its SDP fingerprint,
//!   and the gate that holds all media until it matches.
//! - [`stats`]: counters and webrtcbin statistics.
//! - [`probe`]: the glass-to-glass latency probe.
//! - `health`: the watchdog: a silent peer vs a stalled pipeline of ours.
//! - [`window`]: the call window (compositor: remote video, preview, name,
//!   call time, cards; keys); `ringing`: the card while the phone rings.
//! - [`tone`]: ringback and ringtone on the speaker.
//! - [`events`]: the event stream. [`error`]: [`MediaError`].

pub mod audio_device;
pub mod config;
pub mod devices;
mod dtls_trust;
pub mod elements;
pub mod error;
pub mod events;
mod health;
pub mod probe;
mod receive;
mod record;
mod ringing;
mod sdp;
mod send;
mod service;
pub mod session;
mod signals;
pub mod stats;
pub mod tone;
pub mod window;
mod x11_window;

pub use config::{
    AudioSource, Display, MediaConfig, MediaKind, Speaker, VideoCodec, VideoSource,
    DEFAULT_LATENCY_MS,
};
pub use devices::{check_devices, list_devices, DeviceInfo, DeviceKind};
pub use elements::{check_elements, missing_element, package_of, require_element};
pub use error::MediaError;
pub use events::{ConnectionState, IceState, MediaEvent, SdpKind, WindowKey, EVENT_CAPACITY};
pub use probe::LatencySummary;
pub use ringing::RingingWindow;
pub use session::{MediaSession, Role};
pub use stats::{AudioOutput, MediaStats};
pub use tone::{Tone, ToneKind};

use gstreamer as gst;

/// Initialises GStreamer and checks the elements every session needs
/// (webrtcbin, libnice, VP8, Opus). Idempotent and cheap after the first call.
pub fn init() -> Result<(), MediaError> {
    gst::init().map_err(|e| MediaError::Init(e.to_string()))?;
    [
        "webrtcbin",
        "nicesrc",
        "nicesink",
        "vp8enc",
        "vp8dec",
        "opusenc",
        "opusdec",
    ]
    .into_iter()
    .try_for_each(require_element)
}

/// Loads and initialises the plugins a call with `config` uses (the same
/// list [`check_elements`] checks), so the first call does not pay for it
/// (~200 ms here). Blocking: call it once at start, off the async runtime.
pub fn warm_up(config: &MediaConfig) {
    use gst::prelude::*;
    if gst::init().is_err() {
        return;
    }
    for name in elements::elements_for(config) {
        if let Some(f) = gst::ElementFactory::find(name) {
            // Loading the feature loads the plugin; making one initialises it.
            let _ = f.load().ok().and_then(|f| f.create().build().ok());
        }
    }
}

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
//!   have are refused (`UnknownMline`). Nomination is aggressive (module
//!   `ice_nomination`): media starts on the first pair that works.
//! - Our DTLS certificate is this process's ECDSA P-256 one (module
//!   `dtls_cert`, [`dtls_fingerprint`]), not webrtcbin's RSA 2048.
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
//!   `RemoteEnded` (the peer's RTCP BYE for an SSRC its media came from,
//!   which a closing or dropped session sends once connected — within
//!   milliseconds; module `remote_bye`); `ConnectionState(Failed |
//!   Disconnected | Closed)` when webrtcbin notices (1.22 has no ICE consent
//!   freshness and usually does not); and `MediaTimeout`, the backstop for a
//!   peer that vanished without a BYE: remote media flowed, then nothing
//!   arrived for `media_timeout` (5 s).
//! - Threads: each session has one service thread (`duet-media`) that does
//!   every webrtcbin operation, acts on bus messages, polls `get-stats`
//!   every `stats_interval` and runs the media watchdog. It sleeps on its
//!   bounded command queue until the next deadline (stats, watchdog, and a
//!   20 ms DTLS trust poll only while the peer's certificate is undecided);
//!   bus messages reach it through that queue. webrtcbin callbacks queue
//!   commands or events and take short locks on the session's state
//!   (`pad-added` also builds the receive branch); no method of
//!   [`MediaSession`] waits on GStreamer except `start` (the state change
//!   to PLAYING, a few ms) and `close_blocking`; an input the full queue
//!   cannot take is refused ([`MediaError::QueueFull`]). Events go through
//!   a bounded channel ([`EVENT_CAPACITY`]); when the owner does not read,
//!   events are dropped with a warning rather than blocking a streaming
//!   thread.
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
//!   one machine. Headless: due time at the sink; window mode: when the
//!   frame is composed (the window's sink does not wait on the clock).
//!
//! # Modules, in floors (one concern each)
//!
//! Each module imports only modules listed before it: floors below, or
//! earlier in its own floor (no import cycle; `scripts/module-cycles
//! gst/src` checks it and prints the exact order):
//!
//! 1. Values, no GStreamer pipeline: `kind` ([`MediaKind`]), [`probe`]
//!    (the glass-to-glass latency stamps), [`error`] ([`MediaError`]),
//!    [`resolution`] (the sent picture's size and its bitrate),
//!    [`ice_route`] (direct or relayed: the selected ICE candidate pair),
//!    [`stats`] (counters and webrtcbin statistics), `device_name` (audio
//!    device strings), `dtls_trust` (the peer's DTLS certificate against its
//!    SDP fingerprint, and the gate that holds all media until it matches),
//!    [`events`] (the event stream), [`config`] (what to send and show; CLI
//!    parsing), [`elements`] (required elements, the Debian package of
//!    each, `init`, `warm_up`), `sdp` (checks on remote SDP, offered payload
//!    types), [`congestion`] (the video bitrate controller), [`freeze`]
//!    (freezes of the remote picture), `first_packet` (RTP sessions take a
//!    new sender's first packet without probation).
//! 2. Devices and windows: `background` (a small pipeline started and
//!    stopped on a thread of its own), [`audio_device`] (device elements,
//!    the audio output), [`devices`] (DeviceMonitor; the start-up check of the chosen
//!    devices), [`window`] (the call window: remote video, preview, name,
//!    call time, cards; keys), `ringing` (the card while the phone rings),
//!    [`tone`] (ringback and ringtone), `record` (recording the remote
//!    streams).
//! 3. The session's shared state: `command` (the service thread's work,
//!    its bounded queue), `shared` ([`Role`], payload types, the state the
//!    handle, the service thread and callbacks share).
//! 4. Pipeline builders: `raw_tap` (count, mute, stamp raw video), `send`
//!    (the sending branches), `receive` (the remote-stream sinks), `health`
//!    (the watchdog: a silent peer vs a stalled pipeline of ours),
//!    `resilience` (Opus FEC, the bitrate controller's effect, RTCP as a
//!    sign of life),
//!    `teardown`, `bus` (what bus errors mean, forwarding to the queue),
//!    `negotiation` (the webrtcbin steps), `webrtc_wiring` (the pipeline
//!    with webrtcbin, its settings and its GObject signal handlers).
//! 5. `service`: the service thread.
//! 6. [`session`]: the public handle, [`MediaSession`].

pub mod audio_device;
mod background;
mod bus;
mod command;
pub mod config;
pub mod congestion;
mod device_name;
pub mod devices;
mod dtls_cert;
mod dtls_trust;
pub mod elements;
pub mod error;
pub mod events;
pub mod fec;
mod first_packet;
pub mod freeze;
mod health;
mod ice_nomination;
pub mod ice_route;
mod kind;
mod negotiation;
mod playout;
pub mod probe;
mod raw_tap;
mod receive;
mod record;
mod redundancy;
mod remote_bye;
mod remote_senders;
mod repeat_frame;
mod resilience;
pub mod resolution;
mod ringing;
mod sdp;
mod send;
mod service;
pub mod session;
mod shared;
pub mod stats;
mod teardown;
pub mod tone;
mod webrtc_wiring;
pub mod window;
mod x11_window;

pub use config::{
    AudioSource, Display, MediaConfig, MediaKind, Speaker, VideoCodec, VideoSource,
    DEFAULT_LATENCY_MS,
};
pub use devices::{check_devices, list_devices, DeviceInfo, DeviceKind};
pub use dtls_cert::dtls_fingerprint;
pub use elements::{check_elements, init, missing_element, package_of, require_element, warm_up};
pub use error::MediaError;
pub use events::{ConnectionState, IceState, MediaEvent, SdpKind, WindowKey, EVENT_CAPACITY};
pub use fec::VideoFec;
pub use ice_route::Route;
pub use probe::LatencySummary;
pub use resolution::Resolution;
pub use ringing::RingingWindow;
pub use session::{MediaSession, Role};
pub use stats::{AudioOutput, MediaStats};
pub use tone::{Tone, ToneKind};

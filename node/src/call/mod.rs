//! Calls: a pure state machine and the actor that drives it.
//!
//! - [`machine`]: the call state machine (idle → dialing → ringing →
//!   connecting → connected → idle, both directions), pure and unit-tested.
//! - [`handle`]: the actor's interface: config, inputs, commands, notices.
//! - [`actor`]: the task that owns the current call: it feeds the machine
//!   with user commands, signalling from the network, media events and
//!   timers, and carries out the machine's actions (signalling through
//!   [`crate::net::Client`], media through a [`duet_gst::MediaSession`]).
//! - [`recording`]: the file a call is recorded to (`--record DIR`).
//! - [`view`]: how a call looks from outside (`duet status`, events).

pub mod actor;
pub mod handle;
pub mod machine;
pub mod recording;
pub mod view;

pub use actor::spawn;
pub use handle::{CallConfig, CallError, CallHandle, CallInput, CallNotice};
pub use machine::{
    AnswerPolicy, CallerTrust, CommandError, Direction, EndCode, EndReason, Mute, Phase, Timeouts,
};
pub use view::{CallState, CallView};

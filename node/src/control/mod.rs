//! The local control socket: how `duet peers|status|events` and
//! `duet call|answer|reject|hangup` talk to the running node. A Unix socket,
//! owner-only, speaking JSON lines: one request, one reply, per line; a
//! `subscribe` request turns the connection into an event stream. The
//! protocol is documented in docs/control-protocol.md.
//!
//! - [`protocol`]: request, reply and event types (serde).
//! - [`framing`]: JSON lines, the one framing of server and client.
//! - [`lines`]: a line reader with a length cap, so garbage cannot grow memory.
//! - [`server`]: the listener run by `duet up`, stale-socket detection.
//! - [`client`]: used by the client subcommands; prints tables or JSON.
//! - [`call_client`]: `duet call` (waits for the outcome) and the one-shot
//!   call commands.
//! - [`exit_code`]: `duet call`'s exit codes, one per outcome.
//! - [`render`]: human-readable lines for events and calls.

pub mod call_client;
pub mod client;
pub mod exit_code;
pub mod framing;
pub mod lines;
pub mod protocol;
pub mod render;
pub mod server;

//! Duet node: a serverless LAN video-call node.
//!
//! Layout (one concern per module; owners talk over bounded channels, never a
//! shared Mutex):
//!
//! - [`cli`]: the `duet` command line (clap derive).
//! - [`config_file`]: the TOML config file of `duet up` (`[up]` table).
//! - [`paths`]: default data dir, control socket path and display name.
//! - [`identity`]: the node's Ed25519 keypair in the data dir; its PeerId is
//!   the node's ID.
//! - [`proto`]: wire types exchanged between nodes (presence, call
//!   signalling), versioned and size-capped.
//! - [`peers`]: the peer table — who is listed, and why — as pure state
//!   transitions, plus the shortest-unique-suffix display of PeerIds.
//! - [`net`]: the libp2p Swarm, owned by ONE event-loop task; a cloneable
//!   [`net::Client`] sends it commands and it emits [`net::NetEvent`]s.
//!   DNS-SD discovery (mdns-sd) and gossipsub presence live there.
//! - [`control`]: the local control socket (JSON lines): the server run by
//!   `duet up` and the client used by `duet peers|status|events`.
//! - [`call`]: the call state machine (pure) and the call actor that owns
//!   the current call, its signalling and its [`duet_gst::MediaSession`].
//! - [`contacts`]: names pinned to the PeerId first seen with them, and the
//!   `--accept-from` allow-list of auto-answer.
//! - [`contacts_command`]: `duet contacts [add|remove]`, editing the file
//!   without a node (kept out of `contacts`, which the CLI types import).
//! - [`console`]: the interactive terminal of `duet up` (typed commands,
//!   incoming-call prompt), an in-process control client.
//! - [`sd_notify`]: readiness for systemd (`Type=notify`).
//! - [`devices`]: `duet devices`, the cameras, microphones and speakers
//!   GStreamer finds (no node needed).
//! - [`broker`]: `duet broker`, the rendezvous and relay point across
//!   subnets (its own Swarm owner); [`network_key`]: the admission proof it
//!   shares with the node.
//! - [`allocator`]: bounds glibc malloc's arenas at start and hands what
//!   a call freed back to the kernel after it (memory flat over calls).
//! - [`exit`]: ends a stopped node with `_exit`, so that C libraries' exit
//!   handlers never run under a thread still inside them.
//! - [`node`]: wires identity, net, calls and control together and owns the
//!   peer table (the state owner).

pub mod allocator;
pub mod broker;
pub mod call;
pub mod cli;
pub mod config_file;
pub mod console;
pub mod contacts;
pub mod contacts_command;
pub mod control;
pub mod devices;
pub mod exit;
pub mod identity;
pub mod net;
pub mod network_key;
pub mod node;
pub mod paths;
pub mod peers;
pub mod proto;
pub mod sd_notify;

//! Test harness for Duet's end-to-end tests.
//!
//! - [`lan`]: a simulated LAN of network namespaces on a private bridge, made
//!   by `scripts/lan-sim` (one implementation for people and tests) and
//!   removed when the [`lan::Lan`] value drops, also when a test panics.
//! - [`in_host`]: runs the body of an in-process test inside a fresh host of
//!   its own LAN, by re-executing the test binary in that namespace.
//! - [`wait`]: wait on a condition with a deadline instead of sleeping.
//! - [`node`]: a real `duet up` process in a host ([`node::DuetNode`]) and
//!   its client subcommands; [`events`]: its `duet events --json` stream;
//!   [`dnssd`]: an independent DNS-SD browser (python3-zeroconf).
//! - [`fuzz`]: runs a property-based fuzz target (proptest) and prints
//!   how many cases it ran.
//! - [`broker`]: a real `duet broker` process ([`broker::DuetBroker`]),
//!   restartable with the same identity.
//! - [`measure`]: what the benchmark binaries (`src/bin/`) measure alike:
//!   the machine line, CPU and memory of a process from /proc, nearest-rank
//!   percentiles, Markdown table heads.
//! - [`jitter`]: the delays of `net-jitter`, the NFQUEUE helper behind
//!   `lan-sim jitter`.
//! - [`memory`]: what a node holds between calls (RSS, RssAnon, fds,
//!   threads) and one paced call cycle (the 20-call test, `scripts/bench
//!   memory`).
//! - [`browser_pair`]: a duet-gst MediaSession against a bare peer
//!   connection in Chromium, signalled by the test.
//! - [`chromium`]: headless Chromium with a fake camera, driven over the
//!   DevTools protocol (through a pipe), for the browser tests.
//! - [`web_page`]: the broker's web page through its element ids (join,
//!   call, status, remote frames).
//! - [`web`]: a scripted browser signalling client for the broker's
//!   WebSocket, pinned to the broker's certificate fingerprint.
//! - [`xvfb`]: a virtual X server per window-mode node, screenshots, region
//!   statistics, `xdotool`.
//!
//! Every test gets its own namespaces (unique names), so tests run in
//! parallel. They need root, as `scripts/test` and CI are.

pub mod broker;
pub mod browser_pair;
pub mod chromium;
pub mod dnssd;
pub mod events;
pub mod fuzz;
pub mod jitter;
pub mod lan;
pub mod measure;
pub mod memory;
pub mod node;
pub mod wait;
pub mod web;
pub mod web_page;
pub mod xvfb;

pub use lan::{add_host_beside, current_host, in_host, Filter, Host, Lan};
pub use node::{DuetNode, NodeOptions};
pub use wait::wait_until;

/// The workspace's top folder (where `scripts/` lives).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

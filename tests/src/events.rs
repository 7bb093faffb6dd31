//! `duet events --json` read on a thread, with arrival times, so tests can
//! wait for a given event and benchmarks can time it.

use anyhow::bail;
use serde_json::Value;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One event line, with the moment it was read.
#[derive(Debug, Clone)]
pub struct NodeEvent {
    pub at: Instant,
    pub value: Value,
}

impl NodeEvent {
    pub fn kind(&self) -> &str {
        self.value["event"].as_str().unwrap_or("")
    }

    pub fn peer_id(&self) -> &str {
        self.value["peer"]["peer_id"].as_str().unwrap_or("")
    }
}

/// A running `duet events --json`; killed on drop.
pub struct EventStream {
    child: Child,
    rx: mpsc::Receiver<NodeEvent>,
}

impl EventStream {
    pub(crate) fn new(child: Child, rx: mpsc::Receiver<NodeEvent>) -> Self {
        Self { child, rx }
    }

    /// Waits for the first event matching `pred` (earlier ones are consumed).
    pub fn wait_for(
        &self,
        what: &str,
        deadline: Duration,
        mut pred: impl FnMut(&NodeEvent) -> bool,
    ) -> anyhow::Result<NodeEvent> {
        let end = Instant::now() + deadline;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(ev) if pred(&ev) => return Ok(ev),
                Ok(_) => {}
                Err(_) => bail!("timed out after {deadline:?} waiting for event: {what}"),
            }
        }
    }

    /// Waits for `kind` (peer_up, peer_down, …) about `peer_id`.
    pub fn wait_peer(
        &self,
        kind: &str,
        peer_id: &str,
        deadline: Duration,
    ) -> anyhow::Result<NodeEvent> {
        self.wait_for(&format!("{kind} of {peer_id}"), deadline, |e| {
            e.kind() == kind && e.peer_id() == peer_id
        })
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

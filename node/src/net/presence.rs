//! Presence over gossipsub: this node's name and status, published when
//! it changes, when a peer subscribes (so newcomers learn it at once) and
//! on a heartbeat. Peers that miss [`MISSED_HEARTBEATS`] are dropped by the
//! peer table.

use crate::proto::{DisplayName, Presence, PresenceMsg, ProtoError, Status, PRESENCE_TOPIC};
use libp2p::gossipsub::IdentTopic;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const HEARTBEAT: Duration = Duration::from_secs(2);
pub const MISSED_HEARTBEATS: u32 = 3;

/// How long a connected peer may stay silent before it is taken off the list.
pub fn silence_timeout() -> Duration {
    HEARTBEAT * MISSED_HEARTBEATS + HEARTBEAT / 2
}

pub fn topic() -> IdentTopic {
    IdentTopic::new(PRESENCE_TOPIC)
}

/// This node's own presence and the counter its messages carry.
#[derive(Debug)]
pub struct LocalPresence {
    name: DisplayName,
    status: Status,
    seq: u64,
}

impl LocalPresence {
    pub fn new(name: DisplayName) -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self {
            name,
            status: Status::Available,
            seq: start,
        }
    }

    pub fn set_status(&mut self, status: Status) -> bool {
        let changed = self.status != status;
        self.status = status;
        changed
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// The next message to publish.
    pub fn next_message(&mut self) -> Result<Vec<u8>, ProtoError> {
        self.seq += 1;
        PresenceMsg::V1(Presence {
            name: self.name.clone(),
            status: self.status,
            seq: self.seq,
        })
        .encode()
    }
}

/// Decodes a received presence payload; errors are logged by the caller.
pub fn decode(data: &[u8]) -> Result<Presence, ProtoError> {
    PresenceMsg::decode(data).map(PresenceMsg::into_presence)
}

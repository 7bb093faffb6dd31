//! Wire types of `/duet/broker/1`, the request-response protocol between a
//! node and a broker (`duet broker`): registration in a network's
//! namespace, discovery of the others, and admission by network key.
//!
//! Every request carries the node's admission proof (see
//! [`crate::network_key`]) when the node holds a network key, so the broker
//! keeps no per-connection admission state: a request without a valid proof
//! to a broker that has a key is refused, whatever came before it.

use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

/// The protocol name.
pub const BROKER_PROTOCOL: &str = "/duet/broker/1";
/// Most addresses one registration may carry (more are dropped).
pub const MAX_ADDRS: usize = 16;
/// Most peers one discovery answer carries.
pub const MAX_PEERS: usize = 2000;
/// Longest namespace, in bytes.
pub const MAX_NAMESPACE: usize = 64;

/// A node to broker request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BrokerRequest {
    /// Register (or refresh) this node in `namespace` for `ttl_secs`, at `addrs`.
    Register {
        namespace: String,
        addrs: Vec<Multiaddr>,
        ttl_secs: u64,
        proof: Option<Vec<u8>>,
        /// The cursor of the last answer: only what changed since is sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// The other nodes registered in `namespace`.
    Discover {
        namespace: String,
        proof: Option<Vec<u8>>,
        /// The cursor of the last answer: only what changed since is sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    /// Leave `namespace` (on shutdown).
    Unregister {
        namespace: String,
        proof: Option<Vec<u8>>,
    },
}

impl BrokerRequest {
    pub fn namespace(&self) -> &str {
        match self {
            Self::Register { namespace, .. }
            | Self::Discover { namespace, .. }
            | Self::Unregister { namespace, .. } => namespace,
        }
    }

    /// The cursor an incremental request carries.
    pub fn since(&self) -> Option<u64> {
        match self {
            Self::Register { since, .. } | Self::Discover { since, .. } => *since,
            Self::Unregister { .. } => None,
        }
    }

    pub fn proof(&self) -> Option<&[u8]> {
        match self {
            Self::Register { proof, .. }
            | Self::Discover { proof, .. }
            | Self::Unregister { proof, .. } => proof.as_deref(),
        }
    }
}

/// A node as the broker hands it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRecord {
    pub peer: PeerId,
    pub addrs: Vec<Multiaddr>,
}

/// Credentials for the broker's STUN/TURN server, issued with every
/// registration to an admitted node (and only to one). The node reaches the
/// server at the host it reached the broker at, on `port` (UDP), and
/// refreshes them with its registration, long before `expires` (Unix
/// seconds). An addition to version 1: older nodes ignore the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnOffer {
    pub port: u16,
    pub username: String,
    pub password: String,
    pub expires: u64,
}

/// What changed in a namespace since a request's cursor (an addition to
/// version 1: a broker that does not know it sends full lists and no cursor,
/// which reads as `full`). With `full` and `more`, the first page of a
/// full list: the next pages come as changes since its cursor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Delta {
    /// Nodes that left since the cursor (only when not `full`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<PeerId>,
    /// The cursor to send with the next request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    /// `peers` is the whole list, not only what changed.
    #[serde(default = "yes")]
    pub full: bool,
    /// More follows (a long list goes in pages): ask again with `cursor`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
}

fn yes() -> bool {
    true
}

/// A broker's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BrokerResponse {
    /// Registered for `ttl_secs` (the broker clamps the asked TTL); `peers`
    /// are the others in the namespace, so a newcomer needs no second trip.
    /// `proof` is the broker's own admission proof when it has a key;
    /// `turn`, its STUN/TURN server and this node's credentials, if it runs one.
    Registered {
        ttl_secs: u64,
        peers: Vec<PeerRecord>,
        proof: Option<Vec<u8>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnOffer>,
        #[serde(flatten)]
        delta: Delta,
    },
    /// The others in the namespace (or what changed among them).
    Peers {
        peers: Vec<PeerRecord>,
        #[serde(flatten)]
        delta: Delta,
    },
    /// Unregistered.
    Done,
    /// Not admitted (no or wrong network key proof) or a bad request.
    Refused { reason: String },
}

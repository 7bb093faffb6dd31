//! Wire types exchanged between nodes. Every message is a serde-tagged enum
//! with an explicit version, so a newer node can add fields or versions and
//! an older one rejects what it does not know instead of misreading it.
//! Sizes are capped before decoding: bytes from the network are untrusted.
//!
//! Presence (gossipsub topic [`PRESENCE_TOPIC`]) is here; call signalling
//! (invite/ringing/accept/reject/ice/hangup over the `/duet/call/1`
//! request-response protocol) is in [`call`].

pub mod broker;
pub mod call;
pub mod text;
pub mod web_call;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The protocol version advertised in DNS-SD TXT (`proto`) and identify.
pub const PROTO_VERSION: &str = "1";
/// libp2p identify protocol version string.
pub const IDENTIFY_PROTOCOL: &str = "/duet/1";
/// Gossipsub topic carrying [`PresenceMsg`].
pub const PRESENCE_TOPIC: &str = "duet/presence/1";
/// Largest presence message accepted (also gossipsub's max_transmit_size).
pub const MAX_PRESENCE_BYTES: usize = 1024;
/// Longest display name, in bytes (fits a DNS-SD instance label with a suffix).
pub const MAX_NAME_BYTES: usize = 48;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtoError {
    #[error("message of {0} bytes exceeds the {1}-byte cap")]
    TooLarge(usize, usize),
    #[error("undecodable message: {0}")]
    Decode(String),
    #[error("invalid name: {0}")]
    Name(&'static str),
}

/// A display name: a label chosen by the user, not an identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn new(name: impl Into<String>) -> Result<Self, ProtoError> {
        let name = name.into().trim().to_string();
        if name.is_empty() {
            return Err(ProtoError::Name("empty"));
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(ProtoError::Name("longer than 48 bytes"));
        }
        if text::first_unsafe(&name).is_some() {
            return Err(ProtoError::Name(
                "contains control, bidi-override or invisible characters",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = ProtoError;
    fn try_from(s: String) -> Result<Self, ProtoError> {
        Self::new(s)
    }
}

impl From<DisplayName> for String {
    fn from(n: DisplayName) -> String {
        n.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a node tells others about its availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    #[default]
    Available,
    InCall,
    Dnd,
    /// Sent once on shutdown: the node is leaving.
    Offline,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Available => "available",
            Status::InCall => "in-call",
            Status::Dnd => "dnd",
            Status::Offline => "offline",
        })
    }
}

/// One presence announcement. `seq` grows with every message of one run and
/// starts from the wall clock, so a restarted node's messages are newer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub name: DisplayName,
    pub status: Status,
    pub seq: u64,
}

/// The versioned envelope of [`Presence`] on the wire (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum PresenceMsg {
    #[serde(rename = "1")]
    V1(Presence),
}

impl PresenceMsg {
    pub fn encode(&self) -> Result<Vec<u8>, ProtoError> {
        let bytes = serde_json::to_vec(self).map_err(|e| ProtoError::Decode(e.to_string()))?;
        if bytes.len() > MAX_PRESENCE_BYTES {
            return Err(ProtoError::TooLarge(bytes.len(), MAX_PRESENCE_BYTES));
        }
        Ok(bytes)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ProtoError> {
        if bytes.len() > MAX_PRESENCE_BYTES {
            return Err(ProtoError::TooLarge(bytes.len(), MAX_PRESENCE_BYTES));
        }
        serde_json::from_slice(bytes).map_err(|e| ProtoError::Decode(e.to_string()))
    }

    pub fn into_presence(self) -> Presence {
        match self {
            PresenceMsg::V1(p) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn sample() -> PresenceMsg {
        PresenceMsg::V1(Presence {
            name: DisplayName::new("bob").unwrap(),
            status: Status::InCall,
            seq: 7,
        })
    }

    #[test]
    fn presence_roundtrip_and_shape() {
        let bytes = sample().encode().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["v"], "1");
        assert_eq!(json["status"], "in-call");
        assert_eq!(PresenceMsg::decode(&bytes).unwrap(), sample());
    }

    #[test]
    fn garbage_and_unknown_versions_are_errors() {
        assert!(matches!(
            PresenceMsg::decode(b"\xff\x00garbage"),
            Err(ProtoError::Decode(_))
        ));
        let v2 = br#"{"v":"2","name":"bob","status":"available","seq":1}"#;
        assert!(matches!(
            PresenceMsg::decode(v2),
            Err(ProtoError::Decode(_))
        ));
        let bad_status = br#"{"v":"1","name":"bob","status":"sleepy","seq":1}"#;
        assert!(PresenceMsg::decode(bad_status).is_err());
        let empty_name = br#"{"v":"1","name":"  ","status":"available","seq":1}"#;
        assert!(PresenceMsg::decode(empty_name).is_err());
    }

    #[test]
    fn oversized_is_rejected_before_decoding() {
        let big = vec![b' '; MAX_PRESENCE_BYTES + 1];
        assert_eq!(
            PresenceMsg::decode(&big),
            Err(ProtoError::TooLarge(
                MAX_PRESENCE_BYTES + 1,
                MAX_PRESENCE_BYTES
            ))
        );
    }

    #[test]
    fn names_are_validated() {
        assert!(DisplayName::new("").is_err());
        assert!(DisplayName::new("a\nb").is_err());
        assert!(DisplayName::new("a\u{1b}[31mb").is_err());
        assert!(DisplayName::new("ali\u{202E}ecb").is_err());
        assert!(DisplayName::new("bo\u{200B}b").is_err());
        assert!(DisplayName::new("x".repeat(49)).is_err());
        assert_eq!(DisplayName::new("  Zoë ").unwrap().as_str(), "Zoë");
    }
}

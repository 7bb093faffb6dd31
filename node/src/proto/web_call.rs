//! `/duet/web-call/1`: how a broker bridges browsers (docs/web-protocol.md)
//! to nodes. The broker is a proxy peer: it tells each node which web users
//! it has, carries `/duet/call/1` messages between a node and a web user
//! (named by the broker-given id, `web:alice`), and learns each node's name
//! and status from the node's `hello`. The node trusts what the broker says
//! about its web users as far as it trusts the broker: the broker was
//! authenticated by Noise and, with a network key, proved it holds the key.

use super::call::{decode_signal, encode_signal, CallSignal, SignalError};
use super::{DisplayName, Status};
use serde::{Deserialize, Serialize};

pub const WEB_CALL_PROTOCOL: &str = "/duet/web-call/1";
/// Largest request (a call message of 64 KiB, or a list of web users).
pub const MAX_WEB_CALL_BYTES: u64 = 128 * 1024;
/// Longest web user id (`web:` and a display name with a suffix).
pub const MAX_WEB_ID_BYTES: usize = 96;
/// Most web users one broker lists to a node.
pub const MAX_WEB_USERS: usize = 256;

/// A web user as the broker lists it to nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebUser {
    pub id: String,
    pub name: DisplayName,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum WebCallRequest {
    /// Node → broker, every presence heartbeat: what browsers show for it.
    Hello { name: DisplayName, status: Status },
    /// Broker → node: the full list of web users (on change and on hello).
    Users { users: Vec<WebUser> },
    /// Either way: one `/duet/call/1` message between the node and the web
    /// user `web_id` (`web_name` is set by the broker, empty from a node).
    Call {
        web_id: String,
        #[serde(default)]
        web_name: String,
        signal: CallSignal,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ack", rename_all = "kebab-case")]
pub enum WebCallAck {
    Ok,
    Refused { error: String },
}

/// A web user id the protocol accepts.
pub fn valid_web_id(id: &str) -> bool {
    id.starts_with("web:")
        && id.len() <= MAX_WEB_ID_BYTES
        && super::text::first_unsafe(id).is_none()
}

impl WebCallRequest {
    /// Checks what serde cannot: sizes, ids, and a call message exactly as
    /// `/duet/call/1` checks it (labels escaped on the way).
    pub fn validated(self) -> Result<WebCallRequest, SignalError> {
        match self {
            WebCallRequest::Users { users } => {
                if users.len() > MAX_WEB_USERS || users.iter().any(|u| !valid_web_id(&u.id)) {
                    return Err(SignalError::Invalid("bad web user list"));
                }
                Ok(WebCallRequest::Users { users })
            }
            WebCallRequest::Call {
                web_id,
                web_name,
                signal,
            } => {
                if !valid_web_id(&web_id) || web_name.len() > MAX_WEB_ID_BYTES {
                    return Err(SignalError::Invalid("bad web user id"));
                }
                let signal = decode_signal(&encode_signal(&signal)?)?;
                Ok(WebCallRequest::Call {
                    web_id,
                    web_name: super::text::escape(&web_name),
                    signal,
                })
            }
            hello => Ok(hello),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn calls_are_checked_as_on_duet_call_1() {
        let call = |id: &str, sdp: &str| WebCallRequest::Call {
            web_id: id.into(),
            web_name: "alice".into(),
            signal: CallSignal::Invite {
                call_id: "c1".into(),
                caller_name: "a\u{1b}[2J".into(),
                sdp: sdp.into(),
            },
        };
        let ok = call("web:alice", "v=0\r\n").validated().unwrap();
        let WebCallRequest::Call {
            signal: CallSignal::Invite { caller_name, .. },
            ..
        } = ok
        else {
            panic!("{ok:?}");
        };
        assert_eq!(caller_name, "a\\u{1B}[2J");
        assert!(call("web:alice", "nope").validated().is_err());
        assert!(call("12D3KooW", "v=0\r\n").validated().is_err());
        assert!(call(&format!("web:{}", "a".repeat(100)), "v=0")
            .validated()
            .is_err());
    }
}

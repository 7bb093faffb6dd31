//! The JSON frames of the browser protocol (docs/web-protocol.md). Call
//! messages are `/duet/call/1` messages with an address: decoding strips
//! `to` and hands the rest to [`decode_signal`], so a browser's messages
//! are validated (sizes, call ids, SDP shape, label escaping) exactly as a
//! node's are; encoding adds `from`/`from_name` to the same shapes.

use crate::proto::call::{decode_signal, CallSignal, SignalError, CALL_VERSION, MAX_SIGNAL_BYTES};
use crate::proto::{DisplayName, Status};
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Largest frame taken from a browser (as a node's signalling message).
pub const MAX_FRAME_BYTES: usize = MAX_SIGNAL_BYTES;
/// Longest peer id a browser may address (a PeerId is ~52 bytes; a web id
/// is `web:` and a display name with a suffix).
const MAX_PEER_ID_BYTES: usize = 96;

/// One validated message from a browser.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMsg {
    Join {
        name: DisplayName,
    },
    Presence {
        status: Status,
    },
    /// A call message for `to`; an invite's `caller_name` is empty (the
    /// broker fills in the sender's name).
    Call {
        to: String,
        signal: CallSignal,
    },
}

/// Why a frame was refused; `code` is the protocol's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FrameError {
    pub code: &'static str,
    pub message: String,
    pub call_id: Option<String>,
}

impl FrameError {
    pub fn bad(message: impl Into<String>) -> Self {
        FrameError {
            code: "bad-message",
            message: message.into(),
            call_id: None,
        }
    }

    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        FrameError {
            code,
            message: message.into(),
            call_id: None,
        }
    }

    pub fn with_call(mut self, call_id: Option<String>) -> Self {
        self.call_id = call_id;
        self
    }
}

/// Decodes and validates one text frame.
pub fn decode(text: &str) -> Result<ClientMsg, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(FrameError::bad(format!(
            "frame of {} bytes exceeds the {MAX_FRAME_BYTES}-byte cap",
            text.len()
        )));
    }
    let mut obj: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(FrameError::bad("a frame must be a JSON object")),
        Err(e) => return Err(FrameError::bad(format!("not JSON: {e}"))),
    };
    match obj.get("v").and_then(Value::as_u64) {
        Some(v) if v == u64::from(CALL_VERSION) => {}
        Some(v) => {
            return Err(FrameError::bad(format!(
                "unsupported version {v} (this broker speaks {CALL_VERSION})"
            )))
        }
        None => return Err(FrameError::bad("missing version \"v\"")),
    }
    let kind = match obj.get("type").and_then(Value::as_str) {
        Some(t) => t.to_string(),
        None => return Err(FrameError::bad("missing \"type\"")),
    };
    let call_id = obj.get("call_id").and_then(Value::as_str).map(String::from);
    match kind.as_str() {
        "join" => {
            let name = obj.get("name").and_then(Value::as_str).unwrap_or_default();
            DisplayName::new(name)
                .map(|name| ClientMsg::Join { name })
                .map_err(|e| FrameError::bad(e.to_string()))
        }
        "presence" => match obj.get("status").and_then(Value::as_str) {
            Some("available") => Ok(ClientMsg::Presence {
                status: Status::Available,
            }),
            Some("in-call") => Ok(ClientMsg::Presence {
                status: Status::InCall,
            }),
            Some("dnd") => Ok(ClientMsg::Presence {
                status: Status::Dnd,
            }),
            _ => Err(FrameError::bad("status must be available, in-call or dnd")),
        },
        "invite" | "ringing" | "accept" | "reject" | "ice" | "mute" | "hangup" => {
            let to = match obj.remove("to") {
                Some(Value::String(to)) if !to.is_empty() && to.len() <= MAX_PEER_ID_BYTES => to,
                _ => {
                    return Err(FrameError::bad("a call message needs \"to\": a peer id")
                        .with_call(call_id))
                }
            };
            if kind == "invite" {
                obj.insert("caller_name".into(), Value::String(String::new()));
            }
            let bytes = serde_json::to_vec(&obj).map_err(|e| FrameError::bad(e.to_string()))?;
            let signal = decode_signal(&bytes).map_err(|e| {
                let msg = match e {
                    SignalError::Malformed(m) => format!("malformed {kind}: {m}"),
                    other => other.to_string(),
                };
                FrameError::bad(msg).with_call(call_id)
            })?;
            Ok(ClientMsg::Call { to, signal })
        }
        other => Err(FrameError::bad(format!(
            "unknown type {:?}",
            other.chars().take(32).collect::<String>()
        ))),
    }
}

/// A peer as the `peers` message lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerEntry {
    pub id: String,
    pub name: String,
    pub kind: PeerKind,
    pub status: Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerKind {
    Node,
    Web,
}

/// One `RTCIceServer` for the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

pub fn joined(id: &str, name: &str, ice_servers: &[IceServer]) -> String {
    json!({"v": 1, "type": "joined", "id": id, "name": name, "ice_servers": ice_servers})
        .to_string()
}

pub fn peers(list: &[PeerEntry]) -> String {
    json!({"v": 1, "type": "peers", "peers": list}).to_string()
}

pub fn error(e: &FrameError) -> String {
    let mut v = json!({"v": 1, "type": "error", "code": e.code, "message": e.message});
    if let (Some(id), Value::Object(o)) = (&e.call_id, &mut v) {
        o.insert("call_id".into(), Value::String(id.clone()));
    }
    v.to_string()
}

pub fn peer_gone(from: &str, call_id: &str) -> String {
    json!({"v": 1, "type": "peer-gone", "from": from, "call_id": call_id}).to_string()
}

/// A call message as the receiving browser gets it.
pub fn call(from: &str, from_name: &str, signal: &CallSignal) -> String {
    let mut v = serde_json::to_value(signal).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.remove("caller_name");
        o.insert("v".into(), json!(CALL_VERSION));
        o.insert("from".into(), json!(from));
        o.insert("from_name".into(), json!(from_name));
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::proto::call::HangupReason;

    fn code(text: &str) -> String {
        decode(text).unwrap_err().message
    }

    #[test]
    fn refuses_what_a_node_would() {
        assert!(code("garbage").starts_with("not JSON"));
        assert!(code("[1]").contains("object"));
        assert!(code(r#"{"type":"join","name":"a"}"#).contains("version"));
        assert!(code(r#"{"v":2,"type":"join","name":"a"}"#).contains("version 2"));
        assert!(code(r#"{"v":1,"type":"bogus"}"#).contains("unknown type"));
        assert!(code(r#"{"v":1,"type":"join","name":"a\u202eb"}"#).contains("bidi"));
        assert!(code(r#"{"v":1,"type":"join","name":""}"#).contains("empty"));
        assert!(code(r#"{"v":1,"type":"ringing","call_id":"x"}"#).contains("\"to\""));
        let bad_id = r#"{"v":1,"type":"ringing","to":"web:b","call_id":"a b"}"#;
        assert_eq!(decode(bad_id).unwrap_err().call_id.as_deref(), Some("a b"));
        let no_sdp = r#"{"v":1,"type":"invite","to":"web:b","call_id":"c1","sdp":"hello"}"#;
        assert!(code(no_sdp).contains("not an SDP"));
        let big = format!(r#"{{"v":1,"type":"join","name":"{}"}}"#, "a".repeat(70_000));
        assert!(code(&big).contains("cap"));
    }

    #[test]
    fn call_messages_round_trip_with_an_address() {
        let text = r#"{"v":1,"type":"invite","to":"web:bob","call_id":"c1","sdp":"v=0\r\n"}"#;
        let ClientMsg::Call { to, signal } = decode(text).unwrap() else {
            panic!("not a call");
        };
        assert_eq!(to, "web:bob");
        let out: Value = serde_json::from_str(&call("web:alice", "alice", &signal)).unwrap();
        assert_eq!(
            out,
            json!({"v":1,"type":"invite","from":"web:alice","from_name":"alice",
                   "call_id":"c1","sdp":"v=0\r\n"})
        );
        let hangup = r#"{"v":1,"type":"hangup","to":"n","call_id":"c1","reason":"normal"}"#;
        assert_eq!(
            decode(hangup).unwrap(),
            ClientMsg::Call {
                to: "n".into(),
                signal: CallSignal::Hangup {
                    call_id: "c1".into(),
                    reason: HangupReason::Normal,
                    detail: None
                }
            }
        );
        assert_eq!(
            decode(r#"{"v":1,"type":"presence","status":"dnd"}"#).unwrap(),
            ClientMsg::Presence {
                status: Status::Dnd
            }
        );
    }
}

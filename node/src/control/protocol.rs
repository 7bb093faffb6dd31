//! Control-socket messages. Requests are tagged by `cmd`, replies always
//! carry `ok` (and `error` when false), events are tagged by `event`.

use crate::call::{CallView, EndCode};
use crate::peers::PeerView;
use crate::proto::Status;
use duet_gst::MediaKind;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// Longest request line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// {"cmd":"peers"} -> {"ok":true,"peers":[PeerView...]}
    Peers,
    /// {"cmd":"status"} -> {"ok":true,"node":NodeView}
    Status,
    /// {"cmd":"set_status","status":"dnd"} -> {"ok":true}
    SetStatus { status: Status },
    /// {"cmd":"subscribe"} -> {"ok":true,"subscribed":true}, then Event lines
    Subscribe,
    /// {"cmd":"call","target":"bob"} -> once connected {"ok":true,"call":CallView},
    /// or once failed {"ok":false,"error":"…","reason":"declined"}
    Call { target: String },
    /// {"cmd":"answer"} -> {"ok":true} (the incoming call is being connected)
    Answer,
    /// {"cmd":"reject"} -> {"ok":true}
    Reject,
    /// {"cmd":"hangup"} -> {"ok":true}
    Hangup,
    /// {"cmd":"mute","kind":"audio"|"video"} -> {"ok":true}; the peer is told
    Mute { kind: MediaKind },
    /// {"cmd":"unmute","kind":"audio"|"video"} -> {"ok":true}
    Unmute { kind: MediaKind },
}

/// The local node, as `duet status --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeView {
    pub name: String,
    pub peer_id: String,
    pub listen_addrs: Vec<String>,
    pub status: Status,
    /// The current call, or null.
    pub call: Option<CallView>,
    /// The brokers given with `--broker`, with their states.
    #[serde(default)]
    pub brokers: Vec<crate::net::broker_client::BrokerView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<Vec<PeerView>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallView>,
    /// Why a call failed: `declined`, `busy`, `timeout`, … (see `call_ended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Reply {
    pub fn ok() -> Self {
        Self {
            ok: true,
            ..Self::default()
        }
    }

    pub fn error(msg: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(msg.into()),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    PeerUp {
        peer: PeerView,
    },
    PeerDown {
        peer: PeerView,
    },
    PeerChanged {
        peer: PeerView,
    },
    /// This node is calling someone.
    Dialing {
        call: CallView,
    },
    /// Someone is calling this node: `duet answer` or `duet reject`.
    IncomingCall {
        call: CallView,
    },
    /// The callee's side rings.
    Ringing {
        call: CallView,
    },
    /// Media flows both ways.
    Connected {
        call: CallView,
    },
    /// Both sides called each other at once; the call `old` became `new`.
    CallReplaced {
        old: String,
        new: String,
    },
    /// The call ended; `reason` is `hangup`, `remote-hangup`, `declined`,
    /// `busy`, `timeout`, `cancelled`, `not-allowed`, `peer-lost`,
    /// `unreachable`, `media-failed` or `media-untrusted` (then `detail`
    /// says why).
    CallEnded {
        call: CallView,
        reason: EndCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// The peer muted or unmuted its audio or video (`call.remote_muted`).
    RemoteMuted {
        call: CallView,
    },
    /// The call goes on, but something is wrong: `warning` is
    /// `audio-output-unavailable` (remote audio cannot be played).
    Warning {
        call_id: String,
        warning: String,
        detail: String,
    },
    /// The subscriber fell behind and `missed` events were dropped.
    Lagged {
        missed: u64,
    },
    /// Printed first by `duet events --json` once its stream is live (the
    /// server acknowledges `subscribe` with a reply instead).
    Subscribed,
}

/// A request the server hands to the node, with the way back.
#[derive(Debug)]
pub struct ControlCall {
    pub request: Request,
    pub reply: oneshot::Sender<Reply>,
}

/// Parses one request line; the error is the message sent back.
pub fn parse_request(line: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(line).map_err(|_| "request is not UTF-8".to_string())?;
    serde_json::from_str(text.trim()).map_err(|e| format!("bad request: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(parse_request(br#"{"cmd":"peers"}"#), Ok(Request::Peers));
        assert_eq!(
            parse_request(b" {\"cmd\":\"status\"}\r"),
            Ok(Request::Status)
        );
        assert_eq!(
            parse_request(br#"{"cmd":"set_status","status":"dnd"}"#),
            Ok(Request::SetStatus {
                status: Status::Dnd
            })
        );
        assert_eq!(
            parse_request(br#"{"cmd":"subscribe"}"#),
            Ok(Request::Subscribe)
        );
        assert_eq!(
            parse_request(br#"{"cmd":"mute","kind":"video"}"#),
            Ok(Request::Mute {
                kind: MediaKind::Video
            })
        );
        assert_eq!(
            parse_request(br#"{"cmd":"unmute","kind":"audio"}"#),
            Ok(Request::Unmute {
                kind: MediaKind::Audio
            })
        );
    }

    #[test]
    fn garbage_is_an_error_message() {
        for bad in [
            &b"hello"[..],
            b"\xff\xfe",
            b"{}",
            br#"{"cmd":"fly"}"#,
            br#"{"cmd":"mute"}"#,
            br#"{"cmd":"mute","kind":"smell"}"#,
            b"[1,2]",
            b"",
        ] {
            assert!(parse_request(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reply_and_event_shapes() {
        let r = serde_json::to_value(Reply::error("nope")).unwrap();
        assert_eq!(r, serde_json::json!({"ok": false, "error": "nope"}));
        let v = NodeView {
            name: "a".into(),
            peer_id: "p".into(),
            listen_addrs: vec![],
            status: Status::Available,
            call: None,
            brokers: vec![],
        };
        let j = serde_json::to_value(&v).unwrap();
        assert!(j["call"].is_null() && j.as_object().unwrap().contains_key("call"));
        let e = Event::Lagged { missed: 3 };
        assert_eq!(serde_json::to_value(e).unwrap()["event"], "lagged");
    }
}

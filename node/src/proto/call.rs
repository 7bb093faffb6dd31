//! Call signalling messages, carried by libp2p request-response on
//! `/duet/call/1`. The sender's identity is the PeerId that Noise
//! authenticated for the connection, never anything inside a message: a
//! `caller_name` is only a label to show.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The request-response protocol name for call signalling.
pub const CALL_PROTOCOL: &str = "/duet/call/1";
/// Version carried in every message; a peer rejects other versions.
pub const CALL_VERSION: u16 = 1;
/// Largest encoded message accepted (an SDP offer is a few KiB).
pub const MAX_SIGNAL_BYTES: usize = 64 * 1024;
const MAX_SDP_BYTES: usize = 48 * 1024;
const MAX_CANDIDATE_BYTES: usize = 1024;
const MAX_DETAIL_BYTES: usize = 512;
const MAX_CALLER_NAME_BYTES: usize = 128;
const MAX_CALL_ID_BYTES: usize = 64;
/// Most media sections (`m=` lines) a remote SDP may have; a call has two.
pub const MAX_MEDIA_SECTIONS: usize = 4;

/// Identifies one call on both sides; chosen by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CallId(String);

impl CallId {
    /// A fresh random call id (128 bits, hex).
    pub fn random() -> CallId {
        CallId(format!("{:032x}", rand::random::<u128>()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for CallId {
    fn from(s: &str) -> Self {
        CallId(s.to_string())
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a callee did not take a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    Declined,
    Busy,
    NotAllowed,
    Timeout,
    /// Both sides called each other at once and the receiver's call goes on
    /// (the one placed by the smaller PeerId): wait for its invite.
    Crossed,
}

/// Why a side ended a call that was set up (or being set up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HangupReason {
    /// The user hung up an established call.
    Normal,
    /// The caller gave up before the call was answered.
    Cancelled,
    /// The caller's ring timeout expired.
    Timeout,
    /// Media could not be set up or failed.
    Error,
    /// The peer's media could not be tied to its signalled identity: the
    /// DTLS certificate did not match the SDP fingerprint, or there was none.
    MediaUntrusted,
}

/// One signalling message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum CallSignal {
    Invite {
        call_id: CallId,
        caller_name: String,
        sdp: String,
    },
    Ringing {
        call_id: CallId,
    },
    Accept {
        call_id: CallId,
        sdp: String,
    },
    Reject {
        call_id: CallId,
        reason: RejectReason,
    },
    Ice {
        call_id: CallId,
        mline: u32,
        candidate: String,
    },
    Hangup {
        call_id: CallId,
        reason: HangupReason,
        /// With `error`: what failed, for the other side to show.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// Either way: what the sender sends muted now (its whole state).
    Mute {
        call_id: CallId,
        audio: bool,
        video: bool,
    },
}

impl CallSignal {
    pub fn call_id(&self) -> &CallId {
        match self {
            CallSignal::Invite { call_id, .. }
            | CallSignal::Ringing { call_id }
            | CallSignal::Accept { call_id, .. }
            | CallSignal::Reject { call_id, .. }
            | CallSignal::Ice { call_id, .. }
            | CallSignal::Hangup { call_id, .. }
            | CallSignal::Mute { call_id, .. } => call_id,
        }
    }

    /// Checks field sizes and shapes that serde cannot.
    pub fn validate(&self) -> Result<(), SignalError> {
        let id = self.call_id().as_str();
        if id.is_empty() || id.len() > MAX_CALL_ID_BYTES {
            return Err(SignalError::Invalid("call id length"));
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SignalError::Invalid("call id characters"));
        }
        match self {
            CallSignal::Invite {
                caller_name, sdp, ..
            } => {
                if caller_name.len() > MAX_CALLER_NAME_BYTES {
                    return Err(SignalError::Invalid("caller name too long"));
                }
                check_sdp(sdp)
            }
            CallSignal::Accept { sdp, .. } => check_sdp(sdp),
            CallSignal::Hangup {
                detail: Some(d), ..
            } if d.len() > MAX_DETAIL_BYTES => Err(SignalError::Invalid("hangup detail too long")),
            CallSignal::Ice { candidate, .. } if candidate.len() > MAX_CANDIDATE_BYTES => {
                Err(SignalError::Invalid("ICE candidate too long"))
            }
            CallSignal::Ice { mline, .. } if *mline as usize >= MAX_MEDIA_SECTIONS => Err(
                SignalError::Invalid("ICE candidate for a media section that cannot exist"),
            ),
            _ => Ok(()),
        }
    }
}

fn check_sdp(sdp: &str) -> Result<(), SignalError> {
    if sdp.len() > MAX_SDP_BYTES {
        Err(SignalError::Invalid("SDP too long"))
    } else if !sdp.starts_with("v=0") {
        Err(SignalError::Invalid("not an SDP"))
    } else if sdp.lines().filter(|l| l.starts_with("m=")).count() > MAX_MEDIA_SECTIONS {
        Err(SignalError::Invalid("too many media sections in the SDP"))
    } else {
        Ok(())
    }
}

/// The envelope on the wire: a version and one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalEnvelope {
    pub v: u16,
    #[serde(flatten)]
    pub signal: CallSignal,
}

/// The reply to every signalling request: delivery, not consent (a callee
/// declines with a `Reject` message of its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ack", rename_all = "kebab-case")]
pub enum SignalAck {
    Ok,
    Refused { error: String },
}

/// A message that cannot be taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignalError {
    #[error("message of {0} bytes exceeds the {MAX_SIGNAL_BYTES}-byte cap")]
    TooLarge(usize),
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("unsupported signalling version {0} (this node speaks {CALL_VERSION})")]
    Version(u16),
    #[error("invalid message: {0}")]
    Invalid(&'static str),
}

/// Encodes a message for the wire.
pub fn encode_signal(signal: &CallSignal) -> Result<Vec<u8>, SignalError> {
    let env = SignalEnvelope {
        v: CALL_VERSION,
        signal: signal.clone(),
    };
    let bytes = serde_json::to_vec(&env).map_err(|e| SignalError::Malformed(e.to_string()))?;
    if bytes.len() > MAX_SIGNAL_BYTES {
        return Err(SignalError::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

/// Decodes and validates a message from the wire.
pub fn decode_signal(bytes: &[u8]) -> Result<CallSignal, SignalError> {
    if bytes.len() > MAX_SIGNAL_BYTES {
        return Err(SignalError::TooLarge(bytes.len()));
    }
    #[derive(Deserialize)]
    struct Version {
        v: u16,
    }
    let version: Version =
        serde_json::from_slice(bytes).map_err(|e| SignalError::Malformed(e.to_string()))?;
    if version.v != CALL_VERSION {
        return Err(SignalError::Version(version.v));
    }
    let env: SignalEnvelope =
        serde_json::from_slice(bytes).map_err(|e| SignalError::Malformed(e.to_string()))?;
    env.signal.validate()?;
    Ok(env.signal.escaped())
}

impl CallSignal {
    /// The free-form labels a person will read (`caller_name`, `detail`)
    /// with control, bidi-override and invisible characters escaped
    /// (see [`super::text`]).
    fn escaped(self) -> CallSignal {
        use super::text::escape;
        match self {
            CallSignal::Invite {
                call_id,
                caller_name,
                sdp,
            } => CallSignal::Invite {
                call_id,
                caller_name: escape(&caller_name),
                sdp,
            },
            CallSignal::Hangup {
                call_id,
                reason,
                detail,
            } => CallSignal::Hangup {
                call_id,
                reason,
                detail: detail.map(|d| escape(&d)),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod mute_tests;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn round_trip_and_wire_shape() {
        let s = CallSignal::Invite {
            call_id: "ab12".into(),
            caller_name: "alice".into(),
            sdp: "v=0\r\n".into(),
        };
        let bytes = encode_signal(&s).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(r#""v":1"#) && text.contains(r#""type":"invite""#),
            "{text}"
        );
        assert_eq!(decode_signal(&bytes).unwrap(), s);
        let r = CallSignal::Reject {
            call_id: "ab12".into(),
            reason: RejectReason::NotAllowed,
        };
        assert!(String::from_utf8(encode_signal(&r).unwrap())
            .unwrap()
            .contains("not-allowed"));
    }

    #[test]
    fn bad_input_is_rejected_not_panicked() {
        assert!(matches!(
            decode_signal(b"\xff\x00garbage"),
            Err(SignalError::Malformed(_))
        ));
        assert!(matches!(
            decode_signal(br#"{"v":1,"type":"launch-missiles","call_id":"a"}"#),
            Err(SignalError::Malformed(_))
        ));
        assert!(matches!(
            decode_signal(br#"{"v":2,"type":"ringing","call_id":"a"}"#),
            Err(SignalError::Version(2))
        ));
        assert!(matches!(
            decode_signal(br#"{"v":1,"type":"ringing","call_id":""}"#),
            Err(SignalError::Invalid(_))
        ));
        assert!(matches!(
            decode_signal(br#"{"v":1,"type":"accept","call_id":"a","sdp":"hello"}"#),
            Err(SignalError::Invalid(_))
        ));
        let huge = vec![b' '; MAX_SIGNAL_BYTES + 1];
        assert!(matches!(
            decode_signal(&huge),
            Err(SignalError::TooLarge(_))
        ));
        let long = CallSignal::Ice {
            call_id: "a".into(),
            mline: 0,
            candidate: "c".repeat(5000),
        };
        assert!(decode_signal(&encode_signal(&long).unwrap()).is_err());
        assert!(matches!(
            decode_signal(br#"{"v":1,"type":"ringing","call_id":"a\u001b[2J"}"#),
            Err(SignalError::Invalid(_))
        ));
        let far = br#"{"v":1,"type":"ice","call_id":"a","mline":4,"candidate":"c"}"#;
        assert!(decode_signal(far).is_err());
    }

    #[test]
    fn too_many_media_sections_are_refused() {
        let sdp = |n: usize| format!("v=0\r\n{}", "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\n".repeat(n));
        let accept = |sdp: String| CallSignal::Accept {
            call_id: "a".into(),
            sdp,
        };
        assert!(accept(sdp(MAX_MEDIA_SECTIONS)).validate().is_ok());
        assert!(accept(sdp(MAX_MEDIA_SECTIONS + 1)).validate().is_err());
    }

    #[test]
    fn labels_are_escaped_at_decode() {
        let invite = br#"{"v":1,"type":"invite","call_id":"a","caller_name":"eve\u001b]0;pwned\u0007\u202e","sdp":"v=0"}"#;
        let CallSignal::Invite { caller_name, .. } = decode_signal(invite).unwrap() else {
            panic!()
        };
        assert_eq!(caller_name, "eve\\u{1B}]0;pwned\\u{7}\\u{202E}");
        let hangup =
            br#"{"v":1,"type":"hangup","call_id":"a","reason":"error","detail":"x\u001b[2J"}"#;
        let CallSignal::Hangup { detail, .. } = decode_signal(hangup).unwrap() else {
            panic!()
        };
        assert_eq!(detail.as_deref(), Some("x\\u{1B}[2J"));
    }
}

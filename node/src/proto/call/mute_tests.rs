//! The `mute` message on the wire: shape, round trip, caps and rejects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn mute(audio: bool, video: bool) -> CallSignal {
    CallSignal::Mute {
        call_id: "ab12".into(),
        audio,
        video,
    }
}

#[test]
fn mute_round_trips_with_its_documented_shape() {
    let bytes = encode_signal(&mute(true, false)).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"v":1,"type":"mute","call_id":"ab12","audio":true,"video":false})
    );
    assert_eq!(decode_signal(&bytes).unwrap(), mute(true, false));
    assert_eq!(mute(false, true).call_id().as_str(), "ab12");
}

#[test]
fn bad_mute_messages_are_rejected() {
    for bad in [
        // Missing or mistyped fields.
        &br#"{"v":1,"type":"mute","call_id":"a","audio":true}"#[..],
        br#"{"v":1,"type":"mute","call_id":"a","audio":"yes","video":false}"#,
        br#"{"v":1,"type":"mute","audio":true,"video":false}"#,
        br#"{"v":1,"type":"mute","call_id":7,"audio":true,"video":false}"#,
    ] {
        assert!(
            matches!(decode_signal(bad), Err(SignalError::Malformed(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(matches!(
        decode_signal(br#"{"v":2,"type":"mute","call_id":"a","audio":true,"video":false}"#),
        Err(SignalError::Version(2))
    ));
    assert!(matches!(
        decode_signal(br#"{"v":1,"type":"mute","call_id":"","audio":true,"video":false}"#),
        Err(SignalError::Invalid(_))
    ));
    let long_id = format!(
        r#"{{"v":1,"type":"mute","call_id":"{}","audio":true,"video":false}}"#,
        "a".repeat(65)
    );
    assert!(matches!(
        decode_signal(long_id.as_bytes()),
        Err(SignalError::Invalid(_))
    ));
    let mut padded = br#"{"v":1,"type":"mute","call_id":"a","audio":true,"video":false}"#.to_vec();
    padded.resize(MAX_SIGNAL_BYTES + 1, b' ');
    assert!(matches!(
        decode_signal(&padded),
        Err(SignalError::TooLarge(_))
    ));
}

//! Property-based fuzzing of the remote-SDP checks: descriptions made of
//! real SDP lines, hostile values and arbitrary text are parsed, planned
//! and checked against each other; none may panic. Case counts:
//! `duet_tests::fuzz` (`PROPTEST_CASES` for long runs).

#![allow(clippy::unwrap_used)]

use super::*;
use duet_tests::fuzz::run;
use proptest::prelude::*;

fn sdp_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        prop::sample::select(vec![
            "o=- 1 0 IN IP4 0.0.0.0",
            "s=-",
            "t=0 0",
            "c=IN IP4 0.0.0.0",
            "a=group:BUNDLE video0 audio1",
            "m=video 9 UDP/TLS/RTP/SAVPF 100 102",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "m=audio 0 UDP/TLS/RTP/SAVPF 111",
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
            "m=video 9 RTP",
            "m=text 9 RTP/AVP 0",
            "a=rtpmap:100 VP8/90000",
            "a=rtpmap:102 H264/90000",
            "a=rtpmap:111 opus/48000/2",
            "a=rtpmap:100",
            "a=rtpmap:x y",
            "a=fmtp:102 packetization-mode=1",
            "a=bundle-only",
            "a=mid:video0",
            "a=sendrecv",
            "a=fingerprint:sha-256 00:11",
        ])
        .prop_map(String::from),
        any::<String>(),
        "[a-z]=[ -~]{0,40}",
    ];
    prop::collection::vec(line, 0..24)
        .prop_map(|lines| format!("v=0\r\n{}\r\n", lines.join("\r\n")))
}

#[test]
fn fuzz_remote_sdp_checks() {
    gstreamer::init().unwrap();
    run("SDP checks", (sdp_text(), sdp_text()), |(a, b)| {
        let (Ok(a), b) = (parse(&a), parse(&b)) else {
            return Ok(());
        };
        for codec in [VideoCodec::Vp8, VideoCodec::H264] {
            let _ = plan_answer(&a, codec);
        }
        if let Ok(b) = b {
            let _ = check_answer(&a, &b);
            let _ = check_answer(&b, &a);
        }
        Ok(())
    });
}

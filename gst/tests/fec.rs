//! Video FEC (`MediaConfig::video_fec`, ULPFEC in RED) in an in-process
//! pair: what each side's SDP carries, that video decodes whichever side
//! asked for it, and that with it on both sides lost packets are rebuilt
//! (10 % of the UDP packets dropped in the pair's namespace, nftables);
//! H.264 with it too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{start_pair, test_config, Pair, Side};
use duet_gst::{MediaConfig, MediaEvent, SdpKind, VideoFec};

fn sdp_of(side: &Side, want: SdpKind) -> String {
    side.events()
        .into_iter()
        .find_map(|e| match e {
            MediaEvent::LocalDescription { kind, sdp } if kind == want => Some(sdp),
            _ => None,
        })
        .expect("a local description")
}

fn has_fec(sdp: &str) -> bool {
    sdp.contains("ulpfec/90000") && sdp.contains("red/90000")
}

/// Drops `percent` % of the namespace's outgoing UDP at random (0: none).
fn set_loss(percent: u32) {
    let nft = |cmd: &str| {
        let ok = std::process::Command::new("nft")
            .arg(cmd)
            .status()
            .unwrap()
            .success();
        assert!(ok, "nft {cmd}");
    };
    if percent == 0 {
        nft("delete table inet fecloss");
        return;
    }
    nft("add table inet fecloss");
    nft("add chain inet fecloss output { type filter hook output priority 0; policy accept; }");
    nft(&format!(
        "add rule inet fecloss output udp dport != 5353 numgen random mod 100 < {percent} drop"
    ));
}

/// Runs a pair with these FEC settings; returns (offer has FEC, answer has FEC).
fn call(offerer: VideoFec, answerer: VideoFec) -> (bool, bool) {
    let (pair, fec) = call_pair(offerer, answerer);
    drop(pair);
    fec
}

fn call_pair(offerer: VideoFec, answerer: VideoFec) -> (Pair, (bool, bool)) {
    let cfg = |video_fec| MediaConfig {
        video_fec,
        ..test_config()
    };
    let pair = start_pair(cfg(offerer), cfg(answerer));
    pair.wait("both sides decode >= 60 video frames", 60, |pair| {
        pair.offerer.stats().video_frames_received >= 60
            && pair.answerer.stats().video_frames_received >= 60
    });
    for side in [&pair.offerer, &pair.answerer] {
        assert!(
            !side.has(|e| matches!(e, MediaEvent::Error(_))),
            "{:?}",
            side.events()
        );
    }
    let fec = (
        has_fec(&sdp_of(&pair.offerer, SdpKind::Offer)),
        has_fec(&sdp_of(&pair.answerer, SdpKind::Answer)),
    );
    (pair, fec)
}

#[test]
fn fec_is_negotiated_when_both_ask_and_either_side_alone_still_calls() {
    duet_tests::in_host(
        "fec_is_negotiated_when_both_ask_and_either_side_alone_still_calls",
        || {
            duet_gst::init().unwrap();
            let on: VideoFec = "ulpfec".parse().unwrap();
            let (pair, fec) = call_pair(on, on);
            assert_eq!(fec, (true, true), "both ask");
            set_loss(10);
            let v = [&pair.offerer, &pair.answerer].map(|s| s.stats().video_frames_received);
            pair.wait(
                "under 10 % loss, both sides rebuild packets and decode 60 more frames",
                60,
                |pair| {
                    [&pair.offerer, &pair.answerer]
                        .iter()
                        .zip(v)
                        .all(|(side, v)| {
                            let s = side.stats();
                            s.video_fec_recovered.is_some_and(|n| n > 0)
                                && s.video_frames_received >= v + 60
                        })
                },
            );
            set_loss(0);
            for side in [&pair.offerer, &pair.answerer] {
                let s = side.stats();
                eprintln!(
                    "fec recovered {:?}, lost {}, frames {}",
                    s.video_fec_recovered, s.packets_lost, s.video_frames_received
                );
            }
            drop(pair);
            assert_eq!(call(on, VideoFec::Off), (true, false), "offerer only");
            assert_eq!(call(VideoFec::Off, on), (false, false), "answerer only");
        },
    );
}

#[test]
fn fec_with_h264_decodes() {
    duet_tests::in_host("fec_with_h264_decodes", || {
        duet_gst::init().unwrap();
        let on: VideoFec = "ulpfec+copies".parse().unwrap();
        let cfg = MediaConfig {
            video_fec: on,
            codec: duet_gst::VideoCodec::H264,
            ..test_config()
        };
        let pair = start_pair(cfg.clone(), cfg);
        pair.wait(
            "both sides decode >= 60 H.264 frames with FEC",
            60,
            |pair| {
                pair.offerer.stats().video_frames_received >= 60
                    && pair.answerer.stats().video_frames_received >= 60
            },
        );
        assert!(has_fec(&sdp_of(&pair.answerer, SdpKind::Answer)));
    });
}

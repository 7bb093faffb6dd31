//! The peer's DTLS certificate must match the fingerprint of its SDP:
//! webrtcbin 1.22 does not check it, `MediaSession` does. A man in the
//! middle is played by the test's "network", which alters the fingerprints
//! on their way; the normal pair connecting is `call.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{start_pair_filtered, test_config, Side};
use duet_gst::{ConnectionState, MediaConfig, MediaError, MediaEvent, MediaSession, Role, SdpKind};
use std::sync::Mutex;

/// Every `a=fingerprint` value with each hex digit changed.
fn mangle(sdp: &str) -> String {
    sdp.split_inclusive('\n')
        .map(|line| match line.split_once(' ') {
            Some((alg, hex)) if line.starts_with("a=fingerprint:") => {
                let hex: String = hex
                    .chars()
                    .map(|c| match c.to_digit(16) {
                        Some(d) => std::char::from_digit((d + 1) % 16, 16)
                            .unwrap()
                            .to_ascii_uppercase(),
                        None => c,
                    })
                    .collect();
                format!("{alg} {hex}")
            }
            _ => line.to_string(),
        })
        .collect()
}

fn untrusted(side: &Side) -> bool {
    side.has(|e| matches!(e, MediaEvent::Error(MediaError::Untrusted(_))))
}

fn announced_connected(side: &Side) -> bool {
    side.has(|e| matches!(e, MediaEvent::ConnectionState(ConnectionState::Connected)))
}

fn nothing_decoded(side: &Side) {
    let s = side.stats();
    assert_eq!(
        (s.video_frames_received, s.audio_buffers_received),
        (0, 0),
        "decoded media reached a sink before the DTLS check: {s:?}"
    );
    assert!(!side.has(|e| matches!(
        e,
        MediaEvent::FirstRemoteVideoFrame { .. } | MediaEvent::FirstRemoteAudio { .. }
    )));
}

/// The SDPs of `each_side_names_our_ecdsa_certificate_and_connects`.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[test]
fn each_side_names_our_ecdsa_certificate_and_connects() {
    duet_tests::in_host("each_side_names_our_ecdsa_certificate_and_connects", || {
        duet_gst::init().unwrap();
        let ours = duet_gst::dtls_fingerprint().expect("an ECDSA certificate");
        let mut pair = start_pair_filtered(test_config(), test_config(), |_, sdp| {
            SEEN.lock().unwrap().push(sdp.to_string());
            sdp.to_string()
        });
        // Connected only if the certificate each side showed in DTLS is the
        // one the other's SDP names.
        pair.wait("both sides connected", 60, |p| {
            announced_connected(&p.offerer) && announced_connected(&p.answerer)
        });
        let seen = SEEN.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "an offer and an answer");
        for sdp in seen {
            let fps: Vec<&str> = sdp
                .lines()
                .filter_map(|l| l.strip_prefix("a=fingerprint:"))
                .collect();
            assert!(!fps.is_empty() && fps.iter().all(|f| *f == ours), "{sdp}");
        }
        pair.offerer.close();
        pair.answerer.close();
    });
}

#[test]
fn altered_offer_fingerprint_is_caught_and_nothing_is_decoded() {
    duet_tests::in_host(
        "altered_offer_fingerprint_is_caught_and_nothing_is_decoded",
        || {
            duet_gst::init().unwrap();
            let mut pair = start_pair_filtered(test_config(), test_config(), |kind, sdp| {
                assert!(sdp.contains("a=fingerprint:"), "{sdp}");
                match kind {
                    SdpKind::Offer => mangle(sdp),
                    SdpKind::Answer => sdp.to_string(),
                }
            });
            // The offerer saw the answerer's true certificate: it opens its
            // gate and sends. The answerer receives those packets (DTLS-SRTP
            // decrypted them) but its gate stays shut: nothing is decoded.
            pair.wait(
                "the answerer refuses the media while the offerer's packets arrive",
                60,
                |p| untrusted(&p.answerer) && p.answerer.stats().packets_received >= 100,
            );
            nothing_decoded(&pair.answerer);
            assert!(!announced_connected(&pair.answerer));
            // The answerer never trusted, so it sent nothing.
            nothing_decoded(&pair.offerer);
            pair.offerer.close();
            pair.answerer.close();
        },
    );
}

#[test]
fn altered_fingerprints_both_ways_fail_both_sides() {
    duet_tests::in_host("altered_fingerprints_both_ways_fail_both_sides", || {
        duet_gst::init().unwrap();
        let mut pair = start_pair_filtered(test_config(), test_config(), |_, sdp| mangle(sdp));
        pair.wait("Untrusted on both sides", 60, |p| {
            untrusted(&p.offerer) && untrusted(&p.answerer)
        });
        for side in [&pair.offerer, &pair.answerer] {
            nothing_decoded(side);
            assert!(!announced_connected(side));
        }
        pair.offerer.close();
        pair.answerer.close();
    });
}

#[test]
fn an_sdp_without_fingerprint_is_refused() {
    duet_tests::in_host("an_sdp_without_fingerprint_is_refused", || {
        duet_gst::init().unwrap();
        let (offerer, mut rx) = MediaSession::start(MediaConfig::test(), Role::Offerer).unwrap();
        let offer = loop {
            match rx.blocking_recv() {
                Some(MediaEvent::LocalDescription { sdp, .. }) => break sdp,
                Some(MediaEvent::Error(e)) => panic!("offerer: {e}"),
                Some(_) => {}
                None => panic!("offerer ended without an offer"),
            }
        };
        let stripped: String = offer
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("a=fingerprint:"))
            .collect();
        assert_ne!(stripped, offer);
        let (answerer, _rx) = MediaSession::start(MediaConfig::test(), Role::Answerer).unwrap();
        let r = answerer.set_remote_description(SdpKind::Offer, &stripped);
        assert!(matches!(r, Err(MediaError::Untrusted(_))), "{r:?}");
        // An unknown hash function is no better than none.
        let md5 = offer.replace("a=fingerprint:sha-256", "a=fingerprint:md5");
        let r = answerer.set_remote_description(SdpKind::Offer, &md5);
        assert!(matches!(r, Err(MediaError::Untrusted(_))), "{r:?}");
        // The true offer is still taken.
        answerer
            .set_remote_description(SdpKind::Offer, &offer)
            .unwrap();
        answerer.close_blocking();
        offerer.close_blocking();
    });
}

//! Bad input ends in a typed error — never a panic, never a silent hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wait;
use duet_gst::{
    AudioSource, Display, MediaConfig, MediaError, MediaEvent, MediaSession, Role, SdpKind,
    VideoCodec, VideoSource,
};
use std::process::{Command, Stdio};
use std::time::Duration;

const HOST_CANDIDATE: &str = "candidate:1 1 UDP 2015363327 10.77.0.2 40000 typ host";

/// Starts an offerer and returns it with its offer SDP.
fn offerer_with_offer(cfg: MediaConfig) -> (MediaSession, String) {
    let (s, mut rx) = MediaSession::start(cfg, Role::Offerer).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(std::time::Instant::now() < deadline, "no offer within 30 s");
        match rx.try_recv() {
            Ok(MediaEvent::LocalDescription {
                kind: SdpKind::Offer,
                sdp,
            }) => return (s, sdp),
            Ok(MediaEvent::Error(e)) => panic!("offerer error: {e}"),
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn malformed_sdp_is_refused() {
    duet_tests::in_host("malformed_sdp_is_refused", || {
        let (answerer, _rx) = MediaSession::start(MediaConfig::test(), Role::Answerer).unwrap();
        for garbage in [
            "",
            "hello",
            "v=0\r\nthis is not sdp",
            "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
        ] {
            let r = answerer.set_remote_description(SdpKind::Offer, garbage);
            assert!(
                matches!(r, Err(MediaError::InvalidSdp(_))),
                "{garbage:?}: {r:?}"
            );
        }
        // Wrong direction for the role: an answer given to the answerer.
        let (offerer, offer) = offerer_with_offer(MediaConfig::test());
        assert!(matches!(
            answerer.set_remote_description(SdpKind::Answer, &offer),
            Err(MediaError::WrongState(_))
        ));
        assert!(matches!(
            offerer.set_remote_description(SdpKind::Offer, &offer),
            Err(MediaError::WrongState(_))
        ));
        answerer.close_blocking();
        offerer.close_blocking();
    });
}

#[test]
fn incompatible_offer_is_refused() {
    duet_tests::in_host("incompatible_offer_is_refused", || {
        let (offerer, offer) = offerer_with_offer(MediaConfig::test());
        // Only a codec we do not support for video.
        let vp9 = offer.replace("VP8/90000", "VP9/90000");
        assert_ne!(vp9, offer);
        let (answerer, _rx) = MediaSession::start(MediaConfig::test(), Role::Answerer).unwrap();
        let err = answerer
            .set_remote_description(SdpKind::Offer, &vp9)
            .unwrap_err();
        assert!(
            matches!(&err, MediaError::IncompatibleSdp(m) if m.contains("VP9")),
            "{err}"
        );
        // An H.264 answerer and a VP8-only offer.
        let h264 = MediaConfig {
            codec: VideoCodec::H264,
            ..MediaConfig::test()
        };
        let (answerer2, _rx2) = MediaSession::start(h264, Role::Answerer).unwrap();
        let err = answerer2
            .set_remote_description(SdpKind::Offer, &offer)
            .unwrap_err();
        assert!(
            matches!(&err, MediaError::IncompatibleSdp(m) if m.contains("H264")),
            "{err}"
        );
        // The refused offer did not consume the answerer: a good one still works.
        answerer
            .set_remote_description(SdpKind::Offer, &offer)
            .unwrap();
        for s in [offerer, answerer, answerer2] {
            s.close_blocking();
        }
    });
}

#[test]
fn candidate_for_unknown_mline_is_refused() {
    duet_tests::in_host("candidate_for_unknown_mline_is_refused", || {
        let (offerer, _offer) = offerer_with_offer(MediaConfig::test());
        let r = offerer.add_remote_candidate(7, HOST_CANDIDATE);
        assert!(
            matches!(r, Err(MediaError::UnknownMline { mline: 7, count: 2 })),
            "{r:?}"
        );
        let r = offerer.add_remote_candidate(0, "not a candidate");
        assert!(matches!(r, Err(MediaError::InvalidCandidate(_))), "{r:?}");
        offerer.add_remote_candidate(1, HOST_CANDIDATE).unwrap();
        offerer.close_blocking();
    });
}

#[test]
fn missing_element_names_the_package() {
    duet_gst::init().unwrap();
    let e = duet_gst::require_element("duetnosuchelement").unwrap_err();
    assert!(
        matches!(&e, MediaError::MissingElement { element, .. } if element == "duetnosuchelement"),
        "{e}"
    );
    for (element, package) in [
        ("nicesrc", "gstreamer1.0-nice"),
        ("webrtcbin", "gstreamer1.0-plugins-bad"),
        ("vp8enc", "gstreamer1.0-plugins-good"),
        ("opusenc", "gstreamer1.0-plugins-base"),
        ("x264enc", "gstreamer1.0-plugins-ugly"),
        ("avdec_h264", "gstreamer1.0-libav"),
    ] {
        let msg = duet_gst::missing_element(element).to_string();
        assert!(msg.contains(element) && msg.contains(package), "{msg}");
        duet_gst::require_element(element).unwrap();
    }
    duet_gst::check_elements(&MediaConfig {
        codec: VideoCodec::H264,
        ..MediaConfig::test()
    })
    .unwrap();
}

#[test]
fn nonexistent_camera_is_an_error() {
    duet_gst::init().unwrap();
    let cfg = MediaConfig {
        video: VideoSource::Device("/dev/video-does-not-exist".into()),
        ..MediaConfig::test()
    };
    let e = MediaSession::start(cfg, Role::Offerer).unwrap_err();
    assert!(
        matches!(&e, MediaError::CameraUnavailable { device, .. } if device.contains("video-does-not-exist")),
        "{e}"
    );
}

#[test]
fn a_file_that_is_no_camera_is_an_error() {
    duet_tests::in_host("a_file_that_is_no_camera_is_an_error", || {
        let cfg = MediaConfig {
            video: VideoSource::Device("/dev/null".into()),
            ..MediaConfig::test()
        };
        let e = MediaSession::start(cfg, Role::Offerer).unwrap_err();
        assert!(
            matches!(&e, MediaError::CameraUnavailable { device, .. } if device == "/dev/null"),
            "{e}"
        );
    });
}

#[test]
fn nonexistent_microphone_is_an_error() {
    duet_tests::in_host("nonexistent_microphone_is_an_error", || {
        let cfg = MediaConfig {
            audio: AudioSource::Device("hw:77,0".into()),
            ..MediaConfig::test()
        };
        let e = MediaSession::start(cfg, Role::Offerer).unwrap_err();
        assert!(
            matches!(&e, MediaError::MicrophoneUnavailable { device, .. } if device == "hw:77,0"),
            "{e}"
        );
    });
}

#[test]
fn window_without_display_is_an_error() {
    if std::env::var_os("DISPLAY").is_some() {
        eprintln!("DISPLAY is set: skipping");
        return;
    }
    duet_gst::init().unwrap();
    let cfg = MediaConfig {
        display: Display::Window,
        ..MediaConfig::test()
    };
    assert!(matches!(
        MediaSession::start(cfg, Role::Offerer),
        Err(MediaError::NoDisplay)
    ));
}

const NO_NET_ENV: &str = "DUET_TEST_NO_NET";

/// Runs `body` in a network namespace with only `lo`, by re-executing this
/// test binary under `unshare -n` (like `duet_tests::in_host` does).
fn in_loopback_only_namespace(test_name: &str, body: impl FnOnce()) {
    if std::env::var(NO_NET_ENV).as_deref() == Ok(test_name) {
        body();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .arg("-n")
        .arg(exe)
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(NO_NET_ENV, test_name)
        .stdin(Stdio::null())
        .status()
        .expect("running unshare -n");
    assert!(
        status.success(),
        "{test_name} in a loopback-only namespace failed ({status})"
    );
}

#[test]
fn no_network_interface_is_an_error() {
    in_loopback_only_namespace("no_network_interface_is_an_error", || {
        // `lo` up or down, there is nothing ICE can use.
        let _ = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status();
        duet_gst::init().unwrap();
        let e = MediaSession::start(MediaConfig::test(), Role::Offerer).unwrap_err();
        assert_eq!(e, MediaError::NoNetworkInterface);
        assert!(e.to_string().contains("no usable network interface"));
        wait("nothing", 1, || true);
    });
}

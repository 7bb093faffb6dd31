//! Two media sessions in one process, inside a network namespace with a
//! veth (libnice has no candidates on loopback): they connect, exchange
//! audio and video both ways, and closing one side ends the other's media.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{start_pair, test_config};
use duet_gst::{
    ConnectionState, MediaConfig, MediaError, MediaEvent, MediaKind, VideoCodec, VideoSource,
};
use std::time::Duration;

#[test]
fn two_sessions_exchange_media_and_close_ends_the_peer() {
    duet_tests::in_host(
        "two_sessions_exchange_media_and_close_ends_the_peer",
        || {
            duet_gst::init().unwrap();
            let cfg = MediaConfig {
                latency_probe: true,
                ..test_config()
            };
            let mut pair = start_pair(cfg.clone(), cfg);
            pair.wait(
                "both sides decode >= 60 video frames and >= 50 audio buffers",
                60,
                |pair| {
                    let (a, b) = (pair.offerer.stats(), pair.answerer.stats());
                    a.video_frames_received >= 60
                        && a.audio_buffers_received >= 50
                        && b.video_frames_received >= 60
                        && b.audio_buffers_received >= 50
                },
            );
            for side in [&pair.offerer, &pair.answerer] {
                assert!(side
                    .has(|e| matches!(e, MediaEvent::ConnectionState(ConnectionState::Connected))));
                assert!(side.has(|e| matches!(e, MediaEvent::FirstRemoteVideoFrame { .. })));
                assert!(side.has(|e| matches!(e, MediaEvent::FirstRemoteAudio { .. })));
                assert!(
                    !side.has(|e| matches!(e, MediaEvent::Error(_))),
                    "{:?}",
                    side.events()
                );
            }
            pair.wait("stats events with network figures", 20, |pair| {
                pair.offerer.has(|e| matches!(e, MediaEvent::Stats(s) if s.bytes_received > 0 && s.packets_sent > 0))
            });
            for side in [&pair.offerer, &pair.answerer] {
                let g2g = side.stats().glass_to_glass.expect("latency probe samples");
                assert!(
                    g2g.count > 10 && g2g.median_ms > 0.0 && g2g.median_ms < 1000.0,
                    "{g2g:?}"
                );
            }
            // Muting keeps the stream flowing (black frames, silence).
            let a = pair.offerer.session.as_ref().unwrap();
            a.set_muted(MediaKind::Video, true).unwrap();
            a.set_muted(MediaKind::Audio, true).unwrap();
            let (v, au) = (
                pair.answerer.stats().video_frames_received,
                pair.answerer.stats().audio_buffers_received,
            );
            pair.wait("media still flows while muted", 30, |pair| {
                let s = pair.answerer.stats();
                s.video_frames_received >= v + 15 && s.audio_buffers_received >= au + 15
            });
            a.set_muted(MediaKind::Video, false).unwrap();
            a.set_muted(MediaKind::Audio, false).unwrap();
            a.request_keyframe().unwrap();
            eprintln!("offerer stats: {:?}", pair.offerer.stats());
            eprintln!("answerer stats: {:?}", pair.answerer.stats());

            // The offerer hangs up; the answerer's media layer must notice alone:
            // at once from the RTCP BYE the closing side sends, and — the
            // backstop when the peer vanishes without one — from the media
            // watchdog (2 s in these tests).
            pair.offerer.close();
            pair.wait("RemoteEnded (RTCP BYE) at the answerer", 20, |pair| {
                pair.answerer.has(|e| matches!(e, MediaEvent::RemoteEnded))
            });
            pair.wait("MediaTimeout at the answerer", 30, |pair| {
                pair.answerer
                    .has(|e| matches!(e, MediaEvent::MediaTimeout { .. }))
            });
            let before = pair.answerer.stats().video_frames_received;
            std::thread::sleep(std::time::Duration::from_millis(500));
            assert_eq!(
                pair.answerer.stats().video_frames_received,
                before,
                "remote video still arrives after close"
            );
            pair.answerer.close();
        },
    );
}

fn media_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|c| c.trim().starts_with("duet-media"))
        .count()
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn dropped_sessions_leave_no_pipeline_or_thread() {
    duet_tests::in_host("dropped_sessions_leave_no_pipeline_or_thread", || {
        duet_gst::init().unwrap();
        duet_gst::warm_up(&test_config());
        let before = thread_count();
        let mut pair = start_pair(test_config(), test_config());
        pair.wait("media both ways", 60, |pair| {
            pair.offerer.stats().video_frames_received >= 10
                && pair.answerer.stats().video_frames_received >= 10
        });
        assert_eq!(media_threads(), 2);
        // Drop both handles mid-call, without close.
        let (a, b) = (
            pair.offerer.session.take().unwrap(),
            pair.answerer.session.take().unwrap(),
        );
        drop(a);
        drop(b);
        pair.wait("both sides end", 30, |pair| {
            pair.offerer.has(|e| matches!(e, MediaEvent::Ended))
                && pair.answerer.has(|e| matches!(e, MediaEvent::Ended))
        });
        pair.wait("the service and teardown threads are gone", 30, |_| {
            media_threads() == 0
        });
        // GStreamer's own threads (streaming tasks, libnice, DTLS) are gone too;
        // a few pooled threads may linger, not one per element.
        pair.wait("GStreamer threads wound down", 30, |_| {
            thread_count() <= before + 4
        });
        eprintln!("threads: before {before}, after {}", thread_count());
    });
}

#[test]
fn h264_call_exchanges_video() {
    duet_tests::in_host("h264_call_exchanges_video", || {
        duet_gst::init().unwrap();
        let cfg = MediaConfig {
            codec: VideoCodec::H264,
            ..test_config()
        };
        let mut pair = start_pair(cfg.clone(), cfg);
        pair.wait("both sides decode >= 30 H.264 frames", 60, |pair| {
            pair.offerer.stats().video_frames_received >= 30
                && pair.answerer.stats().video_frames_received >= 30
        });
        let a = pair.offerer.session.as_ref().unwrap();
        assert!(matches!(
            a.set_remote_description(duet_gst::SdpKind::Answer, "v=0"),
            Err(MediaError::InvalidSdp(_))
        ));
        pair.offerer.close();
        pair.answerer.close();
    });
}

#[test]
fn receive_only_side_gets_media_and_cannot_mute_what_it_does_not_send() {
    duet_tests::in_host(
        "receive_only_side_gets_media_and_cannot_mute_what_it_does_not_send",
        || {
            duet_gst::init().unwrap();
            let recv_only = MediaConfig {
                video: VideoSource::None,
                audio: duet_gst::AudioSource::None,
                ..test_config()
            };
            let mut pair = start_pair(recv_only, test_config());
            pair.wait(
                "the receive-only offerer gets video and audio",
                60,
                |pair| {
                    let s = pair.offerer.stats();
                    s.video_frames_received >= 30 && s.audio_buffers_received >= 30
                },
            );
            let a = pair.offerer.session.as_ref().unwrap();
            assert_eq!(
                a.set_muted(MediaKind::Video, true),
                Err(MediaError::NoSuchMedia(MediaKind::Video))
            );
            assert_eq!(pair.answerer.stats().video_frames_received, 0);
            std::thread::sleep(Duration::from_millis(1));
            pair.offerer.close();
            pair.answerer.close();
        },
    );
}

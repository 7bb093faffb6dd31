//! Window mode under Xvfb: a call with `Display::Window` shows the remote
//! picture (and the local preview), checked on a screenshot of the screen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{start_pair, wait};
use duet_gst::{Display, MediaConfig, MediaEvent, VideoSource};
use duet_tests::xvfb::Xvfb;
use std::process::Command;

/// Unique colours and standard deviation (0..1) of a screenshot.
fn screenshot(display: &str, png: &str) -> (u64, f64) {
    duet_tests::xvfb::screenshot(display, png).unwrap();
    let r = duet_tests::xvfb::region(png, 0, 0, 1280, 720).unwrap();
    (r.colours, r.stddev)
}

#[test]
fn window_mode_shows_video_under_xvfb() {
    const NAME: &str = "window_mode_shows_video_under_xvfb";
    let inside = std::env::var("DUET_TEST_IN_HOST").as_deref() == Ok(NAME);
    // Xvfb runs outside the namespace; X over its unix path socket reaches in.
    let _xvfb = (!inside).then(|| {
        let x = Xvfb::start().unwrap();
        // Only this test runs in this binary: setting the variable is race-free.
        std::env::set_var("DISPLAY", &x.display);
        x
    });
    duet_tests::in_host(NAME, || {
        let display = std::env::var("DISPLAY").unwrap();
        let pid = std::process::id();
        let blank = screenshot(&display, &format!("/tmp/duet-window-blank-{pid}.png"));
        assert!(
            blank.0 <= 2,
            "the screen is not blank before the call: {blank:?}"
        );
        // Phase 1, the remote picture: a windowed offerer that sends no video
        // (so it has no preview) and a headless answerer that does.
        let window = MediaConfig {
            display: Display::Window,
            ..common::test_config()
        };
        let mut pair = start_pair(
            MediaConfig {
                video: VideoSource::None,
                ..window.clone()
            },
            common::test_config(),
        );
        pair.wait("the offerer shows >= 30 remote frames", 60, |pair| {
            pair.offerer.stats().video_frames_received >= 30
        });
        assert_eq!(video_windows(&display), 1, "one call window");
        let png = format!("/tmp/duet-window-remote-{pid}.png");
        let (colours, stddev) = screenshot(&display, &png);
        eprintln!("remote video screenshot {png}: {colours} colours, stddev {stddev}");
        assert!(
            colours >= 8 && stddev > 0.02,
            "the screen looks blank: {colours} colours, stddev {stddev} ({png})"
        );
        assert_no_errors(&pair);
        pair.offerer.close();
        pair.answerer.close();
        wait("the windows are gone", 20, || video_windows(&display) == 0);

        // Phase 2, the local preview: the windowed side sends, receives none.
        let mut pair = start_pair(
            window,
            MediaConfig {
                video: VideoSource::None,
                ..common::test_config()
            },
        );
        pair.wait("the answerer receives >= 30 frames", 60, |pair| {
            pair.answerer.stats().video_frames_received >= 30
        });
        assert_eq!(video_windows(&display), 1, "one call window");
        let png = format!("/tmp/duet-window-preview-{pid}.png");
        let (colours, stddev) = screenshot(&display, &png);
        eprintln!("preview screenshot {png}: {colours} colours, stddev {stddev}");
        assert!(
            colours >= 8 && stddev > 0.02,
            "the preview looks blank: {colours} colours, stddev {stddev} ({png})"
        );
        assert_no_errors(&pair);
        pair.offerer.close();
        pair.answerer.close();
        // Passed: the screenshots are not needed (they stay when a check fails).
        for kind in ["blank", "remote", "preview"] {
            let _ = std::fs::remove_file(format!("/tmp/duet-window-{kind}-{pid}.png"));
        }
    });
}

fn assert_no_errors(pair: &common::Pair) {
    for side in [&pair.offerer, &pair.answerer] {
        let errors: Vec<_> = side
            .events()
            .into_iter()
            .filter(|e| matches!(e, MediaEvent::Error(_)))
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

/// Mapped top-level windows of the call window's size.
fn video_windows(display: &str) -> usize {
    let size = format!(
        "{}x{}",
        duet_gst::window::WINDOW_WIDTH,
        duet_gst::window::WINDOW_HEIGHT
    );
    let out = Command::new("xwininfo")
        .args(["-root", "-children", "-display", display])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&size))
        .count()
}

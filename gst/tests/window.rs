//! Window mode under Xvfb: a call with `Display::Window` shows the remote
//! picture (and the local preview), checked on a screenshot of the screen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{start_pair, wait};
use duet_gst::{Display, MediaConfig, MediaEvent, VideoSource};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A virtual X server, killed on drop.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        // -displayfd: Xvfb picks a free display and writes its number to stdout.
        // -br: black root window, so an empty screen is one colour.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x720x24",
                "-br",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb (package xvfb)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let n: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb printed {line:?}"));
        Xvfb {
            child,
            display: format!(":{n}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Unique colours and standard deviation (0..1) of a screenshot.
fn screenshot(display: &str, png: &str) -> (u64, f64) {
    let xwd = Command::new("xwd")
        .args(["-root", "-silent", "-display", display])
        .output()
        .unwrap();
    assert!(
        xwd.status.success(),
        "xwd: {}",
        String::from_utf8_lossy(&xwd.stderr)
    );
    let mut convert = Command::new("convert")
        .args(["xwd:-", &format!("png:{png}")])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    convert
        .stdin
        .take()
        .unwrap()
        .write_all(&xwd.stdout)
        .unwrap();
    assert!(convert.wait().unwrap().success());
    let info = Command::new("convert")
        .args([png, "-format", "%k %[fx:standard_deviation]", "info:"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&info.stdout).to_string();
    let mut it = text.split_whitespace();
    let colours = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let stddev = it.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    (colours, stddev)
}

#[test]
fn window_mode_shows_video_under_xvfb() {
    const NAME: &str = "window_mode_shows_video_under_xvfb";
    let inside = std::env::var("DUET_TEST_IN_HOST").as_deref() == Ok(NAME);
    // Xvfb runs outside the namespace; X over its unix path socket reaches in.
    let _xvfb = (!inside).then(|| {
        let x = Xvfb::start();
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
        assert_eq!(video_windows(&display), 1, "one window: the remote video");
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
        assert_eq!(video_windows(&display), 1, "one window: the local preview");
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

/// Mapped top-level windows of the video size.
fn video_windows(display: &str) -> usize {
    let out = Command::new("xwininfo")
        .args(["-root", "-children", "-display", display])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("640x480"))
        .count()
}

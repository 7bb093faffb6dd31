#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The call window on a real Xvfb.
use super::*;
use duet_tests::xvfb::{region, Xvfb};

fn red(png: &str, x: u32, y: u32) -> bool {
    let r = region(png, x, y, 60, 60).unwrap();
    r.r > 0.8 && r.g < 0.2 && r.b < 0.2
}

/// Sets the pipeline to NULL when the test ends, passed or not, before its
/// Xvfb goes: an X connection that breaks under a running ximagesink makes
/// Xlib exit the whole test process.
struct StopOnDrop(gst::Pipeline);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.set_state(gst::State::Null);
    }
}

/// These tests compose 30 fps on X servers of their own: one at a time.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the screen shows red at (`x`, `y`) within 20 s (screenshots
/// into `png`).
fn shows_red(xvfb: &Xvfb, png: &str, x: u32, y: u32) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(20) {
        if xvfb.screenshot(png).is_ok() && red(png, x, y) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    false
}

/// A call window on its own Xvfb and a live red source for its remote input.
fn red_window() -> (Xvfb, gst::Pipeline, CallWindow, gst::Element) {
    gst::init().unwrap();
    red_window_on(Xvfb::start().unwrap())
}

/// [`red_window`] on the X server `x`.
fn red_window_on(x: Xvfb) -> (Xvfb, gst::Pipeline, CallWindow, gst::Element) {
    let pipeline = gst::Pipeline::new();
    let (events, _rx) = crate::events::Events::channel();
    let w = CallWindow::build(&pipeline, events, false).unwrap();
    w.sink().set_property("display", x.display.as_str());
    (x, pipeline, w, red_source())
}

fn red_source() -> gst::Element {
    gst::ElementFactory::make("videotestsrc")
        .property("is-live", true)
        .property_from_str("pattern", "red")
        .build()
        .unwrap()
}

/// `src` as the window's remote video, the pipeline playing.
fn play_as_remote(pipeline: &gst::Pipeline, w: &CallWindow, src: &gst::Element) {
    pipeline.add(src).unwrap();
    src.static_pad("src")
        .unwrap()
        .link(&w.remote_input().unwrap())
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
}

/// On a 16-bit X server (its format is not BGRx) the picture still shows:
/// the converter's BGRx is converted once more for it.
#[test]
fn a_16_bit_display_shows_the_picture_too() {
    let _serial = one_at_a_time();
    gst::init().unwrap();
    let (x, pipeline, w, src) = red_window_on(Xvfb::start_with_depth(16).unwrap());
    let _stop = StopOnDrop(pipeline.clone());
    play_as_remote(&pipeline, &w, &src);
    let png = format!("/tmp/duet-window-16bit-{}.png", std::process::id());
    let shown = shows_red(&x, &png, 300, 200);
    let caps = w.sink().static_pad("sink").and_then(|p| p.current_caps());
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(
        shown,
        "red in the 16-bit window ({png}); sink caps {caps:?}"
    );
    let format = caps
        .as_ref()
        .and_then(|c| c.structure(0))
        .and_then(|s| s.get::<String>("format").ok());
    assert_eq!(format.as_deref(), Some("RGB16"), "{caps:?}");
    let _ = std::fs::remove_file(&png);
}

/// A remote resolution change mid-call (640x480 → 1280x720) keeps
/// showing video: 4:3 fills the 640x480 window to its edges, 16:9 is
/// scaled down to its width, aspect kept, with black bars above and below.
#[test]
fn a_remote_resolution_change_keeps_filling_the_window() {
    let _serial = one_at_a_time();
    let (x, pipeline, w, src) = red_window();
    let _stop = StopOnDrop(pipeline.clone());
    let caps = gst::ElementFactory::make("capsfilter").build().unwrap();
    let size = |w: i32, h: i32| {
        gst::Caps::builder("video/x-raw")
            .field("format", "I420")
            .field("width", w)
            .field("height", h)
            .build()
    };
    caps.set_property("caps", size(640, 480));
    pipeline.add_many([&src, &caps]).unwrap();
    src.link(&caps).unwrap();
    let input = w.remote_input().unwrap();
    caps.static_pad("src").unwrap().link(&input).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let png = format!("/tmp/duet-window-resize-{}.png", std::process::id());
    let shows = |top_red: bool| {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(20) {
            if x.screenshot(&png).is_ok()
                && red(&png, 300, 200)
                && red(&png, 0, 200)
                && red(&png, 580, 200)
                && red(&png, 300, 0) == top_red
            {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        false
    };
    assert!(shows(true), "640x480: red to the edges ({png})");
    caps.set_property("caps", size(1280, 720));
    assert!(
        shows(false),
        "1280x720: red across, a black bar on top ({png})"
    );
    pipeline.set_state(gst::State::Null).unwrap();
    let _ = std::fs::remove_file(&png);
}

/// `f` (toggle_fullscreen) on a window without a window manager: the
/// window covers the screen and the picture is composed at its size (red
/// below where the 640x480 picture ends), then both come back.
#[test]
fn fullscreen_covers_the_screen_and_comes_back() {
    let _serial = one_at_a_time();
    let (x, pipeline, w, src) = red_window();
    let _stop = StopOnDrop(pipeline.clone());
    play_as_remote(&pipeline, &w, &src);
    let png = format!("/tmp/duet-window-fullscreen-{}.png", std::process::id());
    let until = |what: &str, check: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(20) {
            if check() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        panic!("{what} ({png})\n{}", x.tree());
    };
    let size = |want: (u32, u32)| {
        let Ok(id) = x.xdotool(&["search", "--name", "."]) else {
            return false;
        };
        id.lines()
            .filter_map(|id| x.geometry(id).ok())
            .any(|g| (g.width, g.height) == want)
    };
    let bottom_red = || x.screenshot(&png).is_ok() && red(&png, 600, 650);
    until("a 640x480 window", &|| size((640, 480)));
    assert!(!bottom_red(), "nothing below the window");
    w.toggle_fullscreen();
    until("a fullscreen window", &|| size(Xvfb::SCREEN));
    until("red to the bottom", &bottom_red);
    w.toggle_fullscreen();
    until("the window back", &|| size((640, 480)));
    until("nothing below the window", &|| !bottom_red());
    let error = pipeline
        .bus()
        .unwrap()
        .pop_filtered(&[gst::MessageType::Error]);
    assert!(error.is_none(), "{error:?}");
    pipeline.set_state(gst::State::Null).unwrap();
    let _ = std::fs::remove_file(&png);
}

/// The node's spare sink, opened ahead (READY: connected to the X
/// server), is the one the next call window takes; the window shows the
/// remote picture with it.
#[test]
fn a_call_window_takes_the_spare_sink_opened_ahead() {
    let _serial = one_at_a_time();
    gst::init().unwrap();
    let x = Xvfb::start().unwrap();
    spare::keep_spare_sink_on(Some(x.display.clone()));
    let start = std::time::Instant::now();
    while !spare::is_kept() && start.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(spare::is_kept(), "a spare sink was opened");
    let pipeline = gst::Pipeline::new();
    let _stop = StopOnDrop(pipeline.clone());
    let (events, _rx) = crate::events::Events::channel();
    let w = CallWindow::build(&pipeline, events, false).unwrap();
    assert_eq!(
        w.sink().current_state(),
        gst::State::Ready,
        "the call window's sink is the spare, already open"
    );
    assert!(!spare::is_kept(), "the spare was taken");
    play_as_remote(&pipeline, &w, &red_source());
    let png = format!("/tmp/duet-window-spare-{}.png", std::process::id());
    assert!(
        shows_red(&x, &png, 400, 200),
        "the remote picture in the window ({png})"
    );
    pipeline.set_state(gst::State::Null).unwrap();
    let _ = std::fs::remove_file(&png);
}

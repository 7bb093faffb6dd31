#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Writes docs/call-window.png, the README's picture of a call window,
//! from a real call: alice in window mode on her own Xvfb (her camera the
//! `ball` test pattern, in the preview corner), bob headless sending
//! `smpte` (filling the window), auto-answering. Ignored by default (it
//! writes into the repository):
//! `cargo test -p duet-tests --test window_screenshot -- --ignored`.

use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::xvfb::{region, Xvfb};
use duet_tests::{wait_until, Lan};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

#[test]
#[ignore = "writes docs/call-window.png"]
fn writes_the_call_window_screenshot() {
    let x = Xvfb::start().unwrap();
    let lan = Lan::new(2).unwrap();
    let start = |i: usize, name: &str, x: Option<&Xvfb>, args: &[&str]| {
        let mut opts = NodeOptions::named(name).arg("--quiet");
        opts.x_display = x.map(|x| x.display.clone());
        for a in args {
            opts = opts.arg(a);
        }
        let node = DuetNode::spawn(lan.host(i), opts).unwrap();
        if let Err(e) = node.wait_ready(DEADLINE) {
            panic!("{e:#}\n{}", node.logs());
        }
        node
    };
    let alice = start(
        0,
        "alice",
        Some(&x),
        &["--display", "window", "--video", "test:ball"],
    );
    let bob = start(
        1,
        "bob",
        None,
        &[
            "--display",
            "none",
            "--video",
            "test:smpte",
            "--auto-answer",
            "--accept-from",
            "alice",
        ],
    );
    alice.wait_to_meet(&bob, DEADLINE).unwrap();
    let out = alice.cli().args(["call", "bob"]).output().unwrap();
    assert!(out.status.success(), "{out:?}\n{}", alice.logs());
    // A few seconds in, so that the call time reads more than 00:00.
    wait_until("3 s of bob's video", DEADLINE, || {
        let call = alice.status()?.call;
        let frames = call["stats"]["video_frames_received"].as_u64().unwrap_or(0);
        Ok((frames >= 100).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", alice.logs()));
    let screen = format!("/tmp/duet-call-window-{}.png", std::process::id());
    x.screenshot(&screen).unwrap();
    let main = region(&screen, 200, 120, 200, 200).unwrap();
    assert!(main.colours > 4, "bob's picture in the window: {main:?}");
    let docs = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/call-window.png");
    let (w, h) = (
        duet_gst::window::WINDOW_WIDTH,
        duet_gst::window::WINDOW_HEIGHT,
    );
    let crop = Command::new("convert")
        .args([&screen, "-crop", &format!("{w}x{h}+0+0"), "+repage", docs])
        .status()
        .unwrap();
    assert!(crop.success());
    let _ = std::fs::remove_file(&screen);
}

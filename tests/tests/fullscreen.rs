#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Fullscreen call windows on a real Xvfb (no window manager): the `f` key
//! toggles the call window between its 640x480 and the whole screen (and
//! the picture is composed at the screen's size, not shown small in the
//! middle); a `--display fullscreen` node covers the screen from the
//! ringing card on, with the mouse cursor hidden over it.

use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::xvfb::{region, Geometry, Xvfb};
use duet_tests::{wait_until, Lan};
use std::process::Stdio;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn full_screen() -> Geometry {
    let (width, height) = Xvfb::SCREEN;
    Geometry {
        x: 0,
        y: 0,
        width,
        height,
    }
}

/// Two nodes that see each other; `alice_x`/`bob_x`: the X display and
/// `--display` value of a windowed node.
fn pair(
    alice: (Option<&Xvfb>, &[&str]),
    bob: (Option<&Xvfb>, &[&str]),
) -> (Lan, DuetNode, DuetNode) {
    let lan = Lan::new(2).unwrap();
    let start = |i: usize, name: &str, (x, args): (Option<&Xvfb>, &[&str])| {
        let mut opts = NodeOptions::named(name).arg("--quiet");
        opts.x_display = x.map(|x| x.display.clone());
        for a in args {
            opts = opts.arg(a);
        }
        DuetNode::start_with(lan.host(i), opts).unwrap()
    };
    let a = start(0, "alice", alice);
    let b = start(1, "bob", bob);
    let (ai, bi) = (a.peer_id().unwrap(), b.peer_id().unwrap());
    a.wait_for_peers(&[&bi], DEADLINE).unwrap();
    b.wait_for_peers(&[&ai], DEADLINE).unwrap();
    (lan, a, b)
}

/// Waits until the only window of the call with `peer` is not `old` and
/// has `want` (a card closing while the call window opens has the same
/// title); returns its id and geometry.
fn wait_geometry(
    x: &Xvfb,
    peer: &str,
    old: Option<&str>,
    want: impl Fn(Geometry) -> bool,
    node: &DuetNode,
) -> (String, Geometry) {
    let title = format!("^duet .* {peer}$");
    wait_until(&format!("{title}: geometry"), DEADLINE, || {
        let Ok(out) = x.xdotool(&["search", "--name", &title]) else {
            return Ok(None);
        };
        let ids: Vec<&str> = out.lines().collect();
        let [id] = ids[..] else { return Ok(None) };
        if Some(id) == old {
            return Ok(None);
        }
        let g = x.geometry(id)?;
        Ok(want(g).then(|| (id.to_string(), g)))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}\n{}", x.tree(), node.logs()))
}

/// The bottom strip of the screen, below a 640x480 window: red when the
/// remote `test:red` picture is composed at the screen's size.
fn bottom_strip_red(x: &Xvfb, png: &str) -> bool {
    x.screenshot(png).is_ok()
        && region(png, 200, 650, 800, 40).is_ok_and(|r| r.r > 0.8 && r.g < 0.2 && r.b < 0.2)
}

#[test]
fn f_toggles_the_call_window_fullscreen_and_back() {
    let x = Xvfb::start().unwrap();
    let (_lan, alice, bob) = pair(
        (Some(&x), &["--display", "window"]),
        (
            None,
            &[
                "--video",
                "test:red",
                "--auto-answer",
                "--accept-from",
                "any",
            ],
        ),
    );
    let events = alice.events().unwrap();
    let status = alice
        .cli()
        .args(["call", "bob"])
        .stdout(Stdio::null())
        .status();
    assert!(status.unwrap().success(), "{}", alice.logs());
    events
        .wait_for("connected", DEADLINE, |e| e.kind() == "connected")
        .unwrap();
    let title = "duet — bob";
    let (_, windowed) = wait_geometry(
        &x,
        "bob",
        None,
        |g| (g.width, g.height) == (640, 480),
        &alice,
    );
    let png = format!("/tmp/duet-fullscreen-{}.png", std::process::id());
    assert!(!bottom_strip_red(&x, &png), "windowed: nothing below it");

    x.key(title, "f").unwrap();
    wait_geometry(&x, "bob", None, |g| g == full_screen(), &alice);
    wait_until("the remote picture at screen size", DEADLINE, || {
        Ok(bottom_strip_red(&x, &png).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#} ({png})"));

    x.key(title, "f").unwrap();
    wait_geometry(&x, "bob", None, |g| g == windowed, &alice);
    wait_until("the picture back at window size", DEADLINE, || {
        Ok((!bottom_strip_red(&x, &png)).then_some(()))
    })
    .unwrap();
    assert!(alice.status().unwrap().call["state"] == "connected");
    let _ = std::fs::remove_file(&png);
    drop(bob);
}

#[test]
fn a_fullscreen_node_covers_the_screen_and_hides_the_cursor() {
    let x = Xvfb::start().unwrap();
    let (_lan, alice, bob) = pair((None, &[]), (Some(&x), &["--display", "fullscreen"]));
    let middle = (Xvfb::SCREEN.0 / 2, Xvfb::SCREEN.1 / 2);
    assert!(
        x.cursor_pixels_at(middle.0, middle.1).unwrap() > 0,
        "the bare screen shows a cursor"
    );
    let bob_events = bob.events().unwrap();
    let mut dialing = alice
        .cli()
        .args(["call", "bob"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    bob_events
        .wait_for("incoming_call", DEADLINE, |e| e.kind() == "incoming_call")
        .unwrap();
    // The call window, prepared while it rings, shows the ringing card and
    // then the call: it covers the screen throughout (one window).
    let mut card = None;
    for (phase, (px, py)) in [("ringing", (600, 300)), ("connected", (700, 400))] {
        let (id, _) = wait_geometry(&x, "alice", None, |g| g == full_screen(), &bob);
        let hidden = wait_until(&format!("{phase}: cursor hidden"), DEADLINE, || {
            Ok((x.cursor_pixels_at(px, py)? == 0).then_some(()))
        });
        hidden.unwrap_or_else(|e| panic!("{e:#}\n{}", bob.logs()));
        if let Some(card) = &card {
            assert_eq!(&id, card, "the call window is the ringing card's");
        } else {
            card = Some(id);
            let out = bob.cli().arg("answer").output().unwrap();
            assert!(out.status.success(), "{out:?}");
            bob_events
                .wait_for("connected", DEADLINE, |e| e.kind() == "connected")
                .unwrap_or_else(|e| panic!("{e:#}\n{}", bob.logs()));
        }
    }
    assert!(dialing.wait().unwrap().success());
}

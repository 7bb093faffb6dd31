#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Calls in window mode (the default display) between real `duet up`
//! processes, each on its own Xvfb: the call holds on both sides, and the
//! mixed cases (one side headless) too.

// The call window's geometry: the preview sits in the bottom-right corner.
use duet_gst::window::{
    PREVIEW_HEIGHT, PREVIEW_MARGIN, PREVIEW_WIDTH, WINDOW_HEIGHT, WINDOW_WIDTH,
};
use duet_tests::events::EventStream;
use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::xvfb::{region, Region, Xvfb};
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

/// A node plus the X display it shows its window on (None: headless).
struct Node {
    node: DuetNode,
    x: Option<Xvfb>,
    events: EventStream,
    /// Started with `--quiet` (no ringing sounds).
    quiet: bool,
}

impl Node {
    /// The ringing sound this node must play in `state`: none headless or quiet.
    fn expected_tone(&self, tone: &str) -> Value {
        if self.x.is_some() && !self.quiet {
            Value::from(tone)
        } else {
            Value::Null
        }
    }
}

/// Window-mode nodes are heavy (two nodes, two X servers, screenshots):
/// one test of this file at a time, so a loaded 2-core machine still runs
/// each call at a usable frame rate.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn start(lan: &Lan, i: usize, name: &str, window: bool, extra: &[&str]) -> Node {
    let x = window.then(|| Xvfb::start().unwrap());
    let mut opts = NodeOptions::named(name);
    if let Some(x) = &x {
        opts = opts.window(&x.display);
    }
    for a in extra {
        opts = opts.arg(a);
    }
    let node = DuetNode::start_with(lan.host(i), opts).unwrap();
    let events = node.events().unwrap();
    let quiet = extra.contains(&"--quiet");
    Node {
        node,
        x,
        events,
        quiet,
    }
}

fn pair(alice_window: bool, bob_window: bool, alice_args: &[&str]) -> (Lan, Node, Node) {
    let lan = Lan::new(2).unwrap();
    let alice = start(&lan, 0, "alice", alice_window, alice_args);
    let bob = start(&lan, 1, "bob", bob_window, &[]);
    alice.node.wait_to_meet(&bob.node, DEADLINE).unwrap();
    (lan, alice, bob)
}

/// alice (red) and bob (blue), each in window mode on its own Xvfb,
/// returned once each lists the other.
fn red_and_blue_windows() -> (Lan, Node, Node) {
    let lan = Lan::new(2).unwrap();
    let alice = start(&lan, 0, "alice", true, &["--video", RED]);
    let bob = start(&lan, 1, "bob", true, &["--video", BLUE]);
    alice.node.wait_to_meet(&bob.node, DEADLINE).unwrap();
    (lan, alice, bob)
}

fn call(node: &DuetNode, target: &str) -> Child {
    node.cli()
        .args(["call", target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn run(node: &DuetNode, args: &[&str]) -> String {
    let out = node.cli().args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "duet {}: {text}", args.join(" "));
    text
}

fn call_of(node: &DuetNode) -> Value {
    node.status().unwrap().call
}

fn frames(call: &Value) -> u64 {
    call["stats"]["video_frames_received"].as_u64().unwrap_or(0)
}

/// alice calls bob, bob answers; returns when both are connected.
fn connect(alice: &Node, bob: &Node) {
    let dialing = call(&alice.node, "bob");
    bob.events
        .wait_for("incoming_call", DEADLINE, |e| e.kind() == "incoming_call")
        .unwrap();
    // Ringing: ringback for the caller, ringtone for the callee (window
    // mode, not quiet), then silence.
    let ringing = wait_until("alice to see bob ringing", DEADLINE, || {
        let c = call_of(&alice.node);
        Ok((c["state"] == "ringing").then_some(c))
    })
    .unwrap();
    assert_eq!(
        ringing["tone"],
        alice.expected_tone("ringback"),
        "{ringing}"
    );
    let incoming = call_of(&bob.node);
    assert_eq!(
        incoming["tone"],
        bob.expected_tone("ringtone"),
        "{incoming}"
    );
    run(&bob.node, &["answer"]);
    for n in [alice, bob] {
        n.events
            .wait_for("connected", DEADLINE, |e| e.kind() == "connected")
            .unwrap_or_else(|e| panic!("{e:#}\n{}", n.node.logs()));
    }
    // `duet call` returns once connected.
    assert!(dialing.wait_with_output().unwrap().status.success());
    for n in [alice, bob] {
        assert_eq!(call_of(&n.node)["tone"], Value::Null);
    }
}

/// ≥60 frames both ways within 3 s of `connected` (plus a margin for a
/// loaded machine, printed), still connected 10 s later, then hang up.
fn holds_and_hangs_up(alice: &Node, bob: &Node) {
    let connected = Instant::now();
    for n in [alice, bob] {
        wait_until(
            &format!("{} to show 60 frames", n.node.name),
            DEADLINE,
            || {
                let c = call_of(&n.node);
                assert_ne!(
                    c,
                    Value::Null,
                    "{} lost the call\n{}",
                    n.node.name,
                    n.node.logs()
                );
                Ok((frames(&c) >= 60).then_some(()))
            },
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", n.node.logs()));
    }
    eprintln!(
        "60 frames both ways {:?} after connected",
        connected.elapsed()
    );
    // No sound device here: a window-mode node says so and goes on.
    for n in [alice, bob] {
        let want = if n.x.is_some() {
            "unavailable"
        } else {
            "headless"
        };
        wait_until(&format!("{} audio_output", n.node.name), DEADLINE, || {
            let c = call_of(&n.node);
            Ok((c["stats"]["audio_output"] == want).then_some(()))
        })
        .unwrap_or_else(|e| panic!("{e:#}: {}", call_of(&n.node)));
        if n.x.is_some() {
            let w = n
                .events
                .wait_for("warning", DEADLINE, |e| e.kind() == "warning")
                .unwrap();
            assert_eq!(
                w.value["warning"], "audio-output-unavailable",
                "{}",
                w.value
            );
        }
    }
    let before: Vec<u64> = [alice, bob]
        .iter()
        .map(|n| frames(&call_of(&n.node)))
        .collect();
    // The call must hold: wait 10 s, watching it stay connected.
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        for n in [alice, bob] {
            let c = call_of(&n.node);
            assert_eq!(
                c["state"],
                "connected",
                "{}: {c}\n{}",
                n.node.name,
                n.node.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    for (n, b) in [alice, bob].iter().zip(before) {
        let now = frames(&call_of(&n.node));
        // Still flowing; the rate is the benchmark's business (shared machine).
        assert!(
            now >= b + 30,
            "{}: {b} -> {now} frames in 10 s",
            n.node.name
        );
    }
    run(&bob.node, &["hangup"]);
    for (n, reason) in [(bob, "hangup"), (alice, "remote-hangup")] {
        let ended = n
            .events
            .wait_for("call_ended", DEADLINE, |e| e.kind() == "call_ended")
            .unwrap();
        assert_eq!(ended.value["reason"], reason, "{}", ended.value);
    }
}

/// alice sends red, bob blue: each window's main area must show the other's
/// colour and its preview corner its own.
const RED: &str = "test:red";
const BLUE: &str = "test:blue";

fn red(r: &Region) -> bool {
    r.r > 0.8 && r.g < 0.2 && r.b < 0.2
}

fn blue(r: &Region) -> bool {
    r.b > 0.8 && r.r < 0.2 && r.g < 0.2
}

/// The window's main area (inside the remote picture, clear of the name
/// label and the preview) and the preview corner.
fn window_regions(x: &Xvfb, png: &str) -> (Region, Region) {
    x.screenshot(png).unwrap();
    let main = region(png, 200, 120, 300, 200).unwrap();
    let (pw, ph, m) = (PREVIEW_WIDTH, PREVIEW_HEIGHT, PREVIEW_MARGIN);
    let preview = region(
        png,
        WINDOW_WIDTH - pw - m + 20,
        WINDOW_HEIGHT - ph - m + 20,
        pw - 40,
        ph - 40,
    )
    .unwrap();
    (main, preview)
}

/// The card: text drawn in the middle of an otherwise black window.
fn shows_card(x: &Xvfb, png: &str) -> bool {
    if x.screenshot(png).is_err() {
        return false;
    }
    let middle = region(png, 100, WINDOW_HEIGHT / 2 - 40, WINDOW_WIDTH - 200, 80).unwrap();
    let corner = region(png, 10, WINDOW_HEIGHT - 60, 100, 50).unwrap();
    middle.colours > 4 && middle.stddev > 0.05 && corner.colours <= 2
}

#[test]
fn window_shows_cards_then_remote_video_with_local_preview() {
    let _serial = one_at_a_time();
    let (_lan, alice, bob) = red_and_blue_windows();
    let (ax, bx) = (alice.x.as_ref().unwrap(), bob.x.as_ref().unwrap());
    let pid = std::process::id();
    let png = |who: &str, what: &str| format!("/tmp/duet-window-{who}-{what}-{pid}.png");

    let dialing = call(&alice.node, "bob");
    bob.events
        .wait_for("incoming_call", DEADLINE, |e| e.kind() == "incoming_call")
        .unwrap();
    // Before the answer: both windows show their card, titled after the peer.
    wait_until("bob's ringing card", DEADLINE, || {
        Ok(shows_card(bx, &png("bob", "ringing")).then_some(()))
    })
    .unwrap();
    wait_until("alice's calling card", DEADLINE, || {
        Ok(shows_card(ax, &png("alice", "calling")).then_some(()))
    })
    .unwrap();
    assert!(bx.tree().contains("\"duet — alice\""), "{}", bx.tree());
    assert!(ax.tree().contains("\"duet — bob\""), "{}", ax.tree());
    let (_, preview) = window_regions(ax, &png("alice", "calling"));
    assert!(red(&preview), "alice's preview while calling: {preview:?}");

    run(&bob.node, &["answer"]);
    assert!(dialing.wait_with_output().unwrap().status.success());
    for (n, x, remote, local) in [
        (
            &alice,
            ax,
            blue as fn(&Region) -> bool,
            red as fn(&Region) -> bool,
        ),
        (&bob, bx, red, blue),
    ] {
        let who = &n.node.name;
        let r = wait_until(
            &format!("{who}'s window: remote main, local corner"),
            DEADLINE,
            || {
                let (main, preview) = window_regions(x, &png(who, "call"));
                Ok((remote(&main) && local(&preview)).then_some((main, preview)))
            },
        );
        let (main, preview) = window_regions(x, &png(who, "call"));
        r.unwrap_or_else(|e| panic!("{e:#}: main {main:?}, preview {preview:?}"));
        // Exactly one window of the call's size.
        let tree = x.tree();
        let windows = tree
            .lines()
            .filter(|l| l.contains(&format!("{WINDOW_WIDTH}x{WINDOW_HEIGHT}")))
            .count();
        assert_eq!(windows, 1, "{tree}");
    }
    run(&alice.node, &["hangup"]);
    for (n, x) in [(&alice, ax), (&bob, bx)] {
        n.events
            .wait_for("call_ended", DEADLINE, |e| e.kind() == "call_ended")
            .unwrap();
        wait_until("the window closes", DEADLINE, || {
            Ok((!x
                .tree()
                .contains(&format!("{WINDOW_WIDTH}x{WINDOW_HEIGHT}")))
            .then_some(()))
        })
        .unwrap();
    }
    for who in ["alice", "bob"] {
        for what in ["ringing", "calling", "call"] {
            let _ = std::fs::remove_file(png(who, what));
        }
    }
}

#[test]
fn window_mode_call_holds_on_both_sides() {
    let _serial = one_at_a_time();
    let (_lan, alice, bob) = pair(true, true, &[]);
    connect(&alice, &bob);
    holds_and_hangs_up(&alice, &bob);
}

#[test]
fn headless_caller_and_window_callee() {
    let _serial = one_at_a_time();
    let (_lan, alice, bob) = pair(false, true, &[]);
    connect(&alice, &bob);
    holds_and_hangs_up(&alice, &bob);
}

/// (alice also runs `--quiet`: no ringback.)
#[test]
fn window_caller_and_headless_callee() {
    let _serial = one_at_a_time();
    let (_lan, alice, bob) = pair(true, false, &["--quiet"]);
    connect(&alice, &bob);
    holds_and_hangs_up(&alice, &bob);
}

fn ended(n: &Node) -> String {
    let e = n
        .events
        .wait_for("call_ended", DEADLINE, |e| e.kind() == "call_ended")
        .unwrap_or_else(|e| panic!("{e:#}\n{}", n.node.logs()));
    e.value["reason"].as_str().unwrap_or_default().to_string()
}

#[path = "window_calls/keys.rs"]
mod keys;
#[path = "window_calls/ringing.rs"]
mod ringing;

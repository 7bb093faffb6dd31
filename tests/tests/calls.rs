#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Calls end to end: real `duet up` processes on a simulated LAN call each
//! other by name, with test sources and headless sinks. Deadlines are
//! generous (a loaded 2-core machine); the speed targets are measured by
//! `scripts/bench call`, not asserted here.

use duet_tests::events::EventStream;
use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

const LISTED: Duration = Duration::from_secs(30);
const CONNECTED: Duration = Duration::from_secs(30);

/// A node with test camera and microphone and no window (the harness's
/// defaults), plus `extra` arguments.
fn start(lan: &Lan, i: usize, name: &str, extra: &[&str]) -> DuetNode {
    let mut opts = NodeOptions::named(name);
    for a in extra {
        opts = opts.arg(a);
    }
    DuetNode::start_with(lan.host(i), opts).unwrap()
}

/// Waits until every node lists every other one.
fn mutually_listed(nodes: &[&DuetNode]) {
    let ids: Vec<String> = nodes.iter().map(|n| n.peer_id().unwrap()).collect();
    for (i, n) in nodes.iter().enumerate() {
        let others: Vec<&str> = ids
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, id)| id.as_str())
            .collect();
        n.wait_for_peers(&others, LISTED).unwrap();
    }
}

/// A LAN of two hosts with alice and bob (plus their `extra` arguments)
/// listing each other.
fn alice_and_bob(alice_args: &[&str], bob_args: &[&str]) -> (Lan, DuetNode, DuetNode) {
    let lan = Lan::new(2).unwrap();
    let alice = start(&lan, 0, "alice", alice_args);
    let bob = start(&lan, 1, "bob", bob_args);
    mutually_listed(&[&alice, &bob]);
    (lan, alice, bob)
}

/// `duet call TARGET` in the background.
fn call(node: &DuetNode, target: &str) -> Child {
    node.cli()
        .args(["call", target])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (Output, String) {
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

fn run(node: &DuetNode, args: &[&str]) -> (Output, String) {
    let child = node
        .cli()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child)
}

fn call_of(node: &DuetNode) -> Value {
    node.status().unwrap().call
}

/// Waits until `node`'s call is connected with at least `frames` video
/// frames and `buffers` audio buffers received; returns the call.
fn wait_media(node: &DuetNode, frames: u64, buffers: u64) -> Value {
    let what = format!(
        "{} to receive {frames} frames and {buffers} audio buffers",
        node.name
    );
    wait_until(&what, CONNECTED, || {
        let c = call_of(node);
        let s = &c["stats"];
        let ok = c["state"] == "connected"
            && s["video_frames_received"].as_u64().unwrap_or(0) >= frames
            && s["audio_buffers_received"].as_u64().unwrap_or(0) >= buffers;
        Ok(ok.then_some(c))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()))
}

fn wait_no_call(node: &DuetNode, deadline: Duration) {
    wait_until(&format!("{} to have no call", node.name), deadline, || {
        let s = node.status()?;
        Ok((s.call.is_null() && s.status == "available").then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()));
}

#[test]
fn call_by_name_answer_talk_and_hang_up() {
    let (_lan, alice, bob) = alice_and_bob(&[], &[]);
    let alice_id = alice.peer_id().unwrap();
    let bob_id = bob.peer_id().unwrap();
    let bob_events = bob.events().unwrap();
    let alice_events = alice.events().unwrap();

    let dialing = call(&alice, "bob");
    let incoming = bob_events
        .wait_for("incoming_call", CONNECTED, |e| e.kind() == "incoming_call")
        .unwrap();
    assert_eq!(incoming.value["call"]["peer_id"], alice_id.as_str());
    assert_eq!(incoming.value["call"]["peer_name"], "alice");
    assert_eq!(incoming.value["call"]["direction"], "incoming");
    let ringing = wait_until("alice to see bob ringing", CONNECTED, || {
        let c = call_of(&alice);
        Ok((c["state"] == "ringing").then_some(c))
    })
    .unwrap();
    assert_eq!(ringing["peer_id"], bob_id.as_str());
    assert_eq!(bob.status().unwrap().status, "in-call");

    let (out, text) = run(&bob, &["answer"]);
    assert!(out.status.success(), "{text}");
    let (out, text) = finish(dialing);
    assert!(out.status.success(), "duet call: {text}\n{}", alice.logs());
    assert!(text.contains("connected to bob"), "{text}");

    // Media flows both ways, and keeps flowing.
    for node in [&alice, &bob] {
        let first = wait_media(node, 60, 50);
        let later = wait_media(
            node,
            first["stats"]["video_frames_received"].as_u64().unwrap() + 30,
            first["stats"]["audio_buffers_received"].as_u64().unwrap() + 30,
        );
        assert!(later["stats"]["bytes_received"].as_u64().unwrap() > 0);
        assert!(later["stats"]["video_frames_sent"].as_u64().unwrap() > 0);
        assert_eq!(later["id"], first["id"]);
        assert!(later["started_at"].as_f64().unwrap() > 1.6e9);
    }
    let a = call_of(&alice);
    assert_eq!(a["direction"], "outgoing");
    assert!(a.get("stats").unwrap().get("rtt_ms").is_some(), "{a}");
    alice_events
        .wait_for("connected", CONNECTED, |e| e.kind() == "connected")
        .unwrap();
    // Peers see both as in a call.
    wait_until("bob listed in-call", LISTED, || {
        let peers = alice.peers()?;
        Ok(peers
            .iter()
            .any(|p| p.peer_id == bob_id && p.status == "in-call")
            .then_some(()))
    })
    .unwrap();

    let (out, text) = run(&alice, &["hangup"]);
    assert!(out.status.success(), "{text}");
    for node in [&alice, &bob] {
        wait_no_call(node, Duration::from_secs(15));
    }
    let ended = bob_events
        .wait_for("call_ended", LISTED, |e| e.kind() == "call_ended")
        .unwrap();
    assert_eq!(ended.value["reason"], "remote-hangup", "{}", ended.value);
    let ended = alice_events
        .wait_for("call_ended", LISTED, |e| e.kind() == "call_ended")
        .unwrap();
    assert_eq!(ended.value["reason"], "hangup");
    let (out, text) = run(&alice, &["hangup"]);
    assert!(!out.status.success() && text.contains("no call"), "{text}");
}

#[test]
fn declined_and_unanswered_calls_report_their_reason() {
    let (_lan, alice, bob) = alice_and_bob(&["--ring-timeout", "2"], &["--ring-timeout", "60"]);
    let bob_events = bob.events().unwrap();

    let dialing = call(&alice, "bob");
    bob_events
        .wait_for("incoming_call", CONNECTED, |e| e.kind() == "incoming_call")
        .unwrap();
    let (out, text) = run(&bob, &["reject"]);
    assert!(out.status.success(), "{text}");
    let (out, text) = finish(dialing);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("declined"), "{text}");
    let ended = bob_events
        .wait_for("call_ended", CONNECTED, |e| e.kind() == "call_ended")
        .unwrap();
    assert_eq!(ended.value["reason"], "declined", "{}", ended.value);
    wait_no_call(&alice, Duration::from_secs(10));
    wait_no_call(&bob, Duration::from_secs(10));

    // Nobody answers: the caller's 2 s ring timeout ends it, on both sides.
    let dialing = call(&alice, "bob");
    let (out, text) = finish(dialing);
    assert_eq!(out.status.code(), Some(6), "{text}");
    assert!(text.contains("timeout"), "{text}");
    let ended = bob_events
        .wait_for("call_ended", CONNECTED, |e| e.kind() == "call_ended")
        .unwrap();
    assert_eq!(ended.value["reason"], "timeout", "{}", ended.value);
    wait_no_call(&bob, Duration::from_secs(10));
    let (out, text) = run(&bob, &["answer"]);
    assert!(
        !out.status.success() && text.contains("no incoming call"),
        "{text}"
    );

    // Do-not-disturb: invites are answered busy without ringing.
    let set = bob.request(&serde_json::json!({"cmd": "set_status", "status": "dnd"}));
    assert_eq!(set.unwrap()["ok"], true);
    let (out, text) = finish(call(&alice, "bob"));
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("busy"), "{text}");
    assert!(bob.status().unwrap().call.is_null());
}

/// alice calls bob (who answers at once) and media flows; returns bob's call.
fn call_auto_answered(alice: &DuetNode, bob: &DuetNode) -> Value {
    let (out, text) = finish(call(alice, "bob"));
    assert!(out.status.success(), "{text}\n{}", bob.logs());
    wait_media(alice, 30, 30);
    wait_media(bob, 30, 30)
}

/// Waits for `call_ended` on `events`; checks the peer was found gone and
/// the node is free again; returns how long after `since` it came.
fn ended_as_lost(node: &DuetNode, events: &EventStream, since: Instant) -> Duration {
    let ended = events
        .wait_for("call_ended", Duration::from_secs(20), |e| {
            e.kind() == "call_ended"
        })
        .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()));
    let reason = ended.value["reason"].as_str().unwrap().to_string();
    assert!(
        ["peer-lost", "media-failed"].contains(&reason.as_str()),
        "{}",
        ended.value
    );
    wait_no_call(node, Duration::from_secs(10));
    let after = ended.at.duration_since(since);
    eprintln!(
        "{}: call ended {after:?} after the peer vanished ({reason})",
        node.name
    );
    after
}

#[test]
fn third_caller_gets_busy_and_the_call_goes_on() {
    let lan = Lan::new(3).unwrap();
    let alice = start(&lan, 0, "alice", &[]);
    let bob = start(&lan, 1, "bob", &duet_tests::node::AUTO_ANSWER_ANY);
    let carol = start(&lan, 2, "carol", &[]);
    mutually_listed(&[&alice, &bob, &carol]);
    let before = call_auto_answered(&alice, &bob);

    let (out, text) = finish(call(&carol, "bob"));
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("busy"), "{text}");
    wait_no_call(&carol, Duration::from_secs(10));

    let frames = before["stats"]["video_frames_received"].as_u64().unwrap();
    let after = wait_media(&bob, frames + 30, 0);
    assert_eq!(after["id"], before["id"], "the first call goes on");
    assert_eq!(after["peer_name"], "alice");
}

#[test]
fn killed_peer_ends_the_call_and_frees_the_caller() {
    let (_lan, alice, mut bob) = alice_and_bob(&[], &duet_tests::node::AUTO_ANSWER_ANY);
    let alice_events = alice.events().unwrap();
    call_auto_answered(&alice, &bob);

    let killed = Instant::now();
    bob.kill().unwrap();
    ended_as_lost(&alice, &alice_events, killed);
}

#[test]
fn network_loss_ends_the_call_on_both_sides() {
    let (lan, alice, bob) = alice_and_bob(&[], &duet_tests::node::AUTO_ANSWER_ANY);
    let (alice_events, bob_events) = (alice.events().unwrap(), bob.events().unwrap());
    call_auto_answered(&alice, &bob);

    let unplugged = Instant::now();
    lan.set_link(lan.host(1), false).unwrap();
    ended_as_lost(&alice, &alice_events, unplugged);
    ended_as_lost(&bob, &bob_events, unplugged);
}

#[test]
fn calling_each_other_at_once_connects_one_call() {
    let (_lan, alice, bob) = alice_and_bob(&[], &[]);
    let (to_bob, to_alice) = (call(&alice, "bob"), call(&bob, "alice"));
    for (dialing, who) in [(to_bob, "alice"), (to_alice, "bob")] {
        let (out, text) = finish(dialing);
        assert!(out.status.success(), "{who}'s call: {text}");
    }
    let (a, b) = (wait_media(&alice, 30, 30), wait_media(&bob, 30, 30));
    assert_eq!(a["id"], b["id"], "one call, seen from both sides");
    let mut directions = [a["direction"].clone(), b["direction"].clone()];
    directions.sort_by_key(|d| d.to_string());
    assert_eq!(directions, ["incoming", "outgoing"]);
}

#[test]
fn a_callee_that_cannot_take_the_offer_says_why() {
    let (_lan, alice, bob) = alice_and_bob(
        &["--codec", "h264"],
        &["--codec", "vp8", "--auto-answer", "--accept-from", "any"],
    );
    let (out, text) = finish(call(&alice, "bob"));
    assert_eq!(out.status.code(), Some(8), "{text}");
    assert!(
        text.contains("media-failed") && text.contains("peer's side"),
        "{text}"
    );
    assert!(
        text.to_lowercase().contains("h264") || text.contains("VP8"),
        "{text}"
    );
    wait_no_call(&alice, Duration::from_secs(10));
    wait_no_call(&bob, Duration::from_secs(10));
}

#[test]
fn unknown_names_and_self_calls_are_clear_errors() {
    let (_lan, alice, bob) = alice_and_bob(&[], &[]);
    let alice_id = alice.peer_id().unwrap();
    let bob_id = bob.peer_id().unwrap();

    let (out, text) = finish(call(&alice, "mallory"));
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("no peer called \"mallory\""), "{text}");
    assert!(
        text.contains(&format!("bob ({bob_id})")),
        "lists who can be called: {text}"
    );
    for me in ["alice", alice_id.as_str()] {
        let (out, text) = finish(call(&alice, me));
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("cannot call yourself"), "{text}");
    }
    assert!(alice.status().unwrap().call.is_null());
    // A call to a PeerId that is not on the LAN is the same clear error.
    let (out, text) = finish(call(
        &alice,
        "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
    ));
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("no peer called"), "{text}");
}

#[test]
fn window_display_without_a_display_is_a_clear_error() {
    let lan = Lan::new(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = lan
        .host(0)
        .command(duet_tests::node::duet_bin())
        .args([
            "up",
            "--name",
            "w",
            "--display",
            "window",
            "--video",
            "test",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--control")
        .arg(dir.path().join("c.sock"))
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--display none") && err.contains("DISPLAY"),
        "{err}"
    );
}

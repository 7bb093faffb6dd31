#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Mute, signalled: `duet mute audio|video` on one node shows up in the
//! other's `status --json` (`remote_muted`) and `duet events`
//! (`remote_muted`), between real `duet up` processes on a simulated LAN.
//! Deadlines are generous (a loaded 2-core machine), not latency targets.

use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// `duet ARGS` against `node`: (success, stdout + stderr).
fn duet(node: &DuetNode, args: &[&str]) -> (bool, String) {
    let out = node.cli().args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Waits until `node`'s call satisfies `pred`; returns it.
fn wait_call(node: &DuetNode, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    wait_until(&format!("{}: {what}", node.name), DEADLINE, || {
        let call = node.status()?.call;
        Ok(pred(&call).then_some(call))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()))
}

fn muted(call: &Value, side: &str, kind: &str) -> bool {
    call[side][kind] == true
}

/// Peak of the last remote audio buffer (the test tone peaks at 0.2).
fn peak(call: &Value) -> f64 {
    call["stats"]["audio_peak_received"]
        .as_f64()
        .unwrap_or(f64::NAN)
}

#[test]
fn mute_is_signalled_to_the_peer() {
    let lan = Lan::new(2).unwrap();
    let alice = DuetNode::start_with(lan.host(0), NodeOptions::named("alice")).unwrap();
    let bob_opts = NodeOptions::named("bob").args(duet_tests::node::AUTO_ANSWER_ANY);
    let bob = DuetNode::start_with(lan.host(1), bob_opts).unwrap();
    let bob_id = bob.peer_id().unwrap();
    alice.wait_for_peers(&[&bob_id], DEADLINE).unwrap();

    let (ok, text) = duet(&alice, &["mute", "audio"]);
    assert!(
        !ok && text.contains("no call"),
        "mute without a call: {text}"
    );
    let (ok, text) = duet(&alice, &["mute", "smell"]);
    assert!(!ok && text.contains("audio or video"), "{text}");

    let bob_events = bob.events().unwrap();
    let (ok, text) = duet(&alice, &["call", "bob"]);
    assert!(ok, "{text}\n{}", bob.logs());
    let flowing = |c: &Value| {
        c["state"] == "connected" && c["stats"]["audio_buffers_received"].as_u64() > Some(20)
    };
    let before = wait_call(&bob, "alice's tone", |c| flowing(c) && peak(c) > 0.05);
    assert!(!muted(&before, "remote_muted", "audio"), "{before}");
    assert!(!muted(&before, "muted", "audio"), "{before}");

    let (ok, text) = duet(&alice, &["mute", "audio"]);
    assert!(ok && text.contains("muted audio"), "{text}");
    let a = alice.status().unwrap().call;
    assert!(
        muted(&a, "muted", "audio") && !muted(&a, "muted", "video"),
        "{a}"
    );
    let b = wait_call(&bob, "alice's audio muted", |c| {
        muted(c, "remote_muted", "audio")
    });
    assert!(!muted(&b, "remote_muted", "video"), "{b}");
    let ev = bob_events
        .wait_for("remote_muted", DEADLINE, |e| e.kind() == "remote_muted")
        .unwrap();
    assert_eq!(
        ev.value["call"]["remote_muted"]["audio"], true,
        "{}",
        ev.value
    );
    assert_eq!(ev.value["call"]["peer_name"], "alice");

    // Muted audio is sent as silence: the stream goes on, silent.
    let n = b["stats"]["audio_buffers_received"].as_u64().unwrap();
    let silent = wait_call(&bob, "silence from alice", |c| peak(c) < 0.01);
    wait_call(&bob, "audio still flowing while muted", |c| {
        c["stats"]["audio_buffers_received"].as_u64() > Some(n + 50) && peak(c) < 0.01
    });
    eprintln!(
        "peak before mute {}, muted {}",
        peak(&before),
        peak(&silent)
    );

    let (ok, text) = duet(&alice, &["unmute", "audio"]);
    assert!(ok, "{text}");
    wait_call(&bob, "alice's audio unmuted", |c| {
        !muted(c, "remote_muted", "audio")
    });
    wait_call(&bob, "alice's tone again", |c| peak(c) > 0.05);
    let ev = bob_events
        .wait_for("remote_muted (unmute)", DEADLINE, |e| {
            e.kind() == "remote_muted" && e.value["call"]["remote_muted"]["audio"] == false
        })
        .unwrap();
    assert_eq!(ev.value["call"]["remote_muted"]["video"], false);

    // The other way: bob's camera off shows on alice's side.
    let (ok, text) = duet(&bob, &["mute", "video"]);
    assert!(ok, "{text}");
    let a = wait_call(&alice, "bob's video muted", |c| {
        muted(c, "remote_muted", "video")
    });
    assert!(!muted(&a, "remote_muted", "audio"), "{a}");
    assert!(muted(&bob.status().unwrap().call, "muted", "video"));
}

#[test]
fn a_callee_muted_while_ringing_answers_muted() {
    let lan = Lan::new(2).unwrap();
    let alice = DuetNode::start_with(lan.host(0), NodeOptions::named("alice")).unwrap();
    let bob = DuetNode::start_with(lan.host(1), NodeOptions::named("bob")).unwrap();
    alice
        .wait_for_peers(&[&bob.peer_id().unwrap()], DEADLINE)
        .unwrap();
    let dialing = alice.cli().args(["call", "bob"]).spawn().unwrap();
    wait_call(&bob, "ringing", |c| c["state"] == "ringing");
    let (ok, text) = duet(&bob, &["mute", "audio"]);
    assert!(ok, "{text}");
    wait_call(&alice, "bob's audio muted before the answer", |c| {
        c["state"] == "ringing" && muted(c, "remote_muted", "audio")
    });
    let (ok, text) = duet(&bob, &["answer"]);
    assert!(ok, "{text}");
    let out = dialing.wait_with_output().unwrap();
    assert!(out.status.success());
    // The media started after the mute, muted: alice hears only silence.
    let c = wait_call(&alice, "audio from bob", |c| {
        c["stats"]["audio_buffers_received"].as_u64() > Some(50)
    });
    assert!(peak(&c) < 0.01, "{c}");
    assert!(muted(&bob.status().unwrap().call, "muted", "audio"));
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! How a node's own state reaches its peers when things end: a node
//! stopped mid-call (SIGTERM) hangs up properly, and a call that fails at
//! once leaves no stale `in-call` in the presence others see.

use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use std::process::Stdio;
use std::time::{Duration, Instant};

const LISTED: Duration = Duration::from_secs(30);

fn start(lan: &Lan, i: usize, name: &str, extra: &[&str]) -> DuetNode {
    let opts = extra.iter().fold(NodeOptions::named(name), |o, a| o.arg(a));
    DuetNode::start_with(lan.host(i), opts).unwrap()
}

/// `who`'s status as `node` lists it.
fn status_seen(node: &DuetNode, who: &str) -> Option<String> {
    node.peers()
        .ok()?
        .into_iter()
        .find(|p| p.peer_id == who)
        .map(|p| p.status)
}

#[test]
fn sigterm_mid_call_hangs_up_instead_of_vanishing() {
    let lan = Lan::new(2).unwrap();
    let mut alice = start(&lan, 0, "alice", &[]);
    let bob = start(&lan, 1, "bob", &["--auto-answer"]);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    let events = bob.events().unwrap();
    let out = alice
        .cli()
        .args(["call", "bob"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    events
        .wait_for("bob connected", Duration::from_secs(30), |e| {
            e.kind() == "connected"
        })
        .unwrap();
    let since = Instant::now();
    assert!(alice.stop().unwrap().success(), "{}", alice.logs());
    let ended = events
        .wait_for("bob's call to end", Duration::from_secs(20), |e| {
            e.kind() == "call_ended"
        })
        .unwrap();
    assert_eq!(
        ended.value["reason"],
        "remote-hangup",
        "{:?} after {:?}",
        ended.value,
        since.elapsed()
    );
    // And the DNS-SD goodbye / offline presence took alice off bob's list.
    wait_until("bob to drop alice", LISTED, || {
        Ok(bob.peers()?.iter().all(|p| p.peer_id != a).then_some(()))
    })
    .unwrap();
}

#[test]
fn a_call_that_fails_at_once_leaves_no_in_call_presence() {
    let lan = Lan::new(2).unwrap();
    // No such camera: each call fails as soon as its media starts.
    let alice = start(&lan, 0, "alice", &["--video", "/dev/duet-no-such-camera"]);
    let bob = start(&lan, 1, "bob", &[]);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    for round in 0..5 {
        let out = alice.cli().args(["call", "bob"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            !out.status.success() && text.contains("media-failed"),
            "{text}"
        );
        // Presence heartbeats repeat the last status published: a stale
        // `in-call` would stay.
        wait_until(
            &format!("round {round}: bob to see alice available"),
            Duration::from_secs(15),
            || Ok((status_seen(&bob, &a).as_deref() == Some("available")).then_some(())),
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", alice.logs()));
    }
}

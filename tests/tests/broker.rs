#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The broker end to end: real `duet broker` and `duet up` processes on a
//! routed LAN (two subnets, each its own bridge, joined by a router that
//! forwards unicast and not multicast). Deadlines are generous (a loaded
//! 2-core machine); the speed targets are measured by `scripts/bench broker`.

use duet_tests::broker::DuetBroker;
use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;

const LISTED: Duration = Duration::from_secs(20);
const CONNECTED: Duration = Duration::from_secs(30);

fn start(lan: &Lan, i: usize, name: &str, extra: &[&str]) -> DuetNode {
    let mut opts = NodeOptions::named(name);
    for a in extra {
        opts = opts.arg(a);
    }
    DuetNode::start_with(lan.host(i), opts).unwrap()
}

fn broker_state(node: &DuetNode) -> String {
    let s = node.status().unwrap();
    s.brokers
        .first()
        .and_then(|b| b["state"].as_str())
        .unwrap_or("none")
        .to_string()
}

fn wait_media(node: &DuetNode, frames: u64) -> Value {
    let what = format!("{} to receive {frames} frames", node.name);
    wait_until(&what, CONNECTED, || {
        let c = node.status()?.call;
        let ok = c["state"] == "connected"
            && c["stats"]["video_frames_received"].as_u64().unwrap_or(0) >= frames;
        Ok(ok.then_some(c))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()))
}

#[test]
fn routed_subnets_keep_mdns_apart() {
    // alice and bob share subnet 1; carol is on subnet 2.
    let lan = Lan::routed(2, 2).unwrap();
    let alice = start(&lan, 0, "alice", &[]);
    let bob = start(&lan, 1, "bob", &[]);
    let carol = start(&lan, 2, "carol", &[]);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    // The router forwards unicast: carol's host reaches alice's over TCP...
    let reach = lan
        .host(2)
        .command("python3")
        .args([
            "-c",
            &format!(
                "import socket; socket.create_connection(('{}', 9), 2)",
                lan.host(0).ip
            ),
        ])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&reach.stderr);
    assert!(err.contains("ConnectionRefused"), "{err}");
    // ...but not mDNS: by the time the same-subnet pair listed each other,
    // and a few announcement rounds later, nobody sees across the router.
    std::thread::sleep(Duration::from_secs(3));
    assert!(carol.peers().unwrap().is_empty(), "{:?}", carol.peers());
    assert_eq!(alice.peers().unwrap().len(), 1);
    assert_eq!(bob.peers().unwrap().len(), 1);
}

#[test]
fn nodes_on_two_subnets_meet_through_the_broker_and_call() {
    // broker and alice on subnet 1, bob on subnet 2.
    let lan = Lan::routed(2, 2).unwrap();
    let broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    let alice = start(&lan, 1, "alice", &["--broker", &broker.addr]);
    let bob = start(&lan, 2, "bob", &["--broker", &broker.addr, "--auto-answer"]);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    let peers = alice.wait_for_peers(&[&b], LISTED).unwrap();
    assert_eq!(peers[0].name, "bob");
    assert_eq!(peers[0].via, ["broker"]);
    assert!(peers[0]
        .addrs
        .iter()
        .any(|x| x.contains(&lan.host(2).ip.to_string())));
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    assert_eq!(broker_state(&alice), "connected");
    assert_eq!(broker_state(&bob), "connected");
    let logs = broker.logs();
    assert!(logs.contains(&format!("{a} registered")), "{logs}");

    let out = alice.cli().args(["call", "bob"]).output().unwrap();
    assert!(out.status.success(), "{out:?}\n{}", alice.logs());
    wait_media(&alice, 60);
    wait_media(&bob, 60);
    let out = alice.cli().args(["hangup"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    wait_until("bob's call to end", CONNECTED, || {
        Ok(bob.status()?.call.is_null().then_some(()))
    })
    .unwrap();
}

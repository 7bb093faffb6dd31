#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The broker end to end: real `duet broker` and `duet up` processes on a
//! routed LAN (two subnets, each its own bridge, joined by a router that
//! forwards unicast and not multicast). Deadlines are generous (a loaded
//! 2-core machine); the speed targets are measured by `scripts/bench broker`.

use duet_tests::broker::DuetBroker;
use duet_tests::node::{DuetNode, NodeOptions, Peer};
use duet_tests::{wait_until, Filter, Lan};
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

/// Waits until `node` lists `peer` as found `via`; returns its peer list.
fn wait_via(node: &DuetNode, peer: &str, via: &[&str]) -> Vec<Peer> {
    let what = format!("{} to list {peer} via {via:?}", node.name);
    wait_until(&what, LISTED, || {
        let peers = node.peers()?;
        let ok = peers.iter().any(|p| p.peer_id == peer && p.via == via);
        Ok(ok.then_some(peers))
    })
    .unwrap_or_else(|e| panic!("{e:#}\nlisted: {:?}\n{}", node.peers(), node.logs()))
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

/// A node that answers anyone at once, registered at `broker`.
fn answerer(lan: &Lan, i: usize, name: &str, broker: &str) -> DuetNode {
    let args = ["--broker", broker, "--auto-answer", "--accept-from", "any"];
    start(lan, i, name, &args)
}

/// `caller` calls `callee` (an [`answerer`]): media both ways over `route`, then hang up.
fn call_and_hang_up(caller: &DuetNode, callee: &DuetNode, route: &str) {
    let out = caller.cli().args(["call", &callee.name]).output().unwrap();
    assert!(out.status.success(), "{out:?}\n{}", caller.logs());
    wait_route(caller, route);
    wait_route(callee, route);
    wait_media(caller, 60);
    wait_media(callee, 60);
    hang_up(caller, callee);
}

/// `caller` hangs up; returns once `callee` has no call either.
fn hang_up(caller: &DuetNode, callee: &DuetNode) {
    let out = caller.cli().args(["hangup"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let what = format!("{}'s call to end", callee.name);
    wait_until(&what, CONNECTED, || {
        Ok(callee.status()?.call.is_null().then_some(()))
    })
    .unwrap();
}

/// Waits until `node`'s call reports its media `route`.
fn wait_route(node: &DuetNode, route: &str) {
    let what = format!("{}'s call to go {route}", node.name);
    wait_until(&what, CONNECTED, || {
        let c = node.status()?.call;
        Ok((c["stats"]["route"] == route).then_some(()))
    })
    .unwrap_or_else(|e| {
        panic!(
            "{e:#}\n{:?}\n{}",
            node.status().map(|s| s.call),
            node.logs()
        )
    });
}

/// Whether `node` holds TURN credentials from its first broker.
fn has_turn(node: &DuetNode) -> bool {
    let s = node.status().unwrap();
    s.brokers.first().is_some_and(|b| b["turn"] == true)
}

/// Sends random datagrams (and a STUN-looking header with junk) from `from`
/// to `to:port` over UDP.
fn udp_garbage(from: &duet_tests::Host, to: std::net::Ipv4Addr, port: u16) {
    let script = format!(
        "import socket,os\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         for n in (0, 1, 20, 100, 1400, 9000):\n  s.sendto(os.urandom(n), ('{to}', {port}))\n\
         s.sendto(bytes([0,1,0,8,0x21,0x12,0xa4,0x42]) + os.urandom(20), ('{to}', {port}))\n\
         s.sendto(bytes([0,3,0xff,0xff,0x21,0x12,0xa4,0x42]) + os.urandom(40), ('{to}', {port}))"
    );
    let out = from
        .command("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
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
    // alice also names a broker that does not exist: she starts anyway.
    let nowhere = "/ip4/10.77.2.99/tcp/7170/ws";
    let alice = start(
        &lan,
        1,
        "alice",
        &["--broker", nowhere, "--broker", &broker.addr],
    );
    let bob = answerer(&lan, 2, "bob", &broker.addr);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    let brokers = alice.status().unwrap().brokers;
    assert_eq!(brokers[0]["addr"], nowhere);
    assert_eq!(brokers[0]["state"], "connecting", "{brokers:?}");
    let warning = format!("broker {nowhere} unreachable");
    wait_until("alice to warn of the missing broker", LISTED, || {
        Ok(alice.logs().contains(&warning).then_some(()))
    })
    .unwrap();
    // The newer node dials the one the broker handed it; the other hears of
    // it from the broker at its next discovery (every 2 s).
    let peers = wait_via(&alice, &b, &["broker"]);
    assert_eq!(peers[0].name, "bob");
    assert!(peers[0]
        .addrs
        .iter()
        .any(|x| x.contains(&lan.host(2).ip.to_string())));
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    assert_eq!(alice.status().unwrap().brokers[1]["state"], "connected");
    assert_eq!(broker_state(&bob), "connected");
    let logs = broker.logs();
    assert!(logs.contains(&format!("{a} registered")), "{logs}");

    // UDP routes between the subnets: the media goes straight.
    call_and_hang_up(&alice, &bob, "direct");
    // Link-local candidates cannot cross the router: neither side sends them.
    for n in [&alice, &bob] {
        let logs = n.logs();
        assert!(
            logs.contains("not sending a link-local candidate"),
            "{logs}"
        );
    }
}

#[test]
fn broker_restart_nodes_come_back_and_direct_calls_keep_going() {
    // broker and alice on subnet 1; bob and carol on subnet 2.
    let lan = Lan::routed(2, 2).unwrap();
    let mut broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    let alice = start(&lan, 1, "alice", &["--broker", &broker.addr]);
    let bob = answerer(&lan, 2, "bob", &broker.addr);
    let carol = start(&lan, 3, "carol", &["--broker", &broker.addr]);
    let ids: Vec<String> = [&alice, &bob, &carol]
        .iter()
        .map(|n| n.peer_id().unwrap())
        .collect();
    bob.wait_for_peers(&[&ids[0], &ids[2]], LISTED).unwrap();
    // carol is seen both ways (same subnet, same broker): one entry.
    let peers = wait_via(&bob, &ids[2], &["mdns", "broker"]);
    assert_eq!(peers.len(), 2, "{peers:?}");
    alice.wait_for_peers(&[&ids[1], &ids[2]], LISTED).unwrap();

    let out = alice.cli().args(["call", "bob"]).output().unwrap();
    assert!(out.status.success(), "{out:?}\n{}", alice.logs());
    let before = wait_media(&bob, 30);
    let frames = before["stats"]["video_frames_received"].as_u64().unwrap();

    broker.kill().unwrap();
    wait_until("alice to see the broker gone", LISTED, || {
        Ok((broker_state(&alice) == "connecting").then_some(()))
    })
    .unwrap();
    // The direct call does not need the broker.
    wait_media(&bob, frames + 60);
    wait_media(&alice, 60);

    broker.restart().unwrap();
    for n in [&alice, &bob, &carol] {
        wait_until(
            &format!("{} to re-register", n.name),
            Duration::from_secs(10),
            || Ok((broker_state(n) == "connected").then_some(())),
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", n.logs()));
    }
    alice.wait_for_peers(&[&ids[1], &ids[2]], LISTED).unwrap();
    let logs = broker.logs();
    for id in &ids {
        let n = logs.matches(&format!("{id} registered")).count();
        assert_eq!(n, 2, "{id} registered {n} times:\n{logs}");
    }
    assert_eq!(alice.status().unwrap().call["state"], "connected");
}

#[test]
fn only_nodes_with_the_network_key_are_admitted() {
    // broker and alice on subnet 1; bob and mallory on subnet 2.
    let lan = Lan::routed(2, 2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("net.key");
    let wrong = dir.path().join("wrong.key");
    for k in [&key, &wrong] {
        let out = std::process::Command::new(duet_tests::node::duet_bin())
            .args(["network-key", "new"])
            .arg(k)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let key = key.to_str().unwrap();
    let broker = DuetBroker::start(lan.host(0), &["--network-key", key]).unwrap();
    assert!(!broker.logs().contains("OPEN"), "{}", broker.logs());
    let with_key = |i, name| {
        start(
            &lan,
            i,
            name,
            &["--broker", &broker.addr, "--network-key", key],
        )
    };
    let alice = with_key(1, "alice");
    let bob = with_key(2, "bob");
    // mallory holds another key and has no mDNS: only the broker could list her.
    let mallory = start(
        &lan,
        3,
        "mallory",
        &[
            "--broker",
            &broker.addr,
            "--network-key",
            wrong.to_str().unwrap(),
            "--no-mdns",
        ],
    );
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    wait_until("mallory to be refused", LISTED, || {
        Ok((broker_state(&mallory) == "refused").then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", mallory.logs()));
    let m = mallory.peer_id().unwrap();
    // Only admitted nodes get TURN credentials.
    wait_until("alice to get TURN credentials", LISTED, || {
        Ok(has_turn(&alice).then_some(()))
    })
    .unwrap();
    assert!(
        !has_turn(&mallory),
        "{:?}",
        mallory.status().unwrap().brokers
    );
    assert!(broker.logs().contains(&format!("{m} refused")));
    assert!(!broker.logs().contains(&format!("{m} registered")));

    // Garbage on the broker's port leaves it serving.
    let garbage = lan
        .host(1)
        .command("python3")
        .args([
            "-c",
            &format!(
                "import socket,os\nfor n in (1, 100, 70000):\n  s=socket.create_connection(('{}', {}), 5)\n  s.sendall(os.urandom(n)); s.close()",
                lan.host(0).ip,
                duet_tests::broker::WS_PORT
            ),
        ])
        .output()
        .unwrap();
    assert!(garbage.status.success(), "{garbage:?}");
    let carol = with_key(3, "carol");
    let c = carol.peer_id().unwrap();
    alice.wait_for_peers(&[&b, &c], LISTED).unwrap();
    // Nobody ever listed mallory, nor she anyone.
    assert!(mallory.peers().unwrap().is_empty());
    for n in [&alice, &bob, &carol] {
        assert!(n.peers().unwrap().iter().all(|p| p.peer_id != m));
    }
}

#[path = "broker/relay.rs"]
mod relay;

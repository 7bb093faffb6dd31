#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! LAN discovery end to end: real `duet up` processes on a simulated LAN.
//! Deadlines are generous (a loaded 2-core machine); the timing targets
//! themselves are measured by `scripts/bench discovery`.

use duet_tests::dnssd::dnssd_browse;
use duet_tests::node::{DuetNode, NodeOptions, Peer};
use duet_tests::Lan;
use std::process::Stdio;
use std::time::{Duration, Instant};

const LISTED: Duration = Duration::from_secs(30);

fn ids(nodes: &[&DuetNode]) -> Vec<String> {
    nodes.iter().map(|n| n.peer_id().unwrap()).collect()
}

fn find<'a>(peers: &'a [Peer], id: &str) -> &'a Peer {
    peers.iter().find(|p| p.peer_id == id).unwrap()
}

#[test]
fn three_hosts_list_each_other_and_a_dnssd_browser_sees_them() {
    let lan = Lan::new(4).unwrap();
    let names = ["alice", "bob", "carol"];
    let nodes: Vec<DuetNode> = (0..3)
        .map(|i| DuetNode::start(lan.host(i), names[i]).unwrap())
        .collect();
    let ids = ids(&nodes.iter().collect::<Vec<_>>());
    for (i, node) in nodes.iter().enumerate() {
        let others: Vec<&str> = (0..3)
            .filter(|j| *j != i)
            .map(|j| ids[j].as_str())
            .collect();
        let peers = node.wait_for_peers(&others, LISTED).unwrap();
        for j in (0..3).filter(|j| *j != i) {
            let p = find(&peers, &ids[j]);
            assert_eq!(p.name, names[j]);
            assert_eq!(p.status, "available");
            assert!(!p.addrs.is_empty(), "{p:?}");
            assert!(ids[j].ends_with(&p.short_id));
        }
    }
    // An independent DNS-SD implementation in a fourth host.
    let seen = dnssd_browse(lan.host(3), 3, Duration::from_secs(20)).unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for (i, name) in names.iter().enumerate() {
        let s = seen
            .iter()
            .find(|s| s["peer_id"] == ids[i].as_str())
            .unwrap_or_else(|| panic!("browser did not see {name}: {seen:?}"));
        assert!(s["instance"].as_str().unwrap().contains(name), "{s}");
        assert_eq!(s["name"], *name);
        assert_eq!(s["proto"], "1");
        let ip = lan.host(i).ip.to_string();
        assert!(
            s["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == ip.as_str()),
            "{s}"
        );
    }
}

#[test]
fn clean_stop_takes_a_peer_off_the_list_at_once() {
    let lan = Lan::new(2).unwrap();
    let a = DuetNode::start(lan.host(0), "alice").unwrap();
    let mut b = DuetNode::start(lan.host(1), "bob").unwrap();
    let (ida, idb) = (a.peer_id().unwrap(), b.peer_id().unwrap());
    let events = a.events().unwrap();
    a.wait_for_peers(&[&idb], LISTED).unwrap();
    b.wait_for_peers(&[&ida], LISTED).unwrap();
    let stopped = Instant::now();
    let status = b.stop().unwrap();
    assert!(status.success(), "duet up exits 0 on SIGTERM: {status}");
    // The target is 3 s (see BENCHMARKS.md); 5 s keeps this from flaking.
    let down = events
        .wait_peer("peer_down", &idb, Duration::from_secs(5))
        .unwrap();
    eprintln!("peer_down {:?} after SIGTERM", down.at - stopped);
    assert!(a.peers().unwrap().is_empty());
}

#[test]
fn kill_9_takes_a_peer_off_the_list() {
    let lan = Lan::new(2).unwrap();
    let a = DuetNode::start(lan.host(0), "alice").unwrap();
    let mut b = DuetNode::start(lan.host(1), "bob").unwrap();
    let idb = b.peer_id().unwrap();
    let events = a.events().unwrap();
    a.wait_for_peers(&[&idb], LISTED).unwrap();
    let killed = Instant::now();
    b.kill().unwrap();
    let down = events
        .wait_peer("peer_down", &idb, Duration::from_secs(20))
        .unwrap();
    eprintln!("peer_down {:?} after kill -9", down.at - killed);
}

#[test]
fn network_loss_takes_a_peer_off_the_list() {
    let lan = Lan::new(2).unwrap();
    let a = DuetNode::start(lan.host(0), "alice").unwrap();
    let b = DuetNode::start(lan.host(1), "bob").unwrap();
    let idb = b.peer_id().unwrap();
    let events = a.events().unwrap();
    a.wait_for_peers(&[&idb], LISTED).unwrap();
    let unplugged = Instant::now();
    lan.set_link(lan.host(1), false).unwrap();
    let down = events
        .wait_peer("peer_down", &idb, Duration::from_secs(20))
        .unwrap();
    eprintln!("peer_down {:?} after unplugging", down.at - unplugged);
}

#[test]
fn same_name_on_two_nodes_both_listed_with_distinct_ids() {
    let lan = Lan::new(3).unwrap();
    let b1 = DuetNode::start(lan.host(0), "bob").unwrap();
    let b2 = DuetNode::start(lan.host(1), "bob").unwrap();
    let carol = DuetNode::start(lan.host(2), "carol").unwrap();
    let (id1, id2) = (b1.peer_id().unwrap(), b2.peer_id().unwrap());
    assert_ne!(id1, id2);
    let peers = carol.wait_for_peers(&[&id1, &id2], LISTED).unwrap();
    assert!(peers.iter().all(|p| p.name == "bob"), "{peers:?}");
    assert_ne!(peers[0].short_id, peers[1].short_id);
    b1.wait_for_peers(&[&id2, &carol.peer_id().unwrap()], LISTED)
        .unwrap();
    // Both are visible to a standard DNS-SD browser too (unique instance names).
    let seen = dnssd_browse(lan.host(2), 3, Duration::from_secs(20)).unwrap();
    assert_eq!(
        seen.iter().filter(|s| s["name"] == "bob").count(),
        2,
        "{seen:?}"
    );
}

#[test]
fn node_with_no_mdns_is_not_discovered() {
    let lan = Lan::new(3).unwrap();
    let a = DuetNode::start(lan.host(0), "alice").unwrap();
    let b = DuetNode::start(lan.host(1), "bob").unwrap();
    let hidden =
        DuetNode::start_with(lan.host(2), NodeOptions::named("hidden").arg("--no-mdns")).unwrap();
    let (ida, idb) = (a.peer_id().unwrap(), b.peer_id().unwrap());
    a.wait_for_peers(&[&idb], LISTED).unwrap();
    b.wait_for_peers(&[&ida], LISTED).unwrap();
    // A margin well past the time a and b needed to find each other.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        for n in [&a, &b] {
            let peers = n.peers().unwrap();
            assert!(
                peers.iter().all(|p| p.name != "hidden"),
                "{}: {peers:?}",
                n.name
            );
        }
        assert!(hidden.peers().unwrap().is_empty());
        std::thread::sleep(Duration::from_millis(200));
    }
    let seen = dnssd_browse(lan.host(1), 3, Duration::from_secs(3)).unwrap();
    assert!(seen.iter().all(|s| s["name"] != "hidden"), "{seen:?}");
}

#[test]
fn malformed_and_lying_dnssd_records_are_ignored() {
    let lan = Lan::new(4).unwrap();
    let a = DuetNode::start(lan.host(0), "alice").unwrap();
    let b = DuetNode::start(lan.host(1), "bob").unwrap();
    let (ida, idb) = (a.peer_id().unwrap(), b.peer_id().unwrap());
    a.wait_for_peers(&[&idb], LISTED).unwrap();
    let b_tcp = b
        .status()
        .unwrap()
        .listen_addrs
        .iter()
        .find(|s| s.starts_with(&format!("/ip4/{}/tcp/", lan.host(1).ip)))
        .and_then(|s| s.rsplit('/').next().map(str::to_string))
        .unwrap();
    // A PeerId nobody runs, claimed by a record at bob's address: Noise will
    // authenticate bob instead.
    let fake_id = unused_peer_id();
    let script = duet_tests::workspace_root().join("tests/scripts/dnssd-register.py");
    let ip = lan.host(3).ip.to_string();
    let bob_ip = lan.host(1).ip.to_string();
    let records: Vec<Vec<String>> = vec![
        vec![
            "--instance".into(),
            "no peer id".into(),
            "--ip".into(),
            ip.clone(),
            "--port".into(),
            "9".into(),
            "--txt".into(),
            "proto=1".into(),
            "--txt".into(),
            "name=nopeer".into(),
        ],
        vec![
            "--instance".into(),
            "bad peer id".into(),
            "--ip".into(),
            ip.clone(),
            "--port".into(),
            "9".into(),
            "--txt".into(),
            "peer_id=garbage".into(),
            "--txt".into(),
            "proto=1".into(),
            "--txt".into(),
            "name=badpeer".into(),
        ],
        vec![
            "--instance".into(),
            "liar".into(),
            "--ip".into(),
            bob_ip,
            "--port".into(),
            b_tcp,
            "--txt".into(),
            format!("peer_id={fake_id}"),
            "--txt".into(),
            "proto=1".into(),
            "--txt".into(),
            "name=mallory".into(),
        ],
    ];
    let mut children: Vec<std::process::Child> = records
        .iter()
        .map(|args| {
            lan.host(3)
                .command("/usr/bin/python3")
                .arg(&script)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // The lie is caught when alice dials it (at once, or after the grace period).
    let caught = duet_tests::wait_until(
        "alice to reject the lying record",
        Duration::from_secs(30),
        || {
            Ok(a.logs()
                .contains("ignoring DNS-SD record \"liar._duet._udp.local.\"")
                .then_some(()))
        },
    );
    let malformed = duet_tests::wait_until(
        "alice to log the malformed records",
        Duration::from_secs(30),
        || {
            let logs = a.logs();
            Ok((logs.contains("no peer id._duet._udp.local.")
                && logs.contains("bad peer id._duet._udp.local."))
            .then_some(()))
        },
    );
    for c in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
    caught.unwrap();
    malformed.unwrap();
    let peers = a.peers().unwrap();
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(peers[0].peer_id, idb);
    assert_eq!(peers[0].name, "bob");
    b.wait_for_peers(&[&ida], LISTED).unwrap();
}

/// A valid PeerId that no running node holds (a fresh identity).
fn unused_peer_id() -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(duet_tests::node::duet_bin())
        .args(["id", "--json", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["peer_id"].as_str().unwrap().to_string()
}

#[test]
fn interface_option_limits_mdns() {
    let lan = Lan::new(3).unwrap();
    let a = DuetNode::start_with(
        lan.host(0),
        NodeOptions::named("alice").arg("--interface").arg("eth0"),
    )
    .unwrap();
    let b = DuetNode::start(lan.host(1), "bob").unwrap();
    // Loopback only: nothing is announced on the LAN, nothing is heard from it.
    let lo = DuetNode::start_with(
        lan.host(2),
        NodeOptions::named("local").arg("--interface").arg("lo"),
    )
    .unwrap();
    let (ida, idb) = (a.peer_id().unwrap(), b.peer_id().unwrap());
    a.wait_for_peers(&[&idb], LISTED).unwrap();
    b.wait_for_peers(&[&ida], LISTED).unwrap();
    let seen = dnssd_browse(lan.host(1), 3, Duration::from_secs(3)).unwrap();
    assert!(seen.iter().any(|s| s["name"] == "alice"), "{seen:?}");
    assert!(seen.iter().all(|s| s["name"] != "local"), "{seen:?}");
    assert!(lo.peers().unwrap().is_empty());
    assert!(a.peers().unwrap().iter().all(|p| p.name != "local"));
}

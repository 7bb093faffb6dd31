#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! One host of the LAN announces 2,000 well-formed but fake `_duet._udp`
//! services (`dnssd-flood`, mdns-sd), all pointing at an address where
//! nothing answers. The real nodes keep their sockets and memory bounded,
//! keep listing each other, and still call each other.

use duet_tests::measure::status_kb;
use duet_tests::node::DuetNode;
use duet_tests::{wait_until, Lan};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

const FAKES: usize = 2000;
const DEADLINE: Duration = Duration::from_secs(30);

fn rss_kib_and_fds(node: &DuetNode) -> (f64, usize) {
    let pid = node.pid().unwrap();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (status_kb(pid, "VmRSS:").unwrap(), fds)
}

#[test]
fn two_thousand_fake_dnssd_services_leave_real_nodes_bounded_and_working() {
    let lan = Lan::new(3).unwrap();
    let (alice, bob) = DuetNode::alice_and_answering_bob(&lan, DEADLINE).unwrap();
    let before = [rss_kib_and_fds(&alice), rss_kib_and_fds(&bob)];

    let mut ids = tempfile::NamedTempFile::new().unwrap();
    for _ in 0..FAKES {
        writeln!(ids, "{}", libp2p::PeerId::random()).unwrap();
    }
    // 10.77.0.200: on the LAN's subnet, held by no host.
    let mut flood = lan
        .host(2)
        .command(env!("CARGO_BIN_EXE_dnssd-flood"))
        .args([ids.path().to_str().unwrap(), "10.77.0.200", "4001"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(flood.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("registered {FAKES}"));

    // Watch both nodes while the fakes arrive and their dials fail.
    let mut worst = before;
    let start = Instant::now();
    let resolved_fakes = || alice.logs().matches("resolved \"fake").count();
    while start.elapsed() < Duration::from_secs(15) {
        for (w, n) in worst.iter_mut().zip([&alice, &bob]) {
            let (rss, fds) = rss_kib_and_fds(n);
            *w = (w.0.max(rss), w.1.max(fds));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let seen = resolved_fakes();
    eprintln!("alice resolved {seen} fake records; before {before:?}, worst {worst:?}");
    assert!(
        seen >= 200,
        "the flood did not reach alice ({seen} records)"
    );
    for ((rss0, fds0), (rss, fds)) in before.iter().zip(worst) {
        assert!(fds < fds0 + 120, "fds {fds0} -> {fds}");
        assert!(rss < rss0 + 64.0 * 1024.0, "RSS {rss0} -> {rss} KiB");
    }
    let listed = alice.peers().unwrap();
    let b = bob.peer_id().unwrap();
    assert!(listed.iter().any(|p| p.peer_id == b), "{listed:?}");
    assert!(listed.len() == 1, "a fake record got listed: {listed:?}");
    let call = alice.cli().args(["call", "bob"]).output().unwrap();
    assert!(call.status.success(), "{call:?}\n{}", alice.logs());
    wait_until("bob's call to connect", DEADLINE, || {
        Ok((bob.status()?.call["state"] == "connected").then_some(()))
    })
    .unwrap();
    let _ = flood.kill();
    let _ = flood.wait();
}

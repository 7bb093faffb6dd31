#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hostile peers on the LAN, played by a real libp2p Swarm in the test
//! process (inside the LAN's first host): what a caller says about itself
//! never reaches a screen raw, an invite flood does not disturb the call
//! the node is in, and a connection flood leaves the node responsive with
//! bounded memory and sockets.

mod common;

use common::rogue::{connect, flood, rogue, runtime, send, target_node, tcp_addr, DEADLINE, SDP};
use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{add_host_beside, current_host, in_host, wait_until};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

const ESC: char = '\u{1b}';

/// Two nodes in two hosts of one LAN (the first is the test's own host),
/// listing each other.
fn alice_and_bob(bob_args: &[&str]) -> (DuetNode, DuetNode) {
    let h1 = current_host().unwrap();
    let h2 = add_host_beside(&h1).unwrap();
    let alice = DuetNode::start(&h1, "alice").unwrap();
    let mut opts = NodeOptions::named("bob");
    for a in bob_args {
        opts = opts.arg(a);
    }
    let bob = DuetNode::start_with(&h2, opts).unwrap();
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice
        .wait_for_peers(&[&b], Duration::from_secs(30))
        .unwrap();
    bob.wait_for_peers(&[&a], Duration::from_secs(30)).unwrap();
    (alice, bob)
}

#[test]
fn escape_sequences_from_a_rogue_caller_never_reach_the_screen() {
    in_host(
        "escape_sequences_from_a_rogue_caller_never_reach_the_screen",
        || {
            let node = target_node(&current_host().unwrap());
            let listen = node.status().unwrap().listen_addrs;
            assert!(
                listen.iter().all(|a| a.starts_with("/ip4/127.0.0.1/tcp/")),
                "--listen: {listen:?}"
            );
            let events = node.events().unwrap();
            let (node_id, addr) = tcp_addr(&node);
            runtime().block_on(async {
                let mut swarm = rogue();
                connect(&mut swarm, addr, node_id).await;
                let name = "\u{1b}]0;pwned\u{7}\u{1b}[2Jalice (12D3KooWfake\u{202e}x7Q)";
                let invite = json!({"v": 1, "type": "invite", "call_id": "e5c",
                    "caller_name": name, "sdp": SDP});
                assert!(send(&mut swarm, node_id, invite.to_string().into_bytes())
                    .await
                    .is_some());
                let call = wait_until("the node to ring", DEADLINE, || {
                    let c = node.status()?.call;
                    Ok((c["state"] == "ringing").then_some(c))
                })
                .unwrap();
                let shown = call["peer_name"].as_str().unwrap();
                assert!(
                    !shown.contains(ESC) && !shown.contains('\u{202e}'),
                    "{shown:?}"
                );
                assert!(shown.contains("\\u{1B}]0;pwned"), "{shown:?}");
                assert!(shown.ends_with("(unverified)"), "{shown:?}");
                let human = node.cli().arg("status").output().unwrap();
                assert!(!String::from_utf8_lossy(&human.stdout).contains(ESC));
                let hangup = json!({"v": 1, "type": "hangup", "call_id": "e5c",
                    "reason": "error", "detail": "\u{1b}[31mboom\u{200b}\u{7}"});
                assert!(send(&mut swarm, node_id, hangup.to_string().into_bytes())
                    .await
                    .is_some());
            });
            let incoming = events
                .wait_for("incoming_call", DEADLINE, |e| e.kind() == "incoming_call")
                .unwrap();
            let ended = events
                .wait_for("call_ended", DEADLINE, |e| e.kind() == "call_ended")
                .unwrap();
            for ev in [&incoming.value, &ended.value] {
                let text = ev.to_string();
                assert!(!text.contains("\\u001b") && !text.contains(ESC), "{text}");
            }
            let detail = ended.value["detail"].as_str().unwrap();
            assert!(detail.contains("\\u{1B}[31mboom\\u{200B}"), "{detail}");
            assert!(!node.logs().contains(ESC), "raw escape in the node's log");
        },
    );
}

/// Memory (KiB) and open files of a process, from /proc.
fn rss_kib_and_fds(pid: u32) -> (u64, usize) {
    let rss = duet_tests::measure::status_kb(pid, "VmRSS:").unwrap() as u64;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (rss, fds)
}

#[test]
fn an_invite_flood_does_not_disturb_the_call_in_progress() {
    in_host(
        "an_invite_flood_does_not_disturb_the_call_in_progress",
        || {
            let (alice, bob) = alice_and_bob(&duet_tests::node::AUTO_ANSWER_ANY);
            let call = alice.cli().args(["call", "bob"]).output().unwrap();
            assert!(call.status.success(), "{call:?}\n{}", bob.logs());
            let frames = |n: &DuetNode| {
                n.status().unwrap().call["stats"]["video_frames_received"]
                    .as_u64()
                    .unwrap_or(0)
            };
            let before = wait_until("media to flow", DEADLINE, || {
                let f = frames(&alice);
                Ok((f > 10).then_some(f))
            })
            .unwrap();
            let bob_events = bob.events().unwrap();
            let (stop, sent) = (
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicU64::new(0)),
            );
            let (alice_id, addr) = tcp_addr(&alice);
            let flooder = {
                let (stop, sent) = (stop.clone(), sent.clone());
                std::thread::spawn(move || {
                    runtime().block_on(async {
                        let mut swarm = rogue();
                        connect(&mut swarm, addr, alice_id).await;
                        let invite = |n: u64| {
                            json!({"v": 1, "type": "invite", "call_id": format!("flood{n}"),
                                "caller_name": "flood", "sdp": SDP})
                            .to_string()
                            .into_bytes()
                        };
                        let every = Duration::from_millis(1);
                        flood(&mut swarm, alice_id, every, invite, &stop, &sent).await
                    })
                })
            };
            // 1,000 invites/s for a few seconds while the call goes on.
            wait_until("3000 invites sent", Duration::from_secs(60), || {
                Ok((sent.load(Relaxed) >= 3000).then_some(()))
            })
            .unwrap();
            let during = frames(&alice);
            assert!(
                during > before,
                "alice's video stalled: {before} -> {during}"
            );
            assert_eq!(alice.status().unwrap().call["state"], "connected");
            // The call's own hangup gets through the flood.
            let hangup = alice.cli().arg("hangup").output().unwrap();
            assert!(hangup.status.success(), "{hangup:?}");
            let ended = bob_events
                .wait_for("bob's call to end", DEADLINE, |e| e.kind() == "call_ended")
                .unwrap();
            assert_eq!(ended.value["reason"], "remote-hangup", "{}", ended.value);
            stop.store(true, Relaxed);
            let stats = flooder.join().unwrap();
            eprintln!("invite flood: {stats:?}");
            // 8 at once, then about one a second.
            assert!(stats.acked <= 8 + 30, "{stats:?}");
            assert!(stats.refused >= 2000, "{stats:?}");
            assert!(alice.logs().contains("sends too many signalling messages"));
            // And alice still takes a new call.
            let again = alice.cli().args(["call", "bob"]).output().unwrap();
            assert!(again.status.success(), "{again:?}\n{}", alice.logs());
        },
    );
}

#[test]
fn a_connection_flood_leaves_the_node_responsive_and_bounded() {
    in_host(
        "a_connection_flood_leaves_the_node_responsive_and_bounded",
        || {
            let (alice, bob) = alice_and_bob(&[]);
            let bob_id = bob.peer_id().unwrap();
            let pid = alice.pid().unwrap();
            let (rss0, fds0) = rss_kib_and_fds(pid);
            let (alice_id, addr) = tcp_addr(&alice);
            let sock = match addr.iter().collect::<Vec<_>>()[..] {
                [libp2p::multiaddr::Protocol::Ip4(ip), libp2p::multiaddr::Protocol::Tcp(p)] => {
                    std::net::SocketAddr::from((ip, p))
                }
                _ => panic!("{addr}"),
            };
            let stop = Arc::new(AtomicBool::new(false));
            let rt = runtime();
            // 500 bare TCP connections that never finish a handshake, and
            // 100 rogue identities completing theirs, all at once.
            let raw = rt.block_on(async {
                let conns = (0..500).map(|_| tokio::net::TcpStream::connect(sock));
                futures::future::join_all(conns).await
            });
            let rogues: Vec<_> = (0..100)
                .map(|_| {
                    let stop = stop.clone();
                    let addr = addr.clone();
                    rt.spawn(async move {
                        use futures::StreamExt;
                        let mut swarm = rogue();
                        let _ = swarm.dial(addr.with_p2p(alice_id).unwrap());
                        while !stop.load(Relaxed) {
                            let _ = tokio::time::timeout(
                                Duration::from_millis(100),
                                swarm.select_next_some(),
                            )
                            .await;
                        }
                    })
                })
                .collect();
            let opened = raw.iter().filter(|c| c.is_ok()).count();
            eprintln!("{opened} bare TCP connections opened");
            // Meanwhile the node answers and still lists bob.
            std::thread::scope(|s| {
                s.spawn(|| {
                    let peers = alice.peers().unwrap();
                    assert!(peers.iter().any(|p| p.peer_id == bob_id), "{peers:?}");
                    let (rss, fds) = rss_kib_and_fds(pid);
                    eprintln!("alice: RSS {rss0} -> {rss} KiB, fds {fds0} -> {fds}");
                    assert!(fds < fds0 + 150, "fds {fds0} -> {fds}");
                    assert!(rss < rss0 + 100 * 1024, "RSS {rss0} -> {rss} KiB");
                });
                // Drive the rogues while the checks run.
                rt.block_on(async { tokio::time::sleep(Duration::from_secs(3)).await });
            });
            let (rss, fds) = rss_kib_and_fds(pid);
            eprintln!("alice after 3 s of flood: RSS {rss} KiB, fds {fds}");
            assert!(fds < fds0 + 150, "fds {fds0} -> {fds}");
            assert!(rss < rss0 + 100 * 1024, "RSS {rss0} -> {rss} KiB");
            stop.store(true, Relaxed);
            drop(raw);
            rt.block_on(futures::future::join_all(rogues));
            assert!(
                alice.logs().contains("rejected"),
                "no refused connection logged"
            );
            let peers = alice.peers().unwrap();
            assert!(peers.iter().any(|p| p.peer_id == bob_id), "{peers:?}");
        },
    );
}

#[test]
fn a_node_named_like_another_s_short_id_cannot_take_its_calls() {
    let lan = duet_tests::Lan::new(3).unwrap();
    let auto = |name: &str| NodeOptions::named(name).args(duet_tests::node::AUTO_ANSWER_ANY);
    let bob = DuetNode::start_with(lan.host(1), auto("bob")).unwrap();
    let bob_id = bob.peer_id().unwrap();
    let short = &bob_id[bob_id.len() - 6..];
    let mallory = DuetNode::start_with(lan.host(2), auto(short)).unwrap();
    let alice = DuetNode::start(lan.host(0), "alice").unwrap();
    let mallory_id = mallory.peer_id().unwrap();
    alice
        .wait_for_peers(&[&bob_id, &mallory_id], Duration::from_secs(30))
        .unwrap();
    let call = alice.cli().args(["call", short]).output().unwrap();
    assert!(call.status.success(), "{call:?}\n{}", alice.logs());
    let peer = alice.status().unwrap().call["peer_id"].clone();
    assert_eq!(peer, bob_id.as_str(), "`duet call {short}` reached {peer}");
    assert!(mallory.status().unwrap().call.is_null());
}

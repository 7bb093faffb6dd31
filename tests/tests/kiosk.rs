#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Kiosks and scripts end to end: allow-listed auto-answer, pinned names,
//! one-shot calls with exit codes. Real `duet` processes on a simulated LAN.

use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

const LISTED: Duration = Duration::from_secs(30);
const CONNECTED: Duration = Duration::from_secs(30);

fn start(lan: &Lan, i: usize, name: &str, extra: &[&str]) -> DuetNode {
    let mut opts = NodeOptions::named(name);
    for a in extra {
        opts = opts.arg(a);
    }
    DuetNode::start_with(lan.host(i), opts).unwrap()
}

fn spawn(node: &DuetNode, args: &[&str]) -> Child {
    node.cli()
        .args(args)
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

/// `node` lists (at least) every peer of `others`.
fn lists(node: &DuetNode, others: &[&DuetNode]) {
    let ids: Vec<String> = others.iter().map(|n| n.peer_id().unwrap()).collect();
    wait_until(&format!("{} to list {ids:?}", node.name), LISTED, || {
        let listed = node.peers()?;
        Ok(ids
            .iter()
            .all(|id| listed.iter().any(|p| &p.peer_id == id))
            .then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()));
}

fn call_state(node: &DuetNode) -> String {
    node.status().unwrap().call["state"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

fn wait_state(node: &DuetNode, state: &str) {
    wait_until(&format!("{} call {state}", node.name), CONNECTED, || {
        Ok((call_state(node) == state).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()));
}

/// `duet peers --json` as raw JSON (to see `identity_changed`).
fn raw_peers(node: &DuetNode) -> Vec<Value> {
    let out = node.cli().args(["peers", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn auto_answer_only_from_the_allow_list_and_flags_a_name_with_a_new_key() {
    let lan = Lan::new(4).unwrap();
    let bob = start(
        &lan,
        1,
        "bob",
        &[
            "--auto-answer",
            "--accept-from",
            "alice",
            "--ring-timeout",
            "60",
        ],
    );
    let alice = start(&lan, 0, "alice", &[]);
    let carol = start(&lan, 2, "carol", &[]);
    lists(&bob, &[&alice, &carol]);
    lists(&alice, &[&bob]);
    lists(&carol, &[&bob]);
    let events = bob.events().unwrap();

    // alice is on the list: connected with nobody answering.
    let (out, text) = finish(spawn(&alice, &["call", "bob"]));
    assert!(out.status.success(), "{text}\n{}", bob.logs());
    wait_state(&bob, "connected");
    let (out, text) = finish(spawn(&alice, &["hangup"]));
    assert!(out.status.success(), "{text}");
    wait_state(&bob, "none");

    // carol is not: her call rings for a person.
    let dialing = spawn(&carol, &["call", "bob"]);
    let incoming = events
        .wait_for("carol's incoming call", CONNECTED, |e| {
            e.kind() == "incoming_call" && e.value["call"]["peer_name"] == "carol"
        })
        .unwrap();
    assert_eq!(call_state(&bob), "ringing", "{}", incoming.value);
    let (out, text) = finish(spawn(&bob, &["reject"]));
    assert!(out.status.success(), "{text}");
    let (out, text) = finish(dialing);
    assert_eq!(out.status.code(), Some(4), "declined: {text}");

    // Another key takes the name alice: flagged, and not auto-answered.
    let mallory = start(&lan, 3, "alice", &[]);
    let mallory_id = mallory.peer_id().unwrap();
    lists(&mallory, &[&bob]);
    let flagged = wait_until("bob to flag the new alice", LISTED, || {
        Ok(raw_peers(&bob)
            .into_iter()
            .find(|p| p["peer_id"] == mallory_id.as_str()))
    })
    .unwrap();
    assert_eq!(flagged["identity_changed"], true, "{flagged}");
    let real = raw_peers(&bob)
        .into_iter()
        .find(|p| p["peer_id"] == alice.peer_id().unwrap().as_str())
        .unwrap();
    assert_eq!(real["identity_changed"], false, "{real}");
    assert!(bob.logs().contains("identity changed"));
    let dialing = spawn(&mallory, &["call", bob.peer_id().unwrap().as_str()]);
    events
        .wait_for("the new alice's incoming call", CONNECTED, |e| {
            e.kind() == "incoming_call" && e.value["call"]["peer_id"] == mallory_id.as_str()
        })
        .unwrap();
    assert_eq!(call_state(&bob), "ringing");
    finish(spawn(&bob, &["reject"]));
    let (out, text) = finish(dialing);
    assert_eq!(out.status.code(), Some(4), "{text}");

    // Contacts show the pin; `duet contacts` reads the node's data dir.
    let out = bob
        .cli()
        .args(["contacts", "--json", "--data-dir"])
        .arg(&bob.data_dir)
        .output()
        .unwrap();
    let contacts: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let pinned = contacts.iter().find(|c| c["name"] == "alice").unwrap();
    assert_eq!(pinned["peer_id"], alice.peer_id().unwrap().as_str());
}

#[test]
fn reject_others_turns_away_callers_not_allowed() {
    let lan = Lan::new(2).unwrap();
    let bob = start(
        &lan,
        1,
        "bob",
        &["--auto-answer", "--accept-from", "alice", "--reject-others"],
    );
    let carol = start(&lan, 0, "carol", &[]);
    lists(&bob, &[&carol]);
    lists(&carol, &[&bob]);
    let (out, text) = finish(spawn(&carol, &["call", "bob"]));
    assert_eq!(out.status.code(), Some(7), "not-allowed: {text}");
    assert!(text.contains("not-allowed"), "{text}");
    assert_eq!(call_state(&bob), "none");
    // Auto-answer without an allow-list is refused at start.
    let out = bob
        .cli()
        .args(["up", "--auto-answer", "--no-mdns", "--display", "none"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--accept-from"));
}

/// `duet call bob --for 3 --wait-for-peer 30`, started before bob is up:
/// it waits for bob, holds the call 3 s with media both ways, hangs up and
/// exits 0. Then a held call whose peer is killed exits 9 (ended early).
#[test]
fn one_shot_call_waits_for_the_peer_holds_and_hangs_up() {
    let lan = Lan::new(2).unwrap();
    let alice = start(&lan, 0, "alice", &[]);
    let alice_events = alice.events().unwrap();
    let started = Instant::now();
    let one_shot = spawn(
        &alice,
        &["call", "bob", "--wait-for-peer", "30", "--for", "3"],
    );
    let mut bob = start(&lan, 1, "bob", &duet_tests::node::AUTO_ANSWER_ANY);
    let bob_events = bob.events().unwrap();
    let connected = alice_events
        .wait_for("connected", CONNECTED + LISTED, |e| e.kind() == "connected")
        .unwrap_or_else(|e| panic!("{e:#}\n{}", alice.logs()));
    let (out, text) = finish(one_shot);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", alice.logs());
    // Held about 3 s (the event may be read a little after the client's reply).
    let held = connected.at.elapsed();
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert!(
        held > Duration::from_millis(2500),
        "hung up {held:?} after connecting"
    );
    for (who, events) in [("alice", &alice_events), ("bob", &bob_events)] {
        let ended = events
            .wait_for("call_ended", CONNECTED, |e| e.kind() == "call_ended")
            .unwrap();
        let stats = &ended.value["call"]["stats"];
        assert!(
            stats["video_frames_received"].as_u64().unwrap_or(0) > 0
                && stats["audio_buffers_received"].as_u64().unwrap_or(0) > 0,
            "{who} received no media: {}",
            ended.value
        );
    }
    wait_state(&alice, "none");

    // The peer dies mid-call: ended early.
    let one_shot = spawn(&alice, &["call", "bob", "--for", "60"]);
    wait_state(&bob, "connected");
    bob.kill().unwrap();
    let (out, text) = finish(one_shot);
    assert_eq!(out.status.code(), Some(9), "ended early: {text}");
    drop(bob_events);
}

#[test]
fn one_shot_call_gives_up_after_its_timeout() {
    let lan = Lan::new(1).unwrap();
    let alice = start(&lan, 0, "alice", &[]);
    let t = Instant::now();
    let (out, text) = finish(spawn(
        &alice,
        &["call", "nobody", "--wait-for-peer", "60", "--timeout", "2"],
    ));
    assert_eq!(out.status.code(), Some(6), "{text}");
    assert!(t.elapsed() < Duration::from_secs(30));
    // Without waiting, an unknown target is exit 3 at once.
    let (out, text) = finish(spawn(&alice, &["call", "nobody"]));
    assert_eq!(out.status.code(), Some(3), "{text}");
    // Bad arguments are 1 (2 is "no node").
    let (out, text) = finish(spawn(&alice, &["call", "nobody", "--for", "soon"]));
    assert_eq!(out.status.code(), Some(1), "{text}");
}

/// A config file with name, media and auto-answer settings behaves as the
/// same flags would; a bad key stops `duet up` with its line number.
#[test]
fn config_file_settings_act_as_flags() {
    let lan = Lan::new(2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "# the lobby\n[up]\nname = \"bob\"\nvideo = \"test\"\naudio = \"test\"\n\
         display = \"none\"\nauto-answer = true\naccept-from = [\"alice\"]\n",
    )
    .unwrap();
    let alice = start(&lan, 0, "alice", &[]);
    let opts = NodeOptions::named("")
        .arg("--config")
        .arg(config.to_str().unwrap());
    let bob = DuetNode::start_with(lan.host(1), opts).unwrap();
    let status = bob.status().unwrap();
    assert_eq!(status.name, "bob", "name from the file");
    lists(&alice, &[&bob]);
    lists(&bob, &[&alice]);
    // Auto-answered (nobody answers), with test media both ways.
    let (out, text) = finish(spawn(&alice, &["call", "bob"]));
    assert!(out.status.success(), "{text}\n{}", bob.logs());
    for node in [&alice, &bob] {
        wait_until(
            &format!("{} to receive media", node.name),
            CONNECTED,
            || {
                let s = &node.status()?.call["stats"];
                Ok((s["video_frames_received"].as_u64().unwrap_or(0) > 10
                    && s["audio_buffers_received"].as_u64().unwrap_or(0) > 10)
                    .then_some(()))
            },
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()));
    }
    // --print-config shows what the node runs with.
    let out = bob
        .cli()
        .args(["up", "--print-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("name = \"bob\"") && shown.contains("accept-from = [\"alice\"]"),
        "{shown}"
    );

    std::fs::write(&config, "[up]\nname = \"bob\"\nauto-answr = true\n").unwrap();
    let out = bob
        .cli()
        .args(["up", "--no-mdns", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("config.toml:3:") && err.contains("auto-answr"),
        "{err}"
    );
}

/// Under systemd (`Type=notify`): READY=1 once the node takes commands,
/// STOPPING=1 on SIGTERM, one datagram each on `$NOTIFY_SOCKET`.
#[test]
fn tells_systemd_when_ready_and_stopping() {
    let lan = Lan::new(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("notify");
    let listener = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
    listener.set_read_timeout(Some(LISTED)).unwrap();
    let mut opts = NodeOptions::named("lobby");
    opts.env
        .push(("NOTIFY_SOCKET".into(), socket.display().to_string()));
    let mut node = DuetNode::spawn(lan.host(0), opts).unwrap();
    let mut buf = [0u8; 256];
    let n = listener.recv(&mut buf).expect("READY=1");
    assert_eq!(&buf[..n], b"READY=1");
    // Ready means the control socket answers.
    assert_eq!(node.status().unwrap().name, "lobby");
    node.stop().unwrap();
    let n = listener.recv(&mut buf).expect("STOPPING=1");
    assert_eq!(&buf[..n], b"STOPPING=1");
}

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
    let bob = start(&lan, 1, "bob", &duet_tests::node::AUTO_ANSWER_ANY);
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
    // Codecs that do not match: bob answers at once and each call fails as
    // soon as bob's media sees alice's offer.
    let alice = start(&lan, 0, "alice", &["--codec", "h264"]);
    let bob = start(&lan, 1, "bob", &duet_tests::node::AUTO_ANSWER_ANY);
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

/// A HOME whose ALSA config has a capture device `hang` that blocks in its
/// open (reading a FIFO nobody writes): a microphone whose state change
/// never returns.
fn hanging_microphone_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let fifo = home.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let conf = format!(
        "pcm.hang {{\n type file\n slave.pcm \"null\"\n file \"/dev/null\"\n infile \"{}\"\n format \"raw\"\n}}\n",
        fifo.display()
    );
    std::fs::write(home.path().join(".asoundrc"), conf).unwrap();
    home
}

fn signal(node: &DuetNode, sig: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(node.pid().unwrap() as i32);
    nix::sys::signal::kill(pid, sig).unwrap();
}

#[test]
fn a_microphone_that_hangs_freezes_neither_calls_nor_stopping() {
    let lan = Lan::new(2).unwrap();
    let home = hanging_microphone_home();
    let home_dir = home.path().to_str().unwrap();
    let alice_opts = NodeOptions::named("alice")
        .arg("--audio")
        .arg("hang")
        .env("HOME", home_dir);
    let mut alice = DuetNode::start_with(lan.host(0), alice_opts.clone()).unwrap();
    let bob = start(&lan, 1, "bob", &[]);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    bob.wait_for_peers(&[&a], LISTED).unwrap();

    // The call fails on its media-start timeout instead of hanging.
    let mut call = alice
        .cli()
        .args(["call", "bob"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_until("the call to give up", Duration::from_secs(40), || {
        Ok(call.try_wait()?)
    });
    let out = call.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(status.is_ok() && !out.status.success(), "{text}");
    assert!(text.contains("did not start"), "{text}");
    assert!(alice.status().is_ok(), "the node still answers");

    // SIGTERM while a media start hangs: the node still exits, cleanly.
    // (`duet status` would wait for the call actor, busy starting media.)
    let events = alice.events().unwrap();
    let mut call1 = alice
        .cli()
        .args(["call", "bob"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    events
        .wait_for("alice to dial", LISTED, |e| e.kind() == "dialing")
        .unwrap();
    let exit = alice.stop().unwrap();
    let _ = call1.wait();
    assert!(exit.success(), "{exit:?}\n{}", alice.logs());

    // A second signal exits at once, whatever the goodbye waits for.
    let mut again = DuetNode::start_with(lan.host(0), alice_opts).unwrap();
    again.wait_for_peers(&[&b], LISTED).unwrap();
    let events = again.events().unwrap();
    let mut call2 = again
        .cli()
        .args(["call", "bob"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    events
        .wait_for("alice to dial again", LISTED, |e| e.kind() == "dialing")
        .unwrap();
    signal(&again, nix::sys::signal::Signal::SIGINT);
    wait_until("the graceful stop to begin", LISTED, || {
        Ok(again.logs().contains("shutting down").then_some(()))
    })
    .unwrap();
    // stop() sends SIGTERM: the second signal.
    let exit = again.stop().unwrap();
    let _ = call2.wait();
    // Code 130, not a crash in a library's exit handler under the media
    // thread still stuck in the device.
    assert_eq!(exit.code(), Some(130), "{exit:?}\n{}", again.logs());
    assert!(again.logs().contains("second signal"));
}

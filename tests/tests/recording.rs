#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `--record DIR` end to end: a real call between `duet` processes is
//! recorded without re-encoding, and `gst-discoverer-1.0` (an independent
//! reader) checks the file: one video and one audio stream, the call's
//! duration, and a file cut by `kill -9` that still plays.

use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// What gst-discoverer-1.0 says of a file: (video streams, audio streams,
/// duration in seconds).
fn discover(file: &Path) -> (usize, usize, f64, String) {
    let out = Command::new("gst-discoverer-1.0")
        .arg(file)
        .output()
        .expect("gst-discoverer-1.0 (gstreamer1.0-plugins-base-apps) is installed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let count = |kind: &str| {
        text.lines()
            .filter(|l| l.trim_start().starts_with(&format!("{kind} #")))
            .count()
    };
    let duration = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Duration: "))
        .and_then(|d| {
            let p: Vec<f64> = d.split(':').filter_map(|x| x.parse().ok()).collect();
            (p.len() == 3).then(|| p[0] * 3600.0 + p[1] * 60.0 + p[2])
        })
        .unwrap_or(0.0);
    (count("video"), count("audio"), duration, text)
}

/// Demuxes and decodes all of `file`'s video; the last frame's time (s).
fn play(file: &Path) -> f64 {
    let out = Command::new("gst-launch-1.0")
        .args(["-v", "filesrc"])
        .arg(format!("location={}", file.display()))
        .args([
            "!",
            "matroskademux",
            "!",
            "vp8dec",
            "!",
            "fakesink",
            "silent=false",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split("pts: ")
        .skip(1)
        .filter_map(|t| {
            let t = t.split(',').next()?;
            let p: Vec<f64> = t.split(':').filter_map(|x| x.parse().ok()).collect();
            (p.len() == 3).then(|| p[0] * 3600.0 + p[1] * 60.0 + p[2])
        })
        .fold(0.0, f64::max)
}

fn recording_of(node: &DuetNode) -> Option<PathBuf> {
    node.status().ok()?.call["recording"]
        .as_str()
        .map(PathBuf::from)
}

#[test]
fn calls_are_recorded_and_a_crash_leaves_a_playable_file() {
    let lan = Lan::new(2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = DuetNode::start(lan.host(0), "alice").unwrap();
    let opts = NodeOptions::named("bob")
        .arg("--auto-answer")
        .arg("--accept-from")
        .arg("any")
        .arg("--record")
        .arg(dir.path().to_str().unwrap());
    let mut bob = DuetNode::start_with(lan.host(1), opts).unwrap();
    let bob_id = bob.peer_id().unwrap();
    alice.wait_for_peers(&[&bob_id], DEADLINE).unwrap();
    let events = bob.events().unwrap();

    // A 5 s call, hung up by the caller.
    let call = alice
        .cli()
        .args(["call", "bob", "--for", "5"])
        .spawn()
        .unwrap();
    let connected = events
        .wait_for("connected", DEADLINE, |e| e.kind() == "connected")
        .unwrap_or_else(|e| panic!("{e:#}\n{}", bob.logs()));
    let file = wait_until("bob's status to show the file", DEADLINE, || {
        Ok(recording_of(&bob))
    })
    .unwrap();
    assert!(file.starts_with(dir.path()) && file.to_string_lossy().ends_with("-alice.mkv"));
    let ended = events
        .wait_for("call_ended", DEADLINE, |e| e.kind() == "call_ended")
        .unwrap();
    assert!(call.wait_with_output().unwrap().status.success());
    assert_eq!(ended.value["call"]["recording"], file.to_str().unwrap());
    let call_secs = ended.at.duration_since(connected.at).as_secs_f64();
    let (video, audio, secs, text) = discover(&file);
    eprintln!("recorded {secs:.2} s of a {call_secs:.2} s call");
    assert_eq!((video, audio), (1, 1), "{text}\n{}", bob.logs());
    assert!(
        (secs - call_secs).abs() < 1.0,
        "recorded {secs:.2} s of a {call_secs:.2} s call\n{text}"
    );

    // Killed mid-call: the file so far still plays.
    let call = alice
        .cli()
        .args(["call", "bob", "--for", "60"])
        .spawn()
        .unwrap();
    let second = wait_until("a second recording", DEADLINE, || {
        Ok(recording_of(&bob).filter(|f| f != &file))
    })
    .unwrap();
    wait_until("some recorded media", DEADLINE, || {
        let len = std::fs::metadata(&second).map(|m| m.len()).unwrap_or(0);
        Ok((len > 100_000).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", bob.logs()));
    bob.kill().unwrap();
    let (video, audio, _, text) = discover(&second);
    assert_eq!((video, audio), (1, 1), "{text}");
    let played = play(&second);
    eprintln!("after kill -9: {played:.2} s of video play");
    assert!(played > 0.5, "the cut file plays only {played:.2} s");
    drop(call);
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `duet up --resolution 1280x720`: a call between two 720p nodes
//! negotiates, and each side decodes the other's 1280x720 frames at about
//! 30 fps (test sources, headless). CPU at 720p is measured by
//! `scripts/bench media --resolution 1280x720`, not asserted here.

use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{wait_until, Lan};
use std::time::{Duration, Instant};

#[test]
fn a_720p_call_decodes_1280x720_frames_both_ways() {
    let lan = Lan::new(2).unwrap();
    let alice = DuetNode::start_with(
        lan.host(0),
        NodeOptions::named("alice").args(["--resolution", "1280x720"]),
    )
    .unwrap();
    let bob = DuetNode::start_with(
        lan.host(1),
        NodeOptions::named("bob").args([
            "--resolution",
            "720p",
            "--auto-answer",
            "--accept-from",
            "any",
        ]),
    )
    .unwrap();
    alice.wait_to_meet(&bob, Duration::from_secs(30)).unwrap();
    let out = alice.cli().args(["call", "bob"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames = |n: &DuetNode| {
        let c = n.status().unwrap().call;
        (
            c["stats"]["video_size_received"]
                .as_str()
                .map(str::to_string),
            c["stats"]["video_frames_received"].as_u64().unwrap_or(0),
        )
    };
    for n in [&alice, &bob] {
        wait_until(
            &format!("{} to decode 1280x720 video", n.name),
            Duration::from_secs(30),
            || Ok((frames(n).0.as_deref() == Some("1280x720")).then_some(())),
        )
        .unwrap_or_else(|e| panic!("{e:#}; {:?}", n.status().map(|s| s.call)));
    }
    // Frames keep coming at the full size: ≥ 40 more in ≤ 20 s on both
    // sides (30 fps sends 60 in 2 s; the bound only rules out a stall).
    let before = [frames(&alice).1, frames(&bob).1];
    let t0 = Instant::now();
    for (n, b) in [(&alice, before[0]), (&bob, before[1])] {
        wait_until(
            &format!("{} to decode 40 more 1280x720 frames", n.name),
            Duration::from_secs(20),
            || {
                let (size, count) = frames(n);
                Ok((size.as_deref() == Some("1280x720") && count >= b + 40).then_some(()))
            },
        )
        .unwrap_or_else(|e| panic!("{e:#}; {:?}", n.status().map(|s| s.call)));
    }
    eprintln!("40 more frames on both sides in {:?}", t0.elapsed());
}

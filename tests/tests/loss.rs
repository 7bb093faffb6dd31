#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A call on a lossy link: 10 % of the UDP packets dropped at random in
//! each direction (nftables in the callee's host, `Lan::set_loss`), from
//! before the call starts. Both sides must keep decoding at least 20
//! frames a second over 10 s, and the call must stay up (retransmissions,
//! key frames on loss, and a BYE for an unused SSRC not taken as the peer
//! leaving). How the media does at other loss rates is measured by
//! `scripts/bench quality`, not asserted here. The same holds with video
//! FEC off on both sides (`--video-fec off`: NACK/RTX and media copies
//! only), and between a node with the default FEC and one without (plain
//! VP8 both ways). A last test checks the jitter simulation the bench uses.

use duet_tests::node::{DuetNode, NodeOptions, AUTO_ANSWER_ANY};
use duet_tests::{wait_until, Lan};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(45);
const WINDOW: Duration = Duration::from_secs(10);
const MIN_FPS: f64 = 20.0;

fn call_of(node: &DuetNode) -> Value {
    node.status().unwrap().call
}

fn frames(call: &Value) -> u64 {
    call["stats"]["video_frames_received"].as_u64().unwrap_or(0)
}

#[test]
fn a_call_with_10_percent_loss_each_way_keeps_decoding_20_fps() {
    holds_under_10_percent_loss(&[], &[], true);
}

#[test]
fn with_video_fec_off_on_both_sides_a_call_under_10_percent_loss_keeps_decoding() {
    holds_under_10_percent_loss(&["--video-fec", "off"], &["--video-fec", "off"], false);
}

#[test]
fn a_node_with_video_fec_calls_one_without_under_10_percent_loss() {
    holds_under_10_percent_loss(&[], &["--video-fec", "off"], false);
}

/// alice (with `alice_args`) calls bob (auto-answering, `bob_args`) with
/// 10 % loss each way on bob's host: both decode ≥ 20 fps over 10 s. With
/// `fec`, both sides decode FEC (`video_fec_recovered` counts what it
/// rebuilt); without, FEC was not negotiated (null).
fn holds_under_10_percent_loss(alice_args: &[&str], bob_args: &[&str], fec: bool) {
    let lan = Lan::new(2).unwrap();
    let mut a = NodeOptions::named("alice");
    let mut b = NodeOptions::named("bob").args(AUTO_ANSWER_ANY);
    a.args.extend(alice_args.iter().map(|s| s.to_string()));
    b.args.extend(bob_args.iter().map(|s| s.to_string()));
    let alice = DuetNode::start_with(lan.host(0), a).unwrap();
    let bob = DuetNode::start_with(lan.host(1), b).unwrap();
    alice.wait_to_meet(&bob, DEADLINE).unwrap();
    lan.set_loss(lan.host(1), 10).unwrap();

    let out = alice
        .cli()
        .args(["call", "bob"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "duet call under 10 % loss: {}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        alice.logs()
    );
    // Both sides show pictures before the window starts.
    let mut start = Vec::new();
    for node in [&alice, &bob] {
        let c = wait_until(
            &format!("{} to decode 30 frames", node.name),
            DEADLINE,
            || {
                let c = call_of(node);
                Ok((c["state"] == "connected" && frames(&c) >= 30).then_some(c))
            },
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()));
        start.push((c, Instant::now()));
    }
    // The measurement window itself: frames decoded over 10 s.
    std::thread::sleep(WINDOW);
    for (node, (first, at)) in [&alice, &bob].into_iter().zip(start) {
        let now = call_of(node);
        assert_eq!(
            (now["id"].clone(), now["state"].clone()),
            (first["id"].clone(), Value::from("connected")),
            "{}'s call did not stay up: {now}\n{}",
            node.name,
            node.logs()
        );
        let fps = (frames(&now) - frames(&first)) as f64 / at.elapsed().as_secs_f64();
        assert!(
            fps >= MIN_FPS,
            "{} decoded {fps:.1} fps under 10 % loss (want ≥ {MIN_FPS}): {now}\n{}",
            node.name,
            node.logs()
        );
        let rebuilt = now["stats"]["video_fec_recovered"].as_u64();
        assert_eq!(
            rebuilt.is_some(),
            fec,
            "{}: packets rebuilt by FEC {rebuilt:?}, FEC expected: {fec}: {now}",
            node.name
        );
        eprintln!("{}: {fps:.1} fps, stats {}", node.name, now["stats"]);
    }
    lan.set_loss(lan.host(1), 0).unwrap();
}

/// `Lan::set_jitter` (`lan-sim jitter`: iptables NFQUEUE and the net-jitter
/// helper) really delays a host's UDP: with 20 ± 20 ms each way on the
/// callee's host, the RTT both nodes measure from RTCP is ~40 ms (well
/// over the 15 ms asserted; < 1 ms without), and the call still decodes.
#[test]
fn jitter_on_the_callees_host_delays_the_media_and_the_call_holds() {
    let lan = Lan::new(2).unwrap();
    let (alice, bob) = DuetNode::alice_and_answering_bob(&lan, DEADLINE).unwrap();
    lan.set_jitter(lan.host(1), 20, 20).unwrap();
    let out = alice.cli().args(["call", "bob"]).output().unwrap();
    assert!(
        out.status.success(),
        "duet call under jitter: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        alice.logs()
    );
    for node in [&alice, &bob] {
        wait_until(
            &format!("{} to see a delayed RTT and 30 frames", node.name),
            DEADLINE,
            || {
                let c = call_of(node);
                let rtt = c["stats"]["rtt_ms"].as_f64().unwrap_or(0.0);
                Ok((c["state"] == "connected" && rtt >= 15.0 && frames(&c) >= 30).then_some(()))
            },
        )
        .unwrap_or_else(|e| panic!("{e:#}: {}\n{}", call_of(node), node.logs()));
    }
    lan.set_jitter(lan.host(1), 0, 0).unwrap();
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Web users and nodes through the broker's bridge (`/duet/web-call/1`),
//! without a browser: scripted WebSocket clients, one with real media (a
//! duet-gst session), and real `duet up` nodes.

mod common;

use common::web_socket::{broker, client, lists, SDP, T};
use duet_tests::broker::DuetBroker;
use duet_tests::web::{self, WebClient};
use duet_tests::{add_host_beside, current_host, in_host};
use serde_json::{json, Value};
use std::time::Duration;

fn raw_peers(node: &duet_tests::DuetNode) -> Vec<Value> {
    let out = node.cli().args(["peers", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v.as_array().cloned().unwrap_or_default()
}

/// A node "kiosk" in a host of its own, registered at the broker `b`.
fn start_kiosk(b: &DuetBroker, extra: &[&str]) -> (duet_tests::DuetNode, String) {
    let host = add_host_beside(&current_host().unwrap()).unwrap();
    let mut opts = duet_tests::NodeOptions::named("kiosk").args(["--broker", &b.addr]);
    for a in extra {
        opts = opts.arg(a);
    }
    let kiosk = duet_tests::DuetNode::start_with(&host, opts).unwrap();
    let id = kiosk.peer_id().unwrap();
    (kiosk, id)
}

#[test]
fn web_users_and_nodes_call_each_other_through_the_bridge() {
    in_host(
        "web_users_and_nodes_call_each_other_through_the_bridge",
        || {
            let b = broker(&[]);
            let (kiosk, kiosk_id) = start_kiosk(
                &b,
                &[
                    "--auto-answer",
                    "--reject-others",
                    "--accept-from",
                    "web:alice",
                ],
            );
            let mut alice = client(&b, "");
            alice.join("alice").unwrap();
            let listed = Duration::from_secs(30);
            let peers = alice
                .expect_where("peers", listed, |p| lists(p, &kiosk_id))
                .unwrap_or_else(|e| panic!("{e:#}\n{}\n{}", b.logs(), kiosk.logs()));
            let entry = peers["peers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == kiosk_id.as_str())
                .unwrap()
                .clone();
            assert_eq!(entry["kind"], "node");
            assert_eq!(entry["name"], "kiosk");

            // The node lists the browser as a web user.
            let web = duet_tests::wait_until("kiosk to list web:alice", listed, || {
                Ok(raw_peers(&kiosk).into_iter().find(|p| {
                    p["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with("web:alice via "))
                }))
            })
            .unwrap_or_else(|e| panic!("{e:#}\n{}", kiosk.logs()));
            assert_eq!(web["kind"], "web", "{web}");

            // The allow-list names web users apart: mallory is turned away.
            let mut mallory = client(&b, "");
            mallory.join("mallory").unwrap();
            mallory
                .expect_where("peers", listed, |p| lists(p, &kiosk_id))
                .unwrap();
            duet_tests::wait_until("kiosk to list web:mallory", listed, || {
                Ok(raw_peers(&kiosk)
                    .iter()
                    .any(|p| {
                        p["name"]
                            .as_str()
                            .is_some_and(|n| n.starts_with("web:mallory"))
                    })
                    .then_some(()))
            })
            .unwrap();
            let invite = json!({"v":1,"type":"invite","to":kiosk_id,"call_id":"m1","sdp":SDP});
            mallory.send(&invite).unwrap();
            let reject = mallory
                .expect("reject", T)
                .unwrap_or_else(|e| panic!("{e:#}\n{}", kiosk.logs()));
            assert_eq!(reject["reason"], "not-allowed");

            // The browser calls the node: the invite reaches its call actor.
            let invite = json!({"v":1,"type":"invite","to":kiosk_id,"call_id":"w1","sdp":SDP});
            alice.send(&invite).unwrap();
            // `ringing`, then (auto-answered: this SDP cannot be answered,
            // so the node ends the call) `hangup` or `accept` — never
            // `reject`. They travel on separate streams and may overtake
            // each other, so take them in either order.
            let (mut ringing, mut answered) = (None, None);
            let end = std::time::Instant::now() + T;
            while ringing.is_none() || answered.is_none() {
                let left = end.saturating_duration_since(std::time::Instant::now());
                match alice.next(left) {
                    Some(web::Frame::Json(v)) if v["type"] == "ringing" => ringing = Some(v),
                    Some(web::Frame::Json(v)) if v["type"] == "hangup" || v["type"] == "accept" => {
                        answered = Some(v)
                    }
                    Some(web::Frame::Json(v)) => assert_ne!(v["type"], "reject", "{v}"),
                    other => panic!(
                        "ringing {ringing:?}, answered {answered:?}, then {other:?}\n{}",
                        kiosk.logs()
                    ),
                }
            }
            let ringing = ringing.unwrap();
            assert_eq!(ringing["from"], kiosk_id.as_str());
            assert_eq!(ringing["from_name"], "kiosk");
            let logs = kiosk.logs();
            let allowed = logs.lines().any(|l| {
                l.contains("call from web:alice via") && l.contains("): on the allow-list")
            });
            assert!(allowed, "{logs}");
            alice
                .send(&json!({"v":1,"type":"hangup","to":kiosk_id,"call_id":"w1","reason":"cancelled"}))
                .unwrap();
            duet_tests::wait_until("kiosk idle", listed, || {
                Ok(
                    (kiosk.status()?.call["state"] == "idle" || kiosk.status()?.call.is_null())
                        .then_some(()),
                )
            })
            .unwrap();

            // The node calls the browser by its web name.
            let mut call = kiosk
                .cli()
                .args(["call", "web:alice"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let got = alice
                .expect("invite", T)
                .unwrap_or_else(|e| panic!("{e:#}\n{}", kiosk.logs()));
            assert_eq!(got["from"], kiosk_id.as_str());
            assert!(got["sdp"].as_str().unwrap().starts_with("v=0"));
            let call_id = got["call_id"].as_str().unwrap().to_string();
            alice
                .send(&json!({"v":1,"type":"reject","to":kiosk_id,"call_id":call_id,"reason":"declined"}))
                .unwrap();
            let out =
                duet_tests::wait_until("duet call to end", T, || Ok(call.try_wait()?)).unwrap();
            assert!(!out.success());
            let mut err = String::new();
            std::io::Read::read_to_string(&mut call.stderr.take().unwrap(), &mut err).unwrap();
            assert!(err.contains("declined"), "{err}");
        },
    );
}

/// The "browser" side with real media: a duet-gst session (webrtcbin) that
/// offers, driven through the broker's WebSocket.
#[test]
fn web_client_with_real_media_and_a_node_call_each_other() {
    use duet_gst::{MediaConfig, MediaEvent, MediaSession, Role, SdpKind};
    in_host(
        "web_client_with_real_media_and_a_node_call_each_other",
        || {
            let b = broker(&[]);
            let (kiosk, kiosk_id) = start_kiosk(&b, &duet_tests::node::AUTO_ANSWER_ANY);
            let events = kiosk.events().unwrap();
            let mut alice = client(&b, "");
            alice.join("alice").unwrap();
            let long = Duration::from_secs(30);
            alice
                .expect_where("peers", long, |p| lists(p, &kiosk_id))
                .unwrap();
            duet_tests::wait_until("kiosk to list web:alice", long, || {
                Ok(raw_peers(&kiosk)
                    .iter()
                    .any(|p| p["kind"] == "web")
                    .then_some(()))
            })
            .unwrap();

            let (session, mut media) =
                MediaSession::start(MediaConfig::test(), Role::Offerer).unwrap();
            let mut held = Vec::new();
            let mut ringing = false;
            let end = std::time::Instant::now() + Duration::from_secs(60);
            let frames = |n: &duet_tests::DuetNode| {
                n.status()
                    .ok()
                    .and_then(|s| s.call["stats"]["video_frames_received"].as_u64())
            };
            while frames(&kiosk).unwrap_or(0) < 60 {
                assert!(
                    std::time::Instant::now() < end,
                    "no media at the node\n{}",
                    kiosk.logs()
                );
                while let Ok(ev) = media.try_recv() {
                    match ev {
                        MediaEvent::LocalDescription { sdp, .. } => {
                            let invite = json!({"v":1,"type":"invite","to":kiosk_id,
                                            "call_id":"m1","sdp":sdp});
                            alice.send(&invite).unwrap();
                        }
                        MediaEvent::LocalCandidate { mline, candidate } => {
                            held.push(json!({"v":1,"type":"ice","to":kiosk_id,"call_id":"m1",
                                         "mline":mline,"candidate":candidate}));
                        }
                        MediaEvent::Error(e) => panic!("media error: {e}"),
                        _ => {}
                    }
                }
                if ringing {
                    for m in held.drain(..) {
                        alice.send(&m).unwrap();
                    }
                }
                match alice.next(Duration::from_millis(50)) {
                    Some(web::Frame::Json(v)) => match v["type"].as_str() {
                        Some("ringing") => ringing = true,
                        Some("accept") => {
                            ringing = true;
                            session
                                .set_remote_description(SdpKind::Answer, v["sdp"].as_str().unwrap())
                                .unwrap();
                        }
                        Some("ice") => {
                            let (m, c) = (
                                v["mline"].as_u64().unwrap(),
                                v["candidate"].as_str().unwrap(),
                            );
                            let _ = session.add_remote_candidate(m as u32, c);
                        }
                        Some("hangup") | Some("reject") => panic!("{v}\n{}", kiosk.logs()),
                        _ => {}
                    },
                    Some(web::Frame::Closed) => panic!("socket closed"),
                    None => {}
                }
            }
            assert!(
                session.stats().video_frames_received > 0,
                "{:?}",
                session.stats()
            );
            alice
                .send(
                    &json!({"v":1,"type":"hangup","to":kiosk_id,"call_id":"m1","reason":"normal"}),
                )
                .unwrap();
            let ended = events
                .wait_for("kiosk's call to end", long, |e| e.kind() == "call_ended")
                .unwrap();
            assert_eq!(ended.value["reason"], "remote-hangup", "{}", ended.value);
            session.close_blocking();
            node_calls_the_web_client(&kiosk, &kiosk_id, &mut alice);
        },
    );
}

/// The node calls the web client, which answers with real media; the node
/// hangs up.
fn node_calls_the_web_client(kiosk: &duet_tests::DuetNode, kiosk_id: &str, alice: &mut WebClient) {
    use duet_gst::{MediaConfig, MediaEvent, MediaSession, Role, SdpKind};
    let frames = |n: &duet_tests::DuetNode| {
        n.status()
            .ok()
            .and_then(|s| s.call["stats"]["video_frames_received"].as_u64())
    };
    let (session, mut media) = MediaSession::start(MediaConfig::test(), Role::Answerer).unwrap();
    let mut call = kiosk
        .cli()
        .args(["call", "web:alice"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let invite = alice.expect("invite", T).unwrap();
    let call_id = invite["call_id"].as_str().unwrap().to_string();
    alice
        .send(&json!({"v":1,"type":"ringing","to":kiosk_id,"call_id":call_id}))
        .unwrap();
    session
        .set_remote_description(SdpKind::Offer, invite["sdp"].as_str().unwrap())
        .unwrap();
    let end = std::time::Instant::now() + Duration::from_secs(60);
    while frames(kiosk).unwrap_or(0) < 60 || session.stats().video_frames_received < 60 {
        assert!(
            std::time::Instant::now() < end,
            "no media both ways\n{}",
            kiosk.logs()
        );
        while let Ok(ev) = media.try_recv() {
            let msg = match ev {
                MediaEvent::LocalDescription { sdp, .. } => {
                    json!({"v":1,"type":"accept","to":kiosk_id,"call_id":call_id,"sdp":sdp})
                }
                MediaEvent::LocalCandidate { mline, candidate } => {
                    json!({"v":1,"type":"ice","to":kiosk_id,"call_id":call_id,
                           "mline":mline,"candidate":candidate})
                }
                MediaEvent::Error(e) => panic!("media error: {e}"),
                _ => continue,
            };
            alice.send(&msg).unwrap();
        }
        match alice.next(Duration::from_millis(50)) {
            Some(web::Frame::Json(v)) if v["type"] == "ice" => {
                let (m, c) = (
                    v["mline"].as_u64().unwrap(),
                    v["candidate"].as_str().unwrap(),
                );
                let _ = session.add_remote_candidate(m as u32, c);
            }
            Some(web::Frame::Json(v)) if v["type"] == "hangup" => panic!("{v}\n{}", kiosk.logs()),
            Some(web::Frame::Closed) => panic!("socket closed"),
            _ => {}
        }
    }
    let hangup = kiosk.cli().arg("hangup").output().unwrap();
    assert!(hangup.status.success(), "{hangup:?}");
    let bye = alice.expect("hangup", T).unwrap();
    assert_eq!(bye["call_id"], call_id.as_str());
    assert_eq!(bye["reason"], "normal");
    let _ = duet_tests::wait_until("duet call to end", T, || Ok(call.try_wait()?));
    session.close_blocking();
}

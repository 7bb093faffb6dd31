#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The broker's web endpoint end to end, without a browser: a real
//! `duet broker` in a host of a simulated LAN and scripted WebSocket
//! clients (TLS pinned to the fingerprint the broker printed) in another
//! (the test body runs in its own host, see `in_host`).

use duet_tests::broker::DuetBroker;
use duet_tests::web::{self, WebClient};
use duet_tests::{add_host_beside, current_host, in_host, node::duet_bin};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(10);
const SDP: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

fn broker(args: &[&str]) -> DuetBroker {
    let host = add_host_beside(&current_host().unwrap()).unwrap();
    let b = DuetBroker::start(&host, args).unwrap();
    assert!(b.web_fingerprint.is_some(), "no fingerprint line");
    b
}

fn client(b: &DuetBroker, query: &str) -> WebClient {
    let addr = b.web_addr().unwrap();
    WebClient::connect(&addr, b.web_fingerprint.as_deref().unwrap(), query)
        .unwrap_or_else(|e| panic!("{e:#}\n{}", b.logs()))
}

fn error_code(c: &mut WebClient) -> String {
    let e = c.expect("error", T).unwrap();
    e["code"].as_str().unwrap().to_string()
}

fn lists(peers: &Value, id: &str) -> bool {
    peers["peers"]
        .as_array()
        .is_some_and(|l| l.iter().any(|p| p["id"] == id))
}

#[test]
fn web_socket_refuses_bad_frames_and_relays_calls_between_browsers() {
    in_host(
        "web_socket_refuses_bad_frames_and_relays_calls_between_browsers",
        || {
            let b = broker(&[]);
            let (addr, fp) = (b.web_addr().unwrap(), b.web_fingerprint.clone().unwrap());
            let (status, page) = web::get(&addr, &fp, "/").unwrap();
            assert_eq!(status, 200);
            assert!(page.contains("app.js"), "{page}");
            assert_eq!(web::get(&addr, &fp, "/app.js").unwrap().0, 200);
            assert_eq!(web::get(&addr, &fp, "/../etc/passwd").unwrap().0, 404);

            let mut alice = client(&b, "");
            alice.send_text("garbage").unwrap();
            assert_eq!(error_code(&mut alice), "bad-message");
            alice
                .send(&json!({"v":1,"type":"ringing","to":"x","call_id":"c"}))
                .unwrap();
            assert_eq!(error_code(&mut alice), "not-joined");
            let joined = alice.join("alice").unwrap();
            assert_eq!(joined["id"], "web:alice");
            // The broker's TURN, with credentials of this browser's own.
            let ice = &joined["ice_servers"][0];
            let urls = ice["urls"].as_array().unwrap();
            assert!(
                urls.iter()
                    .any(|u| u.as_str().unwrap().starts_with("turn:")),
                "{joined}"
            );
            assert!(!ice["username"].as_str().unwrap().is_empty(), "{joined}");
            assert!(!ice["credential"].as_str().unwrap().is_empty(), "{joined}");
            // Oversized, unknown type, wrong version, binary: refused, still open.
            let big = json!({"v":1,"type":"join","name":"x".repeat(70 * 1024)});
            alice.send(&big).unwrap();
            let e = alice.expect("error", T).unwrap();
            assert!(e["message"].as_str().unwrap().contains("cap"), "{e}");
            alice.send(&json!({"v":1,"type":"bogus"})).unwrap();
            assert_eq!(error_code(&mut alice), "bad-message");
            alice
                .send(&json!({"v":2,"type":"join","name":"a"}))
                .unwrap();
            assert_eq!(error_code(&mut alice), "bad-message");
            alice.send_binary(&[0, 1, 2]).unwrap();
            assert_eq!(error_code(&mut alice), "bad-message");
            let bad_sdp = json!({"v":1,"type":"invite","to":"web:x","call_id":"c1","sdp":"x"});
            alice.send(&bad_sdp).unwrap();
            assert_eq!(error_code(&mut alice), "bad-message");
            alice
                .send(&json!({"v":1,"type":"ringing","to":"web:nobody","call_id":"c1"}))
                .unwrap();
            assert_eq!(error_code(&mut alice), "no-such-peer");

            // A second "alice" gets a unique id; each lists the other.
            let mut bob = client(&b, "");
            assert_eq!(bob.join("alice").unwrap()["id"], "web:alice-2");
            alice
                .expect_where("peers", T, |p| lists(p, "web:alice-2"))
                .unwrap();
            let peers = bob
                .expect_where("peers", T, |p| lists(p, "web:alice"))
                .unwrap();
            assert!(!lists(&peers, "web:alice-2"), "lists itself: {peers}");
            assert_eq!(peers["peers"][0]["kind"], "web");

            // bob calls alice: every message arrives with from/from_name.
            let invite = json!({"v":1,"type":"invite","to":"web:alice","call_id":"c1","sdp":SDP});
            bob.send(&invite).unwrap();
            let got = alice.expect("invite", T).unwrap();
            assert_eq!(got["from"], "web:alice-2");
            assert_eq!(got["from_name"], "alice");
            assert_eq!(got["sdp"], SDP);
            assert!(got.get("to").is_none() && got.get("caller_name").is_none());
            for m in [
                json!({"v":1,"type":"ringing","to":"web:alice-2","call_id":"c1"}),
                json!({"v":1,"type":"accept","to":"web:alice-2","call_id":"c1","sdp":SDP}),
                json!({"v":1,"type":"ice","to":"web:alice-2","call_id":"c1","mline":0,
                       "candidate":"candidate:1 1 UDP 1 10.0.0.1 5000 typ host"}),
                json!({"v":1,"type":"mute","to":"web:alice-2","call_id":"c1","audio":true,"video":false}),
            ] {
                alice.send(&m).unwrap();
                let got = bob.expect(m["type"].as_str().unwrap(), T).unwrap();
                assert_eq!(got["from"], "web:alice");
                assert_eq!(got["call_id"], "c1");
            }
            bob.send(
                &json!({"v":1,"type":"hangup","to":"web:alice","call_id":"c1","reason":"normal"}),
            )
            .unwrap();
            assert_eq!(alice.expect("hangup", T).unwrap()["reason"], "normal");

            // A peer that leaves mid-call: the other side hears of it.
            let invite2 = json!({"v":1,"type":"invite","to":"web:alice","call_id":"c2","sdp":SDP});
            bob.send(&invite2).unwrap();
            alice.expect("invite", T).unwrap();
            drop(bob);
            let gone = alice.expect("peer-gone", T).unwrap();
            assert_eq!(gone["from"], "web:alice-2");
            assert_eq!(gone["call_id"], "c2");
            alice
                .expect_where("peers", T, |p| !lists(p, "web:alice-2"))
                .unwrap();

            // A flood: rate-limited, then closed; the broker keeps serving.
            let mut flood = client(&b, "");
            flood.join("flood").unwrap();
            let mute = json!({"v":1,"type":"mute","to":"web:alice","call_id":"c9",
                              "audio":true,"video":true})
            .to_string();
            for _ in 0..400 {
                if flood.send_text(&mute).is_err() {
                    break;
                }
            }
            let seen = flood.expect_closed(T).unwrap();
            assert!(
                seen.iter().any(|v| v["code"] == "rate-limited"),
                "no rate-limited error"
            );
            let mut carol = client(&b, "");
            carol.join("carol").unwrap();
            carol
                .expect_where("peers", T, |p| lists(p, "web:alice"))
                .unwrap();
        },
    );
}

#[test]
fn web_socket_needs_a_valid_invite_with_a_network_key() {
    in_host("web_socket_needs_a_valid_invite_with_a_network_key", || {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("net.key");
        let made = std::process::Command::new(duet_bin())
            .args(["network-key", "new"])
            .arg(&key)
            .output()
            .unwrap();
        assert!(made.status.success());
        let b = broker(&["--network-key", key.to_str().unwrap()]);
        let url = b.web_url.clone().unwrap();
        let printed = url.split_once("?invite=").expect("no invite in the URL").1;

        for query in ["", "invite=", "invite=123.abcdef", "invite=99999999999.00"] {
            let mut c = client(&b, query);
            let seen = c.expect_closed(T).unwrap();
            assert!(
                seen.iter().any(|v| v["code"] == "not-admitted"),
                "{query}: {seen:?}"
            );
        }
        let mut ok = client(&b, &format!("invite={printed}"));
        assert_eq!(ok.join("alice").unwrap()["id"], "web:alice");

        // `duet broker invite` mints another that works too.
        let out = std::process::Command::new(duet_bin())
            .args(["broker", "invite", "--valid", "1", "--network-key"])
            .arg(&key)
            .args(["--web", &b.web_addr().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let token = text
            .lines()
            .find_map(|l| l.split_once("?invite=").map(|(_, t)| t.to_string()))
            .unwrap_or_else(|| panic!("no invite in {text}"));
        let mut other = client(&b, &format!("invite={token}"));
        assert_eq!(other.join("bob").unwrap()["id"], "web:bob");
        ok.expect_where("peers", T, |p| lists(p, "web:bob"))
            .unwrap();
    });
}

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
            let ringing = alice
                .expect("ringing", T)
                .unwrap_or_else(|e| panic!("{e:#}\n{}", kiosk.logs()));
            assert_eq!(ringing["from"], kiosk_id.as_str());
            assert_eq!(ringing["from_name"], "kiosk");
            // On the allow-list: auto-answered (this SDP cannot be answered,
            // so the node ends the call), never rejected.
            let answered = alice
                .expect_where("hangup", T, |_| true)
                .or_else(|_| alice.expect("accept", T));
            assert!(answered.is_ok(), "{}", kiosk.logs());
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
            let (kiosk, kiosk_id) = start_kiosk(&b, &["--auto-answer", "--accept-from", "any"]);
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

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The broker's web endpoint end to end, without a browser: a real
//! `duet broker` in a host of a simulated LAN and scripted WebSocket
//! clients (TLS pinned to the fingerprint the broker printed) in another
//! (the test body runs in its own host, see `in_host`). The bridge to
//! nodes is in `web_bridge.rs`.

mod common;

use common::web_socket::{broker, client, error_code, lists, SDP, T};
use duet_tests::web;
use duet_tests::{in_host, node::duet_bin};
use serde_json::json;

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

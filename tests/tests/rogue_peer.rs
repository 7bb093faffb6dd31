#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A rogue libp2p peer (a real Swarm in this test process) sends a node
//! malformed, oversized and unknown signalling messages on `/duet/call/1`:
//! each is rejected and logged, and the node still takes a proper call.

mod common;

use common::rogue::{connect, rogue, send, RogueBehaviourEvent, DEADLINE, SDP};
use duet_tests::node::{DuetNode, NodeOptions};
use duet_tests::{current_host, in_host, wait_until};
use futures::StreamExt;
use libp2p::request_response;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};

#[test]
fn garbage_signalling_is_rejected_and_the_node_still_takes_calls() {
    in_host(
        "garbage_signalling_is_rejected_and_the_node_still_takes_calls",
        || {
            let host = current_host().unwrap();
            let opts = NodeOptions::named("target")
                .arg("--no-mdns")
                .arg("--listen")
                .arg("/ip4/127.0.0.1/tcp/0");
            let node = DuetNode::start_with(&host, opts).unwrap();
            let status = node.status().unwrap();
            let node_id: PeerId = status.peer_id.parse().unwrap();
            let addr: Multiaddr = status
                .listen_addrs
                .iter()
                .find(|a| a.contains("/tcp/"))
                .unwrap()
                .parse()
                .unwrap();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut swarm = rogue();
                connect(&mut swarm, addr, node_id).await;

                let oversized = format!(
                    r#"{{"v":1,"type":"ringing","call_id":"{}"}}"#,
                    "a".repeat(100_000)
                );
                for bad in [
                    b"\x00\xffnot json at all".to_vec(),
                    oversized.into_bytes(),
                    br#"{"v":2,"type":"ringing","call_id":"abc"}"#.to_vec(),
                    br#"{"v":1,"type":"launch-missiles","call_id":"abc"}"#.to_vec(),
                    br#"{"v":1,"type":"invite","call_id":"abc","caller_name":"m","sdp":"hello"}"#
                        .to_vec(),
                ] {
                    let shown = String::from_utf8_lossy(&bad[..bad.len().min(40)]).to_string();
                    assert_eq!(
                        send(&mut swarm, node_id, bad).await,
                        None,
                        "accepted {shown}"
                    );
                }
                // Same connection, well-formed messages: acknowledged.
                let ringing = br#"{"v":1,"type":"ringing","call_id":"nosuchcall"}"#.to_vec();
                let ack = send(&mut swarm, node_id, ringing)
                    .await
                    .expect("a valid message is acked");
                assert_eq!(String::from_utf8_lossy(&ack), r#"{"ack":"ok"}"#);
                // And a proper invite rings, from our authenticated PeerId.
                let invite = serde_json::json!({"v": 1, "type": "invite", "call_id": "c0ffee",
                "caller_name": "mallory", "sdp": SDP});
                let ack = send(&mut swarm, node_id, invite.to_string().into_bytes()).await;
                assert!(ack.is_some());
                let me = swarm.local_peer_id().to_string();
                let call = wait_until("the node to ring", DEADLINE, || {
                    let c = node.status()?.call;
                    Ok((c["state"] == "ringing").then_some(c))
                })
                .unwrap();
                assert_eq!(call["peer_id"], me.as_str());
                assert_eq!(
                    call["peer_name"], "mallory (unverified)",
                    "no signed presence"
                );
                let hangup = br#"{"v":1,"type":"hangup","call_id":"c0ffee","reason":"cancelled"}"#;
                assert!(send(&mut swarm, node_id, hangup.to_vec()).await.is_some());
                wait_until("the call to end", DEADLINE, || {
                    Ok(node.status()?.call.is_null().then_some(()))
                })
                .unwrap();
            });
            let logs = node.logs();
            assert!(logs.contains("rejected a signalling message"), "{logs}");
        },
    );
}

/// A well-formed offer whose media sections carry no `a=fingerprint`.
const OFFER_WITHOUT_FINGERPRINT: &str = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE video0 audio1\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:video0\r\na=sendrecv\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n\
a=rtpmap:96 VP8/90000\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:audio1\r\na=sendrecv\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n\
a=rtpmap:111 OPUS/48000/2\r\n";

#[test]
fn an_offer_without_dtls_fingerprint_ends_the_call_as_media_untrusted() {
    in_host(
        "an_offer_without_dtls_fingerprint_ends_the_call_as_media_untrusted",
        || {
            let host = current_host().unwrap();
            let opts = NodeOptions::named("target")
                .arg("--no-mdns")
                .args(duet_tests::node::AUTO_ANSWER_ANY)
                .arg("--listen")
                .arg("/ip4/127.0.0.1/tcp/0");
            let node = DuetNode::start_with(&host, opts).unwrap();
            let events = node.events().unwrap();
            let status = node.status().unwrap();
            let node_id: PeerId = status.peer_id.parse().unwrap();
            let addr: Multiaddr = status
                .listen_addrs
                .iter()
                .find(|a| a.contains("/tcp/"))
                .unwrap()
                .parse()
                .unwrap();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let hangup = rt.block_on(async {
                let mut swarm = rogue();
                swarm.dial(addr.with_p2p(node_id).unwrap()).unwrap();
                let invite = serde_json::json!({"v": 1, "type": "invite", "call_id": "badc0de",
                    "caller_name": "mallory", "sdp": OFFER_WITHOUT_FINGERPRINT});
                swarm
                    .behaviour_mut()
                    .call
                    .send_request(&node_id, invite.to_string().into_bytes());
                // Everything the node sends back, acknowledged, until its hangup.
                let hangup = async {
                    loop {
                        if let SwarmEvent::Behaviour(RogueBehaviourEvent::Call(
                            request_response::Event::Message {
                                message:
                                    request_response::Message::Request {
                                        request, channel, ..
                                    },
                                ..
                            },
                        )) = swarm.select_next_some().await
                        {
                            let _ = swarm
                                .behaviour_mut()
                                .call
                                .send_response(channel, br#"{"ack":"ok"}"#.to_vec());
                            let v: serde_json::Value = serde_json::from_slice(&request).unwrap();
                            if v["type"] == "hangup" {
                                return v;
                            }
                        }
                    }
                };
                tokio::time::timeout(DEADLINE, hangup)
                    .await
                    .expect("the node never hung up")
            });
            assert_eq!(hangup["reason"], "media-untrusted", "{hangup}");
            assert_eq!(hangup["call_id"], "badc0de");
            let ended = events
                .wait_for("call_ended", DEADLINE, |e| e.kind() == "call_ended")
                .unwrap();
            assert_eq!(
                ended.value["reason"], "media-untrusted",
                "{:?}",
                ended.value
            );
            assert!(
                ended.value["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("fingerprint")),
                "{:?}",
                ended.value
            );
        },
    );
}

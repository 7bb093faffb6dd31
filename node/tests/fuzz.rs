#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property-based fuzzing of everything a peer or a local client can feed
//! the node: the signalling codec, presence messages, DNS-SD TXT records,
//! control-socket lines, and `duet call` targets. Properties: no panic;
//! what is accepted is within its caps and carries no control, bidi or
//! invisible character to a screen. Case counts: `duet_tests::fuzz`.

use duet_node::control::lines::{read_line, Line};
use duet_node::control::protocol::parse_request;
use duet_node::net::discovery::{parse_record, MAX_RECORD_ADDRS, SERVICE_TYPE};
use duet_node::peers::{target, PeerView};
use duet_node::proto::call::{decode_signal, CallSignal, MAX_SIGNAL_BYTES};
use duet_node::proto::text::first_unsafe;
use duet_node::proto::{PresenceMsg, Status, MAX_NAME_BYTES};
use duet_tests::fuzz::run;
use proptest::prelude::*;
use std::collections::HashMap;

/// Strings with the characters attackers like: JSON syntax, escapes,
/// control, bidi and zero-width characters, and anything else.
fn nasty() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\"",
        "\\",
        "{",
        "}",
        ":",
        ",",
        "\\u001b",
        "\\u202e",
        "\u{1b}[2J",
        "\u{202e}",
        "\u{200b}",
        "\u{7}",
        "\n",
        "v=0",
        "m=audio 9 RTP 0\r\n",
        "a",
        "bob",
        "12D3KooW",
    ]);
    prop::collection::vec(
        prop_oneof![pieces.prop_map(String::from), any::<String>()],
        0..12,
    )
    .prop_map(|v| v.concat())
}

/// A signalling message: a valid-looking envelope with hostile fields.
fn signal_json() -> impl Strategy<Value = Vec<u8>> {
    let kind = prop::sample::select(vec![
        "invite", "ringing", "accept", "reject", "ice", "hangup", "x",
    ]);
    (kind, nasty(), nasty(), nasty(), any::<u32>(), any::<u16>()).prop_map(
        |(kind, id, text, sdp, mline, v)| {
            serde_json::json!({"v": v % 3, "type": kind, "call_id": id,
                "caller_name": text, "detail": text, "reason": "error",
                "sdp": format!("v=0\r\n{sdp}"), "mline": mline % 6, "candidate": text})
            .to_string()
            .into_bytes()
        },
    )
}

fn check_signal(bytes: &[u8]) -> Result<(), String> {
    let Ok(signal) = decode_signal(bytes) else {
        return Ok(());
    };
    let shown = match &signal {
        CallSignal::Invite { caller_name, .. } => Some(caller_name.as_str()),
        CallSignal::Hangup { detail, .. } => detail.as_deref(),
        _ => None,
    };
    if let Some(c) = shown.and_then(first_unsafe) {
        return Err(format!("{c:?} reached a label: {signal:?}"));
    }
    if bytes.len() > MAX_SIGNAL_BYTES {
        return Err("accepted over the cap".into());
    }
    Ok(())
}

#[test]
fn fuzz_signalling_codec() {
    run("signalling (raw bytes)", any::<Vec<u8>>(), |b| {
        check_signal(&b)
    });
    run("signalling (hostile JSON)", signal_json(), |b| {
        check_signal(&b)
    });
}

#[test]
fn fuzz_presence() {
    let json = (nasty(), nasty(), any::<u64>()).prop_map(|(name, status, seq)| {
        serde_json::json!({"v": "1", "name": name, "status": status, "seq": seq})
            .to_string()
            .into_bytes()
    });
    let check = |b: Vec<u8>| -> Result<(), String> {
        if let Ok(msg) = PresenceMsg::decode(&b) {
            let p = msg.into_presence();
            let name = p.name.as_str();
            if first_unsafe(name).is_some() || name.len() > MAX_NAME_BYTES || name.is_empty() {
                return Err(format!("accepted name {name:?}"));
            }
        }
        Ok(())
    };
    run("presence (raw bytes)", any::<Vec<u8>>(), check);
    run("presence (hostile JSON)", json, check);
}

#[test]
fn fuzz_dnssd_txt() {
    let peer = libp2p::PeerId::random().to_string();
    let key = prop::sample::select(vec!["peer_id", "proto", "name", "tcp", "quic", "x"]);
    let value = prop_oneof![
        nasty(),
        Just(peer.clone()),
        Just("1".to_string()),
        any::<u16>().prop_map(|p| p.to_string()),
    ];
    let txt = prop::collection::vec((key, value), 0..8);
    let ips = prop::collection::vec(any::<[u8; 4]>(), 1..20);
    run("DNS-SD TXT", (txt, ips), |(txt, ips)| {
        let props: HashMap<String, String> =
            txt.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let ips: Vec<std::net::IpAddr> = ips.into_iter().map(Into::into).collect();
        let Ok(info) = mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            "fuzz [abcdef]",
            "h.local.",
            &ips[..],
            4001,
            props,
        ) else {
            return Ok(());
        };
        if let Ok(r) = parse_record(&info.as_resolved_service()) {
            if first_unsafe(r.name.as_str()).is_some() {
                return Err(format!("accepted name {:?}", r.name));
            }
            if r.addrs.len() > MAX_RECORD_ADDRS {
                return Err(format!("{} addresses kept", r.addrs.len()));
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_control_lines() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let input = (any::<Vec<u8>>(), signal_json(), 1usize..64, 1usize..200);
    run("control lines", input, |(raw, json, buf, cap)| {
        let mut bytes = raw;
        bytes.push(b'\n');
        bytes.extend_from_slice(&json);
        let _ = parse_request(&bytes);
        let _ = parse_request(&json);
        // Read back with a tiny buffer and cap: every line is data within
        // the cap, too long, or the end.
        let mut reader = tokio::io::BufReader::with_capacity(buf, &bytes[..]);
        rt.block_on(async {
            for _ in 0..bytes.len() + 2 {
                match read_line(&mut reader, cap)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    Line::Eof => return Ok(()),
                    Line::TooLong => {}
                    Line::Data(d) if d.len() > cap => return Err(format!("{} > {cap}", d.len())),
                    Line::Data(_) => {}
                }
            }
            Err("read_line never reached the end".to_string())
        })
    });
}

#[test]
fn fuzz_call_targets() {
    let peer = |(name, id): (String, String)| PeerView {
        short_id: id.chars().rev().take(6).collect(),
        name,
        peer_id: id,
        status: Status::Available,
        addrs: vec![],
        identity_changed: false,
        via: vec![],
        kind: "node".into(),
    };
    let peers = prop::collection::vec((nasty(), "[1-9A-Za-z]{0,20}").prop_map(peer), 0..6);
    run("call targets", (peers, nasty()), |(peers, t)| {
        let _ = target::resolve(&peers, ("12D3KooWme", "me"), &t);
        Ok(())
    });
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The node itself: identity, control socket, bad input.

use duet_tests::node::{duet_bin, DuetNode, NodeOptions};
use duet_tests::Lan;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const LISTED: Duration = Duration::from_secs(30);

fn duet_id(dir: &std::path::Path) -> Value {
    let out = Command::new(duet_bin())
        .args(["id", "--json", "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn id_is_stable_across_restarts_and_the_key_is_private() {
    let lan = Lan::new(1).unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("duet");
    let first = duet_id(&dir);
    assert_eq!(first, duet_id(&dir));
    let mode = std::fs::metadata(dir.join("identity.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);

    let mut node =
        DuetNode::start_with(lan.host(0), NodeOptions::named("zoe").data_dir(&dir)).unwrap();
    assert_eq!(node.peer_id().unwrap(), first["peer_id"].as_str().unwrap());
    let mode = std::fs::metadata(&node.control)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "control socket is owner-only");
    assert!(node.stop().unwrap().success());
    let again =
        DuetNode::start_with(lan.host(0), NodeOptions::named("zoe").data_dir(&dir)).unwrap();
    assert_eq!(again.peer_id().unwrap(), first["peer_id"].as_str().unwrap());
    assert_eq!(
        duet_id(&dir)["name"],
        "zoe",
        "duet id shows the display name"
    );
    let status = again.status().unwrap();
    assert_eq!(status.name, "zoe");
    assert_eq!(status.status, "available");
    assert!(status.call.is_null());
    assert!(!status.listen_addrs.is_empty());
}

#[test]
fn corrupt_key_file_is_an_error_not_replaced() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("identity.key"), b"not a key").unwrap();
    let out = Command::new(duet_bin())
        .args(["id", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrupt"));
    assert_eq!(
        std::fs::read(data.path().join("identity.key")).unwrap(),
        b"not a key"
    );
}

#[test]
fn client_without_a_node_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["peers", "status", "events"] {
        let out = Command::new(duet_bin())
            .arg(sub)
            .env("DUET_CONTROL", dir.path().join("nobody.sock"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sub}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no duet node is running at"), "{err}");
        assert!(err.contains("duet up"), "{err}");
    }
}

#[test]
fn stale_socket_is_replaced_but_a_live_node_is_not() {
    let lan = Lan::new(2).unwrap();
    let mut first = DuetNode::start(lan.host(0), "first").unwrap();
    // A second node on the same control socket is refused.
    let out = lan
        .host(1)
        .command(duet_bin())
        .args(["up", "--name", "second", "--display", "none", "--data-dir"])
        .arg(first.data_dir.with_file_name("second-data"))
        .arg("--control")
        .arg(&first.control)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another node is running"));
    assert!(first.peers().is_ok(), "the first node still serves");
    // A crash leaves the socket file behind; the next node takes it over.
    first.kill().unwrap();
    assert!(first.control.exists());
    let control = first.control.clone();
    let out_dir = first.data_dir.clone();
    let restarted = lan
        .host(0)
        .command(duet_bin())
        .args([
            "up",
            "--name",
            "first",
            "--display",
            "none",
            "--video",
            "test",
            "--audio",
            "test",
            "--data-dir",
        ])
        .arg(&out_dir)
        .arg("--control")
        .arg(&control)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut restarted = scopeguard(restarted);
    duet_tests::wait_until("the restarted node to answer", LISTED, || {
        let out = Command::new(duet_bin())
            .args(["status", "--json"])
            .env("DUET_CONTROL", &control)
            .output()?;
        Ok(out.status.success().then_some(()))
    })
    .unwrap();
    restarted.0.kill().unwrap();
}

struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
fn scopeguard(c: std::process::Child) -> Guard {
    Guard(c)
}

fn send_line(s: &mut UnixStream, r: &mut BufReader<UnixStream>, line: &[u8]) -> Value {
    s.write_all(line).unwrap();
    s.write_all(b"\n").unwrap();
    let mut reply = String::new();
    r.read_line(&mut reply).unwrap();
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("reply {reply:?}: {e}"))
}

#[test]
fn garbage_on_the_control_socket_and_the_libp2p_port_leaves_the_node_serving() {
    let lan = Lan::new(2).unwrap();
    let a = DuetNode::start(lan.host(0), "alice").unwrap();
    let b = DuetNode::start(lan.host(1), "bob").unwrap();
    let idb = b.peer_id().unwrap();
    a.wait_for_peers(&[&idb], LISTED).unwrap();

    let mut s = UnixStream::connect(&a.control).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let huge = vec![b'x'; 200 * 1024];
    for bad in [
        &b"hello"[..],
        b"\xff\xfe\x00garbage",
        b"{}",
        br#"{"cmd":"launch"}"#,
        b"[1,2,3]",
        &huge,
    ] {
        let reply = send_line(&mut s, &mut r, bad);
        assert_eq!(reply["ok"], false, "{reply}");
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{reply}"
        );
    }
    let reply = send_line(&mut s, &mut r, br#"{"cmd":"peers"}"#);
    assert_eq!(reply["ok"], true, "same connection still works: {reply}");
    assert_eq!(reply["peers"][0]["peer_id"], idb.as_str());
    // A client that connects and hangs up mid-line.
    let mut half = UnixStream::connect(&a.control).unwrap();
    half.write_all(b"{\"cmd\":\"pe").unwrap();
    drop(half);
    // A request over the socket can also set the status; peers see it.
    let reply = a
        .request(&json!({"cmd": "set_status", "status": "dnd"}))
        .unwrap();
    assert_eq!(reply["ok"], true, "{reply}");

    // Garbage bytes on alice's libp2p TCP and QUIC ports, from bob's host.
    let status = a.status().unwrap();
    let ip = lan.host(0).ip.to_string();
    let port_of = |proto: &str| {
        status
            .listen_addrs
            .iter()
            .find(|s| s.starts_with(&format!("/ip4/{ip}/{proto}/")))
            .map(|s| s.split('/').nth(4).unwrap().to_string())
            .unwrap()
    };
    let (tcp, udp) = (port_of("tcp"), port_of("udp"));
    for _ in 0..3 {
        let cmd = format!(
            "head -c 65536 /dev/urandom > /dev/tcp/{ip}/{tcp}; \
             printf 'GET / HTTP/1.0\\r\\n\\r\\n' > /dev/tcp/{ip}/{tcp}; \
             head -c 1200 /dev/urandom > /dev/udp/{ip}/{udp}; true"
        );
        let st = lan
            .host(1)
            .command("bash")
            .args(["-c", &cmd])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
    }
    let peers = a.peers().unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].peer_id, idb);
    let ida = a.peer_id().unwrap();
    duet_tests::wait_until("bob to see alice as dnd", LISTED, || {
        Ok(b.peers()?
            .iter()
            .any(|p| p.peer_id == ida && p.status == "dnd")
            .then_some(()))
    })
    .unwrap();
}

#[test]
fn events_stream_reports_up_changed_and_down() {
    let lan = Lan::new(2).unwrap();
    let a = DuetNode::start(lan.host(0), "alice").unwrap();
    let events = a.events().unwrap();
    let mut b = DuetNode::start(lan.host(1), "bob").unwrap();
    let idb = b.peer_id().unwrap();
    let up = events.wait_peer("peer_up", &idb, LISTED).unwrap();
    assert_eq!(up.value["peer"]["name"], "bob");
    for key in ["name", "peer_id", "status", "addrs"] {
        assert!(up.value["peer"].get(key).is_some(), "{key} in {}", up.value);
    }
    // in-call is the node's to set, while a call exists.
    let refused = b
        .request(&json!({"cmd": "set_status", "status": "in-call"}))
        .unwrap();
    assert_eq!(refused["ok"], false, "{refused}");
    b.request(&json!({"cmd": "set_status", "status": "dnd"}))
        .unwrap();
    let changed = events
        .wait_for("bob dnd", LISTED, |e| {
            e.kind() == "peer_changed" && e.value["peer"]["status"] == "dnd"
        })
        .unwrap();
    assert_eq!(changed.peer_id(), idb);
    b.stop().unwrap();
    events
        .wait_peer("peer_down", &idb, Duration::from_secs(10))
        .unwrap();
}

//! Browsers through the broker's web page, end to end: headless Chromium
//! (fake camera and microphone) on a simulated LAN with a real `duet
//! broker` and real `duet up` nodes. The page is driven only through its
//! element ids (docs/web-protocol.md), as a kiosk script would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use duet_tests::broker::DuetBroker;
use duet_tests::chromium::Chromium;
use duet_tests::web_page::{
    call, node_options, open_and_join, page_url, wait_remote_frames, wait_status,
};
use duet_tests::{wait_until, DuetNode, Lan};
use serde_json::Value;
use std::time::Duration;

const LISTED: Duration = Duration::from_secs(30);
const CONNECTED: Duration = Duration::from_secs(30);

fn node(lan: &Lan, i: usize, name: &str, broker: &DuetBroker, extra: &[&str]) -> DuetNode {
    DuetNode::start_with(lan.host(i), node_options(name, broker, extra)).unwrap()
}

fn call_of(node: &DuetNode) -> Value {
    node.status().map(|s| s.call).unwrap_or(Value::Null)
}

/// Waits until `node`'s call is connected and it decoded `frames` video frames.
fn wait_node_frames(node: &DuetNode, frames: u64) -> Value {
    wait_until(
        &format!("{} to decode {frames} frames", node.name),
        CONNECTED,
        || {
            let c = call_of(node);
            let n = c["stats"]["video_frames_received"].as_u64().unwrap_or(0);
            Ok((c["state"] == "connected" && n >= frames).then_some(c))
        },
    )
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()))
}

fn wait_no_call(node: &DuetNode) {
    wait_until(&format!("{} to have no call", node.name), CONNECTED, || {
        Ok(call_of(node).is_null().then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", node.logs()));
}

#[test]
fn page_calls_a_node_which_answers_and_the_page_hangs_up() {
    let lan = Lan::new(3).unwrap();
    let broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    let kiosk = node(
        &lan,
        1,
        "kiosk",
        &broker,
        &duet_tests::node::AUTO_ANSWER_ANY,
    );
    let events = kiosk.events().unwrap();
    let mut page = Chromium::launch(Some(lan.host(2))).unwrap();
    let me = open_and_join(&mut page, &page_url(lan.host(0)), "alice").unwrap();
    assert!(me.starts_with("web:alice"), "{me}");

    call(&mut page, "kiosk", LISTED).unwrap();
    wait_status(&mut page, "connected", CONNECTED).unwrap();
    // The node decodes the browser's camera, the browser the node's.
    let c = wait_node_frames(&kiosk, 60);
    assert_eq!(c["direction"], "incoming", "{c}");
    wait_remote_frames(&mut page, 30, CONNECTED).unwrap();
    if let Some(path) = std::env::var_os("DUET_WEB_SCREENSHOT") {
        page.screenshot(std::path::Path::new(&path)).unwrap();
    }

    page.click("#hangup").unwrap();
    wait_status(&mut page, "hangup", CONNECTED).unwrap();
    let ended = events
        .wait_for("call_ended", CONNECTED, |e| e.kind() == "call_ended")
        .unwrap();
    assert_eq!(ended.value["reason"], "remote-hangup", "{}", ended.value);
    wait_no_call(&kiosk);
}

#[test]
fn node_calls_the_page_which_answers_and_the_node_hangs_up() {
    let lan = Lan::new(3).unwrap();
    let broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    let desk = node(&lan, 1, "desk", &broker, &[]);
    let mut page = Chromium::launch(Some(lan.host(2))).unwrap();
    let me = open_and_join(&mut page, &page_url(lan.host(0)), "visitor").unwrap();
    wait_until("the node to list the web user", LISTED, || {
        // (`duet peers --json` raw: a web user has fields a node has not.)
        let out = desk.cli().args(["peers", "--json"]).output()?;
        let peers: Value = serde_json::from_slice(&out.stdout)?;
        let via = format!("{me} via ");
        Ok(peers
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"].as_str().is_some_and(|n| n.starts_with(&via)))
            .map(|p| assert_eq!(p["kind"], "web", "{p}")))
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", desk.logs()));

    let mut dialing = desk
        .cli()
        .args(["call", &me])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    page.wait_js(
        "#incoming to show",
        CONNECTED,
        "!document.querySelector('#incoming').hidden && document.querySelector('#incoming-name').textContent",
    )
    .unwrap();
    wait_status(&mut page, "ringing", CONNECTED).unwrap();
    page.click("#answer").unwrap();
    wait_status(&mut page, "connected", CONNECTED).unwrap();
    let status = wait_until("duet call to return", CONNECTED, || Ok(dialing.try_wait()?)).unwrap();
    assert!(status.success(), "duet call failed\n{}", desk.logs());
    wait_node_frames(&desk, 60);
    wait_remote_frames(&mut page, 30, CONNECTED).unwrap();

    let out = desk.cli().arg("hangup").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_status(&mut page, "remote-hangup", CONNECTED).unwrap();
    wait_no_call(&desk);
}

#[test]
fn two_pages_call_each_other_through_the_broker() {
    let lan = Lan::new(3).unwrap();
    let broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    let url = page_url(lan.host(0));
    let mut alice = Chromium::launch(Some(lan.host(1))).unwrap();
    let mut bob = Chromium::launch(Some(lan.host(2))).unwrap();
    open_and_join(&mut alice, &url, "alice").unwrap();
    open_and_join(&mut bob, &url, "bob").unwrap();

    // Declined first: both say so, and both can call again.
    call(&mut alice, "bob", LISTED).unwrap();
    wait_status(&mut bob, "ringing", CONNECTED).unwrap();
    bob.click("#reject").unwrap();
    wait_status(&mut alice, "declined", CONNECTED).unwrap();
    let said = alice
        .eval("document.querySelector('#message').textContent")
        .unwrap();
    assert!(said.as_str().unwrap().contains("bob declined"), "{said}");

    call(&mut alice, "bob", LISTED).unwrap();
    wait_status(&mut bob, "ringing", CONNECTED).unwrap();
    wait_status(&mut alice, "calling", CONNECTED).unwrap();
    bob.click("#answer").unwrap();
    wait_status(&mut alice, "connected", CONNECTED).unwrap();
    wait_status(&mut bob, "connected", CONNECTED).unwrap();
    wait_remote_frames(&mut alice, 30, CONNECTED).unwrap();
    wait_remote_frames(&mut bob, 30, CONNECTED).unwrap();
    if let Some(path) = std::env::var_os("DUET_WEB_SCREENSHOT_PAGES") {
        bob.screenshot(std::path::Path::new(&path)).unwrap();
        // And as on a phone (portrait), beside it.
        alice.set_viewport(390, 844, true).unwrap();
        let phone = std::path::Path::new(&path).with_extension("phone.png");
        alice.screenshot(&phone).unwrap();
    }

    // Camera off: the peer is told, and the stream goes on (black frames).
    alice.click("#mute-video").unwrap();
    bob.wait_js(
        "bob to see alice's camera off",
        CONNECTED,
        "!document.querySelector('#remote-muted').hidden && \
         document.querySelector('#remote-muted').textContent.includes('camera off')",
    )
    .unwrap();
    wait_remote_frames(&mut bob, 10, CONNECTED).unwrap();

    alice.click("#hangup").unwrap();
    wait_status(&mut alice, "hangup", CONNECTED).unwrap();
    wait_status(&mut bob, "remote-hangup", CONNECTED).unwrap();
    drop(broker);
}

#[test]
fn the_page_needs_a_valid_invite_when_the_broker_has_a_network_key() {
    let lan = Lan::new(2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("net.key");
    let bin = duet_tests::node::duet_bin();
    let out = std::process::Command::new(&bin)
        .args(["network-key", "new"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let key_arg = key.to_str().unwrap();
    let broker = DuetBroker::start(lan.host(0), &["--network-key", key_arg]).unwrap();
    let out = std::process::Command::new(&bin)
        .args(["broker", "invite", "--network-key", key_arg])
        .output()
        .unwrap();
    let link = String::from_utf8_lossy(&out.stdout).to_string();
    let token = link
        .trim()
        .split_once("?invite=")
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| panic!("no invite in {link:?}"));
    let url = page_url(lan.host(0));
    let mut page = Chromium::launch(Some(lan.host(1))).unwrap();

    // A forged token: refused, the page says so and can try again.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{url}?invite={}{last}", &token[..token.len() - 1]);
    page.navigate(&forged).unwrap();
    page.eval("document.querySelector('#name').value = 'mallory'")
        .unwrap();
    page.click("#join").unwrap();
    let said = page
        .wait_js(
            "the page to show the refusal",
            CONNECTED,
            "!document.querySelector('#join').disabled && !document.querySelector('#message').hidden \
             && document.querySelector('#message').textContent",
        )
        .unwrap();
    assert!(
        said.as_str().unwrap().to_lowercase().contains("invite"),
        "{said}"
    );
    assert_eq!(
        page.eval("document.querySelector('#my-id').textContent")
            .unwrap(),
        ""
    );
    assert_eq!(page.status().unwrap(), "idle");

    // The broker keeps serving; the real link joins.
    let me = open_and_join(&mut page, &format!("{url}?invite={token}"), "alice").unwrap();
    assert!(me.starts_with("web:alice"), "{me}");
    drop(broker);
}

#[test]
fn a_denied_camera_is_said_in_words_and_the_page_stays_usable() {
    let lan = Lan::new(3).unwrap();
    let _broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    let url = page_url(lan.host(0));
    let mut alice =
        Chromium::launch_with(Some(lan.host(1)), &["--use-fake-ui-for-media-stream=deny"]).unwrap();
    let mut bob = Chromium::launch(Some(lan.host(2))).unwrap();
    open_and_join(&mut alice, &url, "alice").unwrap();
    open_and_join(&mut bob, &url, "bob").unwrap();
    call(&mut alice, "bob", LISTED).unwrap();
    wait_status(&mut alice, "camera-denied", CONNECTED).unwrap();
    let said = alice
        .eval("document.querySelector('#message').textContent")
        .unwrap();
    assert!(said.as_str().unwrap().contains("denied"), "{said}");
    // Bob was never rung, and alice can still be called.
    assert_eq!(bob.status().unwrap(), "idle");
    call(&mut bob, "alice", LISTED).unwrap();
    wait_status(&mut alice, "ringing", CONNECTED).unwrap();
}

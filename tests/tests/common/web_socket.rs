//! The broker's web endpoint for the scripted-client tests (`web.rs`,
//! `web_bridge.rs`): a broker in a host of its own and WebSocket clients
//! pinned to the fingerprint it printed.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use duet_tests::broker::DuetBroker;
use duet_tests::web::WebClient;
use duet_tests::{add_host_beside, current_host};
use serde_json::Value;
use std::time::Duration;

pub const T: Duration = Duration::from_secs(10);
pub const SDP: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

pub fn broker(args: &[&str]) -> DuetBroker {
    let host = add_host_beside(&current_host().unwrap()).unwrap();
    let b = DuetBroker::start(&host, args).unwrap();
    assert!(b.web_fingerprint.is_some(), "no fingerprint line");
    b
}

pub fn client(b: &DuetBroker, query: &str) -> WebClient {
    let addr = b.web_addr().unwrap();
    WebClient::connect(&addr, b.web_fingerprint.as_deref().unwrap(), query)
        .unwrap_or_else(|e| panic!("{e:#}\n{}", b.logs()))
}

pub fn error_code(c: &mut WebClient) -> String {
    let e = c.expect("error", T).unwrap();
    e["code"].as_str().unwrap().to_string()
}

pub fn lists(peers: &Value, id: &str) -> bool {
    peers["peers"]
        .as_array()
        .is_some_and(|l| l.iter().any(|p| p["id"] == id))
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Calls placed back to back run into the callee's invite limit (8 at
//! once, then 1 a second, per caller): the refused invite ends the caller's
//! call as `rate-limited` (exit 10, the reason in its message), not as
//! `unreachable`.

use duet_tests::node::DuetNode;
use duet_tests::{wait_until, Lan};
use std::time::Duration;

#[test]
fn back_to_back_calls_end_as_rate_limited() {
    let lan = Lan::new(2).unwrap();
    let (alice, _bob) = DuetNode::alice_and_answering_bob(&lan, Duration::from_secs(30)).unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..20 {
        let out = alice.cli().args(["call", "bob"]).output().unwrap();
        let code = out.status.code();
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        outcomes.push(code);
        if code == Some(10) {
            assert!(text.contains("rate-limited"), "{text}");
            return;
        }
        // 0: connected; 5: bob still ends the last call (busy).
        assert!(
            matches!(code, Some(0 | 5)),
            "{code:?}: {text}; {outcomes:?}"
        );
        let _ = alice.cli().arg("hangup").output().unwrap();
        wait_until("alice to have no call", Duration::from_secs(10), || {
            Ok(alice.status()?.call.is_null().then_some(()))
        })
        .unwrap();
    }
    panic!("20 calls back to back, none rate-limited: {outcomes:?}");
}

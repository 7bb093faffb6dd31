//! The callee's call window is its ringing card: the session prepared
//! while the phone rings opens it, with the card and the local preview,
//! and it closes when the call is declined or cancelled.

use super::*;

/// The card in the middle (nothing on the left) and the local preview in
/// its corner: the prepared call window, not a card-only window.
fn card_with_preview(x: &Xvfb, png: &str, local: fn(&Region) -> bool) -> bool {
    if !shows_card(x, png) {
        return false;
    }
    let (pw, ph, m) = (PREVIEW_WIDTH, PREVIEW_HEIGHT, PREVIEW_MARGIN);
    region(
        png,
        WINDOW_WIDTH - pw - m + 20,
        WINDOW_HEIGHT - ph - m + 20,
        pw - 40,
        ph - 40,
    )
    .is_ok_and(|r| local(&r))
}

fn call_windows(x: &Xvfb) -> usize {
    let size = format!("{WINDOW_WIDTH}x{WINDOW_HEIGHT}");
    x.tree().lines().filter(|l| l.contains(&size)).count()
}

#[test]
fn ringing_card_is_the_call_window_and_closes_when_declined_or_cancelled() {
    let _serial = one_at_a_time();
    let lan = Lan::new(2).unwrap();
    let alice = start(&lan, 0, "alice", false, &[]);
    let bob = start(&lan, 1, "bob", true, &["--video", BLUE]);
    alice.node.wait_to_meet(&bob.node, DEADLINE).unwrap();
    let bx = bob.x.as_ref().unwrap();
    let png = format!("/tmp/duet-window-ringing-{}.png", std::process::id());

    // Declined with `n` on the window, then cancelled by the caller.
    for (end, reason) in [("n", "declined"), ("cancel", "cancelled")] {
        let dialing = call(&alice.node, "bob");
        bob.events
            .wait_for("incoming_call", DEADLINE, |e| e.kind() == "incoming_call")
            .unwrap();
        wait_until("bob's card on his call window", DEADLINE, || {
            Ok(card_with_preview(bx, &png, blue).then_some(()))
        })
        .unwrap_or_else(|e| panic!("{e:#}\n{}", bob.node.logs()));
        assert_eq!(call_windows(bx), 1, "{}", bx.tree());
        assert!(bx.tree().contains("\"duet — alice\""), "{}", bx.tree());
        assert_eq!(call_of(&bob.node)["state"], "ringing");
        if end == "n" {
            bx.key("duet — alice", "n").unwrap();
        } else {
            run(&alice.node, &["hangup"]);
        }
        let _ = dialing.wait_with_output();
        assert_eq!(ended(&bob), reason);
        wait_until("bob's window closes", DEADLINE, || {
            Ok((call_windows(bx) == 0).then_some(()))
        })
        .unwrap();
    }
    let _ = std::fs::remove_file(png);
}

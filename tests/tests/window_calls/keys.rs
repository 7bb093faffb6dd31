//! Keys in the call window: `y` answers from the ringing card, `v` turns
//! the camera off and on (the peer sees black, then the picture), `m` mutes
//! the microphone (the peer's status and events say so), `h` hangs up, and
//! closing the window from the window manager hangs up too.

use super::*;

fn black(r: &Region) -> bool {
    r.r < 0.1 && r.g < 0.1 && r.b < 0.1
}

/// The main area of `x`'s window satisfies `cond`.
fn main_area(x: &Xvfb, what: &str, cond: fn(&Region) -> bool) {
    let png = format!("/tmp/duet-window-keys-{}.png", std::process::id());
    wait_until(what, DEADLINE, || {
        let (main, _) = window_regions(x, &png);
        Ok(cond(&main).then_some(()))
    })
    .unwrap();
    let _ = std::fs::remove_file(png);
}

#[test]
fn window_keys_answer_mute_and_hang_up_and_closing_hangs_up() {
    let _serial = one_at_a_time();
    let (_lan, alice, bob) = red_and_blue_windows();
    let (ax, bx) = (alice.x.as_ref().unwrap(), bob.x.as_ref().unwrap());

    // y in the ringing card answers.
    let dialing = call(&alice.node, "bob");
    let ringing = wait_until("bob's ringing card", DEADLINE, || {
        Ok(bx.window("duet — alice").ok())
    });
    ringing.unwrap();
    bx.key("duet — alice", "y").unwrap();
    assert!(dialing.wait_with_output().unwrap().status.success());
    main_area(bx, "bob sees alice (red)", red);
    // v turns alice's camera off (black frames), and on again.
    ax.key("duet — bob", "v").unwrap();
    main_area(bx, "bob sees alice's camera off (black)", black);
    ax.key("duet — bob", "v").unwrap();
    main_area(bx, "bob sees alice again", red);
    // m mutes bob's microphone: alice's status and events say so (how fast
    // is the mute bench's business: scripts/bench mute); m again unmutes.
    for want in [true, false] {
        let pressed = Instant::now();
        bx.key("duet — alice", "m").unwrap();
        alice
            .events
            .wait_for("remote_muted", DEADLINE, |e| {
                e.kind() == "remote_muted" && e.value["call"]["remote_muted"]["audio"] == want
            })
            .unwrap();
        eprintln!(
            "m: alice sees remote_muted.audio={want} after {:?}",
            pressed.elapsed()
        );
        assert_eq!(call_of(&alice.node)["remote_muted"]["audio"], want);
        assert_eq!(call_of(&bob.node)["muted"]["audio"], want);
    }
    // h hangs up.
    bx.key("duet — alice", "h").unwrap();
    assert_eq!(ended(&bob), "hangup");
    assert_eq!(ended(&alice), "remote-hangup");

    // Closing the window (window manager's close button) hangs up.
    let dialing = call(&alice.node, "bob");
    bob.events
        .wait_for("incoming_call", DEADLINE, |e| e.kind() == "incoming_call")
        .unwrap();
    run(&bob.node, &["answer"]);
    assert!(dialing.wait_with_output().unwrap().status.success());
    main_area(ax, "alice sees bob (blue)", blue);
    ax.close("duet — bob").unwrap();
    assert_eq!(ended(&alice), "hangup");
    assert_eq!(ended(&bob), "remote-hangup");
}

//! Do-not-disturb, and a peer that vanishes without a hangup: its media
//! ended with no hangup after the grace, or no media for the timeout.

use super::*;

/// Bob answered Alice's call and media is up.
fn bob_connected() -> CallMachine<u32> {
    let mut b = bob_ringing();
    b.answer().unwrap();
    b.on_media_connected();
    assert_eq!(b.call().unwrap().phase, Phase::Connected);
    b
}

fn armed(actions: &[Action<u32>]) -> Vec<(Timer, Duration)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Arm { timer, after, .. } => Some((*timer, *after)),
            _ => None,
        })
        .collect()
}

#[test]
fn do_not_disturb_answers_busy_and_does_not_ring() {
    let mut b = machine(BOB);
    b.set_dnd(true);
    let acts = b.on_signal_from(ALICE, CallerTrust::Allowed, invite("c1"));
    assert!(matches!(
        &sent(&acts)[..],
        [(
            ALICE,
            CallSignal::Reject {
                reason: RejectReason::Busy,
                ..
            }
        )]
    ));
    assert!(b.call().is_none(), "nothing rings");
    assert!(!acts.iter().any(|a| matches!(a, Action::Notify(_))));
    // Off again: the next invite rings.
    b.set_dnd(false);
    let acts = b.on_signal(ALICE, invite("c2"));
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Ringing { .. })]
    ));
}

#[test]
fn do_not_disturb_overrides_auto_answer() {
    let mut b = machine(BOB).with_policy(AnswerPolicy {
        auto_answer: true,
        reject_others: false,
    });
    b.set_dnd(true);
    let acts = b.on_signal_from(ALICE, CallerTrust::Allowed, invite("c1"));
    assert!(!acts.contains(&Action::StartMedia(MediaRole::Answerer)));
    assert!(b.call().is_none());
}

#[test]
fn do_not_disturb_keeps_the_call_in_progress() {
    // Set during a call, it changes nothing about that call.
    let mut b = bob_connected();
    b.set_dnd(true);
    assert_eq!(b.on_remote_media_ended().len(), 1);
    assert_eq!(b.call().unwrap().phase, Phase::Connected);
}

#[test]
fn peer_media_ended_without_hangup_is_peer_lost_after_the_grace() {
    let mut b = bob_connected();
    let acts = b.on_remote_media_ended();
    assert_eq!(armed(&acts), vec![(Timer::RemoteEnd, REMOTE_END_GRACE)]);
    assert_eq!(REMOTE_END_GRACE, Duration::from_secs(1));
    assert!(ended(&acts).is_none(), "the hangup may still come");
    let acts = b.on_timer(&id("c1"), Timer::RemoteEnd);
    assert_eq!(ended(&acts), Some(EndReason::PeerLost));
    assert!(sent(&acts).is_empty(), "nobody to tell");
    assert!(acts.contains(&Action::StopMedia));
    assert!(b.call().is_none());
}

#[test]
fn hangup_within_the_grace_wins_over_peer_lost() {
    let mut b = bob_connected();
    b.on_remote_media_ended();
    let acts = b.on_signal(
        ALICE,
        CallSignal::Hangup {
            call_id: id("c1"),
            reason: HangupReason::Normal,
            detail: None,
        },
    );
    assert_eq!(ended(&acts), Some(EndReason::RemoteHungUp));
    // The grace timer fires later, for a call that is gone.
    assert!(b.on_timer(&id("c1"), Timer::RemoteEnd).is_empty());
}

#[test]
fn remote_media_end_without_a_call_arms_nothing() {
    let mut b = machine(BOB);
    assert!(b.on_remote_media_ended().is_empty());
    assert!(b.on_media_timeout().is_empty());
}

#[test]
fn no_media_for_the_timeout_is_peer_lost() {
    let mut b = bob_connected();
    let acts = b.on_media_timeout();
    assert_eq!(ended(&acts), Some(EndReason::PeerLost));
    assert!(sent(&acts).is_empty());
    assert!(acts.contains(&Action::StopMedia));
    assert!(b.call().is_none());
}

#[test]
fn do_not_disturb_still_merges_crossing_calls() {
    // Bob, set to do-not-disturb, calls Alice while she calls him: her
    // invite is not a new caller but the other half of his own call.
    let mut b = machine(BOB);
    b.dial(id("c2"), ALICE, "alice".into()).unwrap();
    b.on_local_description(OFFER.into());
    b.set_dnd(true);
    let acts = b.on_signal(ALICE, invite("c1"));
    assert!(acts
        .iter()
        .any(|a| matches!(a, Action::Notify(CallEvent::Replaced { .. }))));
    assert!(acts.contains(&Action::StartMedia(MediaRole::Answerer)));
    assert_eq!(b.call().unwrap().id, id("c1"));
}

//! Who is auto-answered, who rings, who is turned away.

use super::*;

fn kiosk(reject_others: bool) -> CallMachine<u32> {
    machine(BOB).with_policy(AnswerPolicy {
        auto_answer: true,
        reject_others,
    })
}

fn answered(actions: &[Action<u32>]) -> bool {
    actions.contains(&Action::StartMedia(MediaRole::Answerer))
}

#[test]
fn allowed_caller_is_answered_at_once() {
    let mut b = kiosk(false);
    let acts = b.on_signal_from(ALICE, CallerTrust::Allowed, invite("c1"));
    // The caller hears it ring, the user sees it come in, then media starts.
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Ringing { .. })]
    ));
    let incoming = acts
        .iter()
        .position(|a| matches!(a, Action::Notify(CallEvent::Incoming { .. })));
    let start = acts
        .iter()
        .position(|a| *a == Action::StartMedia(MediaRole::Answerer));
    assert!(matches!((incoming, start), (Some(i), Some(s)) if i < s));
    assert!(acts.contains(&Action::SetRemoteDescription {
        kind: SdpKind::Offer,
        sdp: OFFER.into()
    }));
    assert_eq!(b.call().unwrap().phase, Phase::Connecting);
    // The answer goes out as soon as media produced it.
    let acts = b.on_local_description(ANSWER.into());
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Accept { .. })]
    ));
}

#[test]
fn caller_not_allowed_rings_for_a_person() {
    let mut b = kiosk(false);
    let acts = b.on_signal_from(CAROL, CallerTrust::NotAllowed, invite("c1"));
    assert!(!answered(&acts));
    assert_eq!(b.call().unwrap().phase, Phase::Ringing);
    assert!(answered(&b.answer().unwrap()));
}

#[test]
fn caller_not_allowed_is_turned_away_with_reject_others() {
    let mut b = kiosk(true);
    let acts = b.on_signal_from(CAROL, CallerTrust::NotAllowed, invite("c1"));
    assert_eq!(
        sent(&acts),
        vec![(
            CAROL,
            CallSignal::Reject {
                call_id: id("c1"),
                reason: RejectReason::NotAllowed
            }
        )]
    );
    assert!(b.call().is_none(), "nothing rings");
    // The caller's side ends as not-allowed.
    let mut c = machine(CAROL);
    c.dial(id("c1"), BOB, "bob".into()).unwrap();
    let acts = c.on_signal(
        BOB,
        CallSignal::Reject {
            call_id: id("c1"),
            reason: RejectReason::NotAllowed,
        },
    );
    assert_eq!(ended(&acts), Some(EndReason::NotAllowed));
}

#[test]
fn allowed_caller_still_gets_busy_during_a_call() {
    let mut b = kiosk(true);
    b.on_signal_from(ALICE, CallerTrust::Allowed, invite("c1"));
    let acts = b.on_signal_from(CAROL, CallerTrust::Allowed, invite("c2"));
    assert!(matches!(
        &sent(&acts)[..],
        [(
            CAROL,
            CallSignal::Reject {
                reason: RejectReason::Busy,
                ..
            }
        )]
    ));
    assert_eq!(b.call().unwrap().peer, ALICE);
}

#[test]
fn without_auto_answer_everyone_rings_unless_rejected() {
    let policy = AnswerPolicy {
        auto_answer: false,
        reject_others: false,
    };
    assert_eq!(policy.decide(CallerTrust::Allowed), InviteDecision::Ring);
    assert_eq!(policy.decide(CallerTrust::NotAllowed), InviteDecision::Ring);
    let policy = AnswerPolicy {
        auto_answer: false,
        reject_others: true,
    };
    assert_eq!(policy.decide(CallerTrust::Allowed), InviteDecision::Ring);
    assert_eq!(
        policy.decide(CallerTrust::NotAllowed),
        InviteDecision::Reject
    );
    // The default machine (plain `on_signal`) never auto-answers.
    let mut b = machine(BOB);
    assert!(!answered(&b.on_signal(ALICE, invite("c1"))));
}

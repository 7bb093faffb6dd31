//! An incoming call's media prepared while it rings: started at once,
//! nothing sent to the caller until answered, stopped if never answered.

use super::*;

const CAND: &str = "candidate:1 1 UDP 1 10.0.0.2 5000 typ host";
const THEIR_CAND: &str = "candidate:9 1 UDP 1 10.0.0.1 6000 typ host";

fn bob() -> CallMachine<u32> {
    machine(BOB).with_prepare(true)
}

/// Bob rings with his media prepared: answer made, a candidate gathered,
/// one of Alice's candidates received. Only `Ringing` went to Alice.
fn bob_prepared() -> CallMachine<u32> {
    let mut b = bob();
    let acts = b.on_signal(ALICE, invite("c1"));
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Ringing { .. })]
    ));
    assert!(acts.contains(&Action::StartMedia(MediaRole::Answerer)));
    assert!(acts.contains(&Action::SetRemoteDescription {
        kind: SdpKind::Offer,
        sdp: OFFER.into()
    }));
    assert_eq!(b.call().unwrap().phase, Phase::Ringing);
    assert!(b.on_local_description(ANSWER.into()).is_empty());
    assert!(b.on_local_candidate(0, CAND.into()).is_empty());
    let ice = CallSignal::Ice {
        call_id: id("c1"),
        mline: 0,
        candidate: THEIR_CAND.into(),
    };
    // Not given to the media: no connectivity check goes out while ringing.
    assert!(b.on_signal(ALICE, ice).is_empty());
    b
}

#[test]
fn ringing_call_is_prepared_and_nothing_is_sent_until_answered() {
    bob_prepared();
}

#[test]
fn answering_sends_the_held_answer_and_candidates_at_once() {
    let mut b = bob_prepared();
    let acts = b.answer().unwrap();
    assert!(!acts.iter().any(|a| matches!(a, Action::StartMedia(_))));
    assert!(acts.contains(&Action::AddRemoteCandidate {
        mline: 0,
        candidate: THEIR_CAND.into()
    }));
    let s = sent(&acts);
    assert_eq!(s.len(), 2);
    assert!(matches!(&s[0], (ALICE, CallSignal::Accept { sdp, .. }) if sdp == ANSWER));
    assert!(matches!(&s[1], (ALICE, CallSignal::Ice { candidate, .. }) if candidate == CAND));
    assert_eq!(b.call().unwrap().phase, Phase::Connecting);
    // From now on candidates go out as they come.
    let acts = b.on_local_candidate(0, "candidate:2 1 UDP 1 10.0.0.2 5001 typ host".into());
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Ice { .. })]
    ));
}

#[test]
fn answer_before_the_answer_is_made_sends_it_when_made() {
    let mut b = bob();
    b.on_signal(ALICE, invite("c1"));
    let acts = b.answer().unwrap();
    assert!(sent(&acts).is_empty());
    let acts = b.on_local_description(ANSWER.into());
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Accept { .. })]
    ));
}

#[test]
fn auto_answer_prepares_once_and_answers() {
    let mut b = bob().with_policy(AnswerPolicy {
        auto_answer: true,
        reject_others: false,
    });
    let acts = b.on_signal_from(ALICE, CallerTrust::Allowed, invite("c1"));
    let starts = acts
        .iter()
        .filter(|a| matches!(a, Action::StartMedia(_)))
        .count();
    assert_eq!(starts, 1);
    assert_eq!(b.call().unwrap().phase, Phase::Connecting);
    let acts = b.on_local_description(ANSWER.into());
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Accept { .. })]
    ));
}

#[test]
fn prepared_media_is_dropped_on_reject() {
    let mut b = bob_prepared();
    let acts = b.reject().unwrap();
    assert!(acts.contains(&Action::StopMedia));
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Reject { .. })]
    ));
    assert!(b.call().is_none());
}

#[test]
fn prepared_media_is_dropped_on_cancel() {
    let mut b = bob_prepared();
    let acts = b.on_signal(
        ALICE,
        CallSignal::Hangup {
            call_id: id("c1"),
            reason: HangupReason::Cancelled,
            detail: None,
        },
    );
    assert!(acts.contains(&Action::StopMedia));
    assert!(sent(&acts).is_empty());
    assert_eq!(ended(&acts), Some(EndReason::Cancelled));
}

#[test]
fn prepared_media_is_dropped_on_ring_timeout() {
    let mut b = bob_prepared();
    let acts = b.on_timer(&id("c1"), Timer::Ring);
    assert!(acts.contains(&Action::StopMedia));
    assert_eq!(ended(&acts), Some(EndReason::Timeout));
}

#[test]
fn turned_away_invites_prepare_nothing() {
    let mut b = bob();
    b.set_dnd(true);
    let acts = b.on_signal(ALICE, invite("c1"));
    assert!(!acts.iter().any(|a| matches!(a, Action::StartMedia(_))));
    let mut b = bob().with_policy(AnswerPolicy {
        auto_answer: true,
        reject_others: true,
    });
    let acts = b.on_signal(ALICE, invite("c1"));
    assert!(!acts.iter().any(|a| matches!(a, Action::StartMedia(_))));
    // Busy: a second caller while one rings.
    let mut b = bob_prepared();
    let acts = b.on_signal(CAROL, invite("c2"));
    assert!(!acts.iter().any(|a| matches!(a, Action::StartMedia(_))));
}

#[test]
fn failed_preparation_keeps_ringing_and_starts_media_on_answer() {
    let mut b = bob_prepared();
    let acts = b.on_media_untrusted("no fingerprint".into());
    assert_eq!(acts, vec![Action::StopMedia]);
    assert_eq!(b.call().unwrap().phase, Phase::Ringing);
    // Nothing of the dropped media goes out; the answer starts it afresh.
    let acts = b.answer().unwrap();
    assert!(sent(&acts).is_empty());
    assert!(acts.contains(&Action::StartMedia(MediaRole::Answerer)));
    assert!(acts.contains(&Action::SetRemoteDescription {
        kind: SdpKind::Offer,
        sdp: OFFER.into()
    }));
    assert!(acts.contains(&Action::AddRemoteCandidate {
        mline: 0,
        candidate: THEIR_CAND.into()
    }));
    // Failing again now ends the call, as without preparing.
    let acts = b.on_media_failed("boom".into());
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Hangup { .. })]
    ));
}

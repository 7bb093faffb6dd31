//! Timeouts, failures, bad input and bounds: how calls end when something
//! does not go to plan.

use super::*;
#[test]
fn ring_timeouts_on_both_sides() {
    let mut a = alice_dialing();
    let acts = a.on_timer(&id("c1"), Timer::Ring);
    assert!(matches!(
        &sent(&acts)[..],
        [(
            BOB,
            CallSignal::Hangup {
                reason: HangupReason::Timeout,
                ..
            }
        )]
    ));
    assert_eq!(ended(&acts), Some(EndReason::Timeout));

    let mut b = bob_ringing();
    let acts = b.on_timer(&id("c1"), Timer::Ring);
    assert!(matches!(
        &sent(&acts)[..],
        [(
            ALICE,
            CallSignal::Reject {
                reason: RejectReason::Timeout,
                ..
            }
        )]
    ));
    assert_eq!(ended(&acts), Some(EndReason::Timeout));

    // The caller's timeout hangup reaches a ringing callee as a timeout.
    let mut b = bob_ringing();
    let acts = b.on_signal(
        ALICE,
        CallSignal::Hangup {
            call_id: id("c1"),
            reason: HangupReason::Timeout,
            detail: None,
        },
    );
    assert_eq!(ended(&acts), Some(EndReason::Timeout));
}

#[test]
fn stale_timers_and_foreign_messages_are_ignored() {
    let mut a = alice_dialing();
    a.on_signal(BOB, CallSignal::Ringing { call_id: id("c1") });
    a.on_signal(
        BOB,
        CallSignal::Accept {
            call_id: id("c1"),
            sdp: ANSWER.into(),
        },
    );
    a.on_media_connected();
    assert!(
        a.on_timer(&id("c1"), Timer::Ring).is_empty(),
        "ring timer after answer"
    );
    assert!(
        a.on_timer(&id("c1"), Timer::Connect).is_empty(),
        "connect timer after connect"
    );
    assert!(a.on_timer(&id("old"), Timer::Ring).is_empty());
    // Carol cannot hang up Alice's call with Bob, even with the right call id.
    assert!(a
        .on_signal(
            CAROL,
            CallSignal::Hangup {
                call_id: id("c1"),
                reason: HangupReason::Normal,
                detail: None,
            }
        )
        .is_empty());
    assert!(a
        .on_signal(
            CAROL,
            CallSignal::Ice {
                call_id: id("c1"),
                mline: 0,
                candidate: "x".into()
            }
        )
        .is_empty());
    assert_eq!(a.call().unwrap().phase, Phase::Connected);
}

#[test]
fn connect_timeout_fails_media() {
    let mut b = bob_ringing();
    b.answer().unwrap();
    let acts = b.on_timer(&id("c1"), Timer::Connect);
    assert!(matches!(
        &sent(&acts)[..],
        [(
            ALICE,
            CallSignal::Hangup {
                reason: HangupReason::Error,
                ..
            }
        )]
    ));
    assert!(matches!(ended(&acts), Some(EndReason::MediaFailed(_))));
}

#[test]
fn peer_lost_and_media_failure_end_the_call() {
    let mut b = bob_ringing();
    b.answer().unwrap();
    b.on_media_connected();
    assert!(b.on_peer_lost(&CAROL).is_empty());
    let acts = b.on_peer_lost(&ALICE);
    assert!(acts.contains(&Action::StopMedia));
    assert_eq!(ended(&acts), Some(EndReason::PeerLost));

    let mut a = alice_dialing();
    a.on_signal(
        BOB,
        CallSignal::Accept {
            call_id: id("c1"),
            sdp: ANSWER.into(),
        },
    );
    let acts = a.on_media_failed("ICE failed".into());
    assert!(matches!(
        &sent(&acts)[..],
        [(
            BOB,
            CallSignal::Hangup {
                reason: HangupReason::Error,
                ..
            }
        )]
    ));
    assert_eq!(
        ended(&acts),
        Some(EndReason::MediaFailed("ICE failed".into()))
    );
}

#[test]
fn undeliverable_invite_is_unreachable() {
    let mut a = alice_dialing();
    assert!(a.on_send_failed(&BOB, &id("other")).is_empty());
    assert_eq!(
        ended(&a.on_send_failed(&BOB, &id("c1"))),
        Some(EndReason::Unreachable)
    );
}

#[test]
fn refused_invite_is_rate_limited() {
    let mut a = alice_dialing();
    assert!(a.on_send_refused(&BOB, &id("other")).is_empty());
    assert_eq!(
        ended(&a.on_send_refused(&BOB, &id("c1"))),
        Some(EndReason::RateLimited)
    );
}

#[test]
fn commands_that_do_not_fit_the_state() {
    let mut a = machine(ALICE);
    assert_eq!(
        a.dial(id("c"), ALICE, "me".into()),
        Err(CommandError::SelfCall)
    );
    assert_eq!(a.answer(), Err(CommandError::NothingToAnswer));
    assert_eq!(a.reject(), Err(CommandError::NothingToReject));
    assert_eq!(a.hangup(), Err(CommandError::NoCall));
    let mut a = alice_dialing();
    assert_eq!(
        a.dial(id("c2"), CAROL, "carol".into()),
        Err(CommandError::InCall)
    );
    assert_eq!(
        a.answer(),
        Err(CommandError::NothingToAnswer),
        "cannot answer own call"
    );
    let mut b = bob_ringing();
    b.answer().unwrap();
    assert_eq!(
        b.answer(),
        Err(CommandError::NothingToAnswer),
        "answer twice"
    );
}

#[test]
fn early_candidate_buffers_are_bounded() {
    let mut a = alice_dialing();
    for i in 0..1000 {
        a.on_local_candidate(0, format!("c{i}"));
        a.on_signal(
            BOB,
            CallSignal::Ice {
                call_id: id("c1"),
                mline: 0,
                candidate: format!("r{i}"),
            },
        );
    }
    let acts = a.on_signal(
        BOB,
        CallSignal::Accept {
            call_id: id("c1"),
            sdp: ANSWER.into(),
        },
    );
    let adds = acts
        .iter()
        .filter(|x| matches!(x, Action::AddRemoteCandidate { .. }))
        .count();
    assert_eq!(adds, MAX_BUFFERED_CANDIDATES);
    assert_eq!(sent(&acts).len(), MAX_BUFFERED_CANDIDATES);
}

#[test]
fn media_failure_tells_the_peer_why() {
    let mut a = alice_dialing();
    a.on_signal(
        BOB,
        CallSignal::Accept {
            call_id: id("c1"),
            sdp: ANSWER.into(),
        },
    );
    let acts = a.on_media_failed("offer has no VP8 video".into());
    let [(BOB, hangup)] = &sent(&acts)[..] else {
        panic!("one hangup expected: {acts:?}")
    };
    let CallSignal::Hangup { detail, .. } = hangup else {
        panic!("{hangup:?}")
    };
    assert_eq!(detail.as_deref(), Some("offer has no VP8 video"));
    let mut b = bob_ringing();
    b.answer().unwrap();
    let acts = b.on_signal(ALICE, hangup.clone());
    assert_eq!(
        ended(&acts),
        Some(EndReason::MediaFailed(
            "on the peer's side: offer has no VP8 video".into()
        ))
    );
}

#[test]
fn untrusted_media_ends_the_call_on_both_sides() {
    let mut b = bob_ringing();
    b.answer().unwrap();
    let acts = b.on_media_untrusted("certificate mismatch".into());
    let detail = match &sent(&acts)[..] {
        [(
            ALICE,
            CallSignal::Hangup {
                reason: HangupReason::MediaUntrusted,
                detail,
                ..
            },
        )] => detail.clone(),
        other => panic!("{other:?}"),
    };
    assert!(acts.contains(&Action::StopMedia));
    assert_eq!(
        ended(&acts).map(|r| r.code()),
        Some(EndCode::MediaUntrusted)
    );

    let mut a = alice_dialing();
    a.on_signal(
        BOB,
        CallSignal::Accept {
            call_id: id("c1"),
            sdp: ANSWER.into(),
        },
    );
    let acts = a.on_signal(
        BOB,
        CallSignal::Hangup {
            call_id: id("c1"),
            reason: HangupReason::MediaUntrusted,
            detail,
        },
    );
    assert!(matches!(
        ended(&acts),
        Some(EndReason::MediaUntrusted(why)) if why.contains("certificate mismatch")
    ));
}

#[test]
fn remote_candidates_are_capped_per_call() {
    let mut b = bob_ringing();
    b.answer().unwrap();
    let ice = |n: usize| CallSignal::Ice {
        call_id: id("c1"),
        mline: 0,
        candidate: format!("cand-{n}"),
    };
    let used = (0..MAX_REMOTE_CANDIDATES + 50)
        .flat_map(|n| b.on_signal(ALICE, ice(n)))
        .filter(|a| matches!(a, Action::AddRemoteCandidate { .. }))
        .count();
    assert_eq!(used, MAX_REMOTE_CANDIDATES);
}

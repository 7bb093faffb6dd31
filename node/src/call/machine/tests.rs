#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

mod failures;
mod liveness;
mod mute;
mod policy;
mod prepare;

const ALICE: u32 = 1;
const BOB: u32 = 2;
const CAROL: u32 = 3;
const OFFER: &str = "v=0 offer";
const ANSWER: &str = "v=0 answer";

fn machine(me: u32) -> CallMachine<u32> {
    CallMachine::new(me, format!("node{me}"), Timeouts::default())
}

fn id(s: &str) -> CallId {
    CallId::from(s)
}

fn sent(actions: &[Action<u32>]) -> Vec<(u32, CallSignal)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, signal } => Some((*to, signal.clone())),
            _ => None,
        })
        .collect()
}

fn ended(actions: &[Action<u32>]) -> Option<EndReason> {
    actions.iter().find_map(|a| match a {
        Action::Notify(CallEvent::Ended { reason, .. }) => Some(reason.clone()),
        _ => None,
    })
}

fn invite(call: &str) -> CallSignal {
    CallSignal::Invite {
        call_id: id(call),
        caller_name: "x".into(),
        sdp: OFFER.into(),
    }
}

/// Alice dials Bob and produces her offer: the invite goes out.
fn alice_dialing() -> CallMachine<u32> {
    let mut a = machine(ALICE);
    let (call_id, acts) = a.dial(id("c1"), BOB, "bob".into()).unwrap();
    assert_eq!(call_id, id("c1"));
    assert_eq!(acts[0], Action::StartMedia(MediaRole::Offerer));
    assert!(acts.iter().any(|x| matches!(
        x,
        Action::Arm {
            timer: Timer::Ring,
            ..
        }
    )));
    let acts = a.on_local_description(OFFER.into());
    assert!(matches!(
        &sent(&acts)[..],
        [(BOB, CallSignal::Invite { .. })]
    ));
    assert_eq!(a.call().unwrap().phase, Phase::Dialing);
    a
}

/// Bob has received Alice's invite and is ringing.
fn bob_ringing() -> CallMachine<u32> {
    let mut b = machine(BOB);
    let acts = b.on_signal(ALICE, invite("c1"));
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Ringing { .. })]
    ));
    assert!(acts
        .iter()
        .any(|x| matches!(x, Action::Notify(CallEvent::Incoming { peer: ALICE, .. }))));
    assert!(
        !acts.contains(&Action::StartMedia(MediaRole::Answerer)),
        "no media before answer"
    );
    let c = b.call().unwrap();
    assert_eq!(
        (c.direction, c.phase),
        (Direction::Incoming, Phase::Ringing)
    );
    b
}

#[test]
fn full_call_both_sides() {
    let mut a = alice_dialing();
    let mut b = bob_ringing();

    // Alice's early candidates wait until Bob has the call.
    assert!(a.on_local_candidate(0, "cand-a1".into()).is_empty());
    let acts = a.on_signal(BOB, CallSignal::Ringing { call_id: id("c1") });
    assert_eq!(a.call().unwrap().phase, Phase::Ringing);
    assert!(matches!(
        &sent(&acts)[..],
        [(BOB, CallSignal::Ice { mline: 0, .. })]
    ));
    assert_eq!(sent(&a.on_local_candidate(0, "cand-a2".into())).len(), 1);

    // Bob gets Alice's candidate before answering: buffered, applied on answer.
    assert!(b
        .on_signal(
            ALICE,
            CallSignal::Ice {
                call_id: id("c1"),
                mline: 0,
                candidate: "cand-a1".into()
            }
        )
        .is_empty());
    let acts = b.answer().unwrap();
    assert_eq!(acts[0], Action::StartMedia(MediaRole::Answerer));
    assert_eq!(
        acts[1],
        Action::SetRemoteDescription {
            kind: SdpKind::Offer,
            sdp: OFFER.into()
        }
    );
    assert_eq!(
        acts[2],
        Action::AddRemoteCandidate {
            mline: 0,
            candidate: "cand-a1".into()
        }
    );
    assert_eq!(b.call().unwrap().phase, Phase::Connecting);
    let acts = b.on_local_description(ANSWER.into());
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Accept { .. })]
    ));

    // Bob's candidate may overtake his accept: Alice buffers it.
    assert!(a
        .on_signal(
            BOB,
            CallSignal::Ice {
                call_id: id("c1"),
                mline: 0,
                candidate: "cand-b1".into()
            }
        )
        .is_empty());
    let acts = a.on_signal(
        BOB,
        CallSignal::Accept {
            call_id: id("c1"),
            sdp: ANSWER.into(),
        },
    );
    assert_eq!(
        acts[0],
        Action::SetRemoteDescription {
            kind: SdpKind::Answer,
            sdp: ANSWER.into()
        }
    );
    assert_eq!(
        acts[1],
        Action::AddRemoteCandidate {
            mline: 0,
            candidate: "cand-b1".into()
        }
    );
    assert_eq!(a.call().unwrap().phase, Phase::Connecting);

    for m in [&mut a, &mut b] {
        let acts = m.on_media_connected();
        assert!(matches!(
            acts[..],
            [Action::Notify(CallEvent::Connected { .. })]
        ));
        assert_eq!(m.call().unwrap().phase, Phase::Connected);
    }

    // Alice hangs up: Bob is told, both end and stop media.
    let acts = a.hangup().unwrap();
    assert!(matches!(
        &sent(&acts)[..],
        [(
            BOB,
            CallSignal::Hangup {
                reason: HangupReason::Normal,
                ..
            }
        )]
    ));
    assert!(acts.contains(&Action::StopMedia));
    assert_eq!(ended(&acts), Some(EndReason::HungUp));
    assert!(a.call().is_none());
    let acts = b.on_signal(
        ALICE,
        CallSignal::Hangup {
            call_id: id("c1"),
            reason: HangupReason::Normal,
            detail: None,
        },
    );
    assert!(acts.contains(&Action::StopMedia));
    assert_eq!(ended(&acts), Some(EndReason::RemoteHungUp));
    assert!(b.call().is_none());
}

#[test]
fn reject_ends_both_as_declined() {
    let mut a = alice_dialing();
    let mut b = bob_ringing();
    let acts = b.reject().unwrap();
    assert!(matches!(
        &sent(&acts)[..],
        [(
            ALICE,
            CallSignal::Reject {
                reason: RejectReason::Declined,
                ..
            }
        )]
    ));
    assert!(
        !acts.contains(&Action::StopMedia),
        "bob never started media"
    );
    assert_eq!(ended(&acts), Some(EndReason::Declined));
    let acts = a.on_signal(
        BOB,
        CallSignal::Reject {
            call_id: id("c1"),
            reason: RejectReason::Declined,
        },
    );
    assert!(acts.contains(&Action::StopMedia));
    assert_eq!(ended(&acts), Some(EndReason::Declined));
    assert!(a.call().is_none() && b.call().is_none());
}

#[test]
fn hangup_while_ringing_cancels_both() {
    let mut a = alice_dialing();
    let mut b = bob_ringing();
    a.on_signal(BOB, CallSignal::Ringing { call_id: id("c1") });
    let acts = a.hangup().unwrap();
    assert!(matches!(
        &sent(&acts)[..],
        [(
            BOB,
            CallSignal::Hangup {
                reason: HangupReason::Cancelled,
                ..
            }
        )]
    ));
    let acts = b.on_signal(
        ALICE,
        CallSignal::Hangup {
            call_id: id("c1"),
            reason: HangupReason::Cancelled,
            detail: None,
        },
    );
    assert_eq!(ended(&acts), Some(EndReason::Cancelled));
    assert_eq!(b.answer(), Err(CommandError::NothingToAnswer));
}

#[test]
fn callee_hangup_while_ringing_declines() {
    let mut b = bob_ringing();
    let acts = b.hangup().unwrap();
    assert!(matches!(
        &sent(&acts)[..],
        [(
            ALICE,
            CallSignal::Reject {
                reason: RejectReason::Declined,
                ..
            }
        )]
    ));
}

#[test]
fn answer_after_caller_cancelled_is_hung_up() {
    let mut a = alice_dialing();
    let mut b = bob_ringing();
    // Alice cancels; Bob answers before the hangup reaches him.
    a.hangup().unwrap();
    b.answer().unwrap();
    let acts = b.on_local_description(ANSWER.into());
    let [(ALICE, accept)] = &sent(&acts)[..] else {
        panic!("accept expected")
    };
    // Alice no longer has the call and tells Bob so.
    let acts = a.on_signal(BOB, accept.clone());
    assert!(matches!(
        &sent(&acts)[..],
        [(
            BOB,
            CallSignal::Hangup {
                reason: HangupReason::Cancelled,
                ..
            }
        )]
    ));
    assert!(a.call().is_none());
    let [(BOB, hangup)] = &sent(&acts)[..] else {
        panic!()
    };
    let acts = b.on_signal(ALICE, hangup.clone());
    assert!(acts.contains(&Action::StopMedia));
    assert_eq!(ended(&acts), Some(EndReason::RemoteHungUp));
}

#[test]
fn second_invite_during_call_gets_busy_and_call_goes_on() {
    let mut b = bob_ringing();
    b.answer().unwrap();
    b.on_media_connected();
    let acts = b.on_signal(CAROL, invite("c2"));
    assert_eq!(
        sent(&acts),
        vec![(
            CAROL,
            CallSignal::Reject {
                call_id: id("c2"),
                reason: RejectReason::Busy
            }
        )]
    );
    let c = b.call().unwrap();
    assert_eq!((c.id.clone(), c.phase), (id("c1"), Phase::Connected));
    // Carol's busy reply ends her outgoing call as busy.
    let mut c = machine(CAROL);
    c.dial(id("c2"), BOB, "bob".into()).unwrap();
    c.on_local_description(OFFER.into());
    let acts = c.on_signal(
        BOB,
        CallSignal::Reject {
            call_id: id("c2"),
            reason: RejectReason::Busy,
        },
    );
    assert_eq!(ended(&acts), Some(EndReason::Busy));
}

#[test]
fn both_call_each_other_at_once_connects_one_call() {
    // Alice (smaller id) and Bob dial each other; invites cross.
    let mut a = alice_dialing();
    let mut b = machine(BOB);
    b.dial(id("c9"), ALICE, "alice".into()).unwrap();
    b.on_local_description(OFFER.into());

    // Alice wins: she answers Bob's invite `crossed` and keeps her call.
    let acts = a.on_signal(BOB, invite("c9"));
    assert_eq!(
        sent(&acts),
        vec![(
            BOB,
            CallSignal::Reject {
                call_id: id("c9"),
                reason: RejectReason::Crossed
            }
        )]
    );
    assert_eq!(a.call().unwrap().id, id("c1"));

    // Bob loses: drops his call, takes Alice's at once (he wanted this call).
    let acts = b.on_signal(ALICE, invite("c1"));
    assert_eq!(acts[0], Action::StopMedia);
    assert!(acts.contains(&Action::Notify(CallEvent::Replaced {
        old: id("c9"),
        new: id("c1")
    })));
    assert!(acts.contains(&Action::StartMedia(MediaRole::Answerer)));
    let c = b.call().unwrap();
    assert_eq!(
        (c.id.clone(), c.direction, c.phase),
        (id("c1"), Direction::Incoming, Phase::Connecting)
    );
    // Alice's reject of c9 reaches Bob late and changes nothing.
    assert!(b
        .on_signal(
            ALICE,
            CallSignal::Reject {
                call_id: id("c9"),
                reason: RejectReason::Crossed
            }
        )
        .is_empty());
    let acts = b.on_local_description(ANSWER.into());
    assert!(matches!(
        &sent(&acts)[..],
        [(ALICE, CallSignal::Accept { .. })]
    ));
}

#[test]
fn calling_the_peer_who_is_ringing_here_answers_it() {
    // Alice's invite reached Bob just before Bob dialed Alice.
    let mut b = bob_ringing();
    let (call_id, acts) = b.dial(id("c2"), ALICE, "alice".into()).unwrap();
    assert_eq!(call_id, id("c1"), "the ringing call goes on");
    assert_eq!(acts[0], Action::StartMedia(MediaRole::Answerer));
    assert_eq!(b.call().unwrap().phase, Phase::Connecting);
    // Anyone else is still refused while a call rings.
    let mut b = bob_ringing();
    assert_eq!(
        b.dial(id("c3"), CAROL, "carol".into()),
        Err(CommandError::InCall)
    );
}

#[test]
fn crossed_reject_before_the_winning_invite_keeps_waiting_for_it() {
    // Bob loses, but Alice's `crossed` reply arrives before her invite.
    let mut b = machine(BOB);
    b.dial(id("c9"), ALICE, "alice".into()).unwrap();
    b.on_local_description(OFFER.into());
    let acts = b.on_signal(
        ALICE,
        CallSignal::Reject {
            call_id: id("c9"),
            reason: RejectReason::Crossed,
        },
    );
    assert!(acts.is_empty(), "{acts:?}");
    assert_eq!(b.call().unwrap().id, id("c9"));
    let acts = b.on_signal(ALICE, invite("c1"));
    assert!(acts.contains(&Action::StartMedia(MediaRole::Answerer)));
    assert_eq!(b.call().unwrap().id, id("c1"));
}

//! Mute: only with a call, signalled to the peer with the whole state,
//! held until the callee has the call, and foreign messages ignored.

use super::*;
use duet_gst::MediaKind;

fn mute_msg(call: &str, audio: bool, video: bool) -> CallSignal {
    CallSignal::Mute {
        call_id: id(call),
        audio,
        video,
    }
}

fn remote_muted(actions: &[Action<u32>]) -> Option<Mute> {
    actions.iter().find_map(|a| match a {
        Action::Notify(CallEvent::RemoteMuted { muted, .. }) => Some(*muted),
        _ => None,
    })
}

#[test]
fn mute_needs_a_call() {
    let mut a = machine(ALICE);
    assert_eq!(
        a.set_muted(MediaKind::Audio, true),
        Err(CommandError::NoCallToMute)
    );
    assert_eq!(
        a.set_muted(MediaKind::Video, false),
        Err(CommandError::NoCallToMute)
    );
}

#[test]
fn mute_is_signalled_with_the_whole_state_and_shown_on_the_other_side() {
    let mut a = alice_dialing();
    let mut b = bob_ringing();
    a.on_signal(BOB, CallSignal::Ringing { call_id: id("c1") });

    let acts = a.set_muted(MediaKind::Audio, true).unwrap();
    assert_eq!(
        acts[0],
        Action::MuteMedia {
            kind: MediaKind::Audio,
            muted: true
        }
    );
    assert_eq!(sent(&acts), [(BOB, mute_msg("c1", true, false))]);
    let acts = a.set_muted(MediaKind::Video, true).unwrap();
    assert_eq!(sent(&acts), [(BOB, mute_msg("c1", true, true))]);
    assert_eq!(
        a.call().unwrap().muted,
        Mute {
            audio: true,
            video: true
        }
    );
    // Unchanged: applied to the media again, nothing sent.
    let acts = a.set_muted(MediaKind::Audio, true).unwrap();
    assert!(sent(&acts).is_empty() && acts.len() == 1);

    let acts = b.on_signal(ALICE, mute_msg("c1", true, false));
    let m = Mute {
        audio: true,
        video: false,
    };
    assert_eq!(remote_muted(&acts), Some(m));
    assert!(acts.contains(&Action::RemoteMuted(m)));
    assert_eq!(b.call().unwrap().remote_muted, m);
    // The same state again changes nothing.
    assert!(b.on_signal(ALICE, mute_msg("c1", true, false)).is_empty());
    let acts = b.on_signal(ALICE, mute_msg("c1", false, false));
    assert_eq!(remote_muted(&acts), Some(Mute::default()));
    assert_eq!(b.call().unwrap().remote_muted, Mute::default());
}

#[test]
fn a_mute_for_another_call_or_from_another_peer_is_ignored() {
    let mut b = bob_ringing();
    assert!(b.on_signal(ALICE, mute_msg("other", true, true)).is_empty());
    assert!(b.on_signal(CAROL, mute_msg("c1", true, true)).is_empty());
    assert_eq!(b.call().unwrap().remote_muted, Mute::default());
    let mut idle = machine(CAROL);
    assert!(idle.on_signal(ALICE, mute_msg("c1", true, true)).is_empty());
    assert!(idle.call().is_none());
}

#[test]
fn the_callers_early_mute_waits_until_the_callee_has_the_call() {
    let mut a = alice_dialing();
    let acts = a.set_muted(MediaKind::Video, true).unwrap();
    assert!(
        sent(&acts).is_empty(),
        "the callee does not know the call yet"
    );
    a.on_local_candidate(0, "cand-a1".into());
    let acts = a.on_signal(BOB, CallSignal::Ringing { call_id: id("c1") });
    assert!(matches!(
        &sent(&acts)[..],
        [
            (BOB, CallSignal::Ice { .. }),
            (
                BOB,
                CallSignal::Mute {
                    audio: false,
                    video: true,
                    ..
                }
            )
        ]
    ));
    // The accept that follows does not send it again.
    let acts = a.on_signal(
        BOB,
        CallSignal::Accept {
            call_id: id("c1"),
            sdp: ANSWER.into(),
        },
    );
    assert!(sent(&acts).is_empty());
}

#[test]
fn the_callee_may_mute_while_ringing() {
    let mut b = bob_ringing();
    let acts = b.set_muted(MediaKind::Audio, true).unwrap();
    assert_eq!(sent(&acts), [(ALICE, mute_msg("c1", true, false))]);
    assert!(b.call().unwrap().muted.audio);
}

//! Mute: what this side sends muted, and what the peer says it sends
//! muted. The state lives in the call; the peer learns each change from a
//! `mute` message carrying the whole state (so a lost or reordered message
//! is corrected by the next one). A caller's mute before the callee has the
//! call is held and sent with the held ICE candidates.

use super::*;
use duet_gst::MediaKind;

impl<P: Clone + Ord + Debug> CallMachine<P> {
    /// The user mutes or unmutes `kind`. Valid in every phase of a call
    /// (a callee may mute before answering); an error without one.
    pub fn set_muted(
        &mut self,
        kind: MediaKind,
        muted: bool,
    ) -> Result<Vec<Action<P>>, CommandError> {
        let call = self.call.as_mut().ok_or(CommandError::NoCallToMute)?;
        // Applied to the media even when unchanged: harmless, and it keeps
        // the media in line with the state shown.
        let mut actions = vec![Action::MuteMedia { kind, muted }];
        if call.muted.get(kind) == muted {
            return Ok(actions);
        }
        call.muted.set(kind, muted);
        if call.peer_has_call {
            actions.push(Self::mute_message(call));
        }
        Ok(actions)
    }

    /// The peer's `mute` message for the current call.
    pub(super) fn on_remote_mute(&mut self, muted: Mute) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if call.remote_muted == muted {
            return Vec::new();
        }
        call.remote_muted = muted;
        vec![
            Action::RemoteMuted(muted),
            Action::Notify(CallEvent::RemoteMuted {
                call_id: call.id.clone(),
                muted,
            }),
        ]
    }

    /// The peer now has the call: the mute state set before, if any.
    pub(super) fn held_mute(call: &Call<P>) -> Option<Action<P>> {
        (call.muted != Mute::default()).then(|| Self::mute_message(call))
    }

    fn mute_message(call: &Call<P>) -> Action<P> {
        Action::Send {
            to: call.peer.clone(),
            signal: CallSignal::Mute {
                call_id: call.id.clone(),
                audio: call.muted.audio,
                video: call.muted.video,
            },
        }
    }
}

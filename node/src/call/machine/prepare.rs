//! A faster answer: an incoming call's media is prepared while it rings.
//!
//! Building the answerer's pipeline, setting the offer, creating the answer
//! and gathering ICE take tens of milliseconds; done at ring time, answering
//! only has ICE checks, DTLS and the first frames left. Nothing reaches the
//! caller before the answer: our answer and candidates are held, and the
//! caller's candidates are not given to the media (so no connectivity check
//! goes out and no media can flow). Answering sends what was held at once;
//! a call that ends while ringing (declined, timed out, cancelled) stops the
//! prepared media like any other. Media that fails while ringing (an offer
//! it cannot take, a device error) is dropped and the call rings on, to be
//! started again on answer as without preparing: the caller learns of the
//! failure only once someone answers, as before.

use super::*;

impl<P: Clone + Ord + Debug> CallMachine<P> {
    /// Starts the answerer's media of a call that just began ringing; the
    /// offer is set, the caller's candidates stay buffered.
    pub(super) fn prepare_incoming(call: &mut Call<P>) -> Vec<Action<P>> {
        // Kept for a start on answer if the prepared media fails.
        let Some(offer) = call.remote_offer.clone() else {
            return Vec::new();
        };
        call.media_started = true;
        vec![
            Action::StartMedia(MediaRole::Answerer),
            Action::SetRemoteDescription {
                kind: SdpKind::Offer,
                sdp: offer,
            },
        ]
    }

    /// The prepared media failed while ringing: dropped, the call rings on.
    pub(super) fn unprepare(&mut self) -> Option<Vec<Action<P>>> {
        let call = self.call.as_mut().filter(|c| Self::prepared_ringing(c))?;
        call.media_started = false;
        call.held_answer = None;
        call.held_local.clear();
        Some(vec![Action::StopMedia])
    }

    /// An incoming call prepared and still ringing: what it makes is held.
    pub(super) fn prepared_ringing(call: &Call<P>) -> bool {
        call.direction == Direction::Incoming && call.phase == Phase::Ringing && call.media_started
    }

    /// Answering a prepared call: the caller's candidates go to the media,
    /// our held answer (if made yet; otherwise it goes when made) and
    /// candidates go to the caller.
    pub(super) fn take_prepared(call: &mut Call<P>, connect: Duration) -> Vec<Action<P>> {
        call.remote_offer = None;
        call.remote_description_set = true;
        let mut actions: Vec<Action<P>> = call
            .early_remote
            .drain(..)
            .map(|(mline, candidate)| Action::AddRemoteCandidate { mline, candidate })
            .collect();
        if let Some(sdp) = call.held_answer.take() {
            actions.push(Action::Send {
                to: call.peer.clone(),
                signal: CallSignal::Accept {
                    call_id: call.id.clone(),
                    sdp,
                },
            });
        }
        actions.extend(Self::send_held_candidates(call));
        actions.extend(call.connecting(connect));
        actions
    }
}

impl<P> Call<P> {
    /// Whether the call's media runs: answered, dialed, or prepared while
    /// ringing (then the call window is the ringing card).
    pub fn media_started(&self) -> bool {
        self.media_started
    }
}

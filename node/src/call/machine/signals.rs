//! The machine's side of signalling: what each message from the peer does
//! to the current call (crossing invites included).

use super::*;

impl<P: Clone + Ord + Debug> CallMachine<P> {
    /// A message from `from`, whose identity the transport authenticated,
    /// and who is not on the allow-list.
    pub fn on_signal(&mut self, from: P, signal: CallSignal) -> Vec<Action<P>> {
        self.on_signal_from(from, CallerTrust::NotAllowed, signal)
    }

    /// A message from `from`; `trust` says whether an invite from it may be
    /// auto-answered (see [`AnswerPolicy`]).
    pub fn on_signal_from(
        &mut self,
        from: P,
        trust: CallerTrust,
        signal: CallSignal,
    ) -> Vec<Action<P>> {
        let ours = self
            .call
            .as_ref()
            .is_some_and(|c| c.peer == from && &c.id == signal.call_id());
        match signal {
            CallSignal::Invite {
                call_id,
                caller_name,
                sdp,
            } => self.on_invite(from, trust, call_id, caller_name, sdp),
            CallSignal::Accept { call_id, .. } if !ours => {
                // Answered a call we no longer have (cancelled, timed out).
                vec![Action::Send {
                    to: from,
                    signal: CallSignal::Hangup {
                        call_id,
                        reason: HangupReason::Cancelled,
                        detail: None,
                    },
                }]
            }
            _ if !ours => Vec::new(),
            CallSignal::Ringing { call_id } => self.on_ringing(call_id),
            CallSignal::Accept { sdp, .. } => self.on_accept(sdp),
            CallSignal::Reject { reason, .. } => self.on_reject(reason),
            CallSignal::Ice {
                mline, candidate, ..
            } => self.on_remote_candidate(mline, candidate),
            CallSignal::Mute { audio, video, .. } => self.on_remote_mute(Mute { audio, video }),
            CallSignal::Hangup { reason, detail, .. } => {
                let why = match (reason, self.phase()) {
                    (HangupReason::Error, _) => EndReason::MediaFailed(match detail {
                        Some(d) => format!("on the peer's side: {d}"),
                        None => "ended by the peer".into(),
                    }),
                    (HangupReason::MediaUntrusted, _) => EndReason::MediaUntrusted(match detail {
                        Some(d) => format!("on the peer's side: {d}"),
                        None => "the peer did not trust the media".into(),
                    }),
                    (HangupReason::Timeout, _) => EndReason::Timeout,
                    (_, Some(Phase::Ringing)) if self.direction() == Some(Direction::Incoming) => {
                        EndReason::Cancelled
                    }
                    _ => EndReason::RemoteHungUp,
                };
                self.end(why)
            }
        }
    }

    fn on_invite(
        &mut self,
        from: P,
        trust: CallerTrust,
        call_id: CallId,
        caller_name: String,
        sdp: String,
    ) -> Vec<Action<P>> {
        let reject = |to: P, call_id: CallId, reason: RejectReason| {
            vec![Action::Send {
                to,
                signal: CallSignal::Reject { call_id, reason },
            }]
        };
        let Some(call) = self.call.as_ref() else {
            if self.dnd {
                return reject(from, call_id, RejectReason::Busy);
            }
            return match self.policy.decide(trust) {
                InviteDecision::Reject => reject(from, call_id, RejectReason::NotAllowed),
                InviteDecision::Ring => self.ring_incoming(from, call_id, caller_name, sdp),
                InviteDecision::AutoAnswer => {
                    let connect = self.timeouts.connect;
                    let mut actions = self.ring_incoming(from, call_id, caller_name, sdp);
                    if let Some(call) = self.call.as_mut() {
                        actions.extend(Self::take_incoming(call, connect));
                    }
                    actions
                }
            };
        };
        let crossing = call.peer == from
            && call.direction == Direction::Outgoing
            && matches!(call.phase, Phase::Dialing | Phase::Ringing);
        if !crossing {
            return reject(from, call_id, RejectReason::Busy);
        }
        // Both called each other: the call placed by the smaller PeerId goes
        // on; the peer keeps waiting for our invite, which it will take.
        if self.me < from {
            return reject(from, call_id, RejectReason::Crossed);
        }
        let old = call.id.clone();
        let connect = self.timeouts.connect;
        let mut actions = vec![Action::StopMedia];
        actions.extend(self.ring_incoming(from, call_id.clone(), caller_name, sdp));
        actions.push(Action::Notify(CallEvent::Replaced { old, new: call_id }));
        if let Some(call) = self.call.as_mut() {
            actions.extend(Self::take_incoming(call, connect));
        }
        actions
    }

    fn ring_incoming(
        &mut self,
        from: P,
        call_id: CallId,
        caller_name: String,
        sdp: String,
    ) -> Vec<Action<P>> {
        self.call = Some(Call {
            id: call_id.clone(),
            peer: from.clone(),
            peer_name: caller_name.clone(),
            direction: Direction::Incoming,
            phase: Phase::Ringing,
            remote_offer: Some(sdp),
            remote_description_set: false,
            early_remote: Vec::new(),
            remote_candidates: 0,
            peer_has_call: true,
            held_local: Vec::new(),
            held_answer: None,
            media_started: false,
            muted: Mute::default(),
            remote_muted: Mute::default(),
        });
        let mut actions = vec![
            Action::Send {
                to: from.clone(),
                signal: CallSignal::Ringing {
                    call_id: call_id.clone(),
                },
            },
            Action::Arm {
                call_id: call_id.clone(),
                timer: Timer::Ring,
                after: self.timeouts.ring,
            },
            Action::Notify(CallEvent::Incoming {
                call_id,
                peer: from,
                peer_name: caller_name,
            }),
        ];
        if self.prepare {
            if let Some(call) = self.call.as_mut() {
                actions.extend(Self::prepare_incoming(call));
            }
        }
        actions
    }

    fn on_ringing(&mut self, call_id: CallId) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if call.direction != Direction::Outgoing || call.phase != Phase::Dialing {
            return Vec::new();
        }
        call.phase = Phase::Ringing;
        let mut actions = Self::release_held(call);
        actions.push(Action::Notify(CallEvent::Ringing { call_id }));
        actions
    }

    /// Our candidates held back so far, as `Ice` messages to the peer.
    pub(super) fn send_held_candidates(call: &mut Call<P>) -> Vec<Action<P>> {
        let (to, id) = (call.peer.clone(), call.id.clone());
        call.held_local
            .drain(..)
            .map(|(mline, candidate)| Action::Send {
                to: to.clone(),
                signal: CallSignal::Ice {
                    call_id: id.clone(),
                    mline,
                    candidate,
                },
            })
            .collect()
    }

    /// The peer has the call: send the candidates held back so far.
    fn release_held(call: &mut Call<P>) -> Vec<Action<P>> {
        let first = !std::mem::replace(&mut call.peer_has_call, true);
        let mut actions = Self::send_held_candidates(call);
        if first {
            actions.extend(Self::held_mute(call));
        }
        actions
    }

    fn on_accept(&mut self, sdp: String) -> Vec<Action<P>> {
        let connect = self.timeouts.connect;
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if call.direction != Direction::Outgoing
            || !matches!(call.phase, Phase::Dialing | Phase::Ringing)
        {
            return Vec::new();
        }
        let mut actions = call.set_remote(SdpKind::Answer, sdp);
        actions.extend(Self::release_held(call));
        actions.extend(call.connecting(connect));
        actions
    }

    fn on_reject(&mut self, reason: RejectReason) -> Vec<Action<P>> {
        if self.direction() != Some(Direction::Outgoing) {
            return Vec::new();
        }
        if reason == RejectReason::Crossed {
            // Our invite crossed the peer's and the peer's call wins: its
            // invite is on its way (or the ring timeout ends the wait).
            return Vec::new();
        }
        self.end(match reason {
            RejectReason::Declined => EndReason::Declined,
            RejectReason::Busy => EndReason::Busy,
            RejectReason::NotAllowed => EndReason::NotAllowed,
            RejectReason::Timeout => EndReason::Timeout,
            RejectReason::Crossed => EndReason::Busy,
        })
    }

    fn on_remote_candidate(&mut self, mline: u32, candidate: String) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if call.remote_candidates >= MAX_REMOTE_CANDIDATES {
            return Vec::new();
        }
        call.remote_candidates += 1;
        if call.remote_description_set {
            vec![Action::AddRemoteCandidate { mline, candidate }]
        } else {
            if call.early_remote.len() < MAX_BUFFERED_CANDIDATES {
                call.early_remote.push((mline, candidate));
            }
            Vec::new()
        }
    }
}

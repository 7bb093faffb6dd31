//! The call state machine: pure code, no I/O and no clock.
//!
//! A node holds at most one call. Every input — a user command, a signalling
//! message from an authenticated peer, a media event, a timer — goes through
//! one method of [`CallMachine`], which updates the state and returns the
//! [`Action`]s for the call actor to carry out: send a message, start or stop
//! media, arm a timer, tell the user. Keeping I/O out makes every transition,
//! crossing calls included, testable without a network.
//!
//! ```text
//!  outgoing: idle -> dialing -> ringing -> connecting -> connected -> idle
//!  incoming: idle ----------->  ringing -> connecting -> connected -> idle
//! ```
//!
//! Ordering: signalling messages travel as separate requests and may arrive
//! out of order, so ICE candidates are held back until the other side is
//! known to have the call (caller: after `Ringing` or `Accept`), and remote
//! candidates are buffered until the remote description is set.

mod media;
mod mute;
mod policy;
mod prepare;
mod signals;
mod types;

pub use media::REMOTE_END_GRACE;
pub use policy::{AnswerPolicy, CallerTrust, InviteDecision};
pub use types::*;

use crate::proto::call::{CallId, CallSignal, HangupReason, RejectReason};
use std::fmt::Debug;
use std::time::Duration;

/// At most this many early ICE candidates are kept per direction.
const MAX_BUFFERED_CANDIDATES: usize = 64;
/// At most this many remote ICE candidates are used per call (a host with a
/// few interfaces sends a handful); the rest are ignored.
pub const MAX_REMOTE_CANDIDATES: usize = 64;

/// The current call's full state.
#[derive(Debug, Clone)]
pub struct Call<P> {
    pub id: CallId,
    pub peer: P,
    pub peer_name: String,
    pub direction: Direction,
    pub phase: Phase,
    /// Incoming: the offer, kept until the user answers.
    remote_offer: Option<String>,
    remote_description_set: bool,
    /// Remote candidates that came before the remote description.
    early_remote: Vec<(u32, String)>,
    /// Remote candidates taken so far (capped at [`MAX_REMOTE_CANDIDATES`]).
    remote_candidates: usize,
    /// Outgoing: whether the callee has the invite (so candidates may go).
    peer_has_call: bool,
    /// Our candidates held until the peer has the call (an incoming call:
    /// until it is answered).
    held_local: Vec<(u32, String)>,
    /// Incoming, prepared while ringing: our answer, held until the user
    /// answers.
    held_answer: Option<String>,
    media_started: bool,
    /// What this side sends muted.
    pub muted: Mute,
    /// What the peer said it sends muted.
    pub remote_muted: Mute,
}

impl<P: Clone> Call<P> {
    /// The remote description is known: set it, then the candidates that
    /// came before it.
    fn set_remote(&mut self, kind: SdpKind, sdp: String) -> Vec<Action<P>> {
        self.remote_description_set = true;
        let mut actions = vec![Action::SetRemoteDescription { kind, sdp }];
        actions.extend(
            self.early_remote
                .drain(..)
                .map(|(mline, candidate)| Action::AddRemoteCandidate { mline, candidate }),
        );
        actions
    }

    /// Answered: media has `connect` to come up.
    fn connecting(&mut self, connect: Duration) -> Vec<Action<P>> {
        self.phase = Phase::Connecting;
        let call_id = self.id.clone();
        vec![
            Action::Arm {
                call_id: call_id.clone(),
                timer: Timer::Connect,
                after: connect,
            },
            Action::Notify(CallEvent::Connecting { call_id }),
        ]
    }
}

/// One node's calls. `P` is the peer identity (libp2p's PeerId in the node).
#[derive(Debug)]
pub struct CallMachine<P> {
    me: P,
    my_name: String,
    timeouts: Timeouts,
    policy: AnswerPolicy,
    /// Do-not-disturb: invites that find no call are answered `busy`.
    dnd: bool,
    /// Whether an incoming call's media is prepared while it rings.
    prepare: bool,
    call: Option<Call<P>>,
}

impl<P: Clone + Ord + Debug> CallMachine<P> {
    pub fn new(me: P, my_name: impl Into<String>, timeouts: Timeouts) -> Self {
        CallMachine {
            me,
            my_name: my_name.into(),
            timeouts,
            policy: AnswerPolicy::default(),
            dnd: false,
            prepare: false,
            call: None,
        }
    }

    /// Prepares an incoming call's media while it rings (module `prepare`).
    pub fn with_prepare(mut self, prepare: bool) -> Self {
        self.prepare = prepare;
        self
    }

    /// Sets who is answered at once or turned away (kiosks).
    pub fn with_policy(mut self, policy: AnswerPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The current call, if any.
    pub fn call(&self) -> Option<&Call<P>> {
        self.call.as_ref()
    }

    /// The user calls `peer`. `call_id` comes from the caller of this method
    /// (random in the node), so the machine stays deterministic. Returns the
    /// id of the call that goes on: `call_id`, or the ringing call of that
    /// same peer, which is then answered.
    pub fn dial(
        &mut self,
        call_id: CallId,
        peer: P,
        peer_name: String,
    ) -> Result<(CallId, Vec<Action<P>>), CommandError> {
        if peer == self.me {
            return Err(CommandError::SelfCall);
        }
        if let Some(c) = &self.call {
            // Calling the peer whose call is ringing here: both want to
            // talk, so that call is answered (the invite beat our dial).
            if c.peer == peer && c.direction == Direction::Incoming && c.phase == Phase::Ringing {
                let id = c.id.clone();
                return Ok((id, self.answer()?));
            }
            return Err(CommandError::InCall);
        }
        self.call = Some(Call {
            id: call_id.clone(),
            peer,
            peer_name,
            direction: Direction::Outgoing,
            phase: Phase::Dialing,
            remote_offer: None,
            remote_description_set: false,
            early_remote: Vec::new(),
            remote_candidates: 0,
            peer_has_call: false,
            held_local: Vec::new(),
            held_answer: None,
            media_started: true,
            muted: Mute::default(),
            remote_muted: Mute::default(),
        });
        let actions = vec![
            Action::StartMedia(MediaRole::Offerer),
            Action::Arm {
                call_id: call_id.clone(),
                timer: Timer::Ring,
                after: self.timeouts.ring,
            },
        ];
        Ok((call_id, actions))
    }

    /// The user answers the incoming call.
    pub fn answer(&mut self) -> Result<Vec<Action<P>>, CommandError> {
        let connect = self.timeouts.connect;
        let call = match self.call.as_mut() {
            Some(c) if c.direction == Direction::Incoming && c.phase == Phase::Ringing => c,
            _ => return Err(CommandError::NothingToAnswer),
        };
        Ok(Self::take_incoming(call, connect))
    }

    fn take_incoming(call: &mut Call<P>, connect: Duration) -> Vec<Action<P>> {
        if call.media_started {
            return Self::take_prepared(call, connect);
        }
        let offer = call.remote_offer.take().unwrap_or_default();
        call.media_started = true;
        let mut actions = vec![Action::StartMedia(MediaRole::Answerer)];
        actions.extend(call.set_remote(SdpKind::Offer, offer));
        actions.extend(call.connecting(connect));
        actions
    }

    /// The user declines the incoming call.
    pub fn reject(&mut self) -> Result<Vec<Action<P>>, CommandError> {
        match &self.call {
            Some(c) if c.direction == Direction::Incoming && c.phase == Phase::Ringing => {
                Ok(self.end_with_reject(RejectReason::Declined, EndReason::Declined))
            }
            _ => Err(CommandError::NothingToReject),
        }
    }

    /// The user hangs up (or cancels, or declines a ringing call).
    pub fn hangup(&mut self) -> Result<Vec<Action<P>>, CommandError> {
        let Some(call) = &self.call else {
            return Err(CommandError::NoCall);
        };
        if call.direction == Direction::Incoming && call.phase == Phase::Ringing {
            return Ok(self.end_with_reject(RejectReason::Declined, EndReason::Declined));
        }
        let wire = if call.phase == Phase::Connected || call.phase == Phase::Connecting {
            HangupReason::Normal
        } else {
            HangupReason::Cancelled
        };
        Ok(self.end_with_hangup(wire, EndReason::HungUp))
    }

    /// The media session produced our offer (outgoing) or answer (incoming).
    pub fn on_local_description(&mut self, sdp: String) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        let signal = match (call.direction, call.phase) {
            (Direction::Incoming, Phase::Ringing) if call.media_started => {
                call.held_answer = Some(sdp);
                return Vec::new();
            }
            (Direction::Outgoing, Phase::Dialing) => CallSignal::Invite {
                call_id: call.id.clone(),
                caller_name: self.my_name.clone(),
                sdp,
            },
            (Direction::Incoming, Phase::Connecting) => CallSignal::Accept {
                call_id: call.id.clone(),
                sdp,
            },
            _ => return Vec::new(),
        };
        vec![Action::Send {
            to: call.peer.clone(),
            signal,
        }]
    }

    /// The media session gathered one of our ICE candidates.
    pub fn on_local_candidate(&mut self, mline: u32, candidate: String) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if !call.peer_has_call || Self::prepared_ringing(call) {
            if call.held_local.len() < MAX_BUFFERED_CANDIDATES {
                call.held_local.push((mline, candidate));
            }
            return Vec::new();
        }
        vec![Action::Send {
            to: call.peer.clone(),
            signal: CallSignal::Ice {
                call_id: call.id.clone(),
                mline,
                candidate,
            },
        }]
    }

    /// The connection to `peer` is gone for good.
    pub fn on_peer_lost(&mut self, peer: &P) -> Vec<Action<P>> {
        if self.call.as_ref().is_some_and(|c| &c.peer == peer) {
            self.end(EndReason::PeerLost)
        } else {
            Vec::new()
        }
    }

    /// A message for the current call could not be delivered.
    pub fn on_send_failed(&mut self, peer: &P, call_id: &CallId) -> Vec<Action<P>> {
        match &self.call {
            Some(c) if &c.peer == peer && &c.id == call_id => {
                let why = if c.peer_has_call {
                    EndReason::PeerLost
                } else {
                    EndReason::Unreachable
                };
                self.end(why)
            }
            _ => Vec::new(),
        }
    }

    /// The peer refused a message for the current call: we sent more than
    /// its rate limit allows (calls placed back to back).
    pub fn on_send_refused(&mut self, peer: &P, call_id: &CallId) -> Vec<Action<P>> {
        match &self.call {
            Some(c) if &c.peer == peer && &c.id == call_id => self.end(EndReason::RateLimited),
            _ => Vec::new(),
        }
    }

    pub fn on_timer(&mut self, call_id: &CallId, timer: Timer) -> Vec<Action<P>> {
        let Some(call) = &self.call else {
            return Vec::new();
        };
        if &call.id != call_id {
            return Vec::new();
        }
        match (timer, call.direction, call.phase) {
            (Timer::Ring, Direction::Incoming, Phase::Ringing) => {
                self.end_with_reject(RejectReason::Timeout, EndReason::Timeout)
            }
            (Timer::Ring, Direction::Outgoing, Phase::Dialing | Phase::Ringing) => {
                self.end_with_hangup(HangupReason::Timeout, EndReason::Timeout)
            }
            (Timer::Connect, _, Phase::Connecting) => self.end_with_hangup(
                HangupReason::Error,
                EndReason::MediaFailed("media did not connect in time".into()),
            ),
            (Timer::RemoteEnd, _, _) => self.end(EndReason::PeerLost),
            _ => Vec::new(),
        }
    }

    fn phase(&self) -> Option<Phase> {
        self.call.as_ref().map(|c| c.phase)
    }

    fn direction(&self) -> Option<Direction> {
        self.call.as_ref().map(|c| c.direction)
    }

    fn end_with_reject(&mut self, wire: RejectReason, reason: EndReason) -> Vec<Action<P>> {
        let mut actions = Vec::new();
        if let Some(c) = &self.call {
            actions.push(Action::Send {
                to: c.peer.clone(),
                signal: CallSignal::Reject {
                    call_id: c.id.clone(),
                    reason: wire,
                },
            });
        }
        actions.extend(self.end(reason));
        actions
    }

    fn end_with_hangup(&mut self, wire: HangupReason, reason: EndReason) -> Vec<Action<P>> {
        let mut actions = Vec::new();
        if let Some(c) = &self.call {
            actions.push(Action::Send {
                to: c.peer.clone(),
                signal: CallSignal::Hangup {
                    call_id: c.id.clone(),
                    reason: wire,
                    detail: reason.detail().map(|why| why.chars().take(200).collect()),
                },
            });
        }
        actions.extend(self.end(reason));
        actions
    }

    /// Ends the current call locally: stop media, tell the user, go idle.
    fn end(&mut self, reason: EndReason) -> Vec<Action<P>> {
        let Some(call) = self.call.take() else {
            return Vec::new();
        };
        let mut actions = Vec::new();
        if call.media_started {
            actions.push(Action::StopMedia);
        }
        actions.push(Action::Notify(CallEvent::Ended {
            call_id: call.id,
            peer: call.peer,
            direction: call.direction,
            reason,
        }));
        actions
    }
}

#[cfg(test)]
mod tests;

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

use crate::proto::call::{CallId, CallSignal, HangupReason, RejectReason};
use std::fmt::Debug;
use std::time::Duration;

/// At most this many early ICE candidates are kept per direction.
const MAX_BUFFERED_CANDIDATES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Outgoing,
    Incoming,
}

/// Where a live call is. `Idle` is the absence of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Outgoing: media starting, invite on its way.
    Dialing,
    /// The callee's side is ringing.
    Ringing,
    /// Answered; media (ICE, DTLS) connecting.
    Connecting,
    Connected,
}

/// The media role this side plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRole {
    Offerer,
    Answerer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpKind {
    Offer,
    Answer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Unanswered call (both sides).
    Ring,
    /// Answered but media not connected.
    Connect,
}

/// Why a call ended, from this side's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// This side hung up (or cancelled before an answer).
    HungUp,
    /// The other side hung up.
    RemoteHungUp,
    /// The caller gave up before this side answered.
    Cancelled,
    Declined,
    Busy,
    NotAllowed,
    /// Nobody answered in time.
    Timeout,
    /// The peer vanished: connection lost, process gone.
    PeerLost,
    /// The peer could not be reached with the invite.
    Unreachable,
    /// Media could not be set up or broke.
    MediaFailed(String),
}

impl EndReason {
    /// The short word shown to users and in JSON events.
    pub fn as_str(&self) -> &'static str {
        match self {
            EndReason::HungUp => "hangup",
            EndReason::RemoteHungUp => "remote-hangup",
            EndReason::Cancelled => "cancelled",
            EndReason::Declined => "declined",
            EndReason::Busy => "busy",
            EndReason::NotAllowed => "not-allowed",
            EndReason::Timeout => "timeout",
            EndReason::PeerLost => "peer-lost",
            EndReason::Unreachable => "unreachable",
            EndReason::MediaFailed(_) => "media-failed",
        }
    }
}

/// What the user (and `duet events`) is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEvent<P> {
    Incoming {
        call_id: CallId,
        peer: P,
        peer_name: String,
    },
    Ringing {
        call_id: CallId,
    },
    Connecting {
        call_id: CallId,
    },
    Connected {
        call_id: CallId,
    },
    /// Both sides called each other at once; the outgoing call `old` became
    /// the peer's call `new`, which this side took at once.
    Replaced {
        old: CallId,
        new: CallId,
    },
    Ended {
        call_id: CallId,
        peer: P,
        reason: EndReason,
    },
}

/// What the actor must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<P> {
    StartMedia(MediaRole),
    SetRemoteDescription {
        kind: SdpKind,
        sdp: String,
    },
    AddRemoteCandidate {
        mline: u32,
        candidate: String,
    },
    StopMedia,
    Send {
        to: P,
        signal: CallSignal,
    },
    /// Deliver `Timer` for `call_id` after `after`; stale timers are ignored.
    Arm {
        call_id: CallId,
        timer: Timer,
        after: Duration,
    },
    Notify(CallEvent<P>),
}

/// A user command that does not fit the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("already in a call")]
    InCall,
    #[error("cannot call yourself")]
    SelfCall,
    #[error("no incoming call to answer")]
    NothingToAnswer,
    #[error("no incoming call to reject")]
    NothingToReject,
    #[error("no call to hang up")]
    NoCall,
}

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
    /// Outgoing: whether the callee has the invite (so candidates may go).
    peer_has_call: bool,
    /// Our candidates held until the peer has the call.
    held_local: Vec<(u32, String)>,
    media_started: bool,
}

/// Timeouts the machine arms.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub ring: Duration,
    pub connect: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            ring: Duration::from_secs(30),
            connect: Duration::from_secs(15),
        }
    }
}

/// One node's calls. `P` is the peer identity (libp2p's PeerId in the node).
#[derive(Debug)]
pub struct CallMachine<P> {
    me: P,
    my_name: String,
    timeouts: Timeouts,
    call: Option<Call<P>>,
}

impl<P: Clone + Ord + Debug> CallMachine<P> {
    pub fn new(me: P, my_name: impl Into<String>, timeouts: Timeouts) -> Self {
        CallMachine {
            me,
            my_name: my_name.into(),
            timeouts,
            call: None,
        }
    }

    /// The current call, if any.
    pub fn call(&self) -> Option<&Call<P>> {
        self.call.as_ref()
    }

    /// The user calls `peer`. `call_id` comes from the caller of this method
    /// (random in the node), so the machine stays deterministic.
    pub fn dial(
        &mut self,
        call_id: CallId,
        peer: P,
        peer_name: String,
    ) -> Result<Vec<Action<P>>, CommandError> {
        if peer == self.me {
            return Err(CommandError::SelfCall);
        }
        if self.call.is_some() {
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
            peer_has_call: false,
            held_local: Vec::new(),
            media_started: true,
        });
        Ok(vec![
            Action::StartMedia(MediaRole::Offerer),
            Action::Arm {
                call_id,
                timer: Timer::Ring,
                after: self.timeouts.ring,
            },
        ])
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
        let offer = call.remote_offer.take().unwrap_or_default();
        call.phase = Phase::Connecting;
        call.media_started = true;
        call.remote_description_set = true;
        let mut actions = vec![
            Action::StartMedia(MediaRole::Answerer),
            Action::SetRemoteDescription {
                kind: SdpKind::Offer,
                sdp: offer,
            },
        ];
        actions.extend(
            call.early_remote
                .drain(..)
                .map(|(mline, candidate)| Action::AddRemoteCandidate { mline, candidate }),
        );
        actions.push(Action::Arm {
            call_id: call.id.clone(),
            timer: Timer::Connect,
            after: connect,
        });
        actions.push(Action::Notify(CallEvent::Connecting {
            call_id: call.id.clone(),
        }));
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

    /// A message from `from`, whose identity the transport authenticated.
    pub fn on_signal(&mut self, from: P, signal: CallSignal) -> Vec<Action<P>> {
        let ours = self
            .call
            .as_ref()
            .is_some_and(|c| c.peer == from && &c.id == signal.call_id());
        match signal {
            CallSignal::Invite {
                call_id,
                caller_name,
                sdp,
            } => self.on_invite(from, call_id, caller_name, sdp),
            CallSignal::Accept { call_id, .. } if !ours => {
                // Answered a call we no longer have (cancelled, timed out).
                vec![Action::Send {
                    to: from,
                    signal: CallSignal::Hangup {
                        call_id,
                        reason: HangupReason::Cancelled,
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
            CallSignal::Hangup { reason, .. } => {
                let why = match (reason, self.phase()) {
                    (HangupReason::Error, _) => EndReason::MediaFailed("ended by the peer".into()),
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
        call_id: CallId,
        caller_name: String,
        sdp: String,
    ) -> Vec<Action<P>> {
        let busy = |to: P, call_id: CallId| {
            vec![Action::Send {
                to,
                signal: CallSignal::Reject {
                    call_id,
                    reason: RejectReason::Busy,
                },
            }]
        };
        let Some(call) = self.call.as_ref() else {
            return self.ring_incoming(from, call_id, caller_name, sdp);
        };
        let crossing = call.peer == from
            && call.direction == Direction::Outgoing
            && matches!(call.phase, Phase::Dialing | Phase::Ringing);
        if !crossing {
            return busy(from, call_id);
        }
        // Both called each other: the call placed by the smaller PeerId goes on.
        if self.me < from {
            return busy(from, call_id);
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
            peer_has_call: true,
            held_local: Vec::new(),
            media_started: false,
        });
        vec![
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
        ]
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

    /// The peer has the call: send the candidates held back so far.
    fn release_held(call: &mut Call<P>) -> Vec<Action<P>> {
        call.peer_has_call = true;
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
        call.phase = Phase::Connecting;
        call.remote_description_set = true;
        let mut actions = vec![Action::SetRemoteDescription {
            kind: SdpKind::Answer,
            sdp,
        }];
        actions.extend(
            call.early_remote
                .drain(..)
                .map(|(mline, candidate)| Action::AddRemoteCandidate { mline, candidate }),
        );
        actions.extend(Self::release_held(call));
        actions.push(Action::Arm {
            call_id: call.id.clone(),
            timer: Timer::Connect,
            after: connect,
        });
        actions.push(Action::Notify(CallEvent::Connecting {
            call_id: call.id.clone(),
        }));
        actions
    }

    fn on_reject(&mut self, reason: RejectReason) -> Vec<Action<P>> {
        if self.direction() != Some(Direction::Outgoing) {
            return Vec::new();
        }
        self.end(match reason {
            RejectReason::Declined => EndReason::Declined,
            RejectReason::Busy => EndReason::Busy,
            RejectReason::NotAllowed => EndReason::NotAllowed,
            RejectReason::Timeout => EndReason::Timeout,
        })
    }

    fn on_remote_candidate(&mut self, mline: u32, candidate: String) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if call.remote_description_set {
            vec![Action::AddRemoteCandidate { mline, candidate }]
        } else {
            if call.early_remote.len() < MAX_BUFFERED_CANDIDATES {
                call.early_remote.push((mline, candidate));
            }
            Vec::new()
        }
    }

    /// The media session produced our offer (outgoing) or answer (incoming).
    pub fn on_local_description(&mut self, sdp: String) -> Vec<Action<P>> {
        let Some(call) = &self.call else {
            return Vec::new();
        };
        let signal = match (call.direction, call.phase) {
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
        if !call.peer_has_call {
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

    /// Media is flowing (ICE and DTLS connected).
    pub fn on_media_connected(&mut self) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if call.phase != Phase::Connecting {
            return Vec::new();
        }
        call.phase = Phase::Connected;
        vec![Action::Notify(CallEvent::Connected {
            call_id: call.id.clone(),
        })]
    }

    /// Media failed (ICE failed, pipeline error, peer's media gone).
    pub fn on_media_failed(&mut self, why: String) -> Vec<Action<P>> {
        if self.call.as_ref().is_some_and(|c| c.media_started) {
            self.end_with_hangup(HangupReason::Error, EndReason::MediaFailed(why))
        } else {
            Vec::new()
        }
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
            reason,
        }));
        actions
    }
}

#[cfg(test)]
mod tests;

//! The node's side of calls: signalling from the network goes to the call
//! actor; the actor's notices become the node's status (`in-call` while a
//! call exists, published as presence) and control-socket events.

use super::State;
use crate::call::{CallInput, CallNotice, CallerTrust};
use crate::control::protocol::Event;
use crate::proto::call::CallSignal;
use crate::proto::{DisplayName, Status};
use libp2p::PeerId;

impl State {
    /// Forwards to the call actor without waiting: the node loop must
    /// never wait on the actor (the actor waits on the network task, which
    /// waits on this loop). What concerns the current call's peer goes on
    /// the actor's main queue, everything else on a queue of its own, so a
    /// flood from other peers cannot make the call's own messages be dropped.
    pub(super) fn to_calls(&self, input: CallInput) {
        let peer = match &input {
            CallInput::Signal { from, .. } => from,
            CallInput::SignalFailed { peer, .. }
            | CallInput::SignalRefused { peer, .. }
            | CallInput::PeerLost { peer } => peer,
        };
        if self.call_peer == Some(*peer) {
            self.calls.try_input(input);
        } else {
            self.calls.try_input_other(input);
        }
    }

    pub(super) fn on_signal(&mut self, from: PeerId, mut signal: CallSignal) {
        if let CallSignal::Invite { caller_name, .. } = &mut signal {
            *caller_name = shown_caller(self.table.signed_name(&from), caller_name);
        }
        let mut trust = CallerTrust::NotAllowed;
        if let CallSignal::Invite { caller_name, .. } = &signal {
            trust = self.trust(from, caller_name);
        }
        self.to_calls(CallInput::Signal {
            from,
            trust,
            signal,
        });
    }

    pub(super) fn on_notice(&mut self, notice: CallNotice) {
        let event = match notice {
            CallNotice::Dialing { call } => {
                self.call_peer = call.peer_id.parse().ok();
                self.set_in_call(true);
                Event::Dialing { call }
            }
            CallNotice::Incoming { call } => {
                self.call_peer = call.peer_id.parse().ok();
                self.set_in_call(true);
                Event::IncomingCall { call }
            }
            CallNotice::Ringing { call } => Event::Ringing { call },
            CallNotice::Connected { call } => Event::Connected { call },
            CallNotice::Replaced { old, new } => Event::CallReplaced { old, new },
            CallNotice::RemoteMuted { call } => Event::RemoteMuted { call },
            CallNotice::Warning {
                call_id,
                warning,
                detail,
            } => Event::Warning {
                call_id,
                warning,
                detail,
            },
            CallNotice::Ended { call, reason } => {
                self.call_peer = None;
                self.set_in_call(false);
                let detail = reason.detail().map(str::to_string);
                Event::CallEnded {
                    call,
                    reason: reason.code(),
                    detail,
                }
            }
        };
        let _ = self.events.send(event);
    }

    /// The status others see: `in-call` while a call exists, else the
    /// user's choice.
    pub(super) fn effective_status(&self) -> Status {
        if self.in_call {
            Status::InCall
        } else {
            self.status
        }
    }

    fn set_in_call(&mut self, in_call: bool) {
        if self.in_call == in_call {
            return;
        }
        self.in_call = in_call;
        self.publish_status.send_replace(self.effective_status());
    }
}

/// Marks a name that only the invite itself vouches for.
pub const UNVERIFIED_MARK: &str = " (unverified)";

/// The name to show for a caller: the one in its signed presence (bound
/// to the PeerId Noise authenticated), else the invite's own label marked
/// as unverified.
pub fn shown_caller(signed: Option<&DisplayName>, invite_label: &str) -> String {
    match signed {
        Some(name) => name.to_string(),
        None => format!("{invite_label}{UNVERIFIED_MARK}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_signed_name_wins_over_the_invite_label() {
        let bob = DisplayName::new("bob").unwrap();
        assert_eq!(shown_caller(Some(&bob), "alice (12D3…x7Q)"), "bob");
        assert_eq!(shown_caller(None, "alice"), "alice (unverified)");
    }
}

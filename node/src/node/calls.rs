//! The node's side of calls: signalling from the network goes to the call
//! actor; the actor's notices become the node's status (`in-call` while a
//! call exists, published as presence) and control-socket events.

use super::State;
use crate::call::{CallInput, CallNotice, CallerTrust, EndReason};
use crate::control::protocol::Event;
use crate::proto::call::{CallSignal, RejectReason};
use crate::proto::Status;
use libp2p::PeerId;

impl State {
    /// Forwards to the call actor without waiting: the actor's queue is
    /// generous, and the node loop must never wait on the actor (the actor
    /// waits on the network task, which waits on this loop).
    pub(super) fn to_calls(&self, input: CallInput) {
        self.calls.try_input(input);
    }

    pub(super) fn on_signal(&mut self, from: PeerId, signal: CallSignal) {
        let mut trust = CallerTrust::NotAllowed;
        if let CallSignal::Invite {
            call_id,
            caller_name,
            ..
        } = &signal
        {
            if self.status == Status::Dnd && !self.in_call {
                tracing::info!("do-not-disturb: declining a call from {from}");
                let reject = CallSignal::Reject {
                    call_id: call_id.clone(),
                    reason: RejectReason::Busy,
                };
                let net = self.net.clone();
                tokio::spawn(async move { net.send_signal(from, reject).await });
                return;
            }
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
                self.set_in_call(true);
                Event::Dialing { call }
            }
            CallNotice::Incoming { call } => {
                self.set_in_call(true);
                Event::IncomingCall { call }
            }
            CallNotice::Ringing { call } => Event::Ringing { call },
            CallNotice::Connected { call } => Event::Connected { call },
            CallNotice::Replaced { old, new } => Event::CallReplaced { old, new },
            CallNotice::Ended { call, reason } => {
                self.set_in_call(false);
                let detail = match &reason {
                    EndReason::MediaFailed(why) => Some(why.clone()),
                    _ => None,
                };
                Event::CallEnded {
                    call,
                    reason: reason.as_str().to_string(),
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
        let (net, status) = (self.net.clone(), self.effective_status());
        tokio::spawn(async move {
            if let Err(e) = net.set_status(status).await {
                tracing::warn!("cannot publish status {status}: {e}");
            }
        });
    }
}

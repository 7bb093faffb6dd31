//! Call signalling on the Swarm: sends [`CallSignal`]s as request-response
//! requests on `/duet/call/1` and turns the behaviour's events into
//! [`NetEvent`]s. Every request is acknowledged on delivery; a request that
//! cannot be delivered becomes `SignalFailed` for its call, so the call
//! actor can end the call instead of waiting; one the peer refused (its
//! rate limit: the only reason it refuses) becomes `SignalRefused`.

use super::rate_limit::{SignalLimiter, Verdict};
use super::signal_codec::SignalCodec;
use super::NetEvent;
use crate::proto::call::{CallId, CallSignal, SignalAck, CALL_PROTOCOL};
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::{PeerId, StreamProtocol};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a signalling request may take to be acknowledged.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

pub type Behaviour = request_response::Behaviour<SignalCodec>;

/// The request-response behaviour for `/duet/call/1`.
pub fn behaviour() -> Behaviour {
    request_response::Behaviour::with_codec(
        SignalCodec,
        [(StreamProtocol::new(CALL_PROTOCOL), ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
    )
}

/// Requests in flight, to name the call when one fails, and the limits on
/// what each peer may send.
#[derive(Debug, Default)]
pub struct Outbox {
    pending: HashMap<OutboundRequestId, (PeerId, CallId)>,
    limiter: SignalLimiter<PeerId>,
}

impl Outbox {
    pub fn send(&mut self, behaviour: &mut Behaviour, peer: PeerId, signal: CallSignal) {
        let call_id = signal.call_id().clone();
        let id = behaviour.send_request(&peer, signal);
        self.pending.insert(id, (peer, call_id));
    }

    /// Whether a request to `peer` awaits its acknowledgement.
    pub fn in_flight(&self, peer: &PeerId) -> bool {
        self.pending.values().any(|(p, _)| p == peer)
    }

    /// The last connection to `peer` closed: its limits start afresh.
    pub fn forget(&mut self, peer: &PeerId) {
        self.limiter.forget(peer);
    }

    /// Handles one event of the behaviour; returns what the node must hear.
    pub fn on_event(
        &mut self,
        behaviour: &mut Behaviour,
        event: request_response::Event<CallSignal, SignalAck>,
    ) -> Option<NetEvent> {
        use request_response::{Event, Message};
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let invite = matches!(request, CallSignal::Invite { .. });
                let verdict = self.limiter.check(peer, invite, Instant::now());
                let ack = match verdict {
                    Verdict::Allow => SignalAck::Ok,
                    Verdict::Refuse { warn } => {
                        if let Some(n) = warn {
                            tracing::warn!(
                                "{peer} sends too many signalling messages; refused {n}"
                            );
                        }
                        SignalAck::Refused {
                            error: "rate limited".into(),
                        }
                    }
                };
                if behaviour.send_response(channel, ack).is_err() {
                    tracing::debug!("{peer} closed the stream before the ack");
                }
                (verdict == Verdict::Allow).then_some(NetEvent::Signal {
                    from: peer,
                    signal: request,
                })
            }
            Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let pending = self.pending.remove(&request_id);
                match (response, pending) {
                    (SignalAck::Refused { error }, Some((_, call_id))) => {
                        tracing::warn!("{peer} refused a signalling message: {error}");
                        Some(NetEvent::SignalRefused { peer, call_id })
                    }
                    _ => None,
                }
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::warn!("signalling message to {peer} failed: {error}");
                self.pending
                    .remove(&request_id)
                    .map(|(peer, call_id)| NetEvent::SignalFailed { peer, call_id })
            }
            Event::InboundFailure { peer, error, .. } => {
                tracing::warn!("rejected a signalling message from {peer}: {error}");
                None
            }
            Event::ResponseSent { .. } => None,
        }
    }
}

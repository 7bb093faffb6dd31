//! A broker's answers: registration confirmed (and the broker's own
//! admission proof checked when this node has a key), the others in the
//! namespace, or a refusal.

use super::{BrokerClient, BrokerState, DISCOVER_EVERY, MAX_BACKOFF, REFUSED_RETRY};
use crate::net::broker_proto;
use crate::net::NetEvent;
use crate::network_key::Role;
use crate::proto::broker::{BrokerResponse, Delta, PeerRecord};
use libp2p::request_response;
use libp2p::PeerId;
use std::time::Duration;
use tokio::time::Instant;

impl BrokerClient {
    /// Handles an answer of a broker; returns peers first seen through one.
    pub fn on_event(&mut self, local: PeerId, event: broker_proto::Event) -> Vec<NetEvent> {
        let now = Instant::now();
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some(i) = self.pending.remove(&request_id) else {
                    return Vec::new();
                };
                let events = self.on_response(i, peer, local, response, now);
                self.publish_ice();
                events
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some(i) = self.pending.remove(&request_id) {
                    tracing::debug!("request to broker {} failed: {error}", self.links[i].addr);
                    self.links[i].next_register =
                        self.links[i].next_register.min(now + MAX_BACKOFF);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_response(
        &mut self,
        i: usize,
        broker: PeerId,
        local: PeerId,
        response: BrokerResponse,
        now: Instant,
    ) -> Vec<NetEvent> {
        let peers = match response {
            BrokerResponse::Registered {
                ttl_secs,
                peers,
                proof,
                turn,
                delta,
            } => {
                if let Some(key) = &self.key {
                    let ok = proof.is_some_and(|p| key.verify(Role::Broker, &broker, &local, &p));
                    if !ok {
                        return self.refused(i, "it does not hold our network key");
                    }
                }
                let link = &mut self.links[i];
                if link.state != BrokerState::Connected {
                    tracing::info!("registered at broker {broker} ({} others)", peers.len());
                }
                link.state = BrokerState::Connected;
                link.registered = true;
                link.turn = turn;
                link.next_register = now + Duration::from_secs(ttl_secs.max(2) / 2);
                link.next_discover = now + DISCOVER_EVERY;
                (peers, delta)
            }
            BrokerResponse::Peers { peers, delta } => (peers, delta),
            BrokerResponse::Done => return Vec::new(),
            BrokerResponse::Refused { reason } => return self.refused(i, &reason),
        };
        self.handed_out(i, local, peers, now)
    }

    fn refused(&mut self, i: usize, reason: &str) -> Vec<NetEvent> {
        let link = &mut self.links[i];
        if link.state != BrokerState::Refused {
            tracing::warn!("broker {} refused this node: {reason}", link.addr);
        }
        link.state = BrokerState::Refused;
        link.registered = false;
        link.turn = None;
        link.next_register = Instant::now() + REFUSED_RETRY;
        Vec::new()
    }

    /// Applies a list (or what changed in it) from broker `i`: the peers
    /// it lists now stay fresh, the ones it no longer lists age out.
    fn handed_out(
        &mut self,
        i: usize,
        local: PeerId,
        (peers, delta): (Vec<PeerRecord>, Delta),
        now: Instant,
    ) -> Vec<NetEvent> {
        let peers: Vec<PeerRecord> = peers
            .into_iter()
            .filter(|r| r.peer != local && !self.is_broker(&r.peer))
            .collect();
        let link = &mut self.links[i];
        if delta.full {
            link.known.clear();
        }
        for gone in &delta.removed {
            link.known.remove(gone);
        }
        link.known.extend(peers.iter().map(|r| r.peer));
        link.cursor = delta.cursor;
        if delta.more {
            link.next_discover = now;
        }
        let events = self.handed.handed_out(local, peers, now);
        self.handed.touch(&self.links[i].known, now);
        events
    }
}

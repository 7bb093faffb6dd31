//! Web users a broker bridges (`/duet/web-call/1`), seen by the rest of the
//! node as peers. Each gets a stable stand-in PeerId (a SHA-256 multihash
//! of the broker's PeerId and the web id, which no libp2p key has), and its
//! connection, presence and call messages are reported as a node's would
//! be, so the peer table, `duet call`, the kiosk rules and the call actor
//! work unchanged; only sending is redirected: a call message for a stand-in
//! goes to its broker, wrapped with the web id.

use super::web_call_proto::{Behaviour, Event};
use super::NetEvent;
use crate::proto::call::{CallId, CallSignal};
use crate::proto::web_call::{WebCallAck, WebCallRequest, WebUser};
use crate::proto::{DisplayName, Presence, Status, MAX_NAME_BYTES};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, Message, OutboundRequestId};
use libp2p::{Multiaddr, PeerId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The multihash code of SHA2-256.
const SHA2_256: u64 = 0x12;

#[derive(Debug, Clone)]
struct Stand {
    broker: PeerId,
    web_id: String,
    name: DisplayName,
    status: Status,
}

#[derive(Debug, Default)]
pub struct WebPeers {
    peers: HashMap<PeerId, Stand>,
    pending: HashMap<OutboundRequestId, (PeerId, CallId)>,
    seq: u64,
}

/// The stand-in PeerId of `web_id` at `broker`.
pub fn stand_in(broker: &PeerId, web_id: &str) -> Option<PeerId> {
    let mut h = Sha256::new();
    h.update(b"duet-web-user/1");
    h.update(broker.to_bytes());
    h.update(web_id.as_bytes());
    let mh = libp2p::multihash::Multihash::<64>::wrap(SHA2_256, &h.finalize()).ok()?;
    PeerId::from_multihash(mh).ok()
}

/// `web:alice via 3xYz9Q` (cut to the name limit).
fn label(web_id: &str, broker: &PeerId) -> Option<DisplayName> {
    let b = broker.to_string();
    let short: String = b
        .chars()
        .skip(b.chars().count().saturating_sub(6))
        .collect();
    let tail = format!(" via {short}");
    let room = MAX_NAME_BYTES.saturating_sub(tail.len());
    let mut head = String::new();
    for c in web_id.chars() {
        if head.len() + c.len_utf8() > room {
            break;
        }
        head.push(c);
    }
    DisplayName::new(format!("{head}{tail}")).ok()
}

fn broker_addr(broker: &PeerId) -> Multiaddr {
    Multiaddr::empty().with(Protocol::P2p(*broker))
}

impl WebPeers {
    pub fn is_web(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    fn presence(&mut self, peer: PeerId) -> Option<NetEvent> {
        let s = self.peers.get(&peer)?;
        self.seq += 1;
        Some(NetEvent::Presence {
            peer,
            presence: Presence {
                name: s.name.clone(),
                status: s.status,
                seq: self.seq,
            },
        })
    }

    /// Re-announces every web user (the peer table expires silent peers).
    pub fn heartbeat(&mut self) -> Vec<NetEvent> {
        let ids: Vec<PeerId> = self.peers.keys().copied().collect();
        ids.into_iter().filter_map(|p| self.presence(p)).collect()
    }

    /// A broker's full list of web users.
    fn users(&mut self, broker: PeerId, users: Vec<WebUser>) -> Vec<NetEvent> {
        let mut events = Vec::new();
        let mut listed = Vec::new();
        for u in users {
            let (Some(peer), Some(name)) = (stand_in(&broker, &u.id), label(&u.id, &broker)) else {
                continue;
            };
            listed.push(peer);
            let known = self.peers.get(&peer).map(|s| s.status);
            if known == Some(u.status) {
                continue;
            }
            if known.is_none() {
                events.push(NetEvent::WebUser { peer });
                events.push(NetEvent::Connected {
                    peer,
                    addr: broker_addr(&broker),
                });
            }
            self.peers.insert(
                peer,
                Stand {
                    broker,
                    web_id: u.id,
                    name,
                    status: u.status,
                },
            );
            events.extend(self.presence(peer));
        }
        let gone: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(p, s)| s.broker == broker && !listed.contains(p))
            .map(|(p, _)| *p)
            .collect();
        events.extend(gone.into_iter().filter_map(|p| self.remove(p)));
        events
    }

    fn remove(&mut self, peer: PeerId) -> Option<NetEvent> {
        let s = self.peers.remove(&peer)?;
        Some(NetEvent::Disconnected {
            peer,
            addr: broker_addr(&s.broker),
            remaining: 0,
        })
    }

    /// The broker's connection closed: its web users are gone.
    pub fn broker_gone(&mut self, broker: &PeerId) -> Vec<NetEvent> {
        let gone: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, s)| s.broker == *broker)
            .map(|(p, _)| *p)
            .collect();
        gone.into_iter().filter_map(|p| self.remove(p)).collect()
    }

    /// Sends `signal` if `peer` is a web user; false if it is not.
    pub fn send(&mut self, b: &mut Behaviour, peer: PeerId, signal: CallSignal) -> bool {
        let Some(s) = self.peers.get(&peer) else {
            return false;
        };
        let call_id = signal.call_id().clone();
        let request = WebCallRequest::Call {
            web_id: s.web_id.clone(),
            web_name: String::new(),
            signal,
        };
        let id = b.send_request(&s.broker, request);
        self.pending.insert(id, (peer, call_id));
        true
    }

    /// Tells `broker` this node's name and status.
    pub fn hello(b: &mut Behaviour, broker: &PeerId, name: &DisplayName, status: Status) {
        let hello = WebCallRequest::Hello {
            name: name.clone(),
            status,
        };
        b.send_request(broker, hello);
    }

    /// One event of `/duet/web-call/1`; `is_broker` says whether a peer is
    /// one of this node's brokers (nobody else may speak for web users).
    pub fn on_event(
        &mut self,
        b: &mut Behaviour,
        event: Event,
        is_broker: impl Fn(&PeerId) -> bool,
    ) -> Vec<NetEvent> {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let (ack, events) = match request.validated() {
                    _ if !is_broker(&peer) => (refused("not a broker of this node"), Vec::new()),
                    Err(e) => (refused(&e.to_string()), Vec::new()),
                    Ok(WebCallRequest::Users { users }) => {
                        (WebCallAck::Ok, self.users(peer, users))
                    }
                    Ok(WebCallRequest::Call { web_id, signal, .. }) => {
                        match stand_in(&peer, &web_id).filter(|p| self.peers.contains_key(p)) {
                            Some(from) => (WebCallAck::Ok, vec![NetEvent::Signal { from, signal }]),
                            None => (refused("unknown web user"), Vec::new()),
                        }
                    }
                    Ok(WebCallRequest::Hello { .. }) => (refused("not a broker"), Vec::new()),
                };
                let _ = b.send_response(channel, ack);
                events
            }
            request_response::Event::Message {
                message:
                    Message::Response {
                        request_id,
                        response: WebCallAck::Refused { error },
                    },
                ..
            } => {
                tracing::warn!("a broker refused a web call message: {error}");
                self.failed(request_id)
            }
            request_response::Event::Message {
                message: Message::Response { request_id, .. },
                ..
            } => {
                self.pending.remove(&request_id);
                Vec::new()
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                tracing::debug!("web call message failed: {error}");
                self.failed(request_id)
            }
            _ => Vec::new(),
        }
    }

    fn failed(&mut self, id: OutboundRequestId) -> Vec<NetEvent> {
        self.pending
            .remove(&id)
            .map(|(peer, call_id)| NetEvent::SignalFailed { peer, call_id })
            .into_iter()
            .collect()
    }
}

fn refused(error: &str) -> WebCallAck {
    WebCallAck::Refused {
        error: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn stand_ins_are_stable_and_never_a_key() {
        let b = PeerId::random();
        let a = stand_in(&b, "web:alice").unwrap();
        assert_eq!(stand_in(&b, "web:alice"), Some(a));
        assert_ne!(stand_in(&b, "web:bob"), Some(a));
        assert_ne!(stand_in(&PeerId::random(), "web:alice"), Some(a));
        assert_eq!(a.as_ref().code(), SHA2_256);
        let name = label(&format!("web:{}", "é".repeat(40)), &b).unwrap();
        assert!(name.as_str().len() <= MAX_NAME_BYTES);
        let id = b.to_string();
        let short = &id[id.len() - 6..];
        assert!(name.as_str().ends_with(&format!(" via {short}")), "{name}");
    }

    #[test]
    fn a_brokers_list_adds_updates_and_removes_web_users() {
        let mut w = WebPeers::default();
        let b = PeerId::random();
        let user = |id: &str, status| WebUser {
            id: id.into(),
            name: DisplayName::new(id).unwrap(),
            status,
        };
        let ev = w.users(b, vec![user("web:alice", Status::Available)]);
        assert!(matches!(ev[0], NetEvent::WebUser { .. }));
        assert!(matches!(ev[1], NetEvent::Connected { .. }));
        let NetEvent::Presence { presence, .. } = &ev[2] else {
            panic!("{ev:?}")
        };
        assert!(presence.name.as_str().starts_with("web:alice via "));
        assert!(w
            .users(b, vec![user("web:alice", Status::Available)])
            .is_empty());
        assert_eq!(w.users(b, vec![user("web:alice", Status::InCall)]).len(), 1);
        let ev = w.users(b, vec![]);
        assert!(matches!(
            ev[..],
            [NetEvent::Disconnected { remaining: 0, .. }]
        ));
        w.users(b, vec![user("web:bob", Status::Available)]);
        assert_eq!(w.broker_gone(&b).len(), 1);
        assert!(w.heartbeat().is_empty());
    }
}

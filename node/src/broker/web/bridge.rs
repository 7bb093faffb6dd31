//! The broker side of `/duet/web-call/1`: the Swarm owner hands this the
//! protocol's events and the hub's requests. Nodes say `hello` (name and
//! status) every heartbeat and are listed to browsers while connected;
//! every such node is told the web users on each change. Call messages are
//! carried both ways. Only admitted nodes (with a network key: those that
//! proved it) are listed or bridged.

use super::hub::{HubIn, NodeEntry, ToBridge};
use super::wire::PeerEntry;
use crate::net::web_call_proto::{Behaviour, Event};
use crate::proto::web_call::{WebCallAck, WebCallRequest, WebUser};
use crate::proto::{DisplayName, Status};
use libp2p::request_response::{self, Message};
use libp2p::PeerId;
use std::collections::BTreeMap;
use tokio::sync::mpsc;

pub struct Bridge {
    hub: mpsc::Sender<HubIn>,
    pub rx: mpsc::Receiver<ToBridge>,
    nodes: BTreeMap<PeerId, (DisplayName, Status)>,
    users: Vec<WebUser>,
}

impl Bridge {
    pub fn new(hub: mpsc::Sender<HubIn>, rx: mpsc::Receiver<ToBridge>) -> Self {
        Bridge {
            hub,
            rx,
            nodes: BTreeMap::new(),
            users: Vec::new(),
        }
    }

    fn tell_hub(&self, msg: HubIn) {
        if self.hub.try_send(msg).is_err() {
            tracing::warn!("web: the hub is busy; dropped a message from a node");
        }
    }

    fn publish_nodes(&self) {
        let list = self
            .nodes
            .iter()
            .map(|(peer, (name, status))| NodeEntry {
                id: peer.to_string(),
                name: name.to_string(),
                status: *status,
            })
            .collect();
        self.tell_hub(HubIn::Nodes(list));
    }

    /// One event of `/duet/web-call/1`; `admitted` says whether a peer may
    /// be bridged.
    pub fn on_event(&mut self, b: &mut Behaviour, event: Event, admitted: bool) {
        let request_response::Event::Message {
            peer,
            message: Message::Request {
                request, channel, ..
            },
            ..
        } = event
        else {
            if let request_response::Event::OutboundFailure { peer, error, .. } = event {
                tracing::debug!("web: a message to {peer} failed: {error}");
            }
            return;
        };
        let ack = match (admitted, request.validated()) {
            (false, _) => WebCallAck::Refused {
                error: "not admitted".into(),
            },
            (true, Err(e)) => WebCallAck::Refused {
                error: e.to_string(),
            },
            (true, Ok(request)) => {
                self.on_request(b, peer, request);
                WebCallAck::Ok
            }
        };
        let _ = b.send_response(channel, ack);
    }

    fn on_request(&mut self, b: &mut Behaviour, peer: PeerId, request: WebCallRequest) {
        match request {
            WebCallRequest::Hello { name, status } => {
                let new = !self.nodes.contains_key(&peer);
                let entry = (name, status);
                if self.nodes.get(&peer) != Some(&entry) {
                    self.nodes.insert(peer, entry);
                    self.publish_nodes();
                }
                if new {
                    tracing::info!("web: bridging {peer}");
                    let users = self.users.clone();
                    b.send_request(&peer, WebCallRequest::Users { users });
                }
            }
            WebCallRequest::Call { web_id, signal, .. } if self.nodes.contains_key(&peer) => {
                self.tell_hub(HubIn::FromNode {
                    node: peer.to_string(),
                    to: web_id,
                    signal,
                });
            }
            other => tracing::debug!("web: ignored {other:?} from {peer}"),
        }
    }

    /// A request from the hub.
    pub fn on_hub(&mut self, b: &mut Behaviour, msg: ToBridge) {
        match msg {
            ToBridge::Call {
                node,
                web_id,
                web_name,
                signal,
            } => {
                let Some(peer) = node
                    .parse::<PeerId>()
                    .ok()
                    .filter(|p| self.nodes.contains_key(p))
                else {
                    return;
                };
                b.send_request(
                    &peer,
                    WebCallRequest::Call {
                        web_id,
                        web_name,
                        signal,
                    },
                );
            }
            ToBridge::Users(list) => {
                self.users = list.into_iter().filter_map(web_user).collect();
                for peer in self.nodes.keys() {
                    let users = self.users.clone();
                    b.send_request(peer, WebCallRequest::Users { users });
                }
            }
        }
    }

    /// The node's last connection closed.
    pub fn node_gone(&mut self, peer: &PeerId) {
        if self.nodes.remove(peer).is_some() {
            tracing::info!("web: no longer bridging {peer}");
            self.publish_nodes();
        }
    }
}

fn web_user(p: PeerEntry) -> Option<WebUser> {
    Some(WebUser {
        id: p.id,
        name: DisplayName::new(p.name).ok()?,
        status: p.status,
    })
}

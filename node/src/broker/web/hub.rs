//! The hub: one task that knows every joined browser and every bridged node
//! and routes call messages between them. Connections hand it validated
//! messages; it sets `from`/`from_name` (a browser cannot pose as another
//! peer), keeps the `peers` lists current, and tells the other side of a
//! call when a peer leaves. A browser that does not read its socket fast
//! enough is disconnected rather than buffered without bound.

use super::wire::{self, ClientMsg, FrameError, IceServer, PeerEntry, PeerKind};
use crate::broker::turn::BrowserTurn;
use crate::proto::call::{CallSignal, HangupReason};
use crate::proto::{DisplayName, Status};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Most browsers joined at once.
pub const MAX_USERS: usize = 256;
/// Frames queued for one browser before it counts as not reading.
pub const OUT_QUEUE: usize = 256;
/// Calls remembered (to send `peer-gone`); more are relayed, not tracked.
const MAX_CALLS: usize = 1024;

/// A frame for one browser's socket.
#[derive(Debug)]
pub enum Out {
    Text(String),
    /// Send this text, then close.
    Last(String),
}

/// The connection's handle to its socket, held by the hub.
#[derive(Debug, Clone)]
pub struct Link {
    pub out: mpsc::Sender<Out>,
    pub cancel: CancellationToken,
}

/// A node the bridge can reach, as browsers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    pub id: String,
    pub name: String,
    pub status: Status,
}

#[derive(Debug)]
pub enum HubIn {
    Join {
        name: DisplayName,
        link: Link,
        reply: oneshot::Sender<Result<String, FrameError>>,
    },
    Msg {
        id: String,
        msg: ClientMsg,
    },
    Left {
        id: String,
    },
    /// The bridge: the full list of reachable nodes.
    Nodes(Vec<NodeEntry>),
    /// The bridge: a node's call message for a browser.
    FromNode {
        node: String,
        to: String,
        signal: CallSignal,
    },
}

/// What the hub asks of the bridge.
#[derive(Debug, Clone, PartialEq)]
pub enum ToBridge {
    /// A browser's call message for a node.
    Call {
        node: String,
        web_id: String,
        web_name: String,
        signal: CallSignal,
    },
    /// The full list of joined browsers (for nodes' `peers`).
    Users(Vec<PeerEntry>),
}

struct User {
    name: String,
    status: Status,
    link: Link,
    /// The key of its TURN credentials, released when it leaves.
    turn_key: Option<libp2p::PeerId>,
}

pub struct Hub {
    users: BTreeMap<String, User>,
    nodes: BTreeMap<String, NodeEntry>,
    /// call id -> (caller, callee)
    calls: HashMap<String, (String, String)>,
    /// The broker's TURN, if on: each browser gets its own credentials.
    turn: Option<BrowserTurn>,
    bridge: Option<mpsc::Sender<ToBridge>>,
}

impl Hub {
    pub fn new(turn: Option<BrowserTurn>, bridge: Option<mpsc::Sender<ToBridge>>) -> Self {
        Hub {
            users: BTreeMap::new(),
            nodes: BTreeMap::new(),
            calls: HashMap::new(),
            turn,
            bridge,
        }
    }

    pub async fn run(mut self, mut rx: mpsc::Receiver<HubIn>) {
        while let Some(input) = rx.recv().await {
            self.handle(input);
        }
    }

    fn handle(&mut self, input: HubIn) {
        match input {
            HubIn::Join { name, link, reply } => {
                let result = self.join(name, link);
                let _ = reply.send(result);
            }
            HubIn::Msg { id, msg } => self.on_msg(&id, msg),
            HubIn::Left { id } => self.remove(&id),
            HubIn::Nodes(list) => {
                let new: BTreeMap<String, NodeEntry> =
                    list.into_iter().map(|n| (n.id.clone(), n)).collect();
                if new != self.nodes {
                    let gone: Vec<String> = self
                        .nodes
                        .keys()
                        .filter(|k| !new.contains_key(*k))
                        .cloned()
                        .collect();
                    self.nodes = new;
                    for node in gone {
                        self.peer_left(&node, "");
                    }
                    self.broadcast_peers();
                }
            }
            HubIn::FromNode { node, to, signal } => {
                let from_name = self.nodes.get(&node).map(|n| n.name.clone());
                match (from_name, self.users.contains_key(&to)) {
                    (Some(from_name), true) => {
                        self.track(&node, &to, &signal);
                        self.send(&to, wire::call(&node, &from_name, &signal));
                    }
                    _ => tracing::debug!("web: dropped a message from {node} for {to}"),
                }
            }
        }
    }

    fn join(&mut self, name: DisplayName, link: Link) -> Result<String, FrameError> {
        if self.users.len() >= MAX_USERS {
            return Err(FrameError::new(
                "rate-limited",
                "too many web users; try later",
            ));
        }
        let base = format!("web:{name}");
        let id = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|id| !self.users.contains_key(id))
            .unwrap_or(base);
        let turn = self.turn.as_ref().map(BrowserTurn::issue);
        let ice_servers: Vec<IceServer> = turn
            .iter()
            .map(|c| IceServer {
                urls: c.urls.clone(),
                username: Some(c.username.clone()),
                credential: Some(c.password.clone()),
            })
            .collect();
        let _ = link
            .out
            .try_send(Out::Text(wire::joined(&id, name.as_str(), &ice_servers)));
        tracing::info!("web: {id} joined");
        self.users.insert(
            id.clone(),
            User {
                name: name.to_string(),
                status: Status::Available,
                link,
                turn_key: turn.map(|c| c.key),
            },
        );
        self.broadcast_peers();
        Ok(id)
    }

    fn on_msg(&mut self, id: &str, msg: ClientMsg) {
        let Some(from_name) = self.users.get(id).map(|u| u.name.clone()) else {
            return;
        };
        match msg {
            ClientMsg::Join { .. } => self.error(id, FrameError::bad("already joined")),
            ClientMsg::Presence { status } => {
                if let Some(u) = self.users.get_mut(id) {
                    if u.status != status {
                        u.status = status;
                        self.broadcast_peers();
                    }
                }
            }
            ClientMsg::Call { to, signal } => self.route(id, &from_name, to, signal),
        }
    }

    fn route(&mut self, from: &str, from_name: &str, to: String, signal: CallSignal) {
        let signal = match signal {
            CallSignal::Invite { call_id, sdp, .. } => CallSignal::Invite {
                call_id,
                caller_name: from_name.to_string(),
                sdp,
            },
            other => other,
        };
        if to != from && self.users.contains_key(&to) {
            self.track(from, &to, &signal);
            self.send(&to, wire::call(from, from_name, &signal));
        } else if let (true, Some(bridge)) = (self.nodes.contains_key(&to), self.bridge.clone()) {
            self.track(from, &to, &signal);
            let call = ToBridge::Call {
                node: to,
                web_id: from.to_string(),
                web_name: from_name.to_string(),
                signal,
            };
            if bridge.try_send(call).is_err() {
                tracing::warn!("web: the bridge to nodes is busy; dropped a message");
            }
        } else {
            let e = FrameError::new("no-such-peer", format!("no peer {to:?} is online"))
                .with_call(Some(signal.call_id().to_string()));
            self.error(from, e);
        }
    }

    /// Remembers who is in which call, to tell one side when the other goes.
    fn track(&mut self, from: &str, to: &str, signal: &CallSignal) {
        let id = signal.call_id().to_string();
        match signal {
            // An invite never takes over a call id already tracked for
            // another pair: the first pair keeps it.
            CallSignal::Invite { .. } if self.calls.len() < MAX_CALLS => {
                self.calls
                    .entry(id)
                    .or_insert_with(|| (from.to_string(), to.to_string()));
            }
            CallSignal::Reject { .. } | CallSignal::Hangup { .. }
                if self
                    .calls
                    .get(&id)
                    .is_some_and(|(a, b)| (a == from && b == to) || (a == to && b == from)) =>
            {
                self.calls.remove(&id);
            }
            _ => {}
        }
    }

    fn error(&mut self, id: &str, e: FrameError) {
        self.send(id, wire::error(&e));
    }

    /// Queues a frame; a browser whose queue is full is disconnected.
    fn send(&mut self, id: &str, text: String) {
        let Some(user) = self.users.get(id) else {
            return;
        };
        if user.link.out.try_send(Out::Text(text)).is_err() {
            tracing::info!("web: {id} does not read its socket; disconnecting");
            user.link.cancel.cancel();
            self.remove(id);
        }
    }

    fn remove(&mut self, id: &str) {
        if let Some(user) = self.users.remove(id) {
            tracing::info!("web: {id} left");
            if let (Some(turn), Some(key)) = (&self.turn, &user.turn_key) {
                turn.release(key);
            }
            self.peer_left(id, &user.name);
            self.broadcast_peers();
        }
    }

    /// Ends the calls of a peer that left, on the other side.
    fn peer_left(&mut self, gone: &str, gone_name: &str) {
        let ended: Vec<(String, String)> = self
            .calls
            .iter()
            .filter_map(|(call, (a, b))| {
                let other = if a == gone {
                    b
                } else if b == gone {
                    a
                } else {
                    return None;
                };
                Some((call.clone(), other.clone()))
            })
            .collect();
        for (call, other) in ended {
            self.calls.remove(&call);
            if self.users.contains_key(&other) {
                self.send(&other, wire::peer_gone(gone, &call));
            } else if let Some(bridge) = self.bridge.as_ref().filter(|_| gone.starts_with("web:")) {
                let _ = bridge.try_send(ToBridge::Call {
                    node: other,
                    web_id: gone.to_string(),
                    web_name: gone_name.to_string(),
                    signal: CallSignal::Hangup {
                        call_id: call.as_str().into(),
                        reason: HangupReason::Error,
                        detail: Some("the browser left".into()),
                    },
                });
            }
        }
    }

    fn entries(&self) -> Vec<PeerEntry> {
        let nodes = self.nodes.values().map(|n| PeerEntry {
            id: n.id.clone(),
            name: n.name.clone(),
            kind: PeerKind::Node,
            status: n.status,
        });
        let users = self.users.iter().map(|(id, u)| PeerEntry {
            id: id.clone(),
            name: u.name.clone(),
            kind: PeerKind::Web,
            status: u.status,
        });
        nodes.chain(users).collect()
    }

    fn broadcast_peers(&mut self) {
        let all = self.entries();
        let ids: Vec<String> = self.users.keys().cloned().collect();
        for id in ids {
            let others: Vec<PeerEntry> = all.iter().filter(|p| p.id != id).cloned().collect();
            self.send(&id, wire::peers(&others));
        }
        if let Some(bridge) = &self.bridge {
            let users = all
                .into_iter()
                .filter(|p| p.kind == PeerKind::Web)
                .collect();
            let _ = bridge.try_send(ToBridge::Users(users));
        }
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;

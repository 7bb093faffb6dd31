//! The node's side of the brokers given with `duet up --broker`: keeps a
//! connection to each (reconnecting with a short capped backoff, so the node
//! is back within seconds of a broker returning), registers in the network's
//! namespace and refreshes before the TTL ends, asks for the others every
//! few seconds, and dials them directly. A broker that is down costs a
//! failed dial every couple of seconds and blocks nothing: the LAN side
//! (mDNS) works on without it.
//!
//! Once registered, the node also listens through the broker's relay
//! (`…/p2p/<broker>/p2p-circuit`) and registers that address too: a node
//! that cannot reach another directly still reaches it over a circuit. The
//! direct addresses are dialed first and the circuit only if they did not
//! connect within a second, so where the network routes, the connection
//! (and the calls' signalling) is direct and survives the broker.
//!
//! Driven by the Swarm owner ([`super::event_loop`]): it calls [`BrokerClient::tick`]
//! when [`BrokerClient::next_due`] comes, and passes on connection events and
//! the `/duet/broker/1` answers.

mod answers;
mod handed;
mod ice;

use super::backoff::Backoff;
use super::behaviour::Behaviour;
use crate::network_key::{NetworkKey, Role};
use crate::proto::broker::{BrokerRequest, TurnOffer};
use handed::HandedPeers;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::OutboundRequestId;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId, Swarm};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The TTL asked for; the broker clamps it. Refreshed at half of it.
const TTL_SECS: u64 = 30;
const DISCOVER_EVERY: Duration = Duration::from_secs(2);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Reconnect attempts at most this far apart: back soon after a broker returns.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// A refused node asks again this often (the key may have been fixed at the broker).
const REFUSED_RETRY: Duration = Duration::from_secs(10);

/// A broker's state as `duet status --json` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerState {
    /// Connected, admitted and registered.
    Connected,
    /// Not (yet) connected or registered; retrying.
    Connecting,
    /// The broker refused this node (network key missing or wrong).
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerView {
    pub addr: String,
    pub state: BrokerState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// This node holds credentials for the broker's STUN/TURN server.
    #[serde(default)]
    pub turn: bool,
}

struct Link {
    addr: Multiaddr,
    peer: Option<PeerId>,
    state: BrokerState,
    connection: Option<ConnectionId>,
    dialing: Option<ConnectionId>,
    next_attempt: Instant,
    backoff: Backoff,
    next_register: Instant,
    next_discover: Instant,
    registered: bool,
    /// Warned that it cannot be reached (once until it is reached).
    warned: bool,
    /// Listening through this broker's relay.
    relay_listener: Option<ListenerId>,
    next_relay: Instant,
    /// The broker's STUN/TURN server and our credentials, while registered.
    turn: Option<TurnOffer>,
    /// The cursor of the broker's last list, and who is on that list.
    cursor: Option<u64>,
    known: HashSet<PeerId>,
}

pub struct BrokerClient {
    links: Vec<Link>,
    namespace: String,
    key: Option<NetworkKey>,
    pending: HashMap<OutboundRequestId, usize>,
    handed: HandedPeers,
    /// The ICE server URLs of every broker we hold TURN credentials for.
    ice: watch::Sender<Vec<String>>,
}

/// The address without its `/p2p/…` and the PeerId it names, if any.
fn split_peer(addr: &Multiaddr) -> (Multiaddr, Option<PeerId>) {
    let mut bare = addr.clone();
    match bare.pop() {
        Some(Protocol::P2p(peer)) => (bare, Some(peer)),
        Some(other) => {
            bare.push(other);
            (bare, None)
        }
        None => (bare, None),
    }
}

impl BrokerClient {
    pub fn new(addrs: &[Multiaddr], key: Option<NetworkKey>) -> Self {
        let now = Instant::now();
        let links = addrs
            .iter()
            .map(|a| {
                let (addr, peer) = split_peer(a);
                if peer.is_none() {
                    tracing::warn!(
                        "--broker {a} has no /p2p/<PeerId>: the broker is not authenticated \
                         by its ID, only by whatever answers there"
                    );
                }
                Link {
                    addr,
                    peer,
                    state: BrokerState::Connecting,
                    connection: None,
                    dialing: None,
                    next_attempt: now,
                    backoff: Backoff::new(FIRST_BACKOFF, MAX_BACKOFF),
                    next_register: now,
                    next_discover: now,
                    registered: false,
                    warned: false,
                    relay_listener: None,
                    next_relay: now,
                    turn: None,
                    cursor: None,
                    known: HashSet::new(),
                }
            })
            .collect();
        Self {
            links,
            namespace: crate::network_key::namespace(key.as_ref()),
            key,
            pending: HashMap::new(),
            handed: HandedPeers::default(),
            ice: watch::channel(Vec::new()).0,
        }
    }

    /// The brokers' STUN/TURN servers as ICE server URLs, kept current.
    pub fn ice_servers(&self) -> watch::Receiver<Vec<String>> {
        self.ice.subscribe()
    }

    fn publish_ice(&self) {
        let urls: Vec<String> = self
            .links
            .iter()
            .filter_map(|l| l.turn.as_ref().map(|t| ice::urls(&l.addr, t)))
            .flatten()
            .collect();
        self.ice.send_if_modified(|old| {
            let changed = *old != urls;
            if changed {
                *old = urls;
            }
            changed
        });
    }

    pub fn views(&self) -> Vec<BrokerView> {
        self.links
            .iter()
            .map(|l| BrokerView {
                addr: l.addr.to_string(),
                state: l.state,
                peer_id: l.peer.map(|p| p.to_string()),
                turn: l.turn.is_some(),
            })
            .collect()
    }

    /// Whether `peer` is one of the brokers (not a Duet node).
    pub fn is_broker(&self, peer: &PeerId) -> bool {
        self.links.iter().any(|l| l.peer.as_ref() == Some(peer))
    }

    /// When [`BrokerClient::tick`] has something to do next, if ever.
    pub fn next_due(&self, swarm: &Swarm<Behaviour>) -> Option<Instant> {
        let links = self.links.iter().map(|l| match l.connection {
            None if l.dialing.is_none() => l.next_attempt,
            None => l.next_attempt.max(Instant::now() + MAX_BACKOFF),
            Some(_) if !l.registered => l.next_register,
            Some(_) if l.relay_listener.is_none() => {
                l.next_register.min(l.next_discover).min(l.next_relay)
            }
            Some(_) => l.next_register.min(l.next_discover),
        });
        links.chain(self.handed.next_due(swarm)).min()
    }

    fn proof(&self, broker: &PeerId, local: &PeerId) -> Option<Vec<u8>> {
        self.key
            .as_ref()
            .map(|k| k.proof(Role::Node, broker, local))
    }

    /// Connects, registers, discovers and dials whatever is due.
    pub fn tick(&mut self, swarm: &mut Swarm<Behaviour>) {
        let now = Instant::now();
        let local = *swarm.local_peer_id();
        let own_addrs: Vec<Multiaddr> = swarm.listeners().cloned().collect();
        for i in 0..self.links.len() {
            let link = &self.links[i];
            match (link.connection, link.peer) {
                (None, _) if link.dialing.is_none() && link.next_attempt <= now => {
                    self.dial_broker(i, swarm, now)
                }
                (Some(_), Some(broker)) if link.next_register <= now => {
                    let request = BrokerRequest::Register {
                        namespace: self.namespace.clone(),
                        addrs: own_addrs.clone(),
                        ttl_secs: TTL_SECS,
                        proof: self.proof(&broker, &local),
                        since: link.cursor,
                    };
                    self.send(i, swarm, broker, request);
                    // Until the answer comes (or fails), do not ask again.
                    self.links[i].next_register = now + Duration::from_secs(5);
                }
                (Some(_), Some(broker)) if link.registered && link.next_discover <= now => {
                    let request = BrokerRequest::Discover {
                        namespace: self.namespace.clone(),
                        proof: self.proof(&broker, &local),
                        since: link.cursor,
                    };
                    self.send(i, swarm, broker, request);
                    self.links[i].next_discover = now + DISCOVER_EVERY;
                }
                _ => {}
            }
            self.listen_relay(i, swarm, now);
        }
        self.handed.dial_due(swarm, now);
    }

    fn listen_relay(&mut self, i: usize, swarm: &mut Swarm<Behaviour>, now: Instant) {
        let link = &mut self.links[i];
        let Some(broker) = link.peer else { return };
        if !link.registered || link.relay_listener.is_some() || link.next_relay > now {
            return;
        }
        link.next_relay = now + Duration::from_secs(5);
        let addr = link
            .addr
            .clone()
            .with(Protocol::P2p(broker))
            .with(Protocol::P2pCircuit);
        match swarm.listen_on(addr) {
            Ok(id) => link.relay_listener = Some(id),
            Err(e) => tracing::debug!("cannot listen through broker {broker}: {e}"),
        }
    }

    /// The node's listen addresses changed: registered brokers hear of it now.
    pub fn addresses_changed(&mut self) {
        let now = Instant::now();
        for link in self.links.iter_mut().filter(|l| l.registered) {
            link.next_register = link.next_register.min(now);
        }
    }

    pub fn listener_closed(&mut self, id: ListenerId) {
        for link in &mut self.links {
            if link.relay_listener == Some(id) {
                link.relay_listener = None;
                link.next_relay = Instant::now() + Duration::from_secs(1);
            }
        }
    }

    fn send(&mut self, i: usize, swarm: &mut Swarm<Behaviour>, broker: PeerId, r: BrokerRequest) {
        let id = swarm.behaviour_mut().broker.send_request(&broker, r);
        self.pending.insert(id, i);
    }

    fn dial_broker(&mut self, i: usize, swarm: &mut Swarm<Behaviour>, now: Instant) {
        let link = &mut self.links[i];
        let opts = match link.peer {
            Some(peer) => DialOpts::peer_id(peer)
                .addresses(vec![link.addr.clone()])
                .condition(PeerCondition::Always)
                .build(),
            None => DialOpts::unknown_peer_id()
                .address(link.addr.clone())
                .build(),
        };
        let id = opts.connection_id();
        match swarm.dial(opts) {
            Ok(()) => link.dialing = Some(id),
            Err(e) => tracing::debug!("cannot dial broker {}: {e}", link.addr),
        }
        link.next_attempt = now + link.backoff.step();
    }

    /// A connection was established; returns true if it is to a broker.
    pub fn connected(&mut self, peer: PeerId, id: ConnectionId) -> bool {
        let now = Instant::now();
        let mut is_broker = false;
        for link in &mut self.links {
            let ours = link.dialing == Some(id);
            if ours {
                link.dialing = None;
                link.peer = link.peer.or(Some(peer));
            }
            if (ours || link.peer == Some(peer)) && link.connection.is_none() {
                tracing::info!("connected to broker {peer} at {}", link.addr);
                link.connection = Some(id);
                link.warned = false;
                link.backoff.reset();
                link.next_register = now;
                link.registered = false;
                // A new connection starts from the full list.
                link.cursor = None;
            }
            is_broker |= link.peer == Some(peer);
        }
        self.handed.connected(&peer);
        is_broker
    }

    /// A connection closed.
    pub fn disconnected(&mut self, peer: PeerId, id: ConnectionId, remaining: u32) {
        let now = Instant::now();
        for link in &mut self.links {
            if link.connection != Some(id) {
                continue;
            }
            link.connection = None;
            link.registered = false;
            link.turn = None;
            if remaining == 0 {
                tracing::warn!("lost broker {peer} at {}; reconnecting", link.addr);
                if link.state == BrokerState::Connected {
                    link.state = BrokerState::Connecting;
                }
                link.next_attempt = now;
            }
        }
        self.publish_ice();
    }

    pub fn dial_failed(&mut self, id: ConnectionId, error: &impl std::fmt::Display) {
        for link in &mut self.links {
            if link.dialing == Some(id) {
                link.dialing = None;
                if link.warned {
                    tracing::debug!("broker {} unreachable: {error}", link.addr);
                } else {
                    tracing::warn!(
                        "broker {} unreachable ({error}); retrying every {}s meanwhile, \
                         the LAN works without it",
                        link.addr,
                        MAX_BACKOFF.as_secs()
                    );
                    link.warned = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

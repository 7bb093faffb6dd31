//! The broker's Swarm owner: one task serves `/duet/broker/1` requests,
//! checks admission proofs, keeps the [`Registry`], drops a node's
//! registrations when its last connection closes, relays circuits between
//! admitted nodes, and logs who came and went.
//!
//! With a network key, a peer is admitted by its first valid request; one
//! that sends a bad proof, or none within [`ADMIT_GRACE`] of connecting, is
//! disconnected, and a relay reservation or circuit involving a peer not
//! (yet) admitted is cut by disconnecting that peer.

use super::boxed::Boxed;
use super::registry::{Changes, Registry};
use super::turn::Turn;
use super::web::bridge::Bridge;
use super::web::hub::ToBridge;
use super::{BrokerConfig, BrokerError};
use crate::net::behaviour::{PING_INTERVAL, PING_TIMEOUT};
use crate::net::{broker_proto, web_call_proto};
use crate::network_key::{NetworkKey, Role};
use crate::proto::broker::{BrokerRequest, BrokerResponse, Delta, PeerRecord, MAX_NAMESPACE};
use crate::proto::IDENTIFY_PROTOCOL;
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identify, ping, relay, Multiaddr, PeerId, Swarm};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

const EXPIRE_TICK: Duration = Duration::from_secs(1);
/// With a key: how long a connected peer may go without proving it holds it.
const ADMIT_GRACE: Duration = Duration::from_secs(5);
/// Circuits carry call signalling and presence, for as long as a call lasts:
/// the library's defaults (2 min, 128 KiB) would cut them.
const MAX_CIRCUIT_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Nodes stay connected to the broker while idle: it is their way in.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    // Each Boxed: its per-connection handler out of the connection's task
    // (1,000 connections; see super::boxed).
    identify: Boxed<identify::Behaviour>,
    ping: Boxed<ping::Behaviour>,
    broker: Boxed<broker_proto::Behaviour>,
    relay: Boxed<relay::Behaviour>,
    /// Browsers' calls to nodes (`/duet/web-call/1`, see web::bridge).
    web_call: Boxed<web_call_proto::Behaviour>,
}

impl Behaviour {
    fn new(key: &Keypair) -> Self {
        Self {
            identify: Boxed(identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                    .with_agent_version(format!("duet-broker/{}", env!("CARGO_PKG_VERSION"))),
            )),
            ping: Boxed(ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(PING_INTERVAL)
                    .with_timeout(PING_TIMEOUT),
            )),
            broker: Boxed(broker_proto::behaviour(true)),
            relay: Boxed(relay::Behaviour::new(
                key.public().to_peer_id(),
                relay::Config {
                    max_reservations: 4096,
                    max_circuits: 4096,
                    max_circuits_per_peer: 64,
                    max_circuit_duration: MAX_CIRCUIT_DURATION,
                    // 0: no byte limit.
                    max_circuit_bytes: 0,
                    ..relay::Config::default()
                },
            )),
            web_call: Boxed(web_call_proto::behaviour()),
        }
    }
}

pub struct Server {
    swarm: Swarm<Behaviour>,
    registry: Registry,
    key: Option<NetworkKey>,
    /// Print loopback addresses only if a loopback address was asked for.
    print_loopback: bool,
    /// With a key: peers that proved it, and when the others connected.
    admitted: HashSet<PeerId>,
    unproven: HashMap<PeerId, Instant>,
    bridge: Option<Bridge>,
    /// The STUN/TURN server, whose credentials go with registrations.
    turn: Option<Turn>,
}

/// A registry answer as wire fields.
fn split(c: Changes) -> (Vec<PeerRecord>, Delta) {
    let delta = Delta {
        removed: c.removed,
        cursor: Some(c.cursor),
        full: c.full,
        more: c.more,
    };
    (c.peers, delta)
}

fn is_loopback(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| match p {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        _ => false,
    })
}

impl Server {
    pub async fn new(
        keypair: Keypair,
        config: BrokerConfig,
        bridge: Option<Bridge>,
        turn: Option<Turn>,
    ) -> Result<Self, BrokerError> {
        let mut swarm = crate::net::transport::build_swarm(
            keypair,
            IDLE_CONNECTION_TIMEOUT,
            |key, _relay_client| Ok(Behaviour::new(key)),
        )
        .await
        .map_err(BrokerError::Build)?;
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| BrokerError::Listen {
                    addr: addr.clone(),
                    reason: e.to_string(),
                })?;
        }
        Ok(Self {
            swarm,
            registry: Registry::new(config.ttl),
            key: config.network_key,
            print_loopback: config.listen.iter().any(is_loopback),
            admitted: HashSet::new(),
            unproven: HashMap::new(),
            bridge,
            turn,
        })
    }

    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tracing::info!("duet broker {} starting", self.swarm.local_peer_id());
        let mut expire = tokio::time::interval(EXPIRE_TICK);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some(msg) = from_hub(&mut self.bridge) => {
                    if let Some(bridge) = &mut self.bridge {
                        bridge.on_hub(&mut self.swarm.behaviour_mut().web_call.0, msg);
                    }
                }
                _ = expire.tick() => {
                    for (peer, ns) in self.registry.expire(Instant::now()) {
                        tracing::info!("{peer} expired from {ns}");
                    }
                    self.drop_unproven();
                }
            }
        }
        tracing::info!(
            "shutting down ({} registrations dropped)",
            self.registry.len()
        );
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for p in peers {
            let _ = self.swarm.disconnect_peer_id(p);
        }
        if let Some(turn) = self.turn.take() {
            turn.close().await;
        }
        tracing::info!("bye");
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. }
                if self.print_loopback || !is_loopback(&address) =>
            {
                let local = *self.swarm.local_peer_id();
                // The relay server is off until the broker has a confirmed
                // external address (and hands these out in reservations).
                self.swarm.add_external_address(address.clone());
                let full = address.with(Protocol::P2p(local));
                // The one line per address a node can use, on stdout.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{full}");
                let _ = out.flush();
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } if num_established.get() == 1 => {
                tracing::debug!("{peer_id} connected from {}", endpoint.get_remote_address());
                if self.key.is_some() {
                    self.unproven.insert(peer_id, Instant::now());
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                for ns in self.registry.remove_peer(&peer_id) {
                    tracing::info!("{peer_id} left {ns} (disconnected)");
                }
                self.admitted.remove(&peer_id);
                self.unproven.remove(&peer_id);
                if let Some(bridge) = &mut self.bridge {
                    bridge.node_gone(&peer_id);
                }
                if let Some(turn) = &self.turn {
                    turn.set_live(&peer_id, false);
                }
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => tracing::info!("rejected incoming connection from {send_back_addr}: {error}"),
            SwarmEvent::Behaviour(BehaviourEvent::Broker(event)) => self.on_broker_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Relay(event)) => self.on_relay_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::WebCall(event)) => {
                let peer = match &event {
                    request_response::Event::Message { peer, .. } => *peer,
                    _ => *self.swarm.local_peer_id(),
                };
                let admitted = self.key.is_none() || self.admitted.contains(&peer);
                if let Some(bridge) = &mut self.bridge {
                    bridge.on_event(&mut self.swarm.behaviour_mut().web_call.0, event, admitted);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(e),
            })) => {
                tracing::debug!("ping to {peer} failed ({e}); closing that connection");
                self.swarm.close_connection(connection);
            }
            _ => {}
        }
    }

    fn on_broker_event(&mut self, event: broker_proto::Event) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let response = self.answer(peer, request);
                self.respond(channel, response);
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!("bad or failed request from {peer}: {error}");
            }
            _ => {}
        }
    }

    fn on_relay_event(&mut self, event: relay::Event) {
        let peers = match event {
            relay::Event::ReservationReqAccepted { src_peer_id, .. } => {
                tracing::debug!("{src_peer_id} reserved a relay slot");
                vec![src_peer_id]
            }
            relay::Event::CircuitReqAccepted {
                src_peer_id,
                dst_peer_id,
            } => {
                tracing::info!("relaying a circuit from {src_peer_id} to {dst_peer_id}");
                vec![src_peer_id, dst_peer_id]
            }
            relay::Event::CircuitClosed {
                src_peer_id,
                dst_peer_id,
                ..
            } => {
                tracing::info!("circuit from {src_peer_id} to {dst_peer_id} closed");
                Vec::new()
            }
            _ => Vec::new(),
        };
        if self.key.is_none() {
            return;
        }
        for peer in peers {
            if !self.admitted.contains(&peer) {
                tracing::warn!(
                    "{peer} used the relay before proving the network key; disconnecting"
                );
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
    }

    /// With a key: disconnects peers that did not prove it in time.
    fn drop_unproven(&mut self) {
        let now = Instant::now();
        let late: Vec<PeerId> = self
            .unproven
            .iter()
            .filter(|(_, since)| now.duration_since(**since) > ADMIT_GRACE)
            .map(|(p, _)| *p)
            .collect();
        for peer in late {
            self.unproven.remove(&peer);
            tracing::info!("{peer} did not prove the network key in time; disconnecting");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    fn respond(&mut self, channel: ResponseChannel<BrokerResponse>, response: BrokerResponse) {
        if self
            .swarm
            .behaviour_mut()
            .broker
            .0
            .send_response(channel, response)
            .is_err()
        {
            tracing::debug!("a node left before its answer");
        }
    }

    /// Admission: with a key, every request must carry the node's proof.
    fn admitted(&self, peer: &PeerId, proof: Option<&[u8]>) -> bool {
        let Some(key) = &self.key else {
            return true;
        };
        let local = self.swarm.local_peer_id();
        proof.is_some_and(|p| key.verify(Role::Node, local, peer, p))
    }

    fn answer(&mut self, peer: PeerId, request: BrokerRequest) -> BrokerResponse {
        if !self.admitted(&peer, request.proof()) {
            tracing::warn!("{peer} refused: no valid network key proof");
            // Keep the connection until the answer is out; the admission
            // grace then closes it.
            return BrokerResponse::Refused {
                reason: "not admitted: this broker needs the network key".into(),
            };
        }
        if self.key.is_some() && self.unproven.remove(&peer).is_some() {
            self.admitted.insert(peer);
        }
        let ns = request.namespace().to_string();
        if ns.is_empty() || ns.len() > MAX_NAMESPACE {
            return BrokerResponse::Refused {
                reason: format!("namespace must be 1 to {MAX_NAMESPACE} bytes"),
            };
        }
        let now = Instant::now();
        let since = request.since();
        match request {
            BrokerRequest::Register {
                addrs, ttl_secs, ..
            } => {
                let (ttl, new) = self.registry.register(peer, &ns, addrs, ttl_secs, now);
                if new {
                    tracing::info!("{peer} registered in {ns} for {}s", ttl.as_secs());
                }
                let local = *self.swarm.local_peer_id();
                let (peers, delta) = split(self.registry.discover(&ns, &peer, since, now));
                BrokerResponse::Registered {
                    ttl_secs: ttl.as_secs(),
                    peers,
                    proof: self
                        .key
                        .as_ref()
                        .map(|k| k.proof(Role::Broker, &local, &peer)),
                    turn: self.turn.as_ref().map(|t| t.offer(&peer)),
                    delta,
                }
            }
            BrokerRequest::Discover { .. } => {
                let (peers, delta) = split(self.registry.discover(&ns, &peer, since, now));
                BrokerResponse::Peers { peers, delta }
            }
            BrokerRequest::Unregister { .. } => {
                if self.registry.unregister(&peer, &ns) {
                    tracing::info!("{peer} left {ns}");
                }
                BrokerResponse::Done
            }
        }
    }
}

/// The hub's next request for the bridge (never, without a web endpoint).
async fn from_hub(bridge: &mut Option<Bridge>) -> Option<ToBridge> {
    match bridge {
        Some(b) => b.rx.recv().await,
        None => std::future::pending().await,
    }
}

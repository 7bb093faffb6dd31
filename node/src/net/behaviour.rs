//! The composed libp2p behaviour. Identify tells peers apart as Duet nodes
//! and exchanges addresses, ping detects dead links, gossipsub carries
//! presence, request-response carries call signalling (`/duet/call/1`).
//! Connection limits bound what peers on the LAN can make this node hold:
//! connections being set up (Noise/yamux handshakes) and established ones,
//! in total and per peer; a connection over a limit is refused at once.

use crate::proto::{IDENTIFY_PROTOCOL, MAX_PRESENCE_BYTES};
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{gossipsub, identify, ping};
use std::time::Duration;

/// Ping period; a failed ping closes the connection, so a peer that lost the
/// network is dropped within about PING_INTERVAL + PING_TIMEOUT.
pub const PING_INTERVAL: Duration = Duration::from_secs(4);
pub const PING_TIMEOUT: Duration = Duration::from_secs(4);

/// Inbound connections still in their handshake.
pub const MAX_PENDING_INCOMING: u32 = 16;
/// Established inbound connections (a LAN has far fewer Duet nodes).
pub const MAX_ESTABLISHED_INCOMING: u32 = 64;
/// Established connections in all (inbound and our own dials).
pub const MAX_ESTABLISHED: u32 = 128;
/// Established connections per peer (two when both sides dialed at once).
pub const MAX_ESTABLISHED_PER_PEER: u32 = 4;

#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub limits: connection_limits::Behaviour,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    /// Call signalling, request-response on `/duet/call/1`.
    pub call: super::signalling::Behaviour,
    /// Registration and discovery at brokers, `/duet/broker/1`.
    pub broker: super::broker_proto::Behaviour,
    /// Circuits through a broker's relay where nodes cannot reach each other.
    pub relay: libp2p::relay::client::Behaviour,
    /// Web users bridged by brokers, `/duet/web-call/1`.
    pub web_call: super::web_call_proto::Behaviour,
}

impl Behaviour {
    pub fn new(key: &Keypair, relay: libp2p::relay::client::Behaviour) -> Result<Self, String> {
        let identify = identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.to_string(), key.public())
                .with_agent_version(format!("duet/{}", env!("CARGO_PKG_VERSION"))),
        );
        let ping = ping::Behaviour::new(
            ping::Config::new()
                .with_interval(PING_INTERVAL)
                .with_timeout(PING_TIMEOUT),
        );
        let config = gossipsub::ConfigBuilder::default()
            .heartbeat_interval(Duration::from_secs(1))
            // On a LAN every node is connected to every other and publishing
            // floods to all of them; a small mesh keeps forwarding (needed
            // beyond a broker) without each message arriving six times over.
            .mesh_n(3)
            .mesh_n_low(2)
            .mesh_n_high(4)
            .mesh_outbound_min(1)
            .gossip_lazy(3)
            .validation_mode(gossipsub::ValidationMode::Strict)
            // Room for the signed envelope and batching around a capped payload.
            .max_transmit_size(MAX_PRESENCE_BYTES * 16)
            .build()
            .map_err(|e| format!("gossipsub config: {e}"))?;
        let gossipsub =
            gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)
                .map_err(|e| format!("gossipsub: {e}"))?;
        let limits = ConnectionLimits::default()
            .with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
            .with_max_established_incoming(Some(MAX_ESTABLISHED_INCOMING))
            .with_max_established(Some(MAX_ESTABLISHED))
            .with_max_established_per_peer(Some(MAX_ESTABLISHED_PER_PEER));
        Ok(Self {
            limits: connection_limits::Behaviour::new(limits),
            identify,
            ping,
            gossipsub,
            call: super::signalling::behaviour(),
            broker: super::broker_proto::behaviour(false),
            relay,
            web_call: super::web_call_proto::behaviour(),
        })
    }
}

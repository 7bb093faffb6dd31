//! `duet broker`: the rendezvous point of a network that spans subnets.
//! It introduces nodes to each other (registration and discovery in the
//! network's namespace over `/duet/broker/1`), admits only nodes that hold
//! the network key (when it has one), and is otherwise an ordinary libp2p
//! peer: same identity format, identify and ping. It never decides calls.
//!
//! - [`registry`]: who is registered where until when (pure, unit-tested).
//! - [`server`]: the Swarm owner: listeners, requests, admission, logs.
//! - [`turn`]: the STUN/TURN server for media, and its credentials.
//! - [`boxed`]: per-connection handlers kept out of the connection's task
//!   (memory: docs/broker.md, `## Memory`).
//!
//! The wire types ([`crate::proto::broker`]), the request-response behaviour
//! ([`crate::net::broker_proto`]), the identity ([`crate::identity`]) and the
//! admission proof ([`crate::network_key`]) are shared with the node.

mod boxed;
pub mod cli;
pub mod registry;
mod server;
pub mod turn;
pub mod web;
pub mod web_cli;

use crate::identity::{self, IdentityError};
use crate::network_key::NetworkKey;
use libp2p::Multiaddr;
use std::future::Future;
use std::path::PathBuf;

pub use registry::TtlRange;

/// The default listen addresses: WebSocket (through most firewalls and
/// proxies), plain TCP and QUIC.
pub const DEFAULT_LISTEN: [&str; 3] = [
    "/ip4/0.0.0.0/tcp/7170/ws",
    "/ip4/0.0.0.0/tcp/7171",
    "/ip4/0.0.0.0/udp/7171/quic-v1",
];

#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub data_dir: PathBuf,
    pub listen: Vec<Multiaddr>,
    pub network_key: Option<NetworkKey>,
    pub ttl: TtlRange,
    /// The browsers' HTTPS endpoint (`--web`), if on.
    pub web: Option<web::WebConfig>,
    /// Where the STUN/TURN server listens (UDP); None: no TURN.
    pub turn_listen: Option<std::net::SocketAddr>,
    /// The address relayed media is sent to, if `turn_listen` names none.
    pub turn_relay_ip: Option<std::net::IpAddr>,
}

/// The default STUN/TURN address (UDP).
pub const DEFAULT_TURN_LISTEN: &str = "0.0.0.0:3478";

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("building the libp2p swarm: {0}")]
    Build(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
    #[error(transparent)]
    Web(#[from] web::WebError),
    #[error(transparent)]
    Turn(#[from] turn::TurnError),
}

/// Runs the broker until `shutdown` resolves.
pub async fn run(
    config: BrokerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), BrokerError> {
    let keypair = identity::load_or_create(&config.data_dir)?;
    if config.network_key.is_none() {
        tracing::warn!(
            "no --network-key: this broker is OPEN, any node that reaches it may register \
             and discover the others"
        );
    } else {
        tracing::info!("network key loaded: only nodes holding it are admitted");
    }
    let turn = match config.turn_listen {
        Some(addr) => Some(turn::Turn::start(addr, config.turn_relay_ip).await?),
        None => {
            tracing::info!("no STUN/TURN (--turn-listen none): calls need UDP between nodes");
            None
        }
    };
    let mut bridge = None;
    if let Some(web) = config.web.clone() {
        let (to_bridge, from_hub) = tokio::sync::mpsc::channel(256);
        let handle = web::start(
            web,
            Some(to_bridge),
            turn.as_ref().map(turn::Turn::for_browsers),
        )
        .await?;
        bridge = Some(web::bridge::Bridge::new(handle.hub, from_hub));
    }
    let server = server::Server::new(keypair, config, bridge, turn).await?;
    server.run(shutdown).await;
    Ok(())
}

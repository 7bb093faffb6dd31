//! The one libp2p swarm-builder chain, shared by the node and the broker:
//! TCP, QUIC, DNS and WebSocket (brokers listen on it; it passes most
//! firewalls and proxies), each secured with Noise and multiplexed with
//! Yamux, and the circuit-relay client transport (a node listens and dials
//! through a broker's relay; the broker itself drops that behaviour and
//! never dials through a relay).

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{noise, relay, tcp, yamux, Swarm};
use std::time::Duration;

/// Builds a Swarm whose behaviour `make` composes from the identity and
/// the relay client. `idle`: how long an idle connection stays open.
pub async fn build_swarm<B: NetworkBehaviour>(
    keypair: Keypair,
    idle: Duration,
    make: impl FnOnce(&Keypair, relay::client::Behaviour) -> Result<B, String>,
) -> Result<Swarm<B>, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    Ok(libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| err(&e))?
        .with_quic()
        .with_dns()
        .map_err(|e| err(&e))?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .map_err(|e| err(&e))?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| err(&e))?
        .with_behaviour(|key, relay| make(key, relay).map_err(Into::into))
        .map_err(|e| err(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build())
}

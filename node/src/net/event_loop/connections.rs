//! The event loop's side of connections: brokers apart, each one opened
//! or closed goes to the node, the dialer (what it proves of a DNS-SD
//! record) and the direct-connection rules (circuits replaced and closed).

use super::*;
use libp2p::core::ConnectedPoint;
use libp2p::swarm::{ConnectionError, ConnectionId};

impl EventLoop {
    pub(super) async fn on_established(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        endpoint: ConnectedPoint,
    ) {
        if let Some(event) = self.dialer.connected(id) {
            self.emit(event).await;
        }
        let addr = endpoint.get_remote_address().clone();
        if self.brokers.connected(peer, id) {
            return tracing::debug!("connected to broker {peer} at {addr}");
        }
        let relayed = endpoint.is_relayed();
        tracing::debug!(
            "connected to {peer} at {addr}{}",
            if relayed { " (relayed)" } else { "" }
        );
        let (local, now) = (*self.swarm.local_peer_id(), tokio::time::Instant::now());
        self.direct.established(peer, id, relayed, local, now);
        if endpoint.is_dialer() && !relayed {
            // Noise proved that `peer` answers at the address we dialed.
            self.peer_addresses(peer, std::slice::from_ref(&addr)).await;
        }
        self.emit(NetEvent::Connected { peer, addr }).await;
        self.close_redundant_circuits();
    }

    pub(super) async fn on_closed(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        addr: Multiaddr,
        remaining: u32,
        cause: Option<ConnectionError>,
    ) {
        if self.brokers.is_broker(&peer) {
            if remaining == 0 {
                for event in self.web.broker_gone(&peer) {
                    self.emit(event).await;
                }
            }
            return self.brokers.disconnected(peer, id, remaining);
        }
        tracing::debug!("connection to {peer} at {addr} closed: {cause:?}");
        self.direct.closed(peer, id);
        if remaining == 0 {
            let local = *self.swarm.local_peer_id();
            self.dialer
                .disconnected(peer, local, tokio::time::Instant::now());
            self.outbox.forget(&peer);
        }
        self.emit(NetEvent::Disconnected {
            peer,
            addr,
            remaining,
        })
        .await;
    }

    /// The connected `peer` holds `addrs` (identify, or where we reached it).
    pub(super) async fn peer_addresses(&mut self, peer: PeerId, addrs: &[Multiaddr]) {
        self.direct.addresses(peer, addrs);
        for event in self.dialer.peer_addresses(peer, addrs, &self.swarm) {
            self.emit(event).await;
        }
        let now = tokio::time::Instant::now();
        self.direct.dial_due(&mut self.swarm, now);
    }

    /// Whether `signal` is a link-local ICE candidate and `peer` is not on
    /// our link ([`crate::net::link_scope`]).
    pub(super) fn off_link(&self, peer: &PeerId, signal: &crate::proto::call::CallSignal) -> bool {
        crate::net::link_scope::is_link_local_candidate(signal)
            && !self.web.is_web(peer)
            && !self.dialer.on_link(peer)
    }

    /// Closes the circuits to peers that have a direct connection, once no
    /// signalling is in flight to them.
    pub(super) fn close_redundant_circuits(&mut self) {
        let outbox = &self.outbox;
        for id in self.direct.redundant(|p| outbox.in_flight(p)) {
            if self.swarm.close_connection(id) {
                tracing::debug!("closing a relay circuit: a direct connection exists");
            }
        }
    }
}

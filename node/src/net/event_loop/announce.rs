//! The event loop's announcing side: what DNS-SD discovery reports goes to
//! the dialer, this node's own record follows its listen addresses, and its
//! presence goes out over gossipsub.

use super::*;

impl EventLoop {
    pub(super) async fn on_discovery(&mut self, event: DiscoveryEvent) {
        let event = match event {
            DiscoveryEvent::Resolved(record) => {
                self.dialer
                    .resolved(record, &self.swarm, tokio::time::Instant::now())
            }
            DiscoveryEvent::Removed { fullname } => self.dialer.removed(&fullname),
        };
        if let Some(event) = event {
            self.emit(event).await;
        }
        self.dialer
            .dial_due(&mut self.swarm, tokio::time::Instant::now());
    }

    /// (Re)announces the node once every listener reported its addresses,
    /// and again whenever the advertised addresses change.
    pub(super) fn announce(&mut self) {
        if !self.pending_listeners.is_empty() {
            return;
        }
        let Some(discovery) = self.discovery.as_mut() else {
            return;
        };
        // Not the relayed addresses: they name the broker's IP.
        let listen: Vec<Multiaddr> = self
            .swarm
            .listeners()
            .filter(|a| !a.iter().any(|p| p == Protocol::P2pCircuit))
            .cloned()
            .collect();
        let ips = discovery::advertised_ips(&listen, &self.config.interfaces);
        let port = |quic: bool| {
            listen.iter().find_map(|a| {
                let mut it = a.iter();
                let _ip = it.next();
                match (it.next(), it.next()) {
                    (Some(Protocol::Tcp(p)), None) if !quic => Some(p),
                    (Some(Protocol::Udp(p)), Some(Protocol::QuicV1)) if quic => Some(p),
                    _ => None,
                }
            })
        };
        let wanted = (ips, port(false), port(true));
        if self.announced.as_ref() == Some(&wanted) {
            return;
        }
        if wanted.0.is_empty() {
            tracing::warn!("no non-loopback address to announce over mDNS (yet)");
            return;
        }
        match discovery.register(&self.config.name, &wanted.0, wanted.1, wanted.2) {
            Ok(()) => self.announced = Some(wanted),
            Err(e) => tracing::warn!("cannot announce over mDNS: {e}"),
        }
    }

    pub(super) fn publish_presence(&mut self) {
        let data = match self.presence.next_message() {
            Ok(d) => d,
            Err(e) => return tracing::error!("cannot encode presence: {e}"),
        };
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), data)
        {
            Ok(_) | Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {}
            Err(e) => tracing::debug!("presence not published: {e}"),
        }
    }
}

//! The one task that owns the Swarm. It serves [`Command`]s, reports
//! [`NetEvent`]s, announces and browses DNS-SD, publishes presence, and
//! dials discovered peers.
//!
//! Which records to dial, and when, is the [`dialer`](super::dialer)'s
//! business; replacing relay circuits with direct connections the
//! [`direct`](super::direct) rules'.

use super::behaviour::{Behaviour, BehaviourEvent};
use super::broker_client::BrokerClient;
use super::dialer::Dialer;
use super::direct::DirectLinks;
use super::discovery::{self, Discovery, DiscoveryEvent};
use super::presence::{self, LocalPresence};
use super::rate_limit::Throttle;
use super::signalling::Outbox;
use super::web_peers::WebPeers;
use super::{Command, NetConfig, NetError, NetEvent};
use crate::proto::Status;
use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::gossipsub::{self, IdentTopic};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, ping, Multiaddr, PeerId, Swarm};
use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc;

mod announce;
mod connections;
mod web;

/// Sleep target when no dial is pending.
const NO_DIAL: Duration = Duration::from_secs(3600);
/// Connections stay open while idle: presence and calls need them.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3600);
const SHUTDOWN_FLUSH: Duration = Duration::from_millis(1500);

pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetEvent>,
    presence: LocalPresence,
    topic: IdentTopic,
    config: NetConfig,
    discovery: Option<Discovery>,
    discovery_rx: mpsc::Receiver<DiscoveryEvent>,
    _discovery_tx: mpsc::Sender<DiscoveryEvent>,
    pending_listeners: HashSet<ListenerId>,
    announced: Option<(Vec<IpAddr>, Option<u16>, Option<u16>)>,
    dialer: Dialer,
    direct: DirectLinks,
    outbox: Outbox,
    refused_incoming: Throttle,
    brokers: BrokerClient,
    web: WebPeers,
}

impl EventLoop {
    pub async fn new(
        config: NetConfig,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetEvent>,
    ) -> Result<Self, NetError> {
        let build = |e: &dyn std::fmt::Display| NetError::Build(e.to_string());
        let mut swarm = super::transport::build_swarm(
            config.keypair.clone(),
            IDLE_CONNECTION_TIMEOUT,
            Behaviour::new,
        )
        .await
        .map_err(NetError::Build)?;
        let mut pending_listeners = HashSet::new();
        for addr in &config.listen {
            let id = swarm
                .listen_on(addr.clone())
                .map_err(|e| NetError::Listen {
                    addr: addr.clone(),
                    reason: e.to_string(),
                })?;
            pending_listeners.insert(id);
        }
        let topic = presence::topic();
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| build(&e))?;
        let (discovery_tx, discovery_rx) = mpsc::channel(64);
        let discovery = if config.mdns {
            let local = *swarm.local_peer_id();
            Some(Discovery::start(
                local,
                &config.interfaces,
                discovery_tx.clone(),
            )?)
        } else {
            None
        };
        Ok(Self {
            swarm,
            commands,
            events,
            presence: LocalPresence::new(config.name.clone()),
            topic,
            discovery,
            discovery_rx,
            _discovery_tx: discovery_tx,
            pending_listeners,
            announced: None,
            dialer: Dialer::default(),
            direct: DirectLinks::default(),
            outbox: Outbox::default(),
            refused_incoming: Throttle::default(),
            brokers: BrokerClient::new(&config.brokers, config.network_key.clone()),
            web: WebPeers::default(),
            config,
        })
    }

    /// The brokers' ICE servers, kept current while the loop runs.
    pub fn ice_servers(&self) -> tokio::sync::watch::Receiver<Vec<String>> {
        self.brokers.ice_servers()
    }

    pub async fn run(mut self) {
        let mut heartbeat = tokio::time::interval(presence::HEARTBEAT);
        loop {
            let next_dial = self.dialer.next_due(&self.swarm);
            let dial_at = next_dial.unwrap_or_else(|| tokio::time::Instant::now() + NO_DIAL);
            let broker_at = self
                .brokers
                .next_due(&self.swarm)
                .unwrap_or_else(|| tokio::time::Instant::now() + NO_DIAL);
            let direct_at = self
                .direct
                .next_due()
                .unwrap_or_else(|| tokio::time::Instant::now() + NO_DIAL);
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event).await,
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown { reply }) => {
                        self.shutdown().await;
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.on_command(command),
                    None => {
                        self.shutdown().await;
                        return;
                    }
                },
                Some(event) = self.discovery_rx.recv() => self.on_discovery(event).await,
                _ = heartbeat.tick() => {
                    self.publish_presence();
                    self.web_heartbeat().await;
                    self.dialer.forget_stale(tokio::time::Instant::now());
                    self.close_redundant_circuits();
                }
                _ = tokio::time::sleep_until(dial_at) => self.dialer.dial_due(&mut self.swarm, tokio::time::Instant::now()),
                _ = tokio::time::sleep_until(broker_at) => self.brokers.tick(&mut self.swarm),
                _ = tokio::time::sleep_until(direct_at) => self.direct.dial_due(&mut self.swarm, tokio::time::Instant::now()),
            }
        }
    }

    async fn emit(&mut self, event: NetEvent) {
        if self.events.send(event).await.is_err() {
            tracing::debug!("nobody listens to network events");
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::SetStatus { status, reply } => {
                if self.presence.set_status(status) {
                    self.publish_presence();
                }
                let _ = reply.send(());
            }
            Command::Brokers { reply } => {
                let _ = reply.send(self.brokers.views());
            }
            Command::Disconnect { peer, reply } => {
                let _ = reply.send(self.swarm.disconnect_peer_id(peer).is_ok());
            }
            Command::SendSignal { peer, signal } => {
                if self.off_link(&peer, &signal) {
                    return tracing::debug!("not sending a link-local candidate to {peer}");
                }
                let b = self.swarm.behaviour_mut();
                if !self.web.is_web(&peer) {
                    self.outbox.send(&mut b.call, peer, signal);
                } else {
                    self.web.send(&mut b.web_call, peer, signal);
                }
            }
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                tracing::info!("listening on {address}");
                self.brokers.addresses_changed();
                self.pending_listeners.remove(&listener_id);
                self.announce();
            }
            SwarmEvent::ExpiredListenAddr { .. } => self.announce(),
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                ..
            } => {
                if let Err(e) = reason {
                    tracing::warn!("listener closed: {e}");
                }
                self.brokers.listener_closed(listener_id);
                self.pending_listeners.remove(&listener_id);
                self.announce();
            }
            SwarmEvent::ListenerError { error, .. } => tracing::warn!("listener error: {error}"),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => self.on_established(peer_id, connection_id, endpoint).await,
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                cause,
                ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                self.on_closed(peer_id, connection_id, addr, num_established, cause)
                    .await
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                tracing::debug!("dial to {peer_id:?} failed: {error}");
                self.dialer.dial_failed(connection_id, &error);
                self.brokers.dial_failed(connection_id, &error);
                self.direct.dial_failed(connection_id);
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                if let Some(n) = self.refused_incoming.hit(std::time::Instant::now()) {
                    tracing::info!(
                        "rejected {n} incoming connection(s), the last from {send_back_addr}: {error}"
                    );
                }
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event).await,
            _ => {}
        }
    }

    async fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Broker(event) => {
                let local = *self.swarm.local_peer_id();
                for event in self.brokers.on_event(local, event) {
                    self.emit(event).await;
                }
            }
            BehaviourEvent::WebCall(event) => self.on_web_call(event).await,
            BehaviourEvent::Call(event) => {
                let behaviour = &mut self.swarm.behaviour_mut().call;
                match self.outbox.on_event(behaviour, event) {
                    Some(NetEvent::Signal { from, signal }) if self.off_link(&from, &signal) => {
                        tracing::debug!("ignoring a link-local candidate from {from}");
                    }
                    Some(event) => self.emit(event).await,
                    None => {}
                }
                self.close_redundant_circuits();
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Message { message, .. }) => {
                if message.topic != self.topic.hash() {
                    return;
                }
                let Some(source) = message.source else {
                    return tracing::warn!("dropping unsigned presence message");
                };
                match presence::decode(&message.data) {
                    Ok(presence) => {
                        self.emit(NetEvent::Presence {
                            peer: source,
                            presence,
                        })
                        .await
                    }
                    Err(e) => tracing::warn!("bad presence message from {source}: {e}"),
                }
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { topic, .. })
                if topic == self.topic.hash() =>
            {
                self.publish_presence();
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(e),
            }) => {
                tracing::info!("ping to {peer} failed ({e}); closing that connection");
                self.swarm.close_connection(connection);
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if info.protocol_version == crate::proto::IDENTIFY_PROTOCOL {
                    let listen_addrs = info.listen_addrs;
                    self.peer_addresses(peer_id, &listen_addrs).await;
                    self.emit(NetEvent::Identified {
                        peer: peer_id,
                        listen_addrs,
                    })
                    .await;
                } else {
                    tracing::warn!(
                        "{peer_id} speaks {:?}, not Duet; disconnecting",
                        info.protocol_version
                    );
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                }
            }
            _ => {}
        }
    }

    /// Says goodbye: presence offline and DNS-SD goodbye, while the Swarm
    /// keeps running so the message goes out; then closes connections.
    async fn shutdown(&mut self) {
        self.presence.set_status(Status::Offline);
        self.publish_presence();
        let discovery = self.discovery.take();
        let goodbye = async move {
            if let Some(d) = discovery {
                d.goodbye().await;
            }
        };
        tokio::pin!(goodbye);
        let flush = tokio::time::sleep(SHUTDOWN_FLUSH);
        tokio::pin!(flush);
        let mut goodbye_done = false;
        // Presence needs a moment on the wire; the goodbye runs meanwhile.
        let min_flush = tokio::time::sleep(Duration::from_millis(100));
        tokio::pin!(min_flush);
        let mut min_done = false;
        while !(goodbye_done && min_done) {
            tokio::select! {
                _ = &mut goodbye, if !goodbye_done => goodbye_done = true,
                _ = &mut min_flush, if !min_done => min_done = true,
                _ = self.swarm.select_next_some() => {}
                _ = &mut flush => break,
            }
        }
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for p in peers {
            let _ = self.swarm.disconnect_peer_id(p);
        }
        let close = tokio::time::sleep(Duration::from_millis(500));
        tokio::pin!(close);
        while self.swarm.connected_peers().next().is_some() {
            tokio::select! {
                _ = self.swarm.select_next_some() => {}
                _ = &mut close => break,
            }
        }
        tracing::info!("network stopped");
    }
}

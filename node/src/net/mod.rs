//! The libp2p side of the node. ONE task (the [`event_loop`]) owns the
//! Swarm; everything else talks to it through a cloneable [`Client`]
//! (bounded mpsc, each command carrying a oneshot reply) and reads the
//! [`NetEvent`]s it emits on a bounded channel. No lock is shared.
//!
//! - [`behaviour`]: the composed NetworkBehaviour (identify, ping, gossipsub,
//!   connection limits, call signalling, `/duet/broker/1` and the relay client).
//! - [`broker_client`]: `--broker`: connect, register, discover, dial the
//!   handed-out nodes, listen through the broker's relay.
//! - [`broker_proto`]: the `/duet/broker/1` behaviour, shared with `duet broker`.
//! - [`discovery`]: DNS-SD (mdns-sd) registration and browsing.
//! - [`presence`]: gossipsub presence messages (name, status, heartbeat).
//! - [`dialer`]: which discovered records to dial, and what proves a record.
//! - [`direct`]: a peer reached only over a relay circuit is dialed directly;
//!   circuits close once a direct connection exists.
//! - [`link_scope`]: link-local ICE candidates only between peers on one link.
//! - [`rate_limit`]: per-peer limits on inbound call signalling.
//! - [`web_peers`], [`web_call_proto`]: web users bridged by brokers
//!   (`/duet/web-call/1`), shown to the node as peers.
//! - [`transport`]: the swarm-builder chain (TCP, QUIC, WebSocket, Noise,
//!   Yamux, relay client), shared with `duet broker`.
//! - [`event_loop`]: the Swarm owner: connection tracking, commands, events.

pub mod backoff;
pub mod behaviour;
pub mod broker_client;
pub mod broker_proto;
pub mod dialer;
pub mod direct;
pub mod discovery;
pub mod event_loop;
#[cfg(test)]
mod fake_links;
pub mod link_scope;
pub mod presence;
pub mod rate_limit;
mod signal_codec;
pub mod signalling;
pub mod transport;
pub mod web_call_proto;
pub mod web_peers;

use crate::proto::call::{CallId, CallSignal};
use crate::proto::{DisplayName, Presence, Status};
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

/// Capacity of the command and event channels.
const CHANNEL_CAPACITY: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("building the libp2p swarm: {0}")]
    Build(String),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
    #[error("mDNS: {0}")]
    Mdns(String),
    #[error("the network task has stopped")]
    Stopped,
}

/// What the network needs to start.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub keypair: Keypair,
    pub name: DisplayName,
    pub listen: Vec<Multiaddr>,
    /// Interfaces mDNS may use; empty means all.
    pub interfaces: Vec<String>,
    /// Register and browse DNS-SD records.
    pub mdns: bool,
    /// Brokers to register at and discover through (`--broker`).
    pub brokers: Vec<Multiaddr>,
    /// The network key that admits this node at brokers.
    pub network_key: Option<crate::network_key::NetworkKey>,
}

/// Requests to the Swarm owner. Each carries its reply channel.
#[derive(Debug)]
pub enum Command {
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    SetStatus {
        status: Status,
        reply: oneshot::Sender<()>,
    },
    /// The brokers and their states.
    Brokers {
        reply: oneshot::Sender<Vec<broker_client::BrokerView>>,
    },
    /// Closes every connection to `peer` (e.g. it stopped answering).
    Disconnect {
        peer: PeerId,
        reply: oneshot::Sender<bool>,
    },
    /// Sends a call signalling message; a failure comes back as
    /// [`NetEvent::SignalFailed`] naming the call.
    SendSignal { peer: PeerId, signal: CallSignal },
    /// Says goodbye (presence offline, DNS-SD goodbye), closes connections
    /// and stops the loop; replies when done.
    Shutdown { reply: oneshot::Sender<()> },
}

/// What the Swarm owner reports.
#[derive(Debug, Clone)]
pub enum NetEvent {
    /// A connection to `peer` was established; Noise authenticated `peer`.
    Connected { peer: PeerId, addr: Multiaddr },
    /// A connection closed; `remaining` connections to `peer` stay open.
    Disconnected {
        peer: PeerId,
        addr: Multiaddr,
        remaining: u32,
    },
    /// A DNS-SD record whose PeerId was confirmed by dialing it.
    Discovered {
        peer: PeerId,
        name: DisplayName,
        addrs: Vec<Multiaddr>,
    },
    /// A broker handed out `peer` (it is dialled directly).
    ViaBroker { peer: PeerId },
    /// The DNS-SD record of `peer` went away (goodbye or expiry).
    Removed { peer: PeerId },
    /// The listen addresses `peer` reported over identify.
    Identified {
        peer: PeerId,
        listen_addrs: Vec<Multiaddr>,
    },
    /// A signed presence message published by `peer`.
    Presence { peer: PeerId, presence: Presence },
    /// A call signalling message from `from` (authenticated by Noise).
    Signal { from: PeerId, signal: CallSignal },
    /// A signalling message for `call_id` could not be delivered to `peer`.
    SignalFailed { peer: PeerId, call_id: CallId },
    /// `peer` refused a signalling message for `call_id`: this node sent
    /// it more than its per-peer rate limit allows (e.g. invites back to
    /// back).
    SignalRefused { peer: PeerId, call_id: CallId },
    /// `peer` is a web user a broker bridges (see [`web_peers`]); its
    /// `Connected` and `Presence` follow.
    WebUser { peer: PeerId },
}

/// Cloneable handle to the Swarm owner.
#[derive(Debug, Clone)]
pub struct Client {
    tx: mpsc::Sender<Command>,
    /// The brokers' STUN/TURN servers (ICE server URLs with credentials).
    ice: tokio::sync::watch::Receiver<Vec<String>>,
}

impl Client {
    /// A client whose commands land in the returned receiver (unit tests).
    #[cfg(test)]
    pub(crate) fn detached() -> (Client, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let ice = tokio::sync::watch::channel(Vec::new()).1;
        (Client { tx, ice }, rx)
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| NetError::Stopped)?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.call(|reply| Command::ListenAddrs { reply }).await
    }

    pub async fn set_status(&self, status: Status) -> Result<(), NetError> {
        self.call(|reply| Command::SetStatus { status, reply })
            .await
    }

    pub async fn brokers(&self) -> Result<Vec<broker_client::BrokerView>, NetError> {
        self.call(|reply| Command::Brokers { reply }).await
    }

    pub async fn disconnect(&self, peer: PeerId) -> Result<bool, NetError> {
        self.call(|reply| Command::Disconnect { peer, reply }).await
    }

    /// Queues a call signalling message (delivery failures come back as
    /// [`NetEvent::SignalFailed`]).
    pub async fn send_signal(&self, peer: PeerId, signal: CallSignal) {
        if self
            .tx
            .send(Command::SendSignal { peer, signal })
            .await
            .is_err()
        {
            tracing::warn!("network task stopped; signalling message to {peer} dropped");
        }
    }

    /// The ICE servers the brokers offer right now, for a new call.
    pub fn ice_servers(&self) -> Vec<String> {
        self.ice.borrow().clone()
    }

    pub async fn shutdown(&self) -> Result<(), NetError> {
        self.call(|reply| Command::Shutdown { reply }).await
    }
}

/// Builds the Swarm, starts listening and spawns its owner task.
pub async fn spawn(
    config: NetConfig,
) -> Result<
    (
        Client,
        mpsc::Receiver<NetEvent>,
        tokio::task::JoinHandle<()>,
    ),
    NetError,
> {
    let (cmd_tx, cmd_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (ev_tx, ev_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let event_loop = event_loop::EventLoop::new(config, cmd_rx, ev_tx).await?;
    let ice = event_loop.ice_servers();
    let task = tokio::spawn(event_loop.run());
    Ok((Client { tx: cmd_tx, ice }, ev_rx, task))
}

//! The node: wires identity, network, calls and the control socket
//! together, and owns the peer table and the node's status. It is the only
//! owner of that state; the Swarm task, the call actor and the control
//! connections reach it through channels.
//!
//! - `requests`: answers control requests (peers, status, call, …).
//! - `calls`: turns call notices into status changes and events, and
//!   forwards signalling to the call actor.
//! - `status`: publishes our own status changes, in order.

mod calls;
mod requests;
mod status;
mod trust;

use crate::call::{self, CallConfig, CallHandle};
use crate::console;
use crate::contacts::{accept::AcceptEntry, ContactsError, ContactsFile};
use crate::control::protocol::Event;
use crate::control::server::{self, ControlError};
use crate::identity::{self, IdentityError};
use crate::net::{self, NetConfig, NetError, NetEvent};
use crate::peers::{PeerChange, PeerTable};
use crate::proto::{DisplayName, Status};
use duet_gst::MediaError;
use libp2p::{Multiaddr, PeerId};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

const EXPIRE_TICK: Duration = Duration::from_millis(500);
const NET_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(4);
/// The call actor may be waiting on a media start (bounded by its own
/// timeout); the goodbye does not wait for it longer than this.
const CALLS_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the start-up check may take to open the devices named on the
/// command line.
const DEVICE_CHECK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub name: DisplayName,
    pub data_dir: PathBuf,
    pub control: PathBuf,
    pub interfaces: Vec<String>,
    pub listen: Vec<Multiaddr>,
    pub mdns: bool,
    /// Brokers (`--broker`) and the network key that admits this node.
    pub brokers: Vec<Multiaddr>,
    pub network_key: Option<crate::network_key::NetworkKey>,
    pub call: CallConfig,
    /// Who is auto-answered (or let through with `--reject-others`).
    pub accept_from: Vec<AcceptEntry>,
    /// Run the interactive console on stdin/stdout (a terminal).
    pub console: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Contacts(#[from] ContactsError),
    #[error("{0}; `duet devices` lists the cameras, microphones and speakers found")]
    Device(MediaError),
    #[error("--display window needs a display and $DISPLAY is not set: run it in an X11 session, or use --display none")]
    NoDisplay,
}

struct State {
    name: DisplayName,
    peer_id: PeerId,
    /// The status the user chose (available or dnd); `in-call` overrides it
    /// while a call exists.
    status: Status,
    in_call: bool,
    /// The current call's peer: its inputs take the actor's main queue.
    call_peer: Option<PeerId>,
    table: PeerTable,
    net: net::Client,
    /// Status changes to publish, in order (`status`).
    publish_status: tokio::sync::watch::Sender<Status>,
    calls: CallHandle,
    events: broadcast::Sender<Event>,
    contacts: ContactsFile,
    accept: Vec<AcceptEntry>,
}

/// Runs the node until `shutdown` resolves, then says goodbye.
pub async fn run(config: NodeConfig, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    // Fail now, naming the missing package, rather than at the first call.
    duet_gst::init()?;
    duet_gst::check_elements(&config.call.media)?;
    config.call.media.validate()?;
    if config.call.media.display.is_windowed()
        && std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty())
    {
        return Err(NodeError::NoDisplay);
    }
    let media = config.call.media.clone();
    let check = tokio::task::spawn_blocking(move || duet_gst::check_devices(&media));
    // A device that hangs in its open must not keep the node from starting
    // (its calls then fail with the media start timeout instead).
    match tokio::time::timeout(DEVICE_CHECK_TIMEOUT, check).await {
        Ok(checked) => checked
            .map_err(|e| MediaError::Init(format!("device check task: {e}")))?
            .map_err(NodeError::Device)?,
        Err(_) => tracing::warn!(
            "the devices named on the command line did not open within {} s \
             (a camera or microphone that hangs?); starting anyway",
            DEVICE_CHECK_TIMEOUT.as_secs()
        ),
    }
    let media = config.call.media.clone();
    // Runs alone; a blocking task cannot be aborted, so it is not kept.
    drop(tokio::task::spawn_blocking(move || {
        duet_gst::warm_up(&media);
        if media.display.is_windowed() {
            duet_gst::window::keep_spare_sink();
        }
        crate::allocator::release_free_memory();
    }));
    let keypair = identity::load_or_create(&config.data_dir)?;
    identity::remember_name(&config.data_dir, config.name.as_str());
    let peer_id = keypair.public().to_peer_id();
    let contacts = ContactsFile::open(&config.data_dir)?;
    let control = server::bind(&config.control)?;
    let control_path = control.path().to_path_buf();
    let (net, mut net_events, net_task) = net::spawn(NetConfig {
        keypair,
        name: config.name.clone(),
        listen: config.listen.clone(),
        interfaces: config.interfaces.clone(),
        mdns: config.mdns,
        brokers: config.brokers.clone(),
        network_key: config.network_key.clone(),
    })
    .await?;
    let calls = call::spawn(
        peer_id,
        config.name.to_string(),
        config.call.clone(),
        net.clone(),
    );
    let mut notices = calls.subscribe();
    let (requests_tx, mut requests) = mpsc::channel(32);
    let (events, _) = broadcast::channel(256);
    let server_task = tokio::spawn(control.serve(requests_tx.clone(), events.clone()));
    let (quit_tx, mut quit) = mpsc::channel(1);
    let console = config
        .console
        .then(|| tokio::spawn(console::run(requests_tx, events.subscribe(), quit_tx)));
    tracing::info!(
        "duet node {} ({peer_id}) is up; control socket {}{}",
        config.name,
        control_path.display(),
        if config.mdns { "" } else { "; mDNS off" }
    );
    crate::sd_notify::notify("READY=1");
    let mut state = State {
        name: config.name,
        peer_id,
        status: Status::Available,
        in_call: false,
        call_peer: None,
        table: PeerTable::new(),
        net: net.clone(),
        publish_status: status::spawn(net.clone()),
        calls: calls.clone(),
        events,
        contacts,
        accept: config.accept_from,
    };
    let mut expire = tokio::time::interval(EXPIRE_TICK);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(()) = quit.recv() => break,
            event = net_events.recv() => match event {
                Some(event) => state.on_net_event(event),
                None => {
                    tracing::error!("the network task stopped");
                    break;
                }
            },
            Some(request) = requests.recv() => state.on_request(request),
            notice = notices.recv() => match notice {
                Ok(notice) => state.on_notice(notice),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("missed {n} call notices");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = expire.tick() => state.expire(),
        }
    }
    tracing::info!("shutting down: saying goodbye");
    crate::sd_notify::notify("STOPPING=1");
    if tokio::time::timeout(CALLS_SHUTDOWN_TIMEOUT, calls.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("the call did not end within {CALLS_SHUTDOWN_TIMEOUT:?}; leaving anyway");
    }
    if let Some(console) = console {
        console.abort();
    }
    match tokio::time::timeout(NET_SHUTDOWN_TIMEOUT, net.shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("network shutdown: {e}"),
        Err(_) => tracing::warn!("network shutdown took longer than {NET_SHUTDOWN_TIMEOUT:?}"),
    }
    server_task.abort();
    let _ = server_task.await;
    net_task.abort();
    tracing::info!("bye");
    Ok(())
}

impl State {
    fn on_net_event(&mut self, event: NetEvent) {
        let now = Instant::now();
        let changes = match event {
            NetEvent::Connected { peer, addr } => self.table.connected(peer, addr, now),
            NetEvent::Disconnected {
                peer,
                addr,
                remaining,
            } => {
                if remaining == 0 {
                    self.to_calls(call::CallInput::PeerLost { peer });
                }
                self.table.disconnected(peer, &addr, remaining)
            }
            NetEvent::Discovered { peer, name, addrs } => {
                self.table.discovered(peer, name, addrs, now)
            }
            NetEvent::Removed { peer } => self.table.removed(peer),
            NetEvent::ViaBroker { peer } => self.table.via_broker(peer),
            NetEvent::WebUser { peer } => self.table.web_user(peer),
            NetEvent::Identified { peer, listen_addrs } => {
                self.table.identified(peer, listen_addrs)
            }
            NetEvent::Presence { peer, presence } => self.table.presence(peer, presence, now),
            NetEvent::Signal { from, signal } => return self.on_signal(from, signal),
            NetEvent::SignalFailed { peer, call_id } => {
                return self.to_calls(call::CallInput::SignalFailed { peer, call_id })
            }
            NetEvent::SignalRefused { peer, call_id } => {
                return self.to_calls(call::CallInput::SignalRefused { peer, call_id })
            }
        };
        self.publish(changes);
    }

    fn expire(&mut self) {
        let timeout = net::presence::silence_timeout();
        let (changes, silent) = self.table.expire(Instant::now(), timeout);
        self.publish(changes);
        for peer in silent {
            tracing::info!("{peer} missed its presence heartbeats; disconnecting");
            let net = self.net.clone();
            tokio::spawn(async move { net.disconnect(peer).await });
        }
    }

    fn publish(&mut self, changes: Vec<PeerChange>) {
        for change in changes {
            if let PeerChange::Up(p) | PeerChange::Changed(p) = &change {
                if let Ok(id) = p.peer_id.parse() {
                    self.seen(&p.name, id);
                }
            }
            let event = match change.map(|v| self.flag(v)) {
                PeerChange::Up(peer) => {
                    tracing::info!("peer up: {} ({}) {}", peer.name, peer.short_id, peer.status);
                    Event::PeerUp { peer }
                }
                PeerChange::Down(peer) => {
                    tracing::info!("peer down: {} ({})", peer.name, peer.short_id);
                    Event::PeerDown { peer }
                }
                PeerChange::Changed(peer) => {
                    tracing::info!(
                        "peer changed: {} ({}) {}",
                        peer.name,
                        peer.short_id,
                        peer.status
                    );
                    Event::PeerChanged { peer }
                }
            };
            // No subscriber is fine.
            let _ = self.events.send(event);
        }
    }
}

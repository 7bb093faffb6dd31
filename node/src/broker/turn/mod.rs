//! The broker's STUN/TURN server (the webrtc-rs `turn` crate) on one UDP
//! port: STUN lets a node learn the address the broker sees it at; TURN
//! relays the media of calls whose two nodes cannot reach each other over
//! UDP. Only nodes the broker admitted get credentials ([`credentials`]),
//! handed out with their registration over libp2p.
//!
//! Relayed addresses are ephemeral UDP ports of the broker's host,
//! advertised at the relay IP: the `--turn-listen` address if it names one,
//! else `--turn-relay-ip`, else the host's first non-loopback IPv4 address.

pub mod credentials;

use crate::proto::broker::TurnOffer;
use credentials::TurnSecret;
use libp2p::PeerId;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;
use turn::relay::RelayAddressGenerator;

/// The realm in every TURN challenge.
const REALM: &str = "duet";

#[derive(Debug, thiserror::Error)]
pub enum TurnError {
    #[error("cannot listen for TURN on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no address to relay at: give --turn-relay-ip (the host has no non-loopback IPv4)")]
    NoRelayIp,
    #[error("starting the TURN server: {0}")]
    Start(String),
}

/// Peers admitted and connected right now, shared with the auth handler.
type Live = Arc<Mutex<HashSet<PeerId>>>;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

struct Auth {
    secret: Arc<TurnSecret>,
    live: Live,
}

impl turn::auth::AuthHandler for Auth {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        src: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        let live = |p: &PeerId| self.live.lock().map(|l| l.contains(p)).unwrap_or(false);
        match self.secret.check(username, unix_now(), live) {
            Ok(password) => Ok(turn::auth::generate_auth_key(username, realm, &password)),
            Err(e) => {
                tracing::info!("TURN request from {src} refused: {e}");
                Err(turn::Error::Other(e.to_string()))
            }
        }
    }
}

/// Binds each relayed allocation to an ephemeral UDP port on all
/// interfaces, advertised at the relay IP.
struct Relays {
    ip: IpAddr,
}

#[async_trait::async_trait]
impl RelayAddressGenerator for Relays {
    fn validate(&self) -> Result<(), turn::Error> {
        Ok(())
    }

    async fn allocate_conn(
        &self,
        use_ipv4: bool,
        requested_port: u16,
    ) -> Result<(Arc<dyn webrtc_util::Conn + Send + Sync>, SocketAddr), turn::Error> {
        let any: IpAddr = if use_ipv4 {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            std::net::Ipv6Addr::UNSPECIFIED.into()
        };
        let socket = UdpSocket::bind((any, requested_port)).await?;
        let mut at = socket.local_addr()?;
        at.set_ip(self.ip);
        Ok((Arc::new(socket), at))
    }
}

fn first_ipv4() -> Option<IpAddr> {
    if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .filter(|i| !i.is_loopback())
        .map(|i| i.ip())
        .find(IpAddr::is_ipv4)
}

/// The running server and what the broker needs to issue credentials.
pub struct Turn {
    server: turn::server::Server,
    secret: Arc<TurnSecret>,
    live: Live,
    ip: IpAddr,
    port: u16,
}

/// Issues TURN credentials to the web page's users. A browser has no
/// PeerId, so each join gets a random one as its credential key, live
/// while its socket is open (like a node while connected).
#[derive(Clone)]
pub struct BrowserTurn {
    secret: Arc<TurnSecret>,
    live: Live,
    ip: IpAddr,
    port: u16,
}

/// What a browser gets: the `stun:`/`turn:` URLs and its credentials.
#[derive(Debug, Clone)]
pub struct BrowserCredentials {
    /// The key to `release` when the browser leaves.
    pub key: PeerId,
    pub urls: Vec<String>,
    pub username: String,
    pub password: String,
}

impl BrowserTurn {
    pub fn issue(&self) -> BrowserCredentials {
        let key = PeerId::random();
        if let Ok(mut l) = self.live.lock() {
            l.insert(key);
        }
        let c = self.secret.issue(&key, unix_now());
        let at = SocketAddr::new(self.ip, self.port);
        BrowserCredentials {
            key,
            urls: vec![format!("stun:{at}"), format!("turn:{at}?transport=udp")],
            username: c.username,
            password: c.password,
        }
    }

    /// The browser left: its credentials last only until they expire.
    pub fn release(&self, key: &PeerId) {
        if let Ok(mut l) = self.live.lock() {
            l.remove(key);
        }
    }
}

impl Turn {
    pub async fn start(listen: SocketAddr, relay_ip: Option<IpAddr>) -> Result<Self, TurnError> {
        let ip = if listen.ip().is_unspecified() {
            relay_ip.or_else(first_ipv4).ok_or(TurnError::NoRelayIp)?
        } else {
            listen.ip()
        };
        let socket = UdpSocket::bind(listen)
            .await
            .map_err(|source| TurnError::Bind {
                addr: listen,
                source,
            })?;
        let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
        let secret = Arc::new(TurnSecret::random());
        let live = Live::default();
        let server = turn::server::Server::new(turn::server::config::ServerConfig {
            conn_configs: vec![turn::server::config::ConnConfig {
                conn: Arc::new(socket),
                relay_addr_generator: Box::new(Relays { ip }),
            }],
            realm: REALM.to_string(),
            auth_handler: Arc::new(Auth {
                secret: secret.clone(),
                live: live.clone(),
            }),
            channel_bind_timeout: std::time::Duration::ZERO,
            alloc_close_notify: None,
        })
        .await
        .map_err(|e| TurnError::Start(e.to_string()))?;
        tracing::info!("STUN/TURN on udp {listen} (port {port}), relaying at {ip}");
        Ok(Self {
            server,
            secret,
            live,
            ip,
            port,
        })
    }

    /// The UDP port nodes reach the server at.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The issuer of the web page's credentials.
    pub fn for_browsers(&self) -> BrowserTurn {
        BrowserTurn {
            secret: self.secret.clone(),
            live: self.live.clone(),
            ip: self.ip,
            port: self.port,
        }
    }

    /// Fresh credentials for an admitted `peer`, which is live from now on.
    pub fn offer(&self, peer: &PeerId) -> TurnOffer {
        self.set_live(peer, true);
        let c = self.secret.issue(peer, unix_now());
        TurnOffer {
            port: self.port,
            username: c.username,
            password: c.password,
            expires: c.expires,
        }
    }

    /// `peer` left (or came back): its credentials then last only until
    /// they expire.
    pub fn set_live(&self, peer: &PeerId, live: bool) {
        if let Ok(mut l) = self.live.lock() {
            if live {
                l.insert(*peer);
            } else {
                l.remove(peer);
            }
        }
    }

    pub async fn close(self) {
        if let Err(e) = self.server.close().await {
            tracing::debug!("closing the TURN server: {e}");
        }
    }
}

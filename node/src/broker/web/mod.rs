//! The broker's web endpoint (docs/web-protocol.md): HTTPS serving one page
//! and a JSON-over-WebSocket signalling socket, so browsers on the network
//! can call Duet nodes and each other. The broker relays signalling only;
//! media goes between the two ends.
//!
//! - [`tls`]: the certificate (self-signed into the data dir, or given).
//! - [`invite`]: stateless invite tokens under the network key.
//! - [`http`]: the four paths and the WebSocket upgrade.
//! - [`wire`]: the JSON frames, validated as strictly as `/duet/call/1`.
//! - [`conn`]: one connection: TLS, request, socket reader and writer.
//! - [`hub`]: routing between browsers, and to nodes through the bridge.
//! - [`bridge`]: `/duet/web-call/1` on the broker's Swarm: nodes' names, calls.

pub mod bridge;
mod conn;
pub mod http;
pub mod hub;
pub mod invite;
pub mod tls;
pub mod wire;

use crate::broker::turn::BrowserTurn;
use crate::network_key::NetworkKey;
use futures_rustls::TlsAcceptor;
use hub::{Hub, HubIn, ToBridge};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
pub use tls::CertSource;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};

/// The default address of the web endpoint.
pub const DEFAULT_WEB: &str = "0.0.0.0:7443";
/// Most connections served at once (each a TLS session and a task).
const MAX_CONNECTIONS: usize = 512;
/// How long the invite the broker prints at start is valid.
pub const DEFAULT_INVITE_VALID: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone)]
pub struct WebConfig {
    pub listen: SocketAddr,
    pub cert: CertSource,
    pub network_key: Option<NetworkKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("web TLS: {0}")]
    Tls(String),
    #[error("cannot listen for web on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The running endpoint: the hub's input (for the bridge) and its address.
pub struct WebHandle {
    pub hub: mpsc::Sender<HubIn>,
    pub local_addr: SocketAddr,
}

/// Binds, prints the URL(s) and fingerprint on stdout, and serves in the
/// background. `bridge` receives browsers' messages for nodes.
pub async fn start(
    config: WebConfig,
    bridge: Option<mpsc::Sender<ToBridge>>,
    turn: Option<BrowserTurn>,
) -> Result<WebHandle, WebError> {
    let identity = tls::load(&config.cert)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| WebError::Listen {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| WebError::Listen {
        addr: config.listen,
        source,
    })?;
    let (hub_tx, hub_rx) = mpsc::channel(1024);
    tokio::spawn(Hub::new(turn, bridge).run(hub_rx));
    print_urls(
        local_addr,
        config.network_key.as_ref(),
        &identity.fingerprint,
    );
    if config.network_key.is_none() {
        tracing::warn!("the web endpoint is OPEN: anyone who reaches {local_addr} may join");
    }
    let ctx = conn::ConnContext {
        tls: TlsAcceptor::from(identity.config),
        hub: hub_tx.clone(),
        network_key: config.network_key,
    };
    tokio::spawn(accept_loop(listener, ctx));
    Ok(WebHandle {
        hub: hub_tx,
        local_addr,
    })
}

async fn accept_loop(listener: TcpListener, ctx: conn::ConnContext) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("web: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!("web: {peer} refused: {MAX_CONNECTIONS} connections open");
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            conn::serve(ctx, tcp, peer).await;
            drop(slot);
        });
    }
}

/// The addresses to print for a listen address: itself, or every
/// non-loopback interface address when it is unspecified.
pub fn hosts(listen: SocketAddr) -> Vec<IpAddr> {
    if !listen.ip().is_unspecified() {
        return vec![listen.ip()];
    }
    let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .iter()
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback() && ip.is_ipv4() == listen.is_ipv4())
        .collect();
    if ips.is_empty() {
        ips.push(if listen.is_ipv4() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])
        });
    }
    ips
}

/// The page's URL on `host`, with an invite when there is a key.
pub fn page_url(host: IpAddr, port: u16, key: Option<&NetworkKey>, valid: Duration) -> String {
    let host = match host {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    match key {
        Some(k) => format!("https://{host}:{port}/?invite={}", invite::mint(k, valid)),
        None => format!("https://{host}:{port}/"),
    }
}

fn print_urls(local: SocketAddr, key: Option<&NetworkKey>, fingerprint: &str) {
    let mut out = std::io::stdout().lock();
    for host in hosts(local) {
        let _ = writeln!(
            out,
            "web: {}",
            page_url(host, local.port(), key, DEFAULT_INVITE_VALID)
        );
    }
    let _ = writeln!(out, "web: certificate sha256 {fingerprint}");
    let _ = out.flush();
}

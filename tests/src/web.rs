//! A scripted browser signalling client: the broker's WebSocket
//! (docs/web-protocol.md) over TLS, pinned to the certificate fingerprint
//! the broker printed, with a blocking API for tests. A reader task queues
//! every frame, so waiting never cuts a frame in half.

use anyhow::{bail, Context};
use futures_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use futures_rustls::rustls::crypto::{self, CryptoProvider};
use futures_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use futures_rustls::rustls::{self, ClientConfig, DigitallySignedStruct, SignatureScheme};
use futures_rustls::TlsConnector;
use serde_json::Value;
use sha2::{Digest, Sha256};
use soketto::handshake::{Client, ServerResponse};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

type Stream = futures_rustls::client::TlsStream<Compat<tokio::net::TcpStream>>;

/// Trusts exactly the certificate with this SHA-256 (`AB:CD:…`).
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        cert: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got: Vec<String> = Sha256::digest(cert.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        if got.join(":") == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "certificate fingerprint mismatch".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Opens TLS to `addr` trusting only `fingerprint`.
async fn tls(addr: &str, fingerprint: &str) -> anyhow::Result<Stream> {
    let provider = Arc::new(crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            fingerprint: fingerprint.to_string(),
            provider,
        }))
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost")?.to_owned();
    Ok(TlsConnector::from(Arc::new(config))
        .connect(name, tcp.compat())
        .await?)
}

/// One plain HTTPS GET: the status code and the body.
pub fn get(addr: &str, fingerprint: &str, path: &str) -> anyhow::Result<(u16, String)> {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut s = tls(addr, fingerprint).await?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await?;
        s.flush().await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf).to_string();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .context("no status")?;
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
        Ok((status, body.unwrap_or_default()))
    })
}

/// What the reader task saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Json(Value),
    Closed,
}

pub struct WebClient {
    rt: tokio::runtime::Runtime,
    sender: soketto::connection::Sender<Stream>,
    frames: mpsc::Receiver<Frame>,
    closed: bool,
}

impl std::fmt::Debug for WebClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebClient")
    }
}

impl WebClient {
    /// Opens `wss://addr/ws?query`.
    pub fn connect(addr: &str, fingerprint: &str, query: &str) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let resource = if query.is_empty() {
            "/ws".to_string()
        } else {
            format!("/ws?{query}")
        };
        let (sender, mut receiver) = rt.block_on(async {
            let stream = tls(addr, fingerprint).await?;
            let mut client = Client::new(stream, "localhost", &resource);
            match client.handshake().await? {
                ServerResponse::Accepted { .. } => {}
                other => bail!("WebSocket refused: {other:?}"),
            }
            let mut builder = client.into_builder();
            builder.set_max_message_size(4 * 1024 * 1024);
            Ok::<_, anyhow::Error>(builder.finish())
        })?;
        let (tx, frames) = mpsc::channel();
        rt.spawn(async move {
            loop {
                let mut buf = Vec::new();
                match receiver.receive_data(&mut buf).await {
                    Ok(_) => match serde_json::from_slice(&buf) {
                        Ok(v) => {
                            let _ = tx.send(Frame::Json(v));
                        }
                        Err(_) => {
                            let text = String::from_utf8_lossy(&buf).to_string();
                            let _ = tx.send(Frame::Json(Value::String(text)));
                        }
                    },
                    Err(_) => {
                        let _ = tx.send(Frame::Closed);
                        break;
                    }
                }
            }
        });
        Ok(WebClient {
            rt,
            sender,
            frames,
            closed: false,
        })
    }

    /// Sends one text frame (anything, valid or not).
    pub fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.rt.block_on(async {
            self.sender.send_text(text).await?;
            self.sender.flush().await?;
            Ok(())
        })
    }

    pub fn send_binary(&mut self, data: &[u8]) -> anyhow::Result<()> {
        self.rt.block_on(async {
            self.sender.send_binary(data).await?;
            self.sender.flush().await?;
            Ok(())
        })
    }

    pub fn send(&mut self, v: &Value) -> anyhow::Result<()> {
        self.send_text(&v.to_string())
    }

    /// The next frame, or `None` when none came within `within`.
    pub fn next(&mut self, within: Duration) -> Option<Frame> {
        let f = self.frames.recv_timeout(within).ok();
        if f == Some(Frame::Closed) {
            self.closed = true;
        }
        f
    }

    /// Waits for a frame of `type`, skipping others; fails on close.
    pub fn expect(&mut self, kind: &str, within: Duration) -> anyhow::Result<Value> {
        self.expect_where(kind, within, |_| true)
    }

    /// Waits for a frame of `type` that `pred` accepts.
    pub fn expect_where(
        &mut self,
        kind: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.next(left) {
                Some(Frame::Json(v)) if v["type"] == kind && pred(&v) => return Ok(v),
                Some(Frame::Json(v)) => seen.push(v),
                Some(Frame::Closed) => {
                    let last = &seen[seen.len().saturating_sub(3)..];
                    bail!("closed while waiting for {kind}; last frames {last:?}")
                }
                None => break,
            }
        }
        let last = &seen[seen.len().saturating_sub(3)..];
        bail!(
            "no {kind} within {within:?}; saw {} frames, last {last:?}",
            seen.len()
        )
    }

    /// Waits until the broker closes the socket; the frames before it.
    pub fn expect_closed(&mut self, within: Duration) -> anyhow::Result<Vec<Value>> {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.next(left) {
                Some(Frame::Json(v)) => seen.push(v),
                Some(Frame::Closed) => return Ok(seen),
                None => break,
            }
        }
        let last = &seen[seen.len().saturating_sub(3)..];
        bail!(
            "still open after {within:?}; saw {} frames, last {last:?}",
            seen.len()
        )
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Joins as `name`; the `joined` answer.
    pub fn join(&mut self, name: &str) -> anyhow::Result<Value> {
        self.send(&serde_json::json!({"v": 1, "type": "join", "name": name}))?;
        self.expect("joined", Duration::from_secs(10))
    }
}

//! One browser connection: TLS, one HTTP request, and — for `/ws` — the
//! signalling socket. The reader decodes, validates and rate-limits each
//! frame before the hub sees it (the same limits as a node's
//! `/duet/call/1`); the writer drains the connection's bounded queue. Bad
//! frames get an `error` and the socket stays open; a bad invite, or a
//! client that keeps going over its rate limit, gets an `error` and is
//! closed.

use super::http::{self, Request};
use super::hub::{HubIn, Link, Out, OUT_QUEUE};
use super::invite;
use super::wire::{self, ClientMsg, FrameError, MAX_FRAME_BYTES};
use crate::net::rate_limit::{SignalLimiter, Verdict};
use crate::network_key::NetworkKey;
use crate::proto::call::CallSignal;
use futures::{AsyncRead, AsyncWrite};
use futures_rustls::TlsAcceptor;
use soketto::connection::{Builder, Mode, Receiver, Sender};
use soketto::Data;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::compat::TokioAsyncReadCompatExt;
use tokio_util::sync::CancellationToken;

/// TLS handshake plus request head, and `join` after the upgrade.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames past this are a protocol error that ends the socket (frames up to
/// it but over [`MAX_FRAME_BYTES`] are only refused).
const MAX_WS_MESSAGE: usize = 1024 * 1024;
/// Frames refused over the rate limit, with no [`REFUSAL_PAUSE`] between
/// them, that close the socket.
const MAX_REFUSED: u32 = 200;
const REFUSAL_PAUSE: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct ConnContext {
    pub tls: TlsAcceptor,
    pub hub: mpsc::Sender<HubIn>,
    pub network_key: Option<NetworkKey>,
}

pub async fn serve(ctx: ConnContext, tcp: TcpStream, peer: SocketAddr) {
    let _ = tcp.set_nodelay(true);
    let setup = async {
        let mut tls = ctx
            .tls
            .accept(tcp.compat())
            .await
            .map_err(|e| e.to_string())?;
        let head = http::read_head(&mut tls).await.map_err(|e| e.to_string())?;
        Ok::<_, String>((tls, http::parse(&head)))
    };
    let (mut tls, request) = match tokio::time::timeout(HANDSHAKE_TIMEOUT, setup).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return tracing::debug!("web: {peer}: {e}"),
        Err(_) => return tracing::debug!("web: {peer}: too slow to send a request"),
    };
    match request {
        Ok(Request::Plain { status, path }) => {
            let _ = http::respond(&mut tls, &http::plain_response(status, &path)).await;
        }
        Ok(Request::WebSocket { key, query }) => {
            if http::write_all(&mut tls, &http::upgrade_response(&key))
                .await
                .is_ok()
            {
                let mut builder = Builder::new(tls, Mode::Server);
                builder.set_max_message_size(MAX_WS_MESSAGE);
                builder.set_max_frame_size(MAX_WS_MESSAGE);
                let (sender, receiver) = builder.finish();
                websocket(ctx, sender, receiver, &query, peer).await;
            }
        }
        Err(e) => {
            tracing::debug!("web: {peer}: {e}");
            let _ = http::respond(&mut tls, &http::plain_response(400, "")).await;
        }
    }
}

async fn websocket<T>(
    ctx: ConnContext,
    sender: Sender<T>,
    mut receiver: Receiver<T>,
    query: &str,
    peer: SocketAddr,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (out, out_rx) = mpsc::channel(OUT_QUEUE);
    let cancel = CancellationToken::new();
    let writer = tokio::spawn(write_loop(sender, out_rx, cancel.clone()));
    if let Some(key) = &ctx.network_key {
        if let Err(e) = invite::check(key, invite::query_param(query, "invite")) {
            tracing::info!("web: {peer} refused: {e}");
            let _ = out
                .send(Out::Last(wire::error(&FrameError::new(
                    "not-admitted",
                    e.to_string(),
                ))))
                .await;
            let _ = writer.await;
            return;
        }
    }
    let link = Link {
        out: out.clone(),
        cancel: cancel.clone(),
    };
    let mut reader = Reader {
        hub: ctx.hub,
        out,
        id: None,
        limiter: SignalLimiter::default(),
        refused: 0,
        last_refused: Instant::now(),
    };
    let deadline = tokio::time::Instant::now() + HANDSHAKE_TIMEOUT;
    loop {
        let mut buf = Vec::new();
        let received = tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep_until(deadline), if reader.id.is_none() => {
                reader.last(FrameError::new("not-joined", "no join within 10 s")).await;
                break;
            }
            r = receiver.receive_data(&mut buf) => r,
        };
        let text = match received {
            Ok(Data::Text(_)) => String::from_utf8(buf).ok(),
            Ok(Data::Binary(_)) => None,
            Err(soketto::connection::Error::MessageTooLarge { current, .. }) => {
                let e = FrameError::bad(format!("frame of {current} bytes; closing"));
                reader.last(e).await;
                break;
            }
            Err(e) => {
                tracing::debug!("web: {peer}: socket ended: {e}");
                break;
            }
        };
        if !reader.frame(text, &link).await {
            break;
        }
    }
    cancel.cancel();
    if let Some(id) = reader.id.take() {
        let _ = reader.hub.send(HubIn::Left { id }).await;
    }
    // A client that stopped reading can hold the writer in a send.
    let abort = writer.abort_handle();
    if tokio::time::timeout(HANDSHAKE_TIMEOUT, writer)
        .await
        .is_err()
    {
        abort.abort();
    }
}

struct Reader {
    hub: mpsc::Sender<HubIn>,
    out: mpsc::Sender<Out>,
    id: Option<String>,
    limiter: SignalLimiter<()>,
    refused: u32,
    last_refused: Instant,
}

impl Reader {
    async fn last(&self, e: FrameError) {
        let _ = self.out.send(Out::Last(wire::error(&e))).await;
    }

    fn error(&self, e: FrameError) {
        // A client that does not read its errors loses them.
        let _ = self.out.try_send(Out::Text(wire::error(&e)));
    }

    /// Handles one frame; false ends the connection.
    async fn frame(&mut self, text: Option<String>, link: &Link) -> bool {
        let decoded = match text {
            None => Err(FrameError::bad(
                "only UTF-8 text frames are part of the protocol",
            )),
            Some(t) if t.len() > MAX_FRAME_BYTES => Err(FrameError::bad(format!(
                "frame of {} bytes exceeds the {MAX_FRAME_BYTES}-byte cap",
                t.len()
            ))),
            Some(t) => wire::decode(&t),
        };
        let invite = matches!(
            decoded,
            Ok(ClientMsg::Call {
                signal: CallSignal::Invite { .. },
                ..
            })
        );
        let now = Instant::now();
        if let Verdict::Refuse { warn } = self.limiter.check((), invite, now) {
            if let Some(n) = warn {
                tracing::warn!("web: {:?} sends too many messages; refused {n}", self.id);
            }
            if now.duration_since(self.last_refused) > REFUSAL_PAUSE {
                self.refused = 0;
            }
            self.refused += 1;
            self.last_refused = now;
            if self.refused >= MAX_REFUSED {
                self.last(FrameError::new(
                    "rate-limited",
                    "too many messages; closing",
                ))
                .await;
                return false;
            }
            self.error(FrameError::new(
                "rate-limited",
                "too many messages; slow down",
            ));
            return true;
        }
        let msg = match decoded {
            Ok(m) => m,
            Err(e) => {
                self.error(e);
                return true;
            }
        };
        match (&self.id, msg) {
            (None, ClientMsg::Join { name }) => {
                let (reply, answer) = oneshot::channel();
                let join = HubIn::Join {
                    name,
                    link: link.clone(),
                    reply,
                };
                if self.hub.send(join).await.is_err() {
                    return false;
                }
                match answer.await {
                    Ok(Ok(id)) => self.id = Some(id),
                    Ok(Err(e)) => {
                        self.last(e).await;
                        return false;
                    }
                    Err(_) => return false,
                }
            }
            (None, _) => self.error(FrameError::new("not-joined", "send join first")),
            (Some(id), msg) => {
                let id = id.clone();
                if self.hub.send(HubIn::Msg { id, msg }).await.is_err() {
                    return false;
                }
            }
        }
        true
    }
}

async fn write_loop<T>(
    mut sender: Sender<T>,
    mut rx: mpsc::Receiver<Out>,
    cancel: CancellationToken,
) where
    T: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let next = tokio::select! {
            biased;
            o = rx.recv() => o,
            _ = cancel.cancelled() => None,
        };
        match next {
            Some(Out::Text(t)) => {
                if sender.send_text_owned(t).await.is_err() || sender.flush().await.is_err() {
                    break;
                }
            }
            Some(Out::Last(t)) => {
                let _ = sender.send_text_owned(t).await;
                break;
            }
            None => break,
        }
    }
    cancel.cancel();
    let _ = sender.close().await;
}

//! Just enough HTTP/1.1 for one page and one WebSocket: read a request head
//! (capped), answer the page's three files, or accept the upgrade to a
//! WebSocket on `/ws`. A general HTTP stack would cost more to build than
//! the whole broker for four fixed paths.

use base64::Engine;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use sha1::{Digest, Sha1};

/// Largest request head read.
pub const MAX_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 32;
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const SECURITY_HEADERS: &str = "Cache-Control: no-store\r\n\
    X-Content-Type-Options: nosniff\r\n\
    Referrer-Policy: no-referrer\r\n\
    Content-Security-Policy: default-src 'self'; connect-src 'self' wss:; \
    media-src 'self' blob: mediastream:; img-src 'self' data:\r\n";

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const STYLE_CSS: &str = include_str!("page/style.css");

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A WebSocket upgrade on `/ws`: the client's key and the query.
    WebSocket { key: String, query: String },
    /// A static file or an error page, answered in full.
    Plain { status: u16, path: String },
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("reading the request: {0}")]
    Io(#[from] std::io::Error),
    #[error("request head over {MAX_HEAD} bytes")]
    TooLarge,
    #[error("malformed request: {0}")]
    Malformed(String),
}

/// Reads one request head; bytes after it (none, for a GET) are dropped.
pub async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Vec<u8>, HttpError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HttpError::Malformed("connection closed mid-request".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(HttpError::TooLarge);
        }
    }
}

/// Parses a request head (pure).
pub fn parse(head: &[u8]) -> Result<Request, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HttpError::Malformed("incomplete".into())),
        Err(e) => return Err(HttpError::Malformed(e.to_string())),
    }
    let target = req.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
    };
    if req.method != Some("GET") {
        return Ok(Request::Plain {
            status: 405,
            path: path.into(),
        });
    }
    let upgrade = header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if path == "/ws" {
        return match (upgrade, header("sec-websocket-key")) {
            (true, Some(key)) if !key.is_empty() && key.len() <= 64 => Ok(Request::WebSocket {
                key: key.trim().to_string(),
                query: query.to_string(),
            }),
            _ => Ok(Request::Plain {
                status: 400,
                path: path.into(),
            }),
        };
    }
    let status = if body(path).is_some() { 200 } else { 404 };
    Ok(Request::Plain {
        status,
        path: path.into(),
    })
}

/// The page's files by path, with their content type.
fn body(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/" | "/index.html" => Some(("text/html; charset=utf-8", INDEX_HTML)),
        "/app.js" => Some(("text/javascript; charset=utf-8", APP_JS)),
        "/style.css" => Some(("text/css; charset=utf-8", STYLE_CSS)),
        _ => None,
    }
}

/// The full response to a plain request.
pub fn plain_response(status: u16, path: &str) -> Vec<u8> {
    let (reason, ctype, text) = match (status, body(path)) {
        (200, Some((ctype, text))) => ("OK", ctype, text),
        (400, _) => ("Bad Request", "text/plain", "bad request\n"),
        (405, _) => ("Method Not Allowed", "text/plain", "method not allowed\n"),
        _ => ("Not Found", "text/plain", "not found\n"),
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         {SECURITY_HEADERS}Connection: close\r\n\r\n",
        text.len()
    )
    .into_bytes();
    out.extend_from_slice(text.as_bytes());
    out
}

/// The `101 Switching Protocols` answer to a WebSocket key (RFC 6455).
pub fn upgrade_response(key: &str) -> Vec<u8> {
    let digest = Sha1::new()
        .chain_update(key.as_bytes())
        .chain_update(WS_GUID.as_bytes())
        .finalize();
    let accept = base64::engine::general_purpose::STANDARD.encode(digest);
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

pub async fn write_all<S: AsyncWrite + Unpin>(stream: &mut S, data: &[u8]) -> std::io::Result<()> {
    stream.write_all(data).await?;
    stream.flush().await
}

/// Writes a whole response and closes (TLS `close_notify` included).
pub async fn respond<S: AsyncWrite + Unpin>(stream: &mut S, data: &[u8]) -> std::io::Result<()> {
    write_all(stream, data).await?;
    stream.close().await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn routes_the_four_paths() {
        let get = |p: &str| parse(format!("GET {p} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        for p in ["/", "/index.html", "/app.js", "/style.css"] {
            assert!(
                matches!(get(p).unwrap(), Request::Plain { status: 200, .. }),
                "{p}"
            );
        }
        assert!(matches!(
            get("/etc/passwd").unwrap(),
            Request::Plain { status: 404, .. }
        ));
        assert!(matches!(
            get("/ws").unwrap(),
            Request::Plain { status: 400, .. }
        ));
        let post = parse(b"POST / HTTP/1.1\r\n\r\n").unwrap();
        assert!(matches!(post, Request::Plain { status: 405, .. }));
        assert!(parse(b"\x00\x01garbage\r\n\r\n").is_err());
        let ws = parse(
            b"GET /ws?invite=1.ab HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            ws,
            Request::WebSocket {
                key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
                query: "invite=1.ab".into()
            }
        );
    }

    #[test]
    fn accept_key_matches_rfc_6455() {
        let r = String::from_utf8(upgrade_response("dGhlIHNhbXBsZSBub25jZQ==")).unwrap();
        assert!(
            r.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            "{r}"
        );
        let page = String::from_utf8(plain_response(200, "/")).unwrap();
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n") && page.contains("text/html"));
    }
}

//! The control socket's one framing, for the server and the client: JSON
//! values, one per line. Reads are capped ([`read_line`]): an oversized line
//! is reported and skipped, never buffered whole; writes are a value
//! serialized and a newline, in one write.

use super::lines::{read_line, Line};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// A connection framed as JSON lines, reading lines of at most `cap` bytes.
pub struct JsonLines<R, W> {
    rd: BufReader<R>,
    wr: W,
    cap: usize,
}

impl JsonLines<OwnedReadHalf, OwnedWriteHalf> {
    pub fn unix(stream: UnixStream, cap: usize) -> Self {
        let (rd, wr) = stream.into_split();
        JsonLines::new(rd, wr, cap)
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> JsonLines<R, W> {
    pub fn new(rd: R, wr: W, cap: usize) -> Self {
        JsonLines {
            rd: BufReader::new(rd),
            wr,
            cap,
        }
    }

    /// The next line, without its newline (not parsed: the caller decides
    /// what a bad one means).
    pub async fn read(&mut self) -> std::io::Result<Line> {
        read_line(&mut self.rd, self.cap).await
    }

    /// Writes `value` as one line.
    pub async fn send<T: Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.wr.write_all(&line).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn values_go_out_one_per_line_and_long_lines_are_capped() {
        let (a, b) = tokio::io::duplex(1024);
        let (ar, aw) = tokio::io::split(a);
        let (br, bw) = tokio::io::split(b);
        let mut client = JsonLines::new(ar, aw, 16);
        let mut server = JsonLines::new(br, bw, 16);
        client
            .send(&serde_json::json!({"cmd": "peers"}))
            .await
            .unwrap();
        assert_eq!(
            server.read().await.unwrap(),
            Line::Data(br#"{"cmd":"peers"}"#.to_vec())
        );
        client.send(&"x".repeat(40)).await.unwrap();
        client.send(&1).await.unwrap();
        assert_eq!(server.read().await.unwrap(), Line::TooLong);
        assert_eq!(server.read().await.unwrap(), Line::Data(b"1".to_vec()));
        drop(client);
        assert_eq!(server.read().await.unwrap(), Line::Eof);
    }
}

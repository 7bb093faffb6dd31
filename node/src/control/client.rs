//! The control-socket client behind `duet peers|status|events`: sends one
//! request line, reads the reply, prints a table or JSON. No node at the
//! socket is its own error ([`ClientError::NoNode`], exit code 2).

use super::framing::JsonLines;
use super::lines::Line;
use super::protocol::{Event, Reply, Request};
use crate::peers::PeerView;
use std::path::{Path, PathBuf};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// Replies and events are larger than requests (a long peer list).
const MAX_REPLY: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no duet node is running at {}; start one with `duet up`", .0.display())]
    NoNode(PathBuf),
    #[error("control socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("refusing the control socket directory {}: {why}; it must be owned by you with mode 0700", .dir.display())]
    UnsafeDir { dir: PathBuf, why: String },
    #[error("bad reply from the node: {0}")]
    Protocol(String),
    #[error("the node says: {0}")]
    Node(String),
}

pub struct ControlClient {
    conn: JsonLines<OwnedReadHalf, OwnedWriteHalf>,
    path: PathBuf,
}

impl ControlClient {
    pub async fn connect(path: &Path) -> Result<Self, ClientError> {
        // In the shared fallback directory, a socket another user planted
        // would receive our commands.
        let fallback = crate::paths::fallback_control_dir();
        if path.parent() == Some(fallback.as_path()) && fallback.exists() {
            crate::paths::check_private_dir(&fallback)
                .map_err(|why| ClientError::UnsafeDir { dir: fallback, why })?;
        }
        let stream = UnixStream::connect(path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                    ClientError::NoNode(path.to_path_buf())
                }
                _ => ClientError::Io {
                    path: path.to_path_buf(),
                    source: e,
                },
            })?;
        Ok(Self {
            conn: JsonLines::unix(stream, MAX_REPLY),
            path: path.to_path_buf(),
        })
    }

    fn io(&self, source: std::io::Error) -> ClientError {
        ClientError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// The next line from the node, or `None` when it closed the connection.
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        match self.conn.read().await {
            Ok(Line::Data(d)) => Ok(Some(d)),
            Ok(Line::Eof) => Ok(None),
            Ok(Line::TooLong) => Err(ClientError::Protocol("reply too long".into())),
            Err(e) => Err(self.io(e)),
        }
    }

    /// Sends `request` and returns the successful reply.
    pub async fn request(&mut self, request: &Request) -> Result<Reply, ClientError> {
        let reply = self.request_any(request).await?;
        if !reply.ok {
            return Err(ClientError::Node(reply.error.unwrap_or_default()));
        }
        Ok(reply)
    }

    /// Sends `request` and returns the reply, successful or not.
    pub async fn request_any(&mut self, request: &Request) -> Result<Reply, ClientError> {
        if let Err(e) = self.conn.send(request).await {
            return Err(self.io(e));
        }
        let line = self
            .next_line()
            .await?
            .ok_or_else(|| ClientError::Protocol("the node closed the connection".into()))?;
        serde_json::from_slice(&line).map_err(|e| ClientError::Protocol(e.to_string()))
    }
}

pub(super) fn json_line<T: serde::Serialize>(v: &T) -> Result<String, ClientError> {
    serde_json::to_string(v).map_err(|e| ClientError::Protocol(e.to_string()))
}

pub async fn print_peers(path: &Path, json: bool) -> Result<(), ClientError> {
    let mut client = ControlClient::connect(path).await?;
    let peers = client
        .request(&Request::Peers)
        .await?
        .peers
        .unwrap_or_default();
    if json {
        println!("{}", json_line(&peers)?);
    } else if peers.is_empty() {
        println!("no peers seen yet");
    } else {
        print!("{}", peers_table(&peers));
    }
    Ok(())
}

pub async fn print_status(path: &Path, json: bool) -> Result<(), ClientError> {
    let mut client = ControlClient::connect(path).await?;
    let node = client
        .request(&Request::Status)
        .await?
        .node
        .ok_or_else(|| ClientError::Protocol("status reply without node".into()))?;
    if json {
        println!("{}", json_line(&node)?);
    } else {
        println!("name:    {}", node.name);
        println!("id:      {}", node.peer_id);
        println!("status:  {}", node.status);
        for b in &node.brokers {
            let state = serde_json::to_value(b.state).unwrap_or_default();
            println!("broker:  {} {}", b.addr, state.as_str().unwrap_or("?"));
        }
        println!(
            "call:    {}",
            node.call
                .as_ref()
                .map(super::render::call_summary)
                .unwrap_or_else(|| "none".into())
        );
        if let Some(file) = node.call.as_ref().and_then(|c| c.recording.as_ref()) {
            println!("record:  {file}");
        }
        for a in &node.listen_addrs {
            println!("listen:  {a}");
        }
    }
    Ok(())
}

/// Streams events until the node stops (or the caller drops the future).
pub async fn print_events(path: &Path, json: bool) -> Result<(), ClientError> {
    let mut client = ControlClient::connect(path).await?;
    client.request(&Request::Subscribe).await?;
    if json {
        println!("{}", json_line(&Event::Subscribed)?);
    } else {
        eprintln!(
            "watching the peers and calls of the node at {} (Ctrl-C to stop)",
            path.display()
        );
    }
    while let Some(line) = client.next_line().await? {
        if json {
            println!("{}", String::from_utf8_lossy(&line));
            continue;
        }
        match serde_json::from_slice::<Event>(&line) {
            Ok(ev) => {
                if let Some(text) = super::render::event_line(&ev) {
                    println!("{text}");
                }
            }
            Err(_) => println!("{}", String::from_utf8_lossy(&line)),
        }
    }
    Ok(())
}

/// An aligned table: NAME, ID (shortest unique suffix), STATUS, ADDRS.
pub fn peers_table(peers: &[PeerView]) -> String {
    let rows: Vec<[String; 4]> = peers
        .iter()
        .map(|p| {
            [
                if p.identity_changed {
                    format!("{} (identity changed!)", p.name)
                } else {
                    p.name.clone()
                },
                p.short_id.clone(),
                p.status.to_string(),
                p.addrs.join(", "),
            ]
        })
        .collect();
    let header = ["NAME", "ID", "STATUS", "ADDRS"].map(String::from);
    let width = |i: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w = [width(0), width(1), width(2)];
    let mut out = String::new();
    for r in std::iter::once(&header).chain(rows.iter()) {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::proto::Status;

    #[test]
    fn table_is_aligned() {
        let p = |n: &str, id: &str| PeerView {
            name: n.into(),
            peer_id: format!("12D3{id}"),
            short_id: id.into(),
            status: Status::Available,
            addrs: vec!["/ip4/10.77.0.2/tcp/1".into()],
            identity_changed: false,
            via: vec![],
            kind: "node".into(),
        };
        let t = peers_table(&[p("alice", "abcdef"), p("bo", "xyz123")]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = |l: &str| l.find("available").or_else(|| l.find("STATUS"));
        assert_eq!(col(lines[0]), col(lines[1]));
        assert_eq!(col(lines[1]), col(lines[2]));
    }

    #[tokio::test]
    async fn no_node_is_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = ControlClient::connect(&dir.path().join("none.sock"))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ClientError::NoNode(_)));
        assert!(err.to_string().contains("start one with `duet up`"));
    }
}

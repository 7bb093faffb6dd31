//! The control socket server. Binding checks for a live node on the same
//! path (an error: "another node is running") versus a stale socket file
//! left by a crash (removed); anything else at the path is never removed.
//! The socket is owner-only (0600, its dir 0700); the shared fallback
//! directory `/tmp/duet-<uid>` must be the user's own with mode 0700.
//! Every connection is served on its own task; bad lines get an error reply
//! and the connection goes on.

use super::framing::JsonLines;
use super::lines::Line;
use super::protocol::{parse_request, ControlCall, Event, Reply, Request, MAX_LINE};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore};

const MAX_CONNECTIONS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("another node is running with control socket {0}")]
    InUse(PathBuf),
    #[error(
        "{0} exists and is not a socket: refusing to replace it (choose another --control path)"
    )]
    NotASocket(PathBuf),
    #[error(
        "refusing the control socket directory {dir}: {why}; it must be a directory \
         owned by you with mode 0700 (remove it, or choose --control)"
    )]
    UnsafeDir { dir: PathBuf, why: String },
    #[error("control socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A bound control socket; the file is removed when this is dropped.
#[derive(Debug)]
pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub fn bind(path: &Path) -> Result<ControlServer, ControlError> {
    let io = |source| ControlError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
        if dir == crate::paths::fallback_control_dir() {
            crate::paths::check_private_dir(dir).map_err(|why| ControlError::UnsafeDir {
                dir: dir.to_path_buf(),
                why,
            })?;
        }
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(ControlError::NotASocket(path.to_path_buf()));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ControlError::InUse(path.to_path_buf()));
        }
        tracing::warn!(
            "removing stale control socket {} (left by a crashed node?)",
            path.display()
        );
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(ControlServer {
        listener,
        path: path.to_path_buf(),
    })
}

impl ControlServer {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts connections until dropped; requests go to `calls`.
    pub async fn serve(self, calls: mpsc::Sender<ControlCall>, events: broadcast::Sender<Event>) {
        let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let stream = match self.listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!("control socket accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(permit) = limit.clone().try_acquire_owned() else {
                tracing::warn!("too many control connections; refusing one");
                continue;
            };
            let (calls, events) = (calls.clone(), events.clone());
            tokio::spawn(async move {
                if let Err(e) = handle(stream, calls, events).await {
                    tracing::debug!("control connection ended: {e}");
                }
                drop(permit);
            });
        }
    }
}

async fn handle(
    stream: UnixStream,
    calls: mpsc::Sender<ControlCall>,
    events: broadcast::Sender<Event>,
) -> std::io::Result<()> {
    let mut conn = JsonLines::unix(stream, MAX_LINE);
    loop {
        let line = match conn.read().await? {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                let msg = format!("request line longer than {MAX_LINE} bytes");
                conn.send(&Reply::error(msg)).await?;
                continue;
            }
            Line::Data(d) if d.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Data(d) => d,
        };
        let request = match parse_request(&line) {
            Ok(r) => r,
            Err(e) => {
                conn.send(&Reply::error(e)).await?;
                continue;
            }
        };
        if request == Request::Subscribe {
            let rx = events.subscribe();
            let reply = Reply {
                subscribed: Some(true),
                ..Reply::ok()
            };
            conn.send(&reply).await?;
            return stream_events(conn, rx).await;
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        let reply = match calls
            .send(ControlCall {
                request,
                reply: reply_tx,
            })
            .await
        {
            Ok(()) => reply_rx
                .await
                .unwrap_or_else(|_| Reply::error("the node is stopping")),
            Err(_) => Reply::error("the node is stopping"),
        };
        conn.send(&reply).await?;
    }
}

/// Writes events until the client hangs up (or the node stops).
async fn stream_events(
    mut conn: JsonLines<OwnedReadHalf, OwnedWriteHalf>,
    mut rx: broadcast::Receiver<Event>,
) -> std::io::Result<()> {
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(ev) => conn.send(&ev).await?,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    conn.send(&Event::Lagged { missed }).await?
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            line = conn.read() => match line? {
                Line::Eof => return Ok(()),
                _ => conn.send(&Reply::error("this connection streams events")).await?,
            },
        }
    }
}

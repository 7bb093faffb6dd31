//! Publishing this node's own status (available, dnd, in-call).
//!
//! One task, fed by a watch channel, sends every change to the network in
//! the order the node made it; a change superseded before it went out is
//! skipped, never reordered. (A task per change let a call that failed at
//! once publish `available` before `in-call`, leaving `in-call` shown.)

use crate::net;
use crate::proto::Status;
#[cfg(test)]
use std::time::Duration;
use tokio::sync::watch;

/// Starts the publisher; it stops when the sender is dropped.
pub(super) fn spawn(net: net::Client) -> watch::Sender<Status> {
    let (tx, mut rx) = watch::channel(Status::Available);
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let status = *rx.borrow_and_update();
            if let Err(e) = net.set_status(status).await {
                tracing::warn!("cannot publish status {status}: {e}");
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::net::Command;

    /// A call that fails at once: in-call then available, back to back,
    /// while the network is slow to take them. Whatever is skipped, the
    /// network's last word must be `available`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_reach_the_network_in_order() {
        for _ in 0..50 {
            let (net, mut commands) = net::Client::detached();
            let publish = spawn(net);
            publish.send_replace(Status::InCall);
            publish.send_replace(Status::Available);
            // The publisher sends what is pending, then stops (closing `commands`).
            drop(publish);
            let mut seen = Vec::new();
            loop {
                let cmd = tokio::time::timeout(Duration::from_secs(10), commands.recv()).await;
                let Ok(Some(Command::SetStatus { status, reply })) = cmd else {
                    break;
                };
                tokio::task::yield_now().await;
                seen.push(status);
                let _ = reply.send(());
            }
            assert_eq!(seen.last(), Some(&Status::Available), "{seen:?}");
        }
    }
}

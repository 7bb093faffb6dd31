//! Answers control requests. Requests that need another task (the Swarm
//! owner, the call actor) are answered from a spawned task, so the node loop
//! never waits on a task that may be waiting on the node loop's queue.

use super::State;
use crate::call::{CallHandle, CallNotice};
use crate::control::protocol::{ControlCall, NodeView, Reply, Request};
use crate::peers::target;
use crate::proto::Status;
use libp2p::PeerId;
use tokio::sync::broadcast;

impl State {
    pub(super) fn on_request(&mut self, call: ControlCall) {
        let ControlCall { request, reply } = call;
        match request {
            Request::Peers => {
                let peers = self
                    .table
                    .list()
                    .into_iter()
                    .map(|v| self.flag(v))
                    .collect();
                let _ = reply.send(Reply {
                    peers: Some(peers),
                    ..Reply::ok()
                });
            }
            Request::Status => {
                let (net, calls) = (self.net.clone(), self.calls.clone());
                let (name, peer_id) = (self.name.to_string(), self.peer_id.to_string());
                let status = self.effective_status();
                tokio::spawn(async move {
                    let call = calls.view().await;
                    let brokers = net.brokers().await.unwrap_or_default();
                    let r = match net.listen_addrs().await {
                        Ok(addrs) => Reply {
                            node: Some(NodeView {
                                name,
                                peer_id,
                                listen_addrs: addrs.iter().map(ToString::to_string).collect(),
                                status,
                                call,
                                brokers,
                            }),
                            ..Reply::ok()
                        },
                        Err(e) => Reply::error(e.to_string()),
                    };
                    let _ = reply.send(r);
                });
            }
            Request::SetStatus {
                status: Status::Offline | Status::InCall,
            } => {
                let msg = "status offline is sent on shutdown, and in-call while in a call";
                let _ = reply.send(Reply::error(msg));
            }
            Request::SetStatus { status } => {
                self.status = status;
                self.calls.set_dnd(status == Status::Dnd);
                // Published in order with the call's in-call changes.
                self.publish_status.send_replace(self.effective_status());
                let _ = reply.send(Reply::ok());
            }
            Request::Subscribe => {
                let _ = reply.send(Reply::error("subscribe is handled by the control server"));
            }
            Request::Call { target } => {
                let peers = self.table.list();
                let me = (self.peer_id.to_string(), self.name.to_string());
                match target::resolve(&peers, (&me.0, &me.1), &target) {
                    Ok(peer) => match peer.peer_id.parse::<PeerId>() {
                        Ok(id) => {
                            let calls = self.calls.clone();
                            let name = peer.name.clone();
                            tokio::spawn(async move {
                                let _ = reply.send(place_call(calls, id, name).await);
                            });
                        }
                        Err(e) => {
                            let _ = reply.send(Reply::error(format!("bad peer id: {e}")));
                        }
                    },
                    Err(e) => {
                        let _ = reply.send(Reply {
                            reason: Some(e.reason().into()),
                            ..Reply::error(e.to_string())
                        });
                    }
                }
            }
            Request::Mute { kind } | Request::Unmute { kind } => {
                let calls = self.calls.clone();
                let muted = matches!(request, Request::Mute { .. });
                tokio::spawn(async move {
                    let _ = reply.send(match calls.set_muted(kind, muted).await {
                        Ok(()) => Reply::ok(),
                        Err(e) => Reply::error(e.to_string()),
                    });
                });
            }
            Request::Answer | Request::Reject | Request::Hangup => {
                let calls = self.calls.clone();
                tokio::spawn(async move {
                    let result = match request {
                        Request::Answer => calls.answer().await,
                        Request::Reject => calls.reject().await,
                        _ => calls.hangup().await,
                    };
                    let _ = reply.send(match result {
                        Ok(()) => Reply::ok(),
                        Err(e) => Reply::error(e.to_string()),
                    });
                });
            }
        }
    }
}

/// Dials and waits for the outcome: connected, or ended with a reason.
async fn place_call(calls: CallHandle, peer: PeerId, name: String) -> Reply {
    // Subscribe first: the outcome may come before `dial` returns.
    let mut notices = calls.subscribe();
    let mut id = match calls.dial(peer, name).await {
        Ok(id) => id,
        Err(e) => return Reply::error(e.to_string()),
    };
    loop {
        match notices.recv().await {
            Ok(CallNotice::Connected { call }) if call.id == id => {
                return Reply {
                    call: Some(call),
                    ..Reply::ok()
                };
            }
            Ok(CallNotice::Ended { call, reason }) if call.id == id => {
                let who = if call.peer_name.is_empty() {
                    call.peer_id.clone()
                } else {
                    call.peer_name.clone()
                };
                return Reply {
                    reason: Some(reason.code().to_string()),
                    ..Reply::error(describe_failure(&who, &reason))
                };
            }
            Ok(CallNotice::Replaced { old, new }) if old == id => id = new,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => {
                return Reply::error("the node is stopping");
            }
        }
    }
}

fn describe_failure(who: &str, reason: &crate::call::EndReason) -> String {
    use crate::call::EndReason as R;
    match reason {
        R::Declined => format!("{who} declined the call (declined)"),
        R::Busy => format!("{who} is busy (busy)"),
        R::NotAllowed => format!("{who} does not take calls from this node (not-allowed)"),
        R::Timeout => format!("{who} did not answer in time (timeout)"),
        R::Unreachable => format!("{who} could not be reached (unreachable)"),
        R::RateLimited => format!(
            "{who} refused the call: too many calls to it just now, try again in a second (rate-limited)"
        ),
        R::PeerLost => format!("lost the connection to {who} (peer-lost)"),
        R::MediaFailed(why) => format!("media with {who} failed: {why} (media-failed)"),
        R::MediaUntrusted(why) => {
            format!("the media with {who} could not be authenticated: {why} (media-untrusted)")
        }
        R::HungUp => "the call was hung up here (hangup)".into(),
        R::RemoteHungUp => format!("{who} hung up (remote-hangup)"),
        R::Cancelled => "the call was cancelled (cancelled)".into(),
    }
}

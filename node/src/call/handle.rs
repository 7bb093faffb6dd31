//! The call actor's interface: its configuration, what it is told
//! ([`CallInput`], user commands through [`CallHandle`]) and what it
//! announces ([`CallNotice`]).

use super::machine::{AnswerPolicy, CallerTrust, CommandError, EndReason, Timeouts};
use super::view::CallView;
use crate::proto::call::{CallId, CallSignal};
use duet_gst::{MediaConfig, MediaKind};
use libp2p::PeerId;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// How calls are made on this node.
#[derive(Debug, Clone)]
pub struct CallConfig {
    pub media: MediaConfig,
    pub timeouts: Timeouts,
    /// Who is answered at once, who is turned away (kiosks).
    pub policy: AnswerPolicy,
    /// Record each call's remote audio and video in this directory.
    pub record_dir: Option<std::path::PathBuf>,
    /// No ringback/ringtone (`--quiet`); there are none without a window.
    pub quiet: bool,
}

/// What the network and the node tell the actor.
#[derive(Debug, Clone)]
pub enum CallInput {
    /// A signalling message from `from` (authenticated by Noise); `trust`
    /// is what the node's allow-list says of it.
    Signal {
        from: PeerId,
        trust: CallerTrust,
        signal: CallSignal,
    },
    /// A message for `call_id` could not be delivered to `peer`.
    SignalFailed { peer: PeerId, call_id: CallId },
    /// `peer` refused a message for `call_id` (over its rate limit).
    SignalRefused { peer: PeerId, call_id: CallId },
    /// The last connection to `peer` closed.
    PeerLost { peer: PeerId },
}

/// What the actor announces.
#[derive(Debug, Clone, PartialEq)]
pub enum CallNotice {
    /// This node placed a call (dialing).
    Dialing {
        call: CallView,
    },
    /// Someone calls this node.
    Incoming {
        call: CallView,
    },
    /// The callee's side is ringing.
    Ringing {
        call: CallView,
    },
    Connected {
        call: CallView,
    },
    /// Crossing calls merged: `old` (ours) became `new` (the peer's).
    Replaced {
        old: String,
        new: String,
    },
    Ended {
        call: CallView,
        reason: EndReason,
    },
    /// The peer's mute state changed (`call.remote_muted`).
    RemoteMuted {
        call: CallView,
    },
    /// Something the user should know that does not end the call
    /// (`warning`: e.g. `audio-output-unavailable`).
    Warning {
        call_id: String,
        warning: String,
        detail: String,
    },
}

/// Why a call command failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("the call actor has stopped")]
    Stopped,
    #[error("this node sends no {0} (it was started with --{0} none)")]
    NotSent(MediaKind),
}

#[derive(Debug)]
pub(super) enum Msg {
    Dial {
        peer: PeerId,
        name: String,
        reply: oneshot::Sender<Result<String, CallError>>,
    },
    Answer {
        reply: oneshot::Sender<Result<(), CallError>>,
    },
    Reject {
        reply: oneshot::Sender<Result<(), CallError>>,
    },
    Hangup {
        reply: oneshot::Sender<Result<(), CallError>>,
    },
    View {
        reply: oneshot::Sender<Option<CallView>>,
    },
    SetMuted {
        kind: MediaKind,
        muted: bool,
        reply: oneshot::Sender<Result<(), CallError>>,
    },
    Input(CallInput),
    /// Hang up any call and stop; replies when the hangup is on its way.
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// Cloneable handle to the call actor.
#[derive(Debug, Clone)]
pub struct CallHandle {
    tx: mpsc::Sender<Msg>,
    /// Inputs that are not about the current call's peer: a queue of their
    /// own, so that no flood of them can crowd out the current call's.
    others: mpsc::Sender<CallInput>,
    notices: broadcast::Sender<CallNotice>,
    /// Do-not-disturb, read by the actor with each signal (so an invite
    /// that follows a status change always sees it).
    dnd: Arc<watch::Sender<bool>>,
}

impl CallHandle {
    pub(super) fn new(
        tx: mpsc::Sender<Msg>,
        others: mpsc::Sender<CallInput>,
        notices: broadcast::Sender<CallNotice>,
        dnd: watch::Sender<bool>,
    ) -> Self {
        CallHandle {
            tx,
            others,
            notices,
            dnd: Arc::new(dnd),
        }
    }

    /// Do-not-disturb on or off: while on, new callers are answered `busy`.
    pub fn set_dnd(&self, dnd: bool) {
        self.dnd.send_replace(dnd);
    }
}

impl CallHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Msg) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.ok()?;
        rx.await.ok()
    }

    /// Places a call; returns its id at once (see [`CallNotice`]s for what follows).
    pub async fn dial(&self, peer: PeerId, name: String) -> Result<String, CallError> {
        self.ask(|reply| Msg::Dial { peer, name, reply })
            .await
            .unwrap_or(Err(CallError::Stopped))
    }

    pub async fn answer(&self) -> Result<(), CallError> {
        self.ask(|reply| Msg::Answer { reply })
            .await
            .unwrap_or(Err(CallError::Stopped))
    }

    pub async fn reject(&self) -> Result<(), CallError> {
        self.ask(|reply| Msg::Reject { reply })
            .await
            .unwrap_or(Err(CallError::Stopped))
    }

    pub async fn hangup(&self) -> Result<(), CallError> {
        self.ask(|reply| Msg::Hangup { reply })
            .await
            .unwrap_or(Err(CallError::Stopped))
    }

    /// Mutes or unmutes what this side sends in the current call; the peer
    /// is told (`remote_muted` on its side).
    pub async fn set_muted(&self, kind: MediaKind, muted: bool) -> Result<(), CallError> {
        self.ask(|reply| Msg::SetMuted { kind, muted, reply })
            .await
            .unwrap_or(Err(CallError::Stopped))
    }

    /// The current call, if any.
    pub async fn view(&self) -> Option<CallView> {
        self.ask(|reply| Msg::View { reply }).await.flatten()
    }

    /// Feeds the actor an input about the current call's peer, without
    /// waiting. The queue is generous (a call is a few dozen messages) and
    /// only that peer (rate-limited) and the user fill it; if it is full the
    /// actor is stuck, and the input is dropped with a warning rather than
    /// stalling the caller.
    pub fn try_input(&self, input: CallInput) {
        match self.tx.try_send(Msg::Input(input)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("call actor is not keeping up; a call input was dropped")
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!("call actor stopped; input dropped")
            }
        }
    }

    /// Feeds the actor an input from any other peer (a new invite, a stray
    /// message), on its own smaller queue: when a flood fills it, only such
    /// inputs are dropped.
    pub fn try_input_other(&self, input: CallInput) {
        match self.others.try_send(input) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!("call actor busy; an input from another peer was dropped")
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::debug!("call actor stopped; input dropped")
            }
        }
    }

    /// Hangs up any call and stops the actor.
    pub async fn shutdown(&self) {
        let _ = self.ask(|reply| Msg::Shutdown { reply }).await;
    }

    /// Every notice from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CallNotice> {
        self.notices.subscribe()
    }
}

//! [`Cmd`], the work queued to a session's service thread, and its bounded
//! queue.
//!
//! Everything that must happen on the service thread arrives here: the
//! owner's inputs (remote SDP, remote ICE candidates, key frame requests),
//! webrtcbin's promise replies and signal handlers, and the bus messages
//! the thread acts on. The queue is bounded ([`CMD_CAPACITY`]): the
//! owner's inputs are refused with [`MediaError::QueueFull`] when it is
//! full (a peer flooding candidates), and GStreamer threads never block on
//! it (a full queue drops their command with an error in the log).

use crate::sdp::Plan;
use crate::MediaError;
use gstreamer as gst;
use gstreamer_sdp as gst_sdp;
use gstreamer_webrtc as gst_webrtc;
use std::sync::mpsc;

/// How many commands may wait for the service thread. A call needs a few
/// dozen (a handful of candidates per side); the rest is headroom.
pub(crate) const CMD_CAPACITY: usize = 1024;

/// Work for the service thread.
#[derive(Debug)]
pub(crate) enum Cmd {
    CreateOffer,
    OfferCreated(Result<gst_webrtc::WebRTCSessionDescription, MediaError>),
    SetRemoteOffer(gst_sdp::SDPMessage, Plan),
    RemoteOfferSet(Plan),
    AnswerCreated(Result<gst_webrtc::WebRTCSessionDescription, MediaError>),
    SetRemoteAnswer(gst_sdp::SDPMessage),
    AddCandidate(u32, String),
    Connected,
    /// A DTLS transport changed state: check the peer's certificate.
    DtlsState,
    Keyframe,
    /// A bus message the service thread acts on (error, warning, latency).
    Bus(gst::Message),
    Fail(MediaError),
    Stop,
}

/// The sending end of the service thread's queue.
#[derive(Debug, Clone)]
pub(crate) struct CmdTx(mpsc::SyncSender<Cmd>);

impl CmdTx {
    /// A new bounded queue of [`CMD_CAPACITY`] commands.
    pub(crate) fn channel() -> (CmdTx, mpsc::Receiver<Cmd>) {
        let (tx, rx) = mpsc::sync_channel(CMD_CAPACITY);
        (CmdTx(tx), rx)
    }

    /// Queues `cmd` without blocking: a full queue is `QueueFull`, a
    /// stopped service thread `Closed`.
    pub(crate) fn try_send(&self, cmd: Cmd) -> Result<(), MediaError> {
        self.0.try_send(cmd).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => MediaError::QueueFull(CMD_CAPACITY),
            mpsc::TrySendError::Disconnected(_) => MediaError::Closed,
        })
    }

    /// Queues `Stop`, waiting for room if the queue is full (the service
    /// thread is draining it). Only for teardown, which runs on a thread of
    /// its own; a stopped service thread makes it a no-op.
    pub(crate) fn stop(&self) {
        let _ = self.0.send(Cmd::Stop);
    }

    /// Queues `cmd` from a GStreamer thread, which must never block: a full
    /// queue drops it with an error in the log; a stopped service thread
    /// (the session is closing) drops it silently.
    pub(crate) fn post(&self, cmd: Cmd) {
        if let Err(mpsc::TrySendError::Full(cmd)) = self.0.try_send(cmd) {
            tracing::error!("media service queue full: dropped {cmd:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_full_queue_refuses_without_blocking_and_a_stopped_one_is_closed() {
        let (tx, rx) = CmdTx::channel();
        for _ in 0..CMD_CAPACITY {
            tx.try_send(Cmd::Keyframe).unwrap();
        }
        assert_eq!(
            tx.try_send(Cmd::AddCandidate(0, "candidate:1".into())),
            Err(MediaError::QueueFull(CMD_CAPACITY))
        );
        // A GStreamer thread's post neither blocks nor panics when full.
        tx.post(Cmd::DtlsState);
        rx.recv().unwrap();
        tx.try_send(Cmd::Keyframe).unwrap();
        drop(rx);
        assert_eq!(tx.try_send(Cmd::Keyframe), Err(MediaError::Closed));
        tx.stop();
    }
}

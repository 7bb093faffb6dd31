//! Tearing a session down: stop the service thread, close the recording,
//! tell the peer we left, stop the pipeline. Blocking (the NULL state
//! change can take a while): the handle runs it on a blocking thread in
//! `close`, or on a std thread of its own when dropped without `close`.

use crate::command::CmdTx;
use crate::events::MediaEvent;
use crate::shared::Shared;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;

/// A running session's pipeline, command queue and service thread.
pub(crate) struct Running {
    pub pipeline: gst::Pipeline,
    pub cmd: CmdTx,
    pub service: Option<JoinHandle<()>>,
}

/// Stops the service thread, closes the recording, says bye, takes the
/// pipeline to NULL and emits `Ended`, the last event. Blocking.
pub(crate) fn teardown(mut inner: Running, shared: &Shared) {
    inner.cmd.stop();
    if let Some(h) = inner.service.take() {
        let _ = h.join();
    }
    crate::record::finish(&shared.recorder);
    say_bye(&inner.pipeline, shared);
    if let Err(e) = inner.pipeline.set_state(gst::State::Null) {
        tracing::warn!("pipeline to NULL: {e}");
    }
    for slot in [&shared.video_send, &shared.audio_send] {
        if let Ok(mut g) = slot.lock() {
            *g = None;
        }
    }
    if let Ok(mut g) = shared.remote_video_depay.lock() {
        *g = None;
    }
    shared.events.send(MediaEvent::Ended);
}

/// Ends our streams so rtpbin sends RTCP BYE: the peer learns at once that
/// we left (`MediaEvent::RemoteEnded`) instead of after its media timeout.
/// Only once connected (webrtcbin blocks its input pads until negotiated, and
/// an EOS would wait there), and from a helper thread waited on for at most
/// 100 ms: the BYE leaves within a millisecond here, and the NULL state
/// change that follows unblocks anything still stuck.
fn say_bye(pipeline: &gst::Pipeline, shared: &Shared) {
    if !shared.connected.load(Ordering::Acquire) {
        return;
    }
    let Some(webrtc) = pipeline.by_name("webrtc") else {
        return;
    };
    let (done_tx, done_rx) = std_mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("duet-media-bye".into())
        .spawn(move || {
            for pad in webrtc.sink_pads() {
                pad.send_event(gst::event::Eos::new());
            }
            let _ = done_tx.send(());
        });
    if spawned.is_ok()
        && done_rx
            .recv_timeout(std::time::Duration::from_millis(100))
            .is_ok()
    {
        // Let the RTCP thread send the BYE it just scheduled.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

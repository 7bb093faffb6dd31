//! The pipeline's bus: what its errors mean, and how its messages reach
//! the service thread.
//!
//! A bus sync handler forwards the messages the service thread acts on
//! (errors, warnings, latency) into its command queue as [`Cmd::Bus`] and
//! drops the rest, so the thread sleeps until something happens instead of
//! polling the bus. A message the full queue cannot take stays on the bus,
//! which the thread drains after every wake-up.

use crate::command::{Cmd, CmdTx};
use crate::config::MediaConfig;
use crate::send::{AUDIO_SRC, VIDEO_SRC};
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;

/// Sends the messages the service thread acts on to `tx` from now on;
/// element messages go to `on_element` (the call window's X window), on the
/// posting thread; the rest are dropped. Messages posted before stay on the
/// bus (pop them).
pub(crate) fn forward(
    bus: &gst::Bus,
    tx: CmdTx,
    on_element: impl Fn(&gst::Message) + Send + Sync + 'static,
) {
    bus.set_sync_handler(move |_, msg| match msg.view() {
        gst::MessageView::Element(_) => {
            on_element(msg);
            gst::BusSyncReply::Drop
        }
        gst::MessageView::Error(_)
        | gst::MessageView::Warning(_)
        | gst::MessageView::Latency(_) => match tx.try_send(Cmd::Bus(msg.clone())) {
            Ok(()) | Err(MediaError::Closed) => gst::BusSyncReply::Drop,
            Err(_) => gst::BusSyncReply::Pass,
        },
        _ => gst::BusSyncReply::Drop,
    });
}

/// What an error posted while running means: the camera or the microphone
/// failed (by the source's element name), or some other element.
pub(crate) fn runtime_error(
    msg: &gst::Message,
    err: &gst::message::Error,
    config: &MediaConfig,
) -> MediaError {
    let element = msg
        .src()
        .map(|s| s.path_string().to_string())
        .unwrap_or_default();
    let message = err.error().to_string();
    if element.contains(VIDEO_SRC) {
        MediaError::CameraUnavailable {
            device: config.video.to_string(),
            reason: message,
        }
    } else if element.contains(AUDIO_SRC) {
        MediaError::MicrophoneUnavailable {
            device: config.audio.to_string(),
            reason: message,
        }
    } else {
        MediaError::Pipeline { element, message }
    }
}

/// Maps a failed start (state change) to the most specific error.
pub(crate) fn startup_error(
    pipeline: &gst::Pipeline,
    config: &MediaConfig,
    e: gst::StateChangeError,
) -> MediaError {
    let Some(bus) = pipeline.bus() else {
        return MediaError::StateChange(e.to_string());
    };
    while let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        if let gst::MessageView::Error(err) = msg.view() {
            let src = msg.src().map(|s| s.name().to_string()).unwrap_or_default();
            let reason = err.error().to_string();
            // Sources inside auto*src bins have their own names: match the path.
            let path = msg
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_default();
            if src == VIDEO_SRC || path.contains(VIDEO_SRC) {
                return MediaError::CameraUnavailable {
                    device: config.video.to_string(),
                    reason,
                };
            }
            if src == AUDIO_SRC || path.contains(AUDIO_SRC) {
                return MediaError::MicrophoneUnavailable {
                    device: config.audio.to_string(),
                    reason,
                };
            }
            return MediaError::Pipeline {
                element: src,
                message: reason,
            };
        }
    }
    MediaError::StateChange(e.to_string())
}

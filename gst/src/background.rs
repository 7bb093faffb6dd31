//! A small pipeline of its own (the ringing card, a ringing tone) run by a
//! thread of its own: started there, so that its state change to PLAYING
//! (an X connection, an audio device probed by autoaudiosink: milliseconds
//! to tens of them on a busy machine) never holds the thread that asked
//! for it — the call actor, which meanwhile sends and takes the call's
//! signalling — and stopped there when its handle is dropped. One thread
//! does both, so a stop can never overtake the start and leave it playing.

use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The running thread's handle: dropping it stops the pipeline (NULL).
#[derive(Debug)]
pub(crate) struct Background {
    pipeline: gst::Pipeline,
    stop: Arc<AtomicBool>,
}

impl Background {
    /// Spawns the thread `name`: it sets `pipeline` to PLAYING, then runs
    /// `body` (which returns when the flag it gets is set, or early), then
    /// sets the pipeline to NULL. A failed start is logged as `what` and
    /// ends the thread (the pipeline set to NULL).
    pub(crate) fn spawn(
        name: &str,
        what: &'static str,
        pipeline: gst::Pipeline,
        body: impl FnOnce(&gst::Pipeline, &AtomicBool) + Send + 'static,
    ) -> Result<Background, MediaError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (p, flag) = (pipeline.clone(), stop.clone());
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                if let Err(e) = p.set_state(gst::State::Playing) {
                    tracing::warn!("cannot start the {what}: {e}");
                } else if !flag.load(Ordering::Acquire) {
                    body(&p, &flag);
                }
                let _ = p.set_state(gst::State::Null);
            })
            .map_err(|e| MediaError::StateChange(format!("spawning: {e}")))?;
        Ok(Background { pipeline, stop })
    }

    pub(crate) fn pipeline(&self) -> &gst::Pipeline {
        &self.pipeline
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes a body waiting on the bus at once.
        if let Some(bus) = self.pipeline.bus() {
            let _ = bus.post(gst::message::Application::new(gst::Structure::new_empty(
                "duet-stop",
            )));
        }
    }
}

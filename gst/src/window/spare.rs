//! A spare window sink, opened ahead of the call that will use it.
//!
//! ximagesink connects to the X server in its NULL → READY change (open
//! the display, check shared memory: round trips to the server), and a
//! pipeline changes its sinks' states first, so in a call's start that
//! wait came before webrtcbin could make the offer: the invite (or the
//! answer) left tens of milliseconds later in window mode than headless,
//! more with the X server busy. So the node keeps one sink already READY,
//! opened on a thread of its own; a call window takes it (its pipeline
//! then takes it from READY on) and the node opens a new spare behind it. An
//! X connection idles meanwhile; nothing is drawn before a call.

use super::WINDOW_SINK;
use crate::elements::make;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::Mutex;

static SPARE: Mutex<Option<gst::Element>> = Mutex::new(None);

/// A new window sink, not yet opened: no preroll (it may join a running
/// pipeline), keeps the picture's aspect ratio, shows frames as they come.
pub(super) fn new_sink() -> Result<gst::Element, crate::MediaError> {
    let sink = make("ximagesink", Some(WINDOW_SINK))?;
    sink.set_property("sync", false);
    sink.set_property("async", false);
    sink.set_property("force-aspect-ratio", true);
    Ok(sink)
}

/// Opens a spare sink on `$DISPLAY` in the background if none is kept
/// (the node in window mode: at start, and after each call window took
/// one).
pub fn keep_spare_sink() {
    keep_spare_sink_on(None);
}

/// [`keep_spare_sink`] on the X server `display` (`None`: `$DISPLAY`).
pub(super) fn keep_spare_sink_on(display: Option<String>) {
    if is_kept() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("duet-spare-sink".into())
        .spawn(move || {
            let sink = match new_sink() {
                Ok(s) => s,
                Err(e) => return tracing::debug!("no spare window sink: {e}"),
            };
            if let Some(d) = display {
                sink.set_property("display", d);
            }
            if let Err(e) = sink.set_state(gst::State::Ready) {
                let _ = sink.set_state(gst::State::Null);
                return tracing::debug!("no spare window sink: {e}");
            }
            let displaced = match SPARE.lock() {
                Ok(mut g) => g.replace(sink),
                Err(_) => Some(sink),
            };
            // Two refills raced: the other one is kept.
            if let Some(s) = displaced {
                let _ = s.set_state(gst::State::Null);
            }
        });
    if let Err(e) = spawned {
        tracing::debug!("no spare window sink: {e}");
    }
}

/// The spare sink (READY, connected to the X server) if one is kept, else
/// a new one. The owner opens the next spare ([`keep_spare_sink`]): only
/// a node keeps one, never a test with an X server of its own.
pub(super) fn take_sink() -> Result<gst::Element, crate::MediaError> {
    let spare = SPARE.lock().ok().and_then(|mut g| g.take());
    match spare {
        Some(sink) => Ok(sink),
        None => new_sink(),
    }
}

/// Whether a spare sink is kept (a poisoned lock counts as kept: no new one).
pub(super) fn is_kept() -> bool {
    SPARE.lock().map(|g| g.is_some()).unwrap_or(true)
}

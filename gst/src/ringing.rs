//! The card shown while the phone rings, before any media session exists
//! (window mode, callee): "alice is calling — y answer, n reject" on black,
//! in a window titled `duet — alice`. Its keys and its closing come back as
//! [`MediaEvent::Key`] / [`MediaEvent::WindowClosed`]. When the call is
//! answered this window closes and the call window (in the session's
//! pipeline) opens.

use crate::background::Background;
use crate::events::{Events, MediaEvent};
use crate::window::{
    black_source, screen_window, set_title, window_sink, WINDOW_HEIGHT, WINDOW_WIDTH,
};
use crate::{elements::make, MediaError};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// A small pipeline (black picture, text, X window), opened in the
/// background ([`RingingWindow::open_on`] returns before the X window
/// exists); closed on drop.
#[derive(Debug)]
pub struct RingingWindow {
    _run: Background,
    _screen: Arc<crate::x11_window::ScreenWindow>,
}

impl RingingWindow {
    /// Opens the window with `title` and the card `text`. Needs `$DISPLAY`.
    pub fn open(
        title: &str,
        text: &str,
    ) -> Result<(RingingWindow, mpsc::Receiver<MediaEvent>), MediaError> {
        RingingWindow::open_on(crate::Display::Window, title, text)
    }

    /// As [`Self::open`]; with [`crate::Display::Fullscreen`] the card
    /// covers the screen and hides the cursor.
    pub fn open_on(
        display: crate::Display,
        title: &str,
        text: &str,
    ) -> Result<(RingingWindow, mpsc::Receiver<MediaEvent>), MediaError> {
        crate::init()?;
        if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
            return Err(MediaError::NoDisplay);
        }
        let (events, rx) = Events::channel();
        let pipeline = gst::Pipeline::with_name("duet-ringing");
        // Fullscreen, the card stays composed at the window's size: ximagesink
        // shows it centred on black, which is the card's look anyway.
        let fullscreen = display == crate::Display::Fullscreen;
        let [src, caps] = black_source(WINDOW_WIDTH, WINDOW_HEIGHT)?;
        let screen = screen_window(&pipeline, fullscreen);
        let card = make("textoverlay", None)?;
        card.set_property("font-desc", crate::window::CARD_FONT);
        card.set_property_from_str("valignment", "center");
        card.set_property_from_str("halignment", "center");
        card.set_property("shaded-background", true);
        card.set_property("text", text);
        let conv = make("videoconvert", None)?;
        let sink = window_sink(events.clone())?;
        let bus = pipeline
            .bus()
            .ok_or_else(|| MediaError::StateChange("the ringing window has no bus".into()))?;
        let chain = [&src, &caps, &card, &conv, &sink];
        pipeline
            .add_many(chain)
            .map_err(|e| MediaError::Negotiation(e.to_string()))?;
        gst::Element::link_many(chain)
            .map_err(|e| MediaError::Negotiation(format!("linking the card: {e}")))?;
        let title = title.to_string();
        // Started and stopped on its own thread (see `background`).
        let run = Background::spawn(
            "duet-ringing",
            "ringing window",
            pipeline,
            move |_, stop| {
                // Once the sink's pad is active (an event before is dropped).
                set_title(&sink, &title);
                watch_bus(&bus, stop, &events)
            },
        )?;
        Ok((
            RingingWindow {
                _run: run,
                _screen: screen,
            },
            rx,
        ))
    }
}

/// Any error of this tiny pipeline is its window closing (or the X server
/// going away): either way the window is gone.
fn watch_bus(bus: &gst::Bus, stop: &AtomicBool, events: &Events) {
    while !stop.load(Ordering::Relaxed) {
        let Some(msg) = bus.timed_pop(gst::ClockTime::from_mseconds(100)) else {
            continue;
        };
        if let gst::MessageView::Error(e) = msg.view() {
            tracing::debug!("ringing window: {}", e.error());
            events.send(MediaEvent::WindowClosed);
            return;
        }
    }
}

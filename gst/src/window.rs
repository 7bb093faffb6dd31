//! The call window (window mode): one X window per call, composed in the
//! session's pipeline.
//!
//! ```text
//! remote video (receive.rs) ─► compositor ─► card text ─► name/time text ─► to BGRx ─► (videoconvert) ─► ximagesink
//!                               (fills the picture, aspect kept)
//! local preview (send.rs)   ─►  (scaled once to its corner's size, bottom-right)
//! ```
//!
//! The compositor is live on its own (`force-live`): it composes 30 frames
//! a second on its black background with or without inputs, so the window
//! shows the card ("calling bob…") before any remote frame, with no source
//! thread just for a clock. The remote picture fills the composed one,
//! its aspect ratio kept ([`layout`]), recomputed on each of its caps, so a
//! remote resolution change mid-call keeps showing video. The window has
//! the size of a default call's picture (640x480), so that picture is
//! composed unscaled: scaling it to fill a larger window was the largest
//! cost of the window (BENCHMARKS.md `## window mode vs headless`). The
//! preview is scaled by a `videoscale` to its corner's size before the
//! compositor, so the compositor scales nothing in a default call. Key presses come back from the sink as
//! navigation events and leave as [`MediaEvent::Key`]; the window manager's
//! close button makes ximagesink post an error, turned into
//! [`MediaEvent::WindowClosed`]. The card shown while the callee's phone
//! rings (before any session exists) is [`crate::RingingWindow`].
//! Fullscreen (the `f` key, `--display fullscreen`) is done on the X window
//! by [`crate::x11_window`]; since ximagesink does not scale, the picture is
//! then composed at the screen's size.

use crate::elements::make;
use crate::x11_window::{screen_size, watch_window, ScreenWindow};
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use layout::{preview_rect, remote_rect};
pub(crate) use parts::{black_source, set_title, window_sink};
use parts::{set_str, text_overlay};
pub use spare::keep_spare_sink;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Size of the window (and of the composed picture): a default call's
/// picture (`--resolution 640x480`), which then fills it unscaled.
pub const WINDOW_WIDTH: u32 = 640;
pub const WINDOW_HEIGHT: u32 = 480;
/// The preview rectangle: a quarter of the width, bottom-right, 16 px in,
/// its 4 px white frame included.
pub const PREVIEW_WIDTH: u32 = 160;
pub const PREVIEW_HEIGHT: u32 = 120;
pub const PREVIEW_MARGIN: u32 = 16;
/// Width of the preview's white frame.
const PREVIEW_BORDER: u32 = 4;
/// Name of the window's sink (bus errors from it are the window closing).
pub(crate) const WINDOW_SINK: &str = "call-window";
const FRAMERATE: i32 = 30;
/// The card's font: "bob is calling — y answer, n reject" fits one line.
pub(crate) const CARD_FONT: &str = "Sans 20";
/// The composed picture's format: the compositor blends I420 with ORC and
/// one conversion before ximagesink makes it BGRx (Xvfb has no XVideo
/// adaptor, so ximagesink takes only BGRx; [`to_bgrx`]). With the remote
/// picture unscaled this cost 0.53 s of CPU per 300 frames against 0.75 s
/// composing in ximagesink's BGRx (each input then converted by the
/// compositor).
const WINDOW_FORMAT: &str = "I420";

/// The elements of the call window inside a session's pipeline.
#[derive(Debug)]
pub(crate) struct CallWindow {
    compositor: gst::Element,
    out_caps: gst::Element,
    screen: Arc<ScreenWindow>,
    card: gst::Element,
    label: gst::Element,
    sink: gst::Element,
    remote_pad: Mutex<Option<gst::Pad>>,
    preview_pad: Mutex<Option<gst::Pad>>,
    preview_marker: Mutex<Option<gst::Element>>,
    state: Arc<Mutex<Labels>>,
}

#[derive(Debug, Default)]
struct Labels {
    peer: String,
    card: Option<String>,
    remote_video: bool,
    remote_muted: bool,
    connected_at: Option<Instant>,
    /// The composed picture's size: the window's, or the screen's.
    size: (u32, u32),
    /// The remote picture's size, from its caps.
    remote_size: Option<(u32, u32)>,
    /// Fullscreen: the remote picture fills the screen (scaled, aspect
    /// kept) instead of sitting at its own size.
    fill: bool,
}

impl Labels {
    /// The remote picture's size to place, `None` to fill the picture.
    fn remote_to_place(&self) -> Option<(u32, u32)> {
        self.remote_size.filter(|_| !self.fill)
    }
}

/// The caps of the composed picture at `size`.
fn picture_caps((width, height): (u32, u32)) -> gst::Caps {
    gst::Caps::builder("video/x-raw")
        .field("format", WINDOW_FORMAT)
        .field("width", width as i32)
        .field("height", height as i32)
        .field("framerate", gst::Fraction::new(FRAMERATE, 1))
        .build()
}

/// Places a compositor input at `rect`.
fn place(pad: &gst::Pad, (x, y, w, h): layout::Rect) {
    pad.set_property("xpos", x as i32);
    pad.set_property("ypos", y as i32);
    pad.set_property("width", w as i32);
    pad.set_property("height", h as i32);
}

/// The size to compose at: the window's, or with `fullscreen` the
/// screen's (`$DISPLAY`), falling back to the window's.
pub(crate) fn start_size(fullscreen: bool) -> (u32, u32) {
    let window = (WINDOW_WIDTH, WINDOW_HEIGHT);
    if !fullscreen {
        return window;
    }
    screen_size(None).unwrap_or_else(|e| {
        tracing::warn!("fullscreen: {e}; using a {WINDOW_WIDTH}x{WINDOW_HEIGHT} window");
        window
    })
}

/// Makes the window of `pipeline`'s sink fullscreen with the cursor
/// hidden once it exists, with `fullscreen`; the returned handle toggles it.
pub(crate) fn screen_window(pipeline: &gst::Pipeline, fullscreen: bool) -> Arc<ScreenWindow> {
    let screen = ScreenWindow::new((WINDOW_WIDTH, WINDOW_HEIGHT), fullscreen, fullscreen);
    watch_window(pipeline, WINDOW_SINK, screen.clone());
    screen
}

impl CallWindow {
    /// Adds the window's elements to `pipeline` (before PLAYING); with
    /// `fullscreen` the window covers the screen and hides the cursor.
    pub(crate) fn build(
        pipeline: &gst::Pipeline,
        events: crate::events::Events,
        fullscreen: bool,
    ) -> Result<CallWindow, MediaError> {
        let size = start_size(fullscreen);
        // Composes on its own clock, with or without inputs (the card
        // before any remote frame): no source thread just for a clock.
        crate::elements::require_element("compositor")?;
        let compositor = gst::ElementFactory::make("compositor")
            .name("window-compositor")
            .property("force-live", true)
            .build()
            .map_err(|_| MediaError::ElementCreation("compositor".into()))?;
        set_str(&compositor, "background", "black");
        // One thread: a 640x480 blend is not worth handing to workers
        // (BENCHMARKS.md `## call window CPU per thread`).
        compositor.set_property("max-threads", 1u32);
        let out_caps = make("capsfilter", None)?;
        out_caps.set_property("caps", picture_caps(size));
        let card = text_overlay("window-card", CARD_FONT, "center", "center")?;
        let label = text_overlay("window-label", "Sans 16", "top", "left")?;
        let conv = to_bgrx::to_bgrx("window-to-bgrx");
        // Passes BGRx through (and the sink's shared-memory buffers back to
        // `conv`); converts it for an X server with another format (16 bits).
        let other_format = make("videoconvert", None)?;
        // Already connected to the X server, if a spare was kept.
        let sink = parts::with_keys(spare::take_sink()?, events);
        let chain = [
            &compositor,
            &out_caps,
            &card,
            &label,
            &conv,
            &other_format,
            &sink,
        ];
        pipeline
            .add_many(chain)
            .map_err(|e| MediaError::Negotiation(e.to_string()))?;
        gst::Element::link_many(chain)
            .map_err(|e| MediaError::Negotiation(format!("linking the window: {e}")))?;
        Ok(CallWindow {
            compositor,
            out_caps,
            screen: screen_window(pipeline, fullscreen),
            card,
            label,
            sink,
            remote_pad: Mutex::new(None),
            preview_pad: Mutex::new(None),
            preview_marker: Mutex::new(None),
            state: Arc::new(Mutex::new(Labels {
                size,
                fill: fullscreen,
                ..Labels::default()
            })),
        })
    }

    fn request_pad(&self, rect: (u32, u32, u32, u32), zorder: u32) -> Result<gst::Pad, MediaError> {
        let pad = self
            .compositor
            .request_pad_simple("sink_%u")
            .ok_or_else(|| MediaError::Negotiation("compositor gave no pad".into()))?;
        place(&pad, rect);
        pad.set_property("zorder", zorder);
        if pad.find_property("sizing-policy").is_some() {
            pad.set_property_from_str("sizing-policy", "keep-aspect-ratio");
        }
        Ok(pad)
    }

    /// The compositor input for the remote video: placed by [`remote_rect`]
    /// on each caps event (each remote resolution).
    pub(crate) fn remote_input(&self) -> Result<gst::Pad, MediaError> {
        let pad = self.request_pad(remote_rect(self.size(), None), 1)?;
        let state = Arc::downgrade(&self.state);
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |pad, info| {
            let Some(gst::EventView::Caps(c)) = info.event().map(|e| e.view()) else {
                return gst::PadProbeReturn::Ok;
            };
            let Ok(v) = gst_video::VideoInfo::from_caps(c.caps()) else {
                return gst::PadProbeReturn::Ok;
            };
            let Some(state) = state.upgrade() else {
                return gst::PadProbeReturn::Ok;
            };
            let Ok(mut s) = state.lock() else {
                return gst::PadProbeReturn::Ok;
            };
            s.remote_size = Some((v.width(), v.height()));
            place(pad, remote_rect(s.size, s.remote_to_place()));
            gst::PadProbeReturn::Ok
        });
        if let Ok(mut g) = self.remote_pad.lock() {
            *g = Some(pad.clone());
        }
        self.apply();
        Ok(pad)
    }

    /// The peer's name (drawn with the call time, and in the title) and the
    /// card shown until remote video arrives.
    pub(crate) fn set_labels(&self, peer: &str, card: Option<&str>) {
        let retitle = match self.state.lock() {
            Ok(mut s) => {
                let retitle = s.peer != peer;
                s.peer = peer.to_string();
                s.card = card.map(str::to_string);
                retitle
            }
            Err(_) => true,
        };
        // The title is a serialized event: it waits for the frame being
        // shown (the caller's thread with it), so only when it changes.
        if retitle {
            set_title(&self.sink, &format!("duet — {peer}"));
        }
        self.apply();
        self.tick();
    }

    /// An element message of the session's pipeline (its bus has its own
    /// sync handler): the sink's X window, for fullscreen.
    pub(crate) fn on_element_message(&self, msg: &gst::Message) {
        crate::x11_window::on_element_message(msg, WINDOW_SINK, &self.screen);
    }

    pub(crate) fn on_first_remote_video(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.remote_video = true;
        }
        self.apply();
    }

    pub(crate) fn on_connected(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.connected_at.get_or_insert_with(Instant::now);
        }
    }

    pub(crate) fn set_remote_video_muted(&self, muted: bool) {
        if let Ok(mut s) = self.state.lock() {
            s.remote_muted = muted;
        }
        self.apply();
    }

    /// Updates the card and the remote picture's visibility.
    fn apply(&self) {
        let Ok(s) = self.state.lock() else { return };
        let card = if s.remote_muted {
            format!("{}'s camera is off", s.peer)
        } else if s.remote_video {
            String::new()
        } else {
            s.card.clone().unwrap_or_default()
        };
        self.card.set_property("text", card.as_str());
        let pad = self.remote_pad.lock().ok().and_then(|g| g.clone());
        if let Some(pad) = pad {
            pad.set_property("alpha", if s.remote_muted { 0.0f64 } else { 1.0 });
        }
    }

    /// Redraws "name  mm:ss" (call time since connected); called every second.
    pub(crate) fn tick(&self) {
        let Ok(s) = self.state.lock() else { return };
        let text = match s.connected_at {
            Some(at) => {
                let t = at.elapsed().as_secs();
                format!("{}  {:02}:{:02}", s.peer, t / 60, t % 60)
            }
            None => s.peer.clone(),
        };
        self.label.set_property("text", text.as_str());
    }

    fn size(&self) -> (u32, u32) {
        let window = (WINDOW_WIDTH, WINDOW_HEIGHT);
        self.state.lock().map(|s| s.size).unwrap_or(window)
    }

    /// The `f` key: enters or leaves fullscreen and composes the picture
    /// at the new size (remote video filling it, preview in its corner).
    pub(crate) fn toggle_fullscreen(&self) {
        let size = match self.screen.set_fullscreen(!self.screen.is_fullscreen()) {
            Ok(size) => size,
            Err(e) => return tracing::warn!("fullscreen: {e}"),
        };
        let remote_size = match self.state.lock() {
            Ok(mut s) => {
                s.size = size;
                s.fill = self.screen.is_fullscreen();
                s.remote_to_place()
            }
            Err(_) => None,
        };
        let rects = [
            (&self.remote_pad, remote_rect(size, remote_size)),
            (&self.preview_pad, preview_rect(size)),
        ];
        for (pad, rect) in rects {
            if let Some(pad) = pad.lock().ok().and_then(|g| g.clone()) {
                place(&pad, rect);
            }
        }
        self.out_caps.set_property("caps", picture_caps(size));
    }

    pub(crate) fn sink(&self) -> &gst::Element {
        &self.sink
    }
}

mod frame;
mod layout;
mod on_time;
mod parts;
mod preview;
mod spare;
mod stamps;
#[cfg(test)]
mod tests;
mod to_bgrx;

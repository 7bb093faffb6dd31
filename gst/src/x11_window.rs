//! Fullscreen and a hidden cursor for the X windows ximagesink opens (the
//! call window and the ringing card). ximagesink has no fullscreen
//! property, but it tells which X window it made: it posts the
//! `have-window-handle` element message (GstVideoOverlay) with the window
//! id. With that id this module talks to the X server itself (x11rb, its
//! own connection per request):
//!
//! - with an EWMH window manager (the root has `_NET_SUPPORTING_WM_CHECK`)
//!   it asks the manager by the `_NET_WM_STATE` client message
//!   (`_NET_WM_STATE_FULLSCREEN` add/remove) sent to the root window;
//! - without one (kiosks, Xvfb) it moves and resizes the window over the
//!   whole root itself and restores the old geometry when leaving.
//!
//! ximagesink does not scale: it shows its caps' size, centred. So the
//! owner composes at the size [`ScreenWindow::set_fullscreen`] returns.
//! The hidden cursor (`--display fullscreen`) is an empty 1x1 pixmap
//! cursor set as the window's cursor attribute, its connection kept open
//! while the window lives (a cursor whose owner left makes XFixes
//! GetCursorImage fail with BadAccess on Xvfb).

use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::{Arc, Mutex};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ClientMessageEvent, ConfigureWindowAux,
    ConnectionExt as _, CreateGCAux, EventMask, Rectangle, StackMode,
};
use x11rb::rust_connection::RustConnection;

/// An X request that failed (no server, the window is gone, ...).
#[derive(Debug, thiserror::Error)]
#[error("X11: {0}")]
pub struct X11Error(String);

fn x11<E: std::fmt::Display>(e: E) -> X11Error {
    X11Error(e.to_string())
}

/// A window's place on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub x: i16,
    pub y: i16,
    pub width: u16,
    pub height: u16,
}

/// The X side of one window: which display, which window (once
/// ximagesink made it), whether it is (to be) fullscreen, whether the
/// cursor is hidden over it.
#[derive(Debug)]
pub(crate) struct ScreenWindow {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    display: Option<String>,
    window: Option<u32>,
    fullscreen: bool,
    hide_cursor: bool,
    /// The geometry to restore when leaving fullscreen without a manager.
    windowed: Geometry,
    /// The connection owning the invisible cursor: kept open while the
    /// window lives, so the cursor stays a live resource.
    cursor_owner: Option<RustConnection>,
}

fn connect(display: Option<&str>) -> Result<(RustConnection, usize), X11Error> {
    x11rb::connect(display).map_err(x11)
}

/// The size of the default screen of `display` (`None`: `$DISPLAY`).
pub(crate) fn screen_size(display: Option<&str>) -> Result<(u32, u32), X11Error> {
    let (conn, n) = connect(display)?;
    let s = conn
        .setup()
        .roots
        .get(n)
        .ok_or_else(|| X11Error("no such screen".into()))?;
    Ok((s.width_in_pixels.into(), s.height_in_pixels.into()))
}

impl ScreenWindow {
    /// `windowed` is the size of the window when not fullscreen.
    pub(crate) fn new(windowed: (u32, u32), fullscreen: bool, hide_cursor: bool) -> Arc<Self> {
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        Arc::new(ScreenWindow {
            state: Mutex::new(State {
                display: None,
                window: None,
                fullscreen,
                hide_cursor,
                windowed: Geometry {
                    x: 0,
                    y: 0,
                    width: clamp(windowed.0),
                    height: clamp(windowed.1),
                },
                cursor_owner: None,
            }),
        })
    }

    pub(crate) fn is_fullscreen(&self) -> bool {
        self.state.lock().map(|s| s.fullscreen).unwrap_or(false)
    }

    /// The X display (`None`: `$DISPLAY`), as the sink's `display`.
    pub(crate) fn set_display(&self, display: Option<String>) {
        if let Ok(mut s) = self.state.lock() {
            s.display = display;
        }
    }

    /// ximagesink made its window: applies what was asked before.
    pub(crate) fn on_window(&self, id: u32) {
        let Ok(mut s) = self.state.lock() else { return };
        s.window = Some(id);
        let result = (|| {
            if s.hide_cursor {
                s.cursor_owner = Some(hide_cursor(s.display.as_deref(), id)?);
            }
            if s.fullscreen {
                apply(&mut s, true)?;
            }
            Ok::<_, X11Error>(())
        })();
        if let Err(e) = result {
            tracing::warn!("call window: {e}");
        }
    }

    /// Enters or leaves fullscreen; returns the size to compose at (the
    /// screen's, or the window's). Before the window exists, only records
    /// the wish.
    pub(crate) fn set_fullscreen(&self, on: bool) -> Result<(u32, u32), X11Error> {
        let mut s = self
            .state
            .lock()
            .map_err(|_| X11Error("poisoned state".into()))?;
        let size = if on {
            screen_size(s.display.as_deref())?
        } else {
            (s.windowed.width.into(), s.windowed.height.into())
        };
        if s.window.is_some() && s.fullscreen != on {
            apply(&mut s, on)?;
        }
        s.fullscreen = on;
        Ok(size)
    }
}

/// Whether an EWMH window manager runs on the screen of `root`.
fn has_window_manager(conn: &RustConnection, root: u32) -> Result<bool, X11Error> {
    let check = atom(conn, b"_NET_SUPPORTING_WM_CHECK")?;
    let p = conn
        .get_property(false, root, check, AtomEnum::WINDOW, 0, 1)
        .map_err(x11)?
        .reply()
        .map_err(x11)?;
    Ok(p.value_len > 0)
}

fn atom(conn: &RustConnection, name: &[u8]) -> Result<u32, X11Error> {
    Ok(conn
        .intern_atom(false, name)
        .map_err(x11)?
        .reply()
        .map_err(x11)?
        .atom)
}

fn apply(s: &mut State, on: bool) -> Result<(), X11Error> {
    let Some(win) = s.window else { return Ok(()) };
    let (conn, n) = connect(s.display.as_deref())?;
    let screen = conn
        .setup()
        .roots
        .get(n)
        .ok_or_else(|| X11Error("no such screen".into()))?;
    let root = screen.root;
    let full = Geometry {
        x: 0,
        y: 0,
        width: screen.width_in_pixels,
        height: screen.height_in_pixels,
    };
    if has_window_manager(&conn, root)? {
        let state = atom(&conn, b"_NET_WM_STATE")?;
        let fullscreen = atom(&conn, b"_NET_WM_STATE_FULLSCREEN")?;
        // data: action (1 add, 0 remove), property, none, source (1: an application).
        let ev = ClientMessageEvent::new(32, win, state, [u32::from(on), fullscreen, 0, 1, 0]);
        let mask = EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY;
        conn.send_event(false, root, mask, ev).map_err(x11)?;
    } else {
        let target = if on {
            let g = conn.get_geometry(win).map_err(x11)?.reply().map_err(x11)?;
            if (g.width, g.height) != (full.width, full.height) {
                s.windowed = Geometry {
                    x: g.x,
                    y: g.y,
                    width: g.width,
                    height: g.height,
                };
            }
            full
        } else {
            s.windowed
        };
        let aux = ConfigureWindowAux::new()
            .x(i32::from(target.x))
            .y(i32::from(target.y))
            .width(u32::from(target.width))
            .height(u32::from(target.height))
            .stack_mode(StackMode::ABOVE);
        conn.configure_window(win, &aux).map_err(x11)?;
    }
    round_trip(&conn)
}

/// Waits until the server handled every request sent so far.
fn round_trip(conn: &RustConnection) -> Result<(), X11Error> {
    conn.get_input_focus().map_err(x11)?.reply().map_err(x11)?;
    Ok(())
}

/// Sets an invisible cursor (a 1x1 pixmap with an empty mask) on `win`;
/// returns the connection that owns it.
fn hide_cursor(display: Option<&str>, win: u32) -> Result<RustConnection, X11Error> {
    let (conn, _) = connect(display)?;
    let pixmap = conn.generate_id().map_err(x11)?;
    conn.create_pixmap(1, pixmap, win, 1, 1).map_err(x11)?;
    let gc = conn.generate_id().map_err(x11)?;
    conn.create_gc(gc, pixmap, &CreateGCAux::new().foreground(0))
        .map_err(x11)?;
    let dot = Rectangle {
        x: 0,
        y: 0,
        width: 1,
        height: 1,
    };
    conn.poly_fill_rectangle(pixmap, gc, &[dot]).map_err(x11)?;
    let cursor = conn.generate_id().map_err(x11)?;
    conn.create_cursor(cursor, pixmap, pixmap, 0, 0, 0, 0, 0, 0, 0, 0)
        .map_err(x11)?;
    conn.change_window_attributes(win, &ChangeWindowAttributesAux::new().cursor(cursor))
        .map_err(x11)?;
    conn.free_gc(gc).map_err(x11)?;
    conn.free_pixmap(pixmap).map_err(x11)?;
    round_trip(&conn)?;
    Ok(conn)
}

/// Follows the X window of `pipeline`'s sink named `sink_name` (its
/// `have-window-handle` message) for `window`, through the bus's
/// `sync-message` signal. A pipeline whose bus has a sync handler of its own
/// (the call session's) passes its element messages to
/// [`on_element_message`] instead: a bus has one sync handler.
pub(crate) fn watch_window(pipeline: &gst::Pipeline, sink_name: &str, window: Arc<ScreenWindow>) {
    let Some(bus) = pipeline.bus() else { return };
    bus.enable_sync_message_emission();
    let sink_name = sink_name.to_string();
    bus.connect_sync_message(Some("element"), move |_, msg| {
        on_element_message(msg, &sink_name, &window);
    });
}

/// An element message from a pipeline: `have-window-handle` from the sink
/// named `sink_name` gives `window` its X window.
pub(crate) fn on_element_message(msg: &gst::Message, sink_name: &str, window: &ScreenWindow) {
    let gst::MessageView::Element(e) = msg.view() else {
        return;
    };
    let from_sink = msg.src().is_some_and(|s| s.name() == sink_name);
    let Some(st) = e.structure().filter(|_| from_sink) else {
        return;
    };
    if st.name() != "have-window-handle" {
        return;
    }
    if let Some(src) = msg.src().and_then(|s| s.downcast_ref::<gst::Element>()) {
        if src.find_property("display").is_some() {
            window.set_display(src.property::<Option<String>>("display"));
        }
    }
    match st.get::<u64>("window-handle").map(u32::try_from) {
        Ok(Ok(id)) => window.on_window(id),
        _ => tracing::warn!("call window: unreadable window handle"),
    }
}

//! The call window's building blocks, shared with the ringing card
//! ([`crate::RingingWindow`]): the black live source, the text overlays,
//! the X sink that reports keys, and the window title.

use super::picture_caps;
use crate::elements::make;
use crate::events::{MediaEvent, WindowKey};
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;

pub(super) fn set_str(e: &gst::Element, prop: &str, value: &str) {
    if e.find_property(prop).is_some() {
        e.set_property_from_str(prop, value);
    }
}

pub(super) fn text_overlay(
    name: &str,
    font: &str,
    valign: &str,
    halign: &str,
) -> Result<gst::Element, MediaError> {
    let t = make("textoverlay", Some(name))?;
    t.set_property("font-desc", font);
    set_str(&t, "valignment", valign);
    set_str(&t, "halignment", halign);
    t.set_property("shaded-background", true);
    t.set_property("text", "");
    Ok(t)
}

/// A live black picture of `width`x`height` at the window's frame rate.
pub(crate) fn black_source(width: u32, height: u32) -> Result<[gst::Element; 2], MediaError> {
    let src = make("videotestsrc", None)?;
    src.set_property("is-live", true);
    set_str(&src, "pattern", "black");
    let caps = make("capsfilter", None)?;
    caps.set_property("caps", picture_caps((width, height)));
    Ok([src, caps])
}

/// The window's X sink ([`super::spare::new_sink`]), keys caught on its
/// pad and sent as [`MediaEvent::Key`].
pub(crate) fn window_sink(events: crate::events::Events) -> Result<gst::Element, MediaError> {
    Ok(with_keys(super::spare::new_sink()?, events))
}

/// `sink` with its keys sent as [`MediaEvent::Key`].
pub(super) fn with_keys(sink: gst::Element, events: crate::events::Events) -> gst::Element {
    if let Some(pad) = sink.static_pad("sink") {
        pad.add_probe(gst::PadProbeType::EVENT_UPSTREAM, move |_, info| {
            if let Some(ev) = info.event() {
                if let Ok(gst_video::NavigationEvent::KeyPress { key, .. }) =
                    gst_video::NavigationEvent::parse(ev)
                {
                    if let Some(k) = WindowKey::from_key_name(&key) {
                        events.send(MediaEvent::Key(k));
                    }
                }
            }
            gst::PadProbeReturn::Ok
        });
    }
    sink
}

/// Sets the X window's title (ximagesink takes it from a title tag).
/// ximagesink appends " : <program name>" when GLib knows one; the title
/// is exactly `title` without it.
pub(crate) fn set_title(sink: &gst::Element, title: &str) {
    gst::glib::set_prgname(None::<&str>);
    let mut tags = gst::TagList::new();
    if let Some(t) = tags.get_mut() {
        t.add::<gst::tags::Title>(&title, gst::TagMergeMode::Replace);
    }
    if let Some(pad) = sink.static_pad("sink") {
        let _ = pad.send_event(gst::event::Tag::new(tags));
    }
}

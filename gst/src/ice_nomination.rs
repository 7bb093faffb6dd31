//! Aggressive ICE nomination, so that media starts on the first working pair.
//!
//! webrtcbin 1.22 makes its libnice agent with *regular* nomination. The
//! controlling agent (the caller) then checks a pair, waits for the
//! answer, and only at a later tick of its pacing timer (Ta, 5 ms here)
//! sends the check again with USE-CANDIDATE; libnice reports the
//! component connected, and DTLS may start, only once that second check is
//! answered. Traced on a LAN: the nominating check left 10–14 ms (two to
//! three ticks) after the first check had succeeded, a fifth of the time
//! from `duet answer` to the first frame.
//!
//! With *aggressive* nomination (RFC 5245 8.1.1.2) every check of the
//! controlling agent carries USE-CANDIDATE: the first pair that works is
//! nominated by the check that proves it, with no extra packet and no
//! extra tick. If a better pair succeeds later, libnice moves to it (the
//! highest-priority nominated pair is the selected one). Browsers accept
//! either kind of nomination from their peer, and a controlled agent
//! behaves the same in both modes.
//!
//! libnice takes the mode as a construct-only property, which webrtcbin
//! does not let us pass, and GObject refuses to set such a property
//! afterwards. libnice itself switches the mode on a live agent (to
//! regular, when a TCP candidate arrives before any check), and reads it
//! only when it sends or answers a check. So we set it through the class's
//! own `set_property`, on the fresh agent, before any stream or check
//! exists: the agent is then exactly one constructed with the option.

use gstreamer::glib;
use gstreamer::glib::prelude::*;
use gstreamer::glib::translate::ToGlibPtr;

/// The nick of libnice's `NICE_NOMINATION_MODE_AGGRESSIVE`.
const AGGRESSIVE: &str = "aggressive";

/// Why the mode could not be set (the agent then keeps regular nomination,
/// which only costs time).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum NominationError {
    #[error("the ICE agent has no nomination-mode property (not libnice?)")]
    NoProperty,
    #[error("the ICE agent's nomination-mode has no \"{AGGRESSIVE}\" value")]
    NoAggressiveValue,
    #[error("the ICE agent's class has no set_property")]
    NoSetter,
    #[error("the ICE agent kept nomination-mode {0:?}")]
    NotApplied(String),
}

/// The nick of the agent's current nomination mode.
pub(crate) fn mode(agent: &glib::Object) -> Option<String> {
    agent.find_property("nomination-mode")?;
    let value = agent.property_value("nomination-mode");
    glib::EnumValue::from_value(&value).map(|(_, v)| v.nick().to_string())
}

/// Switches a fresh libnice agent (no stream yet) to aggressive nomination.
pub(crate) fn make_aggressive(agent: &glib::Object) -> Result<(), NominationError> {
    let pspec = agent
        .find_property("nomination-mode")
        .ok_or(NominationError::NoProperty)?;
    if mode(agent).as_deref() == Some(AGGRESSIVE) {
        return Ok(());
    }
    let value = glib::EnumClass::with_type(pspec.value_type())
        .and_then(|class| class.to_value_by_nick(AGGRESSIVE))
        .ok_or(NominationError::NoAggressiveValue)?;
    let pspec_ptr: *mut glib::gobject_ffi::GParamSpec = pspec.to_glib_none().0;
    // SAFETY: `pspec` is a live property of `agent`'s class (found on it
    // just above and held for this call), so its owner class is loaded and
    // its `set_property` takes the object, this spec's id, a GValue of the
    // spec's type (`value`, built from the spec's enum type) and the spec:
    // the very call `g_object_set_property` makes, minus its
    // construct-only guard (see the module docs for why that is sound
    // here). Nothing is retained past the call.
    #[allow(unsafe_code)]
    let applied = unsafe {
        let class = glib::gobject_ffi::g_type_class_peek((*pspec_ptr).owner_type)
            as *mut glib::gobject_ffi::GObjectClass;
        match class.as_ref().and_then(|c| c.set_property) {
            Some(set) => {
                set(
                    agent.as_ptr(),
                    (*pspec_ptr).param_id,
                    value.to_glib_none().0 as *mut glib::gobject_ffi::GValue,
                    pspec_ptr,
                );
                true
            }
            None => false,
        }
    };
    if !applied {
        return Err(NominationError::NoSetter);
    }
    match mode(agent) {
        Some(m) if m == AGGRESSIVE => Ok(()),
        other => Err(NominationError::NotApplied(other.unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use gstreamer as gst;

    /// webrtcbin's own libnice agent, as the media session finds it.
    fn nice_agent(webrtc: &gst::Element) -> glib::Object {
        let ice = webrtc.property::<glib::Object>("ice-agent");
        ice.property::<glib::Object>("agent")
    }

    #[test]
    fn webrtcbins_agent_turns_aggressive() {
        gst::init().unwrap();
        let webrtc = gst::ElementFactory::make("webrtcbin").build().unwrap();
        let agent = nice_agent(&webrtc);
        assert_eq!(mode(&agent).as_deref(), Some("regular"), "1.22's default");
        make_aggressive(&agent).unwrap();
        assert_eq!(mode(&agent).as_deref(), Some(AGGRESSIVE));
        // Twice is fine.
        make_aggressive(&agent).unwrap();
        assert_eq!(mode(&agent).as_deref(), Some(AGGRESSIVE));
    }

    #[test]
    fn an_object_without_the_property_is_refused() {
        gst::init().unwrap();
        let queue = gst::ElementFactory::make("queue").build().unwrap();
        assert_eq!(
            make_aggressive(queue.upcast_ref()),
            Err(NominationError::NoProperty)
        );
    }
}

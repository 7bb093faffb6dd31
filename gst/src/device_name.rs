//! Audio device strings, without GStreamer: `--speaker`'s [`Speaker`] and
//! the mapping of a device string to its element factory. Below both the
//! configuration (which holds a [`Speaker`]) and [`crate::elements`] (which
//! lists the factory a device needs); [`crate::audio_device`] makes the
//! elements and re-exports these names.

use crate::MediaError;
use std::str::FromStr;

/// Where remote sound is played (with [`Display::Window`]; headless
/// sessions never play sound).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Speaker {
    /// The system's default output (`autoaudiosink`).
    #[default]
    Auto,
    /// Do not play remote sound (it is still received and counted).
    None,
    /// An ALSA device (`hw:0,0`) or `pulse:NAME`, as `duet devices` lists it.
    Device(String),
}

impl FromStr for Speaker {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, MediaError> {
        match s {
            "auto" => Ok(Speaker::Auto),
            "none" | "off" => Ok(Speaker::None),
            "" => Err(MediaError::InvalidConfig("empty speaker device".into())),
            dev => Ok(Speaker::Device(dev.to_string())),
        }
    }
}

/// Prefix of PulseAudio device strings.
pub const PULSE_PREFIX: &str = "pulse:";

/// The element factory for `device` (input or output) and the value of
/// its `device` property.
pub fn device_factory(device: &str, output: bool) -> (&'static str, &str) {
    match (device.strip_prefix(PULSE_PREFIX), output) {
        (Some(name), false) => ("pulsesrc", name),
        (Some(name), true) => ("pulsesink", name),
        (None, false) => ("alsasrc", device),
        (None, true) => ("alsasink", device),
    }
}

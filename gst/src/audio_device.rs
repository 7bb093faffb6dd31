//! Audio device strings and the audio output element.
//!
//! `--audio` and `--speaker` take one device string: an ALSA device
//! (`hw:1,0`, `plughw:CARD=Mic`, `default`) or `pulse:NAME` for a
//! PulseAudio (or PipeWire-pulse) device, exactly as `duet devices` prints
//! it. This module maps such a string to its element, and chooses the one
//! element that plays remote sound.

use crate::config::{Display, MediaConfig};
pub use crate::device_name::{device_factory, Speaker, PULSE_PREFIX};
use crate::elements::make;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;

/// Makes the element for `device` (named `name`, if given).
pub(crate) fn device_element(
    device: &str,
    output: bool,
    name: Option<&str>,
) -> Result<gst::Element, MediaError> {
    let (factory, value) = device_factory(device, output);
    let e = make(factory, name)?;
    e.set_property("device", value);
    Ok(e)
}

/// The element that plays (or, headless or `--speaker none`, only counts)
/// remote sound.
pub(crate) fn audio_output(config: &MediaConfig) -> Result<gst::Element, MediaError> {
    const NAME: &str = "remote-audio-sink";
    match (config.display, &config.speaker) {
        (Display::Headless, _) | (_, Speaker::None) => make("fakesink", Some(NAME)),
        (Display::Window | Display::Fullscreen, Speaker::Auto) => make("autoaudiosink", Some(NAME)),
        (Display::Window | Display::Fullscreen, Speaker::Device(d)) => {
            device_element(d, true, Some(NAME))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn output(display: Display, speaker: Speaker) -> (String, Option<String>) {
        crate::init().unwrap();
        let config = MediaConfig {
            display,
            speaker,
            ..MediaConfig::test()
        };
        let e = audio_output(&config).unwrap();
        assert_eq!(e.name(), "remote-audio-sink");
        let factory = e.factory().unwrap().name().to_string();
        let device = e
            .find_property("device")
            .map(|_| e.property::<Option<String>>("device").unwrap_or_default());
        (factory, device)
    }

    #[test]
    fn the_speaker_choice_picks_the_output_element() {
        let fake = ("fakesink".to_string(), None);
        assert_eq!(output(Display::Headless, Speaker::Auto), fake);
        assert_eq!(
            output(Display::Headless, Speaker::Device("hw:0,0".into())),
            fake
        );
        assert_eq!(output(Display::Window, Speaker::None), fake);
        assert_eq!(output(Display::Window, Speaker::Auto).0, "autoaudiosink");
        assert_eq!(
            output(Display::Window, Speaker::Device("hw:3,0".into())),
            ("alsasink".into(), Some("hw:3,0".into()))
        );
        assert_eq!(
            output(Display::Window, Speaker::Device("pulse:out".into())),
            ("pulsesink".into(), Some("out".into()))
        );
    }

    #[test]
    fn device_strings_pick_alsa_or_pulse() {
        assert_eq!(device_factory("hw:1,0", false), ("alsasrc", "hw:1,0"));
        assert_eq!(device_factory("default", true), ("alsasink", "default"));
        assert_eq!(
            device_factory("pulse:alsa_output.pci.analog-stereo", true),
            ("pulsesink", "alsa_output.pci.analog-stereo")
        );
        assert_eq!(device_factory("pulse:mic", false), ("pulsesrc", "mic"));
    }
}

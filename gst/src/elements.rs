//! Which GStreamer elements a session needs and which Debian package has them.
//!
//! A missing plugin otherwise shows up late and misleadingly (without
//! `gstreamer1.0-nice`, webrtcbin fails with a caps link error), so the node
//! checks at start and tells the user what to install.

use crate::config::{AudioSource, MediaConfig, Speaker, VideoCodec, VideoSource};
use crate::device_name::device_factory;
use crate::MediaError;
use gstreamer as gst;

/// The Debian package that provides `element`, when known.
pub fn package_of(element: &str) -> Option<&'static str> {
    Some(match element {
        "nicesrc" | "nicesink" => "gstreamer1.0-nice",
        "webrtcbin" | "dtlsenc" | "dtlsdec" | "srtpenc" | "srtpdec" => "gstreamer1.0-plugins-bad",
        "vp8enc" | "vp8dec" | "rtpvp8pay" | "rtpvp8depay" | "rtpopuspay" | "rtpopusdepay"
        | "rtph264pay" | "rtph264depay" | "rtpbin" | "v4l2src" | "autovideosrc"
        | "autoaudiosrc" | "autovideosink" | "autoaudiosink" | "pulsesrc" | "pulsesink"
        | "videobox" => "gstreamer1.0-plugins-good",
        "opusenc" | "opusdec" | "videotestsrc" | "audiotestsrc" | "videoconvert" | "videoscale"
        | "videorate" | "audioconvert" | "audioresample" | "volume" | "compositor" => {
            "gstreamer1.0-plugins-base"
        }
        "x264enc" => "gstreamer1.0-plugins-ugly",
        "avdec_h264" => "gstreamer1.0-libav",
        "ximagesink" | "xvimagesink" | "textoverlay" => "gstreamer1.0-x",
        "glimagesink" => "gstreamer1.0-gl",
        "alsasrc" | "alsasink" => "gstreamer1.0-alsa",
        "fakesink" | "queue" | "tee" | "capsfilter" => "libgstreamer1.0-0",
        _ => return None,
    })
}

/// Checks that the element factory `name` exists; the error names the
/// package to install.
pub fn require_element(name: &str) -> Result<(), MediaError> {
    if gst::ElementFactory::find(name).is_some() {
        return Ok(());
    }
    Err(missing_element(name))
}

/// The error for a missing element `name`, naming its package when known.
pub fn missing_element(name: &str) -> MediaError {
    MediaError::MissingElement {
        element: name.to_string(),
        package: package_of(name)
            .unwrap_or(
                "that provides it (unknown to Duet; try `gst-inspect-1.0` / `apt-file search`)",
            )
            .to_string(),
    }
}

/// Every element `config` will use.
pub fn elements_for(config: &MediaConfig) -> Vec<&'static str> {
    let mut v = vec![
        "webrtcbin",
        "nicesrc",
        "nicesink",
        "dtlsenc",
        "dtlsdec",
        "srtpenc",
        "srtpdec",
        "rtpbin",
        "queue",
        "capsfilter",
        "videoconvert",
        "audioconvert",
        "audioresample",
        "volume",
        "opusenc",
        "opusdec",
        "rtpopuspay",
        "rtpopusdepay",
        "fakesink",
    ];
    v.extend(match config.codec {
        VideoCodec::Vp8 => ["vp8enc", "vp8dec", "rtpvp8pay", "rtpvp8depay"],
        VideoCodec::H264 => ["x264enc", "avdec_h264", "rtph264pay", "rtph264depay"],
    });
    match config.video {
        VideoSource::Test | VideoSource::TestPattern(_) => v.push("videotestsrc"),
        VideoSource::Auto => v.extend(["autovideosrc", "videoscale", "videorate"]),
        VideoSource::Device(_) => v.extend(["v4l2src", "videoscale", "videorate"]),
        VideoSource::None => {}
    }
    match config.audio {
        AudioSource::Test => v.push("audiotestsrc"),
        AudioSource::Auto => v.push("autoaudiosrc"),
        AudioSource::Device(ref d) => v.push(device_factory(d, false).0),
        AudioSource::None => {}
    }
    if config.display.is_windowed() {
        v.extend([
            "ximagesink",
            "tee",
            "compositor",
            "textoverlay",
            "audiotestsrc",
        ]);
        match config.speaker {
            Speaker::Auto => v.push("autoaudiosink"),
            Speaker::Device(ref d) => v.push(device_factory(d, true).0),
            Speaker::None => {}
        }
    }
    v
}

/// Checks every element `config` needs (H.264 ones only when H.264 is used).
pub fn check_elements(config: &MediaConfig) -> Result<(), MediaError> {
    elements_for(config)
        .into_iter()
        .try_for_each(require_element)
}

/// Makes an element, naming the package when the factory is missing.
pub(crate) fn make(factory: &str, name: Option<&str>) -> Result<gst::Element, MediaError> {
    require_element(factory)?;
    let mut b = gst::ElementFactory::make(factory);
    if let Some(n) = name {
        b = b.name(n);
    }
    b.build()
        .map_err(|_| MediaError::ElementCreation(factory.to_string()))
}

/// Initialises GStreamer and checks the elements every session needs
/// (webrtcbin, libnice, VP8, Opus). Idempotent and cheap after the first call.
pub fn init() -> Result<(), MediaError> {
    gst::init().map_err(|e| MediaError::Init(e.to_string()))?;
    [
        "webrtcbin",
        "nicesrc",
        "nicesink",
        "vp8enc",
        "vp8dec",
        "opusenc",
        "opusdec",
    ]
    .into_iter()
    .try_for_each(require_element)
}

/// Loads and initialises the plugins a call with `config` uses (the same
/// list [`check_elements`] checks), so the first call does not pay for it
/// (~200 ms here). Blocking: call it once at start, off the async runtime.
pub fn warm_up(config: &MediaConfig) {
    use gstreamer::prelude::*;
    if gst::init().is_err() {
        return;
    }
    let _ = crate::dtls_cert::get();
    for name in elements_for(config) {
        if let Some(f) = gst::ElementFactory::find(name) {
            // Loading the feature loads the plugin; making one initialises it.
            let _ = f.load().ok().and_then(|f| f.create().build().ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Display;

    #[test]
    fn h264_elements_only_when_h264() {
        let vp8 = elements_for(&MediaConfig::test());
        assert!(vp8.contains(&"vp8enc") && !vp8.contains(&"x264enc"));
        let h264 = elements_for(&MediaConfig {
            codec: VideoCodec::H264,
            ..MediaConfig::test()
        });
        assert!(
            h264.contains(&"x264enc") && h264.contains(&"avdec_h264") && !h264.contains(&"vp8enc")
        );
    }

    #[test]
    fn device_strings_choose_alsa_or_pulse_elements() {
        let c = MediaConfig {
            audio: AudioSource::Device("pulse:mic".into()),
            speaker: Speaker::Device("hw:0,0".into()),
            display: Display::Window,
            ..MediaConfig::test()
        };
        let v = elements_for(&c);
        assert!(v.contains(&"pulsesrc") && v.contains(&"alsasink"), "{v:?}");
        assert!(!v.contains(&"autoaudiosink") && !v.contains(&"alsasrc"));
        let quiet = elements_for(&MediaConfig {
            speaker: Speaker::None,
            display: Display::Window,
            ..MediaConfig::test()
        });
        assert!(!quiet.iter().any(|e| e.contains("audiosink")), "{quiet:?}");
        for e in v {
            assert!(package_of(e).is_some(), "{e} has no package");
        }
    }

    #[test]
    fn packages_are_known_for_required_elements() {
        assert_eq!(package_of("nicesrc"), Some("gstreamer1.0-nice"));
        assert_eq!(package_of("webrtcbin"), Some("gstreamer1.0-plugins-bad"));
        assert_eq!(package_of("x264enc"), Some("gstreamer1.0-plugins-ugly"));
        assert_eq!(package_of("avdec_h264"), Some("gstreamer1.0-libav"));
        for cfg in [
            MediaConfig::default(),
            MediaConfig {
                codec: VideoCodec::H264,
                ..MediaConfig::test()
            },
        ] {
            for e in elements_for(&cfg) {
                assert!(package_of(e).is_some(), "{e} has no package");
            }
        }
    }
}

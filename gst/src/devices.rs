//! The cameras, microphones and speakers of this machine, as GStreamer's
//! DeviceMonitor finds them, with the string `--video`, `--audio` and
//! `--speaker` take for each (`duet devices`); and the start-up check that
//! the devices a user named exist and open, so a typo fails at `duet up`
//! rather than at the first call.

use crate::audio_device::device_element;
use crate::config::{AudioSource, MediaConfig, Speaker, VideoSource};
use crate::device_name::PULSE_PREFIX;
use crate::elements::make;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use serde::Serialize;

/// What a device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    Camera,
    Microphone,
    Speaker,
}

/// One device, as `duet devices --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    pub kind: DeviceKind,
    /// The name the system gives it, for people.
    pub name: String,
    /// What `--video` (camera), `--audio` (microphone) or `--speaker`
    /// (speaker) accept: a V4L2 path, an ALSA device or `pulse:NAME`.
    pub device: String,
    /// A short summary of its formats, e.g. `video/x-raw, image/jpeg; up to 1280x720`.
    pub caps: String,
}

const CLASSES: [(&str, DeviceKind); 3] = [
    ("Video/Source", DeviceKind::Camera),
    ("Audio/Source", DeviceKind::Microphone),
    ("Audio/Sink", DeviceKind::Speaker),
];

/// Lists the devices found now. None found is an empty list, not an error.
pub fn list_devices() -> Result<Vec<DeviceInfo>, MediaError> {
    gst::init().map_err(|e| MediaError::Init(e.to_string()))?;
    let monitor = gst::DeviceMonitor::new();
    for (class, _) in CLASSES {
        let _ = monitor.add_filter(Some(class), None);
    }
    if let Err(e) = monitor.start() {
        // No device provider could start: nothing to list.
        tracing::debug!("device monitor: {e}");
        return Ok(Vec::new());
    }
    let found: Vec<gst::Device> = monitor.devices().into_iter().collect();
    monitor.stop();
    let mut list: Vec<DeviceInfo> = found.iter().filter_map(describe).collect();
    list.sort_by(|a, b| (a.kind as u8, &a.device).cmp(&(b.kind as u8, &b.device)));
    list.dedup();
    Ok(list)
}

fn describe(dev: &gst::Device) -> Option<DeviceInfo> {
    let class = dev.device_class();
    let kind = CLASSES
        .iter()
        .find(|(c, _)| class.split('/').zip(c.split('/')).all(|(a, b)| a == b))
        .map(|(_, k)| *k)?;
    let element = dev.create_element(None).ok()?;
    let factory = element.factory().map(|f| f.name().to_string())?;
    let value = element
        .find_property("device")
        .and_then(|_| element.property_value("device").get::<String>().ok())
        .filter(|v| !v.is_empty());
    let device = match (factory.as_str(), value) {
        ("v4l2src" | "alsasrc" | "alsasink", Some(v)) => v,
        ("pulsesrc" | "pulsesink", Some(v)) => format!("{PULSE_PREFIX}{v}"),
        (other, _) => {
            tracing::debug!("{}: {other} devices cannot be chosen", dev.display_name());
            return None;
        }
    };
    Some(DeviceInfo {
        kind,
        name: dev.display_name().to_string(),
        device,
        caps: dev.caps().map(|c| caps_summary(&c)).unwrap_or_default(),
    })
}

/// "video/x-raw, image/jpeg; up to 1920x1080" or "audio/x-raw; 2 ch; 48000 Hz".
pub fn caps_summary(caps: &gst::CapsRef) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut size: Option<(i32, i32)> = None;
    let (mut channels, mut rate) = (None, None);
    for s in caps.iter() {
        let name = s.name().to_string();
        if !names.contains(&name) {
            names.push(name);
        }
        if let (Some(w), Some(h)) = (max_int(s, "width"), max_int(s, "height")) {
            size = size.max(Some((w, h)));
        }
        channels = channels.max(max_int(s, "channels"));
        rate = rate.max(max_int(s, "rate"));
    }
    let mut parts = vec![names.join(", ")];
    parts.extend(size.map(|(w, h)| format!("up to {w}x{h}")));
    parts.extend(channels.map(|c| format!("{c} ch")));
    parts.extend(rate.map(|r| format!("{r} Hz")));
    parts.join("; ")
}

/// An int field's value, or the top of its range.
fn max_int(s: &gst::StructureRef, field: &str) -> Option<i32> {
    s.get::<i32>(field)
        .ok()
        .or_else(|| s.get::<gst::IntRange<i32>>(field).ok().map(|r| r.max()))
}

/// Checks that the camera, microphone and speaker named in `config` (not
/// `auto`, `test` or `none`) exist and open. Blocking (it opens them).
pub fn check_devices(config: &MediaConfig) -> Result<(), MediaError> {
    crate::init()?;
    if let VideoSource::Device(path) = &config.video {
        let unavailable = |reason: String| MediaError::CameraUnavailable {
            device: path.clone(),
            reason,
        };
        if !std::path::Path::new(path).exists() {
            return Err(unavailable("no such device".into()));
        }
        let src = make("v4l2src", None)?;
        src.set_property("device", path);
        opens(src).map_err(unavailable)?;
    }
    if let AudioSource::Device(d) = &config.audio {
        opens(device_element(d, false, None)?).map_err(|reason| {
            MediaError::MicrophoneUnavailable {
                device: d.clone(),
                reason,
            }
        })?;
    }
    if let Speaker::Device(d) = &config.speaker {
        opens(device_element(d, true, None)?).map_err(|reason| MediaError::SpeakerUnavailable {
            device: d.clone(),
            reason,
        })?;
    }
    Ok(())
}

/// Opens `element` (state READY, which opens a device) in a pipeline of
/// its own and closes it again; the error is the element's own message.
fn opens(element: gst::Element) -> Result<(), String> {
    let pipeline = gst::Pipeline::new();
    pipeline.add(&element).map_err(|e| e.to_string())?;
    let result = pipeline.set_state(gst::State::Ready);
    let message = pipeline
        .bus()
        .and_then(|b| b.pop_filtered(&[gst::MessageType::Error]))
        .and_then(|m| match m.view() {
            gst::MessageView::Error(e) => Some(e.error().to_string().trim_end_matches('.').into()),
            _ => None,
        });
    let _ = pipeline.set_state(gst::State::Null);
    match result {
        Ok(_) => Ok(()),
        Err(_) => Err(message.unwrap_or_else(|| "it cannot be opened".into())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn summary(caps: &str) -> String {
        gst::init().unwrap();
        caps_summary(&caps.parse::<gst::Caps>().unwrap())
    }

    #[test]
    fn caps_are_summarised_shortly() {
        assert_eq!(
            summary(
                "video/x-raw, width=640, height=480; image/jpeg, width=1280, height=720; \
                 video/x-raw, width=[ 1, 1920 ], height=[ 1, 1080 ]"
            ),
            "video/x-raw, image/jpeg; up to 1920x1080"
        );
        assert_eq!(
            summary("audio/x-raw, format=S16LE, rate=48000, channels=2"),
            "audio/x-raw; 2 ch; 48000 Hz"
        );
        assert_eq!(summary("audio/x-raw"), "audio/x-raw");
    }

    #[test]
    fn a_missing_camera_is_an_error_before_any_pipeline() {
        let config = MediaConfig {
            video: VideoSource::Device("/dev/video-that-does-not-exist".into()),
            ..MediaConfig::test()
        };
        assert!(matches!(
            check_devices(&config),
            Err(MediaError::CameraUnavailable { .. })
        ));
        assert!(check_devices(&MediaConfig::test()).is_ok());
    }

    #[test]
    fn a_path_that_is_no_camera_does_not_open() {
        let config = MediaConfig {
            video: VideoSource::Device("/dev/null".into()),
            ..MediaConfig::test()
        };
        assert!(matches!(
            check_devices(&config),
            Err(MediaError::CameraUnavailable { .. })
        ));
    }

    #[test]
    fn a_bad_microphone_or_speaker_does_not_open() {
        let bad = "hw:97,0".to_string();
        let mic = MediaConfig {
            audio: AudioSource::Device(bad.clone()),
            ..MediaConfig::test()
        };
        assert!(matches!(
            check_devices(&mic),
            Err(MediaError::MicrophoneUnavailable { device, .. }) if device == bad
        ));
        let speaker = MediaConfig {
            speaker: Speaker::Device(bad.clone()),
            ..MediaConfig::test()
        };
        assert!(matches!(
            check_devices(&speaker),
            Err(MediaError::SpeakerUnavailable { device, .. }) if device == bad
        ));
    }

    #[test]
    fn listing_devices_works_without_any() {
        // This machine may have none; the list must still come back.
        let list = list_devices().unwrap();
        assert!(list.iter().all(|d| !d.device.is_empty()));
    }
}

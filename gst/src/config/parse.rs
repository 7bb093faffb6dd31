//! The strings a command line takes for each setting (`test|auto|none|
//! /dev/video0`, `vp8|h264`, `window|fullscreen|headless`, `audio|video`),
//! parsed into [`super`]'s enums and written back the same way, so the
//! node never parses them itself.

use super::{AudioSource, Display, MediaKind, VideoCodec, VideoSource};
use crate::MediaError;
use std::fmt;
use std::str::FromStr;

impl FromStr for VideoSource {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, MediaError> {
        match s {
            "test" => Ok(VideoSource::Test),
            p if p.starts_with("test:") => {
                let name = &p[5..];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    Ok(VideoSource::TestPattern(name.to_string()))
                } else {
                    Err(MediaError::InvalidConfig(format!(
                        "video source `{p}`: expected test:PATTERN (a videotestsrc pattern, e.g. test:smpte)"
                    )))
                }
            }
            "auto" | "camera" => Ok(VideoSource::Auto),
            "none" | "off" => Ok(VideoSource::None),
            p if p.starts_with('/') => Ok(VideoSource::Device(p.to_string())),
            other => Err(MediaError::InvalidConfig(format!(
                "video source `{other}`: expected test, auto, none or a /dev/video path"
            ))),
        }
    }
}

impl FromStr for AudioSource {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, MediaError> {
        match s {
            "test" => Ok(AudioSource::Test),
            "auto" | "mic" => Ok(AudioSource::Auto),
            "none" | "off" => Ok(AudioSource::None),
            "" => Err(MediaError::InvalidConfig("empty audio source".into())),
            dev => Ok(AudioSource::Device(dev.to_string())),
        }
    }
}

impl FromStr for MediaKind {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, MediaError> {
        match s {
            "audio" | "mic" | "microphone" => Ok(MediaKind::Audio),
            "video" | "camera" => Ok(MediaKind::Video),
            other => Err(MediaError::InvalidConfig(format!(
                "`{other}`: expected audio or video"
            ))),
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        })
    }
}

impl FromStr for VideoCodec {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, MediaError> {
        match s.to_ascii_lowercase().as_str() {
            "vp8" => Ok(VideoCodec::Vp8),
            "h264" | "h.264" | "avc" => Ok(VideoCodec::H264),
            other => Err(MediaError::InvalidConfig(format!(
                "codec `{other}`: expected vp8 or h264"
            ))),
        }
    }
}

impl FromStr for Display {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, MediaError> {
        match s {
            "window" => Ok(Display::Window),
            "headless" | "none" => Ok(Display::Headless),
            "fullscreen" => Ok(Display::Fullscreen),
            other => Err(MediaError::InvalidConfig(format!(
                "display `{other}`: expected window, fullscreen or headless"
            ))),
        }
    }
}

impl fmt::Display for VideoSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VideoSource::Test => f.write_str("test"),
            VideoSource::TestPattern(p) => write!(f, "test:{p}"),
            VideoSource::Auto => f.write_str("auto"),
            VideoSource::Device(p) => f.write_str(p),
            VideoSource::None => f.write_str("none"),
        }
    }
}

impl fmt::Display for AudioSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AudioSource::Test => f.write_str("test"),
            AudioSource::Auto => f.write_str("auto"),
            AudioSource::Device(d) => f.write_str(d),
            AudioSource::None => f.write_str("none"),
        }
    }
}

impl fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VideoCodec::Vp8 => "vp8",
            VideoCodec::H264 => "h264",
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::Speaker;

    #[test]
    fn sources_parse() {
        assert_eq!("test".parse::<VideoSource>().unwrap(), VideoSource::Test);
        assert_eq!("auto".parse::<VideoSource>().unwrap(), VideoSource::Auto);
        assert_eq!("none".parse::<VideoSource>().unwrap(), VideoSource::None);
        assert_eq!(
            "/dev/video0".parse::<VideoSource>().unwrap(),
            VideoSource::Device("/dev/video0".into())
        );
        assert!("video0".parse::<VideoSource>().is_err());
        assert_eq!(
            "hw:1,0".parse::<AudioSource>().unwrap(),
            AudioSource::Device("hw:1,0".into())
        );
        assert_eq!("none".parse::<AudioSource>().unwrap(), AudioSource::None);
        assert_eq!("auto".parse::<Speaker>().unwrap(), Speaker::Auto);
        assert_eq!("none".parse::<Speaker>().unwrap(), Speaker::None);
        assert_eq!(
            "pulse:out".parse::<Speaker>().unwrap(),
            Speaker::Device("pulse:out".into())
        );
        assert!("".parse::<Speaker>().is_err());
        assert_eq!("video".parse::<MediaKind>().unwrap(), MediaKind::Video);
        assert_eq!(MediaKind::Audio.to_string(), "audio");
        assert!("smell".parse::<MediaKind>().is_err());
        assert_eq!("H264".parse::<VideoCodec>().unwrap(), VideoCodec::H264);
        assert_eq!("vp8".parse::<VideoCodec>().unwrap(), VideoCodec::Vp8);
        assert!("vp9".parse::<VideoCodec>().is_err());
        assert_eq!(
            "test:smpte".parse::<VideoSource>().unwrap(),
            VideoSource::TestPattern("smpte".into())
        );
        assert!("test:".parse::<VideoSource>().is_err());
        assert!("test:a b".parse::<VideoSource>().is_err());
        for s in ["test", "auto", "none", "/dev/video3", "test:snow"] {
            assert_eq!(s.parse::<VideoSource>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn displays_parse() {
        for (s, d) in [
            ("window", Display::Window),
            ("fullscreen", Display::Fullscreen),
            ("none", Display::Headless),
            ("headless", Display::Headless),
        ] {
            assert_eq!(s.parse::<Display>().unwrap(), d);
            assert_eq!(d.is_windowed(), d != Display::Headless);
        }
        assert!("full".parse::<Display>().is_err());
    }
}

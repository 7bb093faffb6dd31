//! What a session sends and shows: sources, codec, format, network, display.
//!
//! `Default` is what a real user wants (camera + microphone, a window);
//! [`MediaConfig::test`] is what tests and benchmarks want (test patterns,
//! headless). The source and codec enums parse from the strings a CLI takes
//! (`test|auto|none|/dev/video0`), so the node does not re-invent parsing
//! (module `parse`).

pub use crate::device_name::Speaker;
pub use crate::kind::MediaKind;
use crate::MediaError;
use serde::Serialize;

mod parse;

/// Where the local picture comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum VideoSource {
    /// A moving test pattern (`videotestsrc pattern=ball is-live=true`).
    Test,
    /// Another `videotestsrc` pattern (`test:smpte`, `test:snow`, …): two
    /// test nodes that show different pictures (window tests).
    TestPattern(String),
    /// The system's default camera (`autovideosrc`).
    #[default]
    Auto,
    /// A V4L2 device node, e.g. `/dev/video0`.
    Device(String),
    /// Send no video (video is still received).
    None,
}

/// Where the local sound comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AudioSource {
    /// A test tone (`audiotestsrc is-live=true`).
    Test,
    /// The system's default microphone (`autoaudiosrc`).
    #[default]
    Auto,
    /// An ALSA device name, e.g. `hw:1,0` or `plughw:CARD=Mic`, or
    /// `pulse:NAME` for a PulseAudio device (as `duet devices` lists them).
    Device(String),
    /// Send no audio (audio is still received).
    None,
}

/// The video codec offered and sent. Audio is always Opus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum VideoCodec {
    #[default]
    Vp8,
    H264,
}

/// Where remote media goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Display {
    /// One call window (remote video, local preview in a corner, name and
    /// call time), remote audio to the default audio output. Needs `$DISPLAY`.
    #[default]
    Window,
    /// Counting sinks only (`sync=true`, so timing is as with a window).
    Headless,
    /// As [`Display::Window`], but the window covers the screen from the
    /// start and hides the mouse cursor (screens, kiosks).
    Fullscreen,
}

impl Display {
    /// A call window is shown ([`Display::Window`] or [`Display::Fullscreen`]).
    pub fn is_windowed(self) -> bool {
        self != Display::Headless
    }
}

/// Everything a [`crate::MediaSession`] needs to know before it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaConfig {
    pub video: VideoSource,
    pub audio: AudioSource,
    pub codec: VideoCodec,
    pub width: u32,
    pub height: u32,
    pub framerate: u32,
    /// Target video bitrate in kbit/s.
    pub video_bitrate_kbps: u32,
    /// Target audio bitrate in kbit/s.
    pub audio_bitrate_kbps: u32,
    /// webrtcbin's jitterbuffer latency in ms (its default, 200, is for the
    /// internet; on a LAN a few ms are enough — see BENCHMARKS.md).
    pub latency_ms: u32,
    /// `stun:host:port`, `turn:user:pass@host:port` or `turns:…`; none by default.
    pub ice_servers: Vec<String>,
    pub display: Display,
    /// Where remote sound is played (window display only).
    pub speaker: Speaker,
    /// Stamp outgoing frames and measure glass-to-glass latency on incoming
    /// ones (see [`crate::probe`]); both peers must turn it on.
    pub latency_probe: bool,
    /// Interval of [`crate::MediaEvent::Stats`] events.
    pub stats_interval: std::time::Duration,
    /// After media has flowed, this long without any remote media means the
    /// peer is gone: [`crate::MediaEvent::MediaTimeout`] is emitted.
    pub media_timeout: std::time::Duration,
    /// Record the remote audio and video, as received, to this Matroska file.
    pub record: Option<std::path::PathBuf>,
    /// Forward error correction on the sent video ([`crate::fec`]).
    pub video_fec: crate::fec::VideoFec,
}

/// Default jitterbuffer latency (ms). Every ms of it is a ms of
/// glass-to-glass; 10 ms gives ~16 ms glass-to-glass here (BENCHMARKS.md) and
/// still leaves NACK/RTX a window on a LAN (RTT ~1 ms).
pub const DEFAULT_LATENCY_MS: u32 = 10;

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            video: VideoSource::Auto,
            audio: AudioSource::Auto,
            codec: VideoCodec::Vp8,
            width: 640,
            height: 480,
            framerate: 30,
            video_bitrate_kbps: 1500,
            audio_bitrate_kbps: 48,
            latency_ms: DEFAULT_LATENCY_MS,
            ice_servers: Vec::new(),
            display: Display::Window,
            speaker: Speaker::Auto,
            latency_probe: false,
            stats_interval: std::time::Duration::from_secs(1),
            media_timeout: std::time::Duration::from_secs(5),
            record: None,
            video_fec: crate::fec::VideoFec::default(),
        }
    }
}

impl MediaConfig {
    /// Sends `r` (and a bitrate that suits it, [`crate::Resolution::bitrate_kbps`]).
    pub fn with_resolution(mut self, r: crate::Resolution) -> Self {
        self.width = r.width;
        self.height = r.height;
        self.video_bitrate_kbps = r.bitrate_kbps();
        self
    }

    /// Test sources, headless sinks: for tests and benchmarks.
    pub fn test() -> Self {
        MediaConfig {
            video: VideoSource::Test,
            audio: AudioSource::Test,
            display: Display::Headless,
            ..MediaConfig::default()
        }
    }

    /// Checks ranges and ICE server URLs without touching GStreamer.
    pub fn validate(&self) -> Result<(), MediaError> {
        let bad = |m: String| Err(MediaError::InvalidConfig(m));
        if !(16..=7680).contains(&self.width) || !(16..=4320).contains(&self.height) {
            return bad(format!("size {}x{} out of range", self.width, self.height));
        }
        if !self.width.is_multiple_of(2) || !self.height.is_multiple_of(2) {
            return bad(format!("size {}x{} must be even", self.width, self.height));
        }
        if !(1..=120).contains(&self.framerate) {
            return bad(format!("framerate {} out of 1..=120", self.framerate));
        }
        if !(50..=50_000).contains(&self.video_bitrate_kbps) {
            return bad(format!(
                "video bitrate {} kbit/s out of 50..=50000",
                self.video_bitrate_kbps
            ));
        }
        if !(6..=510).contains(&self.audio_bitrate_kbps) {
            return bad(format!(
                "audio bitrate {} kbit/s out of 6..=510",
                self.audio_bitrate_kbps
            ));
        }
        if self.latency_ms > 10_000 {
            return bad(format!("latency {} ms is too large", self.latency_ms));
        }
        for s in &self.ice_servers {
            IceServer::parse(s)?;
        }
        Ok(())
    }
}

/// A parsed ICE server URL, in the form webrtcbin wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IceServer {
    /// For webrtcbin's `stun-server`: `stun://host:port`.
    Stun(String),
    /// For webrtcbin's `add-turn-server`: `turn(s)://user:pass@host:port`.
    Turn(String),
}

impl IceServer {
    pub(crate) fn parse(url: &str) -> Result<IceServer, MediaError> {
        let bad = || MediaError::InvalidIceServer(url.to_string());
        let (scheme, rest) = url.split_once(':').ok_or_else(bad)?;
        let rest = rest.trim_start_matches("//");
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(bad());
        }
        match scheme {
            "stun" => Ok(IceServer::Stun(format!("stun://{rest}"))),
            "turn" | "turns" if rest.contains('@') => {
                Ok(IceServer::Turn(format!("{scheme}://{rest}")))
            }
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_are_for_users_and_test_is_for_tests() {
        let d = MediaConfig::default();
        assert_eq!(
            (d.video.clone(), d.audio.clone(), d.display),
            (VideoSource::Auto, AudioSource::Auto, Display::Window)
        );
        assert_eq!(
            (d.width, d.height, d.framerate, d.codec),
            (640, 480, 30, VideoCodec::Vp8)
        );
        assert!(d.latency_ms < 200 && d.ice_servers.is_empty());
        let t = MediaConfig::test();
        assert_eq!(
            (t.video, t.audio, t.display),
            (VideoSource::Test, AudioSource::Test, Display::Headless)
        );
        assert!(MediaConfig::default().validate().is_ok());
    }

    #[test]
    fn ice_servers_parse() {
        assert_eq!(
            IceServer::parse("stun:stun.example.org:3478").unwrap(),
            IceServer::Stun("stun://stun.example.org:3478".into())
        );
        assert_eq!(
            IceServer::parse("turn:u:p@10.0.0.1:3478").unwrap(),
            IceServer::Turn("turn://u:p@10.0.0.1:3478".into())
        );
        assert!(IceServer::parse("turn:10.0.0.1").is_err());
        assert!(IceServer::parse("http://x").is_err());
        let c = MediaConfig {
            ice_servers: vec!["bogus".into()],
            ..MediaConfig::test()
        };
        assert!(matches!(c.validate(), Err(MediaError::InvalidIceServer(_))));
        let c = MediaConfig {
            width: 641,
            ..MediaConfig::test()
        };
        assert!(matches!(c.validate(), Err(MediaError::InvalidConfig(_))));
    }
}

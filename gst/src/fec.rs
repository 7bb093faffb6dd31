//! Forward error correction on the sent video: webrtcbin's ULPFEC (RFC
//! 5109) inside RED (RFC 2198), as an option (`duet up --video-fec`).
//!
//! FEC is a transceiver setting (`fec-type`, `fec-percentage`): webrtcbin
//! then offers `red` and `ulpfec` payload types beside the codec's, answers
//! with them only when the offer had them and its own transceiver asks for
//! FEC, and builds the encoder (`rtpulpfecenc` + `rtpredenc`) and the
//! receive side's decoder (`rtpreddec` + `rtpulpfecdec`, after the
//! jitterbuffer) from what was negotiated. A peer without FEC (another
//! node, a browser that leaves it out) gets plain VP8/H.264 both ways.
//!
//! Measured against the repetition of media under loss (`redundancy`,
//! docs/loss.md): which of the two goes out is this option's choice.

use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_webrtc as gst_webrtc;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// ULPFEC overhead when no percentage is given (share of the media
/// packets, as `rtpulpfecenc`'s `percentage`).
pub const DEFAULT_PERCENT: u8 = 20;

/// What protects the sent video beyond NACK/RTX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VideoFec {
    /// No FEC; under random loss the media is sent twice (`redundancy`).
    Off,
    /// ULPFEC with `percent` % overhead; `copies`: media is still sent
    /// twice under loss as well.
    Ulpfec { percent: u8, copies: bool },
}

/// The default, `ulpfec+copies`: with a camera's frames (several packets
/// each) it kept 10 % and 20 % loss at 23–28 fps where the copies alone
/// fell to 17 and 9 on one side, for ~12–21 % more bitrate with no loss
/// (docs/loss.md `## Video FEC`). A peer without FEC still gets plain video.
impl Default for VideoFec {
    fn default() -> Self {
        VideoFec::Ulpfec {
            percent: DEFAULT_PERCENT,
            copies: true,
        }
    }
}

impl VideoFec {
    /// The repetition of media under loss is allowed.
    pub fn media_copies(self) -> bool {
        match self {
            VideoFec::Off => true,
            VideoFec::Ulpfec { copies, .. } => copies,
        }
    }

    /// Sets a video transceiver's FEC before negotiation.
    pub(crate) fn apply(self, trans: &gst_webrtc::WebRTCRTPTransceiver) {
        if let VideoFec::Ulpfec { percent, .. } = self {
            trans.set_property("fec-type", gst_webrtc::WebRTCFECType::UlpRed);
            trans.set_property("fec-percentage", u32::from(percent));
        }
    }
}

/// Remote video packets the pipeline's ULPFEC decoders rebuilt so far;
/// None when FEC was not negotiated. webrtcbin makes a decoder for every
/// stream; one that was given no FEC payload type (`pt` 0, or told to pass
/// everything through) has nothing to decode.
pub(crate) fn recovered(pipeline: &gst::Pipeline) -> Option<u64> {
    let mut total = None;
    let decoders = pipeline.iterate_all_by_element_factory_name("rtpulpfecdec");
    for dec in decoders.into_iter().flatten() {
        let idle = dec.property::<u32>("pt") == 0 || dec.property::<bool>("passthrough");
        if !idle {
            *total.get_or_insert(0) += u64::from(dec.property::<u32>("recovered"));
        }
    }
    total
}

impl FromStr for VideoFec {
    type Err = MediaError;
    /// `off`, `ulpfec`, `ulpfec:PERCENT`, each of the latter with `+copies`.
    fn from_str(s: &str) -> Result<Self, MediaError> {
        let bad = || {
            MediaError::InvalidConfig(format!(
                "video FEC `{s}`: expected off, ulpfec, ulpfec:PERCENT (1-100), \
                 optionally followed by +copies"
            ))
        };
        let lower = s.to_ascii_lowercase();
        if lower == "off" || lower == "none" {
            return Ok(VideoFec::Off);
        }
        let (kind, copies) = match lower.strip_suffix("+copies") {
            Some(k) => (k, true),
            None => (lower.as_str(), false),
        };
        let percent = match kind.split_once(':') {
            None if kind == "ulpfec" => DEFAULT_PERCENT,
            Some(("ulpfec", p)) => p.parse::<u8>().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        if !(1..=100).contains(&percent) {
            return Err(bad());
        }
        Ok(VideoFec::Ulpfec { percent, copies })
    }
}

impl fmt::Display for VideoFec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VideoFec::Off => f.write_str("off"),
            VideoFec::Ulpfec { percent, copies } => {
                write!(f, "ulpfec")?;
                if *percent != DEFAULT_PERCENT {
                    write!(f, ":{percent}")?;
                }
                if *copies {
                    f.write_str("+copies")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]
    use super::*;

    #[test]
    fn parses_and_prints_back() {
        for (text, want) in [
            ("off", VideoFec::Off),
            (
                "ulpfec",
                VideoFec::Ulpfec {
                    percent: DEFAULT_PERCENT,
                    copies: false,
                },
            ),
            (
                "ulpfec:50+copies",
                VideoFec::Ulpfec {
                    percent: 50,
                    copies: true,
                },
            ),
        ] {
            let got: VideoFec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got, want);
            assert_eq!(got.to_string(), text);
        }
        assert_eq!("ULPFEC:20".parse::<VideoFec>().ok(), "ulpfec".parse().ok());
        for bad in [
            "",
            "flexfec",
            "ulpfec:0",
            "ulpfec:101",
            "ulpfec:x",
            "off+copies",
        ] {
            assert!(bad.parse::<VideoFec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_is_ulpfec_with_copies() {
        assert_eq!(VideoFec::default().to_string(), "ulpfec+copies");
        assert!(VideoFec::default().media_copies());
    }

    #[test]
    fn copies_stay_unless_fec_replaces_them() {
        assert!(VideoFec::Off.media_copies());
        assert!(!"ulpfec"
            .parse::<VideoFec>()
            .is_ok_and(VideoFec::media_copies));
        assert!("ulpfec+copies"
            .parse::<VideoFec>()
            .is_ok_and(VideoFec::media_copies));
    }
}

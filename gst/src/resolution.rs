//! The sent picture's size (`--resolution 1280x720`), and the video bitrate
//! that suits it.
//!
//! 640x480 is the default: it costs ~10 % of a core per side here. 1280x720
//! and 1920x1080 are for machines with a real camera and the CPU to match
//! (encoder settings per size: `send`; measured in BENCHMARKS.md,
//! `## resolution`).

use crate::MediaError;
use std::fmt;
use std::str::FromStr;

/// Width × height of the sent video, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    pub width: u32,
    pub height: u32,
}

impl Resolution {
    pub const VGA: Resolution = Resolution {
        width: 640,
        height: 480,
    };
    pub const HD: Resolution = Resolution {
        width: 1280,
        height: 720,
    };
    pub const FULL_HD: Resolution = Resolution {
        width: 1920,
        height: 1080,
    };

    /// A video bitrate (kbit/s) for this size at 30 fps: 1500 at 640x480,
    /// scaled with the square root of the pixel count (a larger picture
    /// compresses better per pixel), within 300..=6000.
    pub fn bitrate_kbps(self) -> u32 {
        let pixels = f64::from(self.width) * f64::from(self.height);
        let vga = 640.0 * 480.0;
        ((1500.0 * (pixels / vga).sqrt()).round() as u32).clamp(300, 6000)
    }
}

impl Default for Resolution {
    fn default() -> Self {
        Resolution::VGA
    }
}

impl FromStr for Resolution {
    type Err = MediaError;
    fn from_str(s: &str) -> Result<Self, MediaError> {
        let bad = || {
            MediaError::InvalidConfig(format!(
                "resolution `{s}`: expected WIDTHxHEIGHT (640x480, 1280x720, 1920x1080) or 480p, 720p, 1080p"
            ))
        };
        match s.to_ascii_lowercase().as_str() {
            "480p" | "vga" => return Ok(Resolution::VGA),
            "720p" | "hd" => return Ok(Resolution::HD),
            "1080p" | "fullhd" => return Ok(Resolution::FULL_HD),
            _ => {}
        }
        let (w, h) = s.split_once(['x', 'X', '×']).ok_or_else(bad)?;
        let (width, height) = (
            w.trim().parse().map_err(|_| bad())?,
            h.trim().parse().map_err(|_| bad())?,
        );
        let r = Resolution { width, height };
        if !(16..=3840).contains(&width) || !(16..=2160).contains(&height) {
            return Err(MediaError::InvalidConfig(format!(
                "resolution {r} out of range (16x16 to 3840x2160)"
            )));
        }
        if width % 2 != 0 || height % 2 != 0 {
            return Err(MediaError::InvalidConfig(format!(
                "resolution {r}: width and height must be even"
            )));
        }
        Ok(r)
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_sizes_and_names() {
        assert_eq!("1280x720".parse::<Resolution>().unwrap(), Resolution::HD);
        assert_eq!(
            "1920X1080".parse::<Resolution>().unwrap(),
            Resolution::FULL_HD
        );
        assert_eq!("720p".parse::<Resolution>().unwrap(), Resolution::HD);
        assert_eq!("640x480".parse::<Resolution>().unwrap(), Resolution::VGA);
        for bad in [
            "",
            "1280",
            "x720",
            "1280x",
            "1281x720",
            "0x0",
            "9000x9000",
            "axb",
        ] {
            assert!(bad.parse::<Resolution>().is_err(), "{bad}");
        }
        assert_eq!(Resolution::HD.to_string(), "1280x720");
    }

    #[test]
    fn bitrate_grows_with_the_picture() {
        assert_eq!(Resolution::VGA.bitrate_kbps(), 1500);
        let hd = Resolution::HD.bitrate_kbps();
        let fhd = Resolution::FULL_HD.bitrate_kbps();
        assert!((2500..=3000).contains(&hd), "{hd}");
        assert!(fhd > hd && fhd <= 6000, "{fhd}");
    }
}

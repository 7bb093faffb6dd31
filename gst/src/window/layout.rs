//! Where the call window's inputs go in the composed picture: pure
//! geometry, kept apart so it is tested without a display.
//!
//! In a window (not fullscreen) the remote picture is placed at its own
//! size, centred, whenever it fits:
//! the compositor then only converts it instead of also scaling it, which
//! cost ~1.2 ms per 640x480 frame here (BENCHMARKS.md). A picture larger than
//! the composed one is scaled down to fit, aspect kept.

use super::{PREVIEW_HEIGHT, PREVIEW_MARGIN, PREVIEW_WIDTH};

/// A rectangle in the composed picture: x, y, width, height.
pub(crate) type Rect = (u32, u32, u32, u32);

/// The preview's rectangle in a picture of `size`: bottom-right corner.
pub(crate) fn preview_rect((width, height): (u32, u32)) -> Rect {
    (
        width.saturating_sub(PREVIEW_WIDTH + PREVIEW_MARGIN),
        height.saturating_sub(PREVIEW_HEIGHT + PREVIEW_MARGIN),
        PREVIEW_WIDTH,
        PREVIEW_HEIGHT,
    )
}

/// The remote picture's rectangle in a picture of `size`, for a remote
/// picture of `remote` (unknown before its caps): its own size centred if
/// it fits, else the whole picture (the pad's sizing policy keeps the
/// aspect ratio).
pub(crate) fn remote_rect((width, height): (u32, u32), remote: Option<(u32, u32)>) -> Rect {
    match remote {
        Some((w, h)) if w > 0 && h > 0 && w <= width && h <= height => {
            ((width - w) / 2, (height - h) / 2, w, h)
        }
        _ => (0, 0, width, height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_picture_that_fits_is_centred_at_its_own_size() {
        assert_eq!(
            remote_rect((960, 540), Some((640, 480))),
            (160, 30, 640, 480)
        );
        assert_eq!(remote_rect((960, 540), Some((960, 540))), (0, 0, 960, 540));
    }

    #[test]
    fn a_larger_or_unknown_remote_picture_fills_the_window() {
        assert_eq!(remote_rect((960, 540), Some((1280, 720))), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), Some((640, 720))), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), None), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), Some((0, 0))), (0, 0, 960, 540));
    }

    #[test]
    fn the_preview_sits_in_the_bottom_right_corner() {
        assert_eq!(preview_rect((960, 540)), (704, 344, 240, 180));
        assert_eq!(preview_rect((100, 100)), (0, 0, 240, 180));
    }
}

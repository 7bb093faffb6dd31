//! Where the call window's inputs go in the composed picture: pure
//! geometry, kept apart so it is tested without a display.
//!
//! The remote picture fills the composed one, its aspect ratio kept (the
//! pad's sizing policy letterboxes it on black), whatever its size: people
//! expect the peer to fill the window. Scaling a 640x480 picture to fill a
//! 960x540 window cost ~1.2 ms per frame (BENCHMARKS.md); the window now
//! has a default call's 640x480, and a picture of the window's own size is
//! not scaled.

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
/// picture of `remote` (unknown before its caps): the whole picture (the
/// pad's sizing policy keeps the aspect ratio).
pub(crate) fn remote_rect((width, height): (u32, u32), _remote: Option<(u32, u32)>) -> Rect {
    (0, 0, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_picture_fills_the_window_whatever_its_size() {
        assert_eq!(remote_rect((960, 540), Some((640, 480))), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), Some((960, 540))), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), Some((1280, 720))), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), Some((640, 720))), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), None), (0, 0, 960, 540));
        assert_eq!(remote_rect((960, 540), Some((0, 0))), (0, 0, 960, 540));
    }

    #[test]
    fn the_preview_sits_in_the_bottom_right_corner() {
        assert_eq!(preview_rect((640, 480)), (464, 344, 160, 120));
        assert_eq!(preview_rect((1280, 720)), (1104, 584, 160, 120));
        assert_eq!(preview_rect((100, 100)), (0, 0, 160, 120));
    }
}

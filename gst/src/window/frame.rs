//! The preview's thin white frame, drawn into the scaled picture's own
//! outer pixels by a pad probe: a `videobox` adding the border cost an
//! element, a new buffer and a copy of the picture per frame (the largest
//! part of the preview branch in a profile), where this writes ~2 000
//! bytes in place. The frame covers the picture's outer 4 pixels.

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use gstreamer_video::prelude::VideoFrameExt;

/// Limited-range white in Y, U, V.
const WHITE: [u8; 3] = [235, 128, 128];

/// Draws a `border`-pixel white frame on each frame leaving `pad`
/// (planar 8-bit YUV, e.g. I420; other formats pass unchanged).
pub(super) fn draw_white_frame_on(pad: &gst::Pad, border: u32) {
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(caps) = pad.current_caps() else {
            return gst::PadProbeReturn::Ok;
        };
        let Ok(vinfo) = gst_video::VideoInfo::from_caps(&caps) else {
            return gst::PadProbeReturn::Ok;
        };
        if let Some(buffer) = info.buffer_mut() {
            draw_white_frame(buffer.make_mut(), &vinfo, border);
        }
        gst::PadProbeReturn::Ok
    });
}

/// Draws the frame into `buffer` of `info`, if planar 8-bit YUV.
pub(super) fn draw_white_frame(
    buffer: &mut gst::BufferRef,
    info: &gst_video::VideoInfo,
    border: u32,
) {
    let f = info.format_info();
    if !f.is_yuv() || f.n_planes() != 3 || f.bits() != 8 {
        return;
    }
    let Ok(mut frame) = gst_video::VideoFrameRef::from_buffer_ref_writable(buffer, info) else {
        return;
    };
    let (width, height) = (info.width(), info.height());
    for (plane, value) in (0u32..3).zip(WHITE) {
        let (w, h) = (
            f.scale_width(plane as u8, width),
            f.scale_height(plane as u8, height),
        );
        let bx = f.scale_width(plane as u8, border).min(w) as usize;
        let by = f.scale_height(plane as u8, border).min(h) as usize;
        let stride = frame
            .plane_stride()
            .get(plane as usize)
            .copied()
            .unwrap_or(0);
        let Ok(stride) = usize::try_from(stride) else {
            return;
        };
        let Ok(data) = frame.plane_data_mut(plane) else {
            return;
        };
        let (w, h) = (w as usize, h as usize);
        for row in 0..h {
            let Some(line) = data.get_mut(row * stride..row * stride + w) else {
                return;
            };
            if row < by || row >= h - by {
                line.fill(value);
            } else {
                line[..bx].fill(value);
                line[w - bx..].fill(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_frame_is_white_and_the_inside_untouched() {
        gst::init().unwrap();
        let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::I420, 160, 120)
            .build()
            .unwrap();
        let mut buffer = gst::Buffer::with_size(info.size()).unwrap();
        buffer.get_mut().unwrap().map_writable().unwrap().fill(16);
        draw_white_frame(buffer.get_mut().unwrap(), &info, 4);
        let frame =
            gst_video::VideoFrameRef::from_buffer_ref_readable(buffer.as_ref(), &info).unwrap();
        let luma = |x: usize, y: usize| frame.plane_data(0).unwrap()[y * 160 + x];
        let u = |x: usize, y: usize| frame.plane_data(1).unwrap()[y * 80 + x];
        for (x, y) in [(0, 0), (3, 60), (156, 60), (159, 119), (80, 3), (80, 116)] {
            assert_eq!(luma(x, y), 235, "luma at {x},{y}");
        }
        for (x, y) in [(4, 4), (155, 115), (80, 60), (4, 60), (80, 4)] {
            assert_eq!(luma(x, y), 16, "luma inside at {x},{y}");
        }
        assert_eq!(u(0, 0), 128);
        assert_eq!(u(1, 30), 128);
        assert_eq!(u(2, 30), 16);
        assert_eq!(u(78, 30), 128);
        assert_eq!(u(77, 30), 16);
    }
}

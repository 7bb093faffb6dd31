//! Glass-to-glass latency probe.
//!
//! Why in the library: the node-level call benchmark measures latency between
//! two `duet` processes, so the stamping must live where the frames are. The
//! sender writes, into the top rows of each raw frame before the encoder, a
//! 64-bit microsecond timestamp of CLOCK_MONOTONIC (shared by every process
//! and network namespace of one machine), a 32-bit frame number and a 32-bit
//! check, as 16x16 black/white luma blocks (VP8 and H.264 keep them intact).
//! The receiver reads them just before its `sync=true` sink and subtracts
//! from the time the frame is due to be rendered.
//!
//! The encode/decode functions work on a plain luma plane so they can be
//! tested without GStreamer.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Side of one bit block, in pixels.
pub const BLOCK: usize = 16;
/// Bits carried: timestamp (64), frame number (32), check (32).
pub const BITS: usize = 128;
const WHITE: u8 = 235;
const BLACK: u8 = 16;

/// What a stamped frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// CLOCK_MONOTONIC in microseconds when the frame was stamped.
    pub time_us: u64,
    /// Sender's frame counter.
    pub frame: u32,
}

/// Rows of the frame the stamp covers for a given width (`None`: too narrow).
pub fn stamp_height(width: usize) -> Option<usize> {
    let cols = width / BLOCK;
    if cols < 8 {
        return None;
    }
    Some(BITS.div_ceil(cols) * BLOCK)
}

fn check(time_us: u64, frame: u32) -> u32 {
    // FNV-1a over the 12 payload bytes, salted so an all-black frame fails.
    let mut h: u32 = 0x811c_9dc5;
    for b in time_us.to_le_bytes().into_iter().chain(frame.to_le_bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h ^ 0xD0E7_5EED
}

fn bits_of(stamp: Stamp) -> u128 {
    (u128::from(stamp.time_us) << 64)
        | (u128::from(stamp.frame) << 32)
        | u128::from(check(stamp.time_us, stamp.frame))
}

/// Writes `stamp` into a luma plane (`stride` bytes per row). Returns false
/// (and writes nothing) when the plane is too small.
pub fn encode(stamp: Stamp, luma: &mut [u8], stride: usize, width: usize, height: usize) -> bool {
    let Some(h) = stamp_height(width) else {
        return false;
    };
    if h > height || stride < width || luma.len() < stride * (h - 1) + width {
        return false;
    }
    let cols = width / BLOCK;
    let bits = bits_of(stamp);
    for i in 0..BITS {
        let v = if (bits >> (BITS - 1 - i)) & 1 == 1 {
            WHITE
        } else {
            BLACK
        };
        let (bx, by) = ((i % cols) * BLOCK, (i / cols) * BLOCK);
        for y in by..by + BLOCK {
            let row = y * stride + bx;
            luma[row..row + BLOCK].fill(v);
        }
    }
    true
}

/// Reads a stamp from a luma plane; `None` when absent or damaged.
pub fn decode(luma: &[u8], stride: usize, width: usize, height: usize) -> Option<Stamp> {
    let h = stamp_height(width)?;
    if h > height || stride < width || luma.len() < stride * (h - 1) + width {
        return None;
    }
    let cols = width / BLOCK;
    let mut bits: u128 = 0;
    for i in 0..BITS {
        let (bx, by) = ((i % cols) * BLOCK, (i / cols) * BLOCK);
        // Average the inner 8x8: block edges are where codecs smear.
        let mut sum: u32 = 0;
        for y in by + 4..by + 12 {
            let row = y * stride + bx;
            sum += luma[row + 4..row + 12]
                .iter()
                .map(|&p| u32::from(p))
                .sum::<u32>();
        }
        bits = (bits << 1) | u128::from(sum / 64 > 128);
    }
    let time_us = (bits >> 64) as u64;
    let frame = ((bits >> 32) & 0xffff_ffff) as u32;
    let chk = (bits & 0xffff_ffff) as u32;
    (chk == check(time_us, frame)).then_some(Stamp { time_us, frame })
}

/// Now, on the clock the stamps use (CLOCK_MONOTONIC, as GStreamer's system
/// clock), in microseconds.
pub fn now_us() -> u64 {
    use gstreamer as gst;
    use gstreamer::prelude::ClockExt;
    gst::SystemClock::obtain().time().useconds()
}

/// Summary of glass-to-glass samples, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LatencySummary {
    pub count: u64,
    pub last_ms: f64,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// Keeps the most recent samples (bounded), each with when it was taken,
/// and a running count.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    inner: Mutex<(VecDeque<(u64, f64)>, u64)>,
}

const MAX_SAMPLES: usize = 1 << 16;

/// The span of [`Samples::recent`]: long enough for a p95 over ~300 frames
/// at 30 fps, short enough to leave a call's first seconds behind.
pub const RECENT: std::time::Duration = std::time::Duration::from_secs(10);

impl Samples {
    pub(crate) fn push(&self, ms: f64) {
        self.push_at(now_us(), ms);
    }

    fn push_at(&self, at_us: u64, ms: f64) {
        if let Ok(mut g) = self.inner.lock() {
            if g.0.len() == MAX_SAMPLES {
                g.0.pop_front();
            }
            g.0.push_back((at_us, ms));
            g.1 += 1;
        }
    }

    pub(crate) fn take(&self) -> Vec<f64> {
        self.inner
            .lock()
            .map(|mut g| g.0.drain(..).map(|(_, ms)| ms).collect())
            .unwrap_or_default()
    }

    /// Every sample kept; `count` is every sample ever pushed.
    pub(crate) fn summary(&self) -> Option<LatencySummary> {
        self.summary_since(0, true)
    }

    /// The samples of the last [`RECENT`] (a call's steady state, without
    /// its first seconds); `count` is theirs.
    pub(crate) fn recent(&self) -> Option<LatencySummary> {
        let since = now_us().saturating_sub(RECENT.as_micros() as u64);
        self.summary_since(since, false)
    }

    fn summary_since(&self, since_us: u64, total_count: bool) -> Option<LatencySummary> {
        let g = self.inner.lock().ok()?;
        let last = g.0.back()?.1;
        let mut v: Vec<f64> =
            g.0.iter()
                .filter(|(at, _)| *at >= since_us)
                .map(|(_, ms)| *ms)
                .collect();
        let count = g.1;
        drop(g);
        let mut s = summarize(&mut v)?;
        s.last_ms = last;
        if total_count {
            s.count = count;
        }
        Some(s)
    }
}

/// Median, p95 and max of `v` (sorted in place); `None` if empty.
pub fn summarize(v: &mut [f64]) -> Option<LatencySummary> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    Some(LatencySummary {
        count: v.len() as u64,
        last_ms: v[v.len() - 1],
        median_ms: q(0.5),
        p95_ms: q(0.95),
        max_ms: v[v.len() - 1],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn roundtrip_on_a_plane_with_padding() {
        let (w, h, stride) = (640, 480, 704);
        let mut plane = vec![77u8; stride * h];
        let st = Stamp {
            time_us: 0x0123_4567_89ab_cdef,
            frame: 4242,
        };
        assert!(encode(st, &mut plane, stride, w, h));
        assert_eq!(decode(&plane, stride, w, h), Some(st));
        // Noise of +-40 on every pixel (a lossy codec) keeps the bits.
        for (i, p) in plane.iter_mut().enumerate() {
            *p = p.saturating_add((i % 41) as u8).saturating_sub(20);
        }
        assert_eq!(decode(&plane, stride, w, h), Some(st));
    }

    #[test]
    fn unstamped_or_damaged_frames_give_none() {
        let (w, h) = (320, 240);
        assert_eq!(decode(&vec![0u8; w * h], w, w, h), None);
        assert_eq!(decode(&vec![255u8; w * h], w, w, h), None);
        let mut plane = vec![0u8; w * h];
        assert!(encode(
            Stamp {
                time_us: 99,
                frame: 1
            },
            &mut plane,
            w,
            w,
            h
        ));
        plane[w * 8 + 8] = 255; // inside block 0 only one pixel: still fine
        assert!(decode(&plane, w, w, h).is_some());
        for y in 0..BLOCK {
            let v = if plane[y * w] > 128 { 0 } else { 255 };
            plane[y * w..y * w + BLOCK].fill(v);
        }
        assert_eq!(
            decode(&plane, w, w, h),
            None,
            "a flipped bit must fail the check"
        );
    }

    #[test]
    fn too_small_frames_are_refused() {
        assert_eq!(stamp_height(100), None);
        assert_eq!(stamp_height(640), Some(4 * BLOCK));
        let mut p = vec![0u8; 128 * 16];
        assert!(!encode(
            Stamp {
                time_us: 1,
                frame: 1
            },
            &mut p,
            128,
            128,
            16
        ));
    }

    #[test]
    fn summary_quantiles() {
        let s = Samples::default();
        assert!(s.summary().is_none());
        for i in (1..=100).rev() {
            s.push(f64::from(i));
        }
        let sum = s.summary().unwrap();
        assert_eq!(sum.count, 100);
        assert_eq!(sum.last_ms, 1.0);
        assert!((50.0..=51.0).contains(&sum.median_ms));
        assert!((95.0..=96.0).contains(&sum.p95_ms));
        assert_eq!(sum.max_ms, 100.0);
        assert_eq!(s.take().len(), 100);
    }

    #[test]
    fn recent_leaves_old_samples_out() {
        let s = Samples::default();
        let now = now_us();
        let old = now.saturating_sub(RECENT.as_micros() as u64 + 1_000_000);
        for _ in 0..50 {
            s.push_at(old, 100.0);
        }
        for _ in 0..50 {
            s.push_at(now, 10.0);
        }
        assert_eq!(s.summary().unwrap().p95_ms, 100.0);
        let r = s.recent().unwrap();
        assert_eq!((r.count, r.median_ms, r.p95_ms), (50, 10.0, 10.0));
        s.take();
        assert!(s.recent().is_none());
    }
}

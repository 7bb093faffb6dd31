//! Counters and network statistics of a session.
//!
//! Frame/buffer counters are bumped by pad probes at the sinks (decoded media
//! that really reached the output), not taken from RTP statistics. Bytes,
//! packets and RTT come from webrtcbin's `get-stats`, polled by the session's
//! service thread and parsed here.

use crate::probe::LatencySummary;
use gstreamer as gst;
use serde::Serialize;

/// A snapshot of a session's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MediaStats {
    /// Decoded remote video frames that reached the video sink.
    pub video_frames_received: u64,
    /// Decoded remote audio buffers that reached the audio sink.
    pub audio_buffers_received: u64,
    /// Raw local video frames fed to the encoder.
    pub video_frames_sent: u64,
    /// Raw local audio buffers fed to the encoder.
    pub audio_buffers_sent: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// Round-trip time from RTCP (remote-inbound-rtp), when known.
    pub rtt_ms: Option<f64>,
    /// Remote RTP packets lost for good (after retransmissions).
    pub packets_lost: u64,
    /// Remote video packets rebuilt from ULPFEC (video FEC on both sides,
    /// `crate::fec`): lost on the way, recovered without a retransmission;
    /// `None` while FEC is not negotiated.
    pub video_fec_recovered: Option<u64>,
    /// Gaps of more than 200 ms between decoded remote video frames
    /// (`crate::freeze`), and the longest gap so far (ms).
    pub video_freezes: u64,
    pub longest_freeze_ms: f64,
    /// The video encoder's current target bitrate (kbit/s), as the
    /// bitrate controller set it (`crate::congestion`); 0 with no video sent.
    pub video_bitrate_kbps: u32,
    /// Peak amplitude (0..1) of the last decoded remote audio buffer at the
    /// sink: about 0 while the peer is muted (it sends silence).
    pub audio_peak_received: Option<f64>,
    /// Glass-to-glass latency of received frames (latency probe on):
    /// `count` is every sample so far; last/median/p95/max are over the
    /// samples kept since the last `take_latency_samples` (at most 65536).
    pub glass_to_glass: Option<LatencySummary>,
    /// The same over the last [`crate::probe::RECENT`] (10 s) only: a
    /// call's steady state, without its first, slower second.
    pub glass_to_glass_recent: Option<LatencySummary>,
    /// Where remote audio goes; None until remote audio is linked.
    pub audio_output: Option<AudioOutput>,
    /// Width and height of the decoded remote video reaching the sink;
    /// None before its first caps.
    pub video_size_received: Option<(u32, u32)>,
    /// Direct or through a TURN relay, from the selected ICE candidate
    /// pair; None until ICE selected one.
    pub route: Option<crate::ice_route::Route>,
}

/// The state of the remote audio's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioOutput {
    /// Played on a device (window mode).
    Playing,
    /// Counted and dropped on purpose (headless).
    Headless,
    /// No output device could be opened: dropped.
    Unavailable,
    /// Not played on purpose (`--speaker none`).
    Off,
}

/// The network part of [`MediaStats`], from one `get-stats` reply.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NetStats {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub packets_sent: u64,
    pub packets_received: u64,
    pub rtt_ms: Option<f64>,
    /// Remote RTP packets that never arrived (retransmissions counted as
    /// arrived), all streams.
    pub packets_lost: u64,
    /// RTP packets of our video sent, and how many of them the peer's
    /// receiver reports say were lost (what the bitrate controller reads).
    pub video_packets_sent: u64,
    pub video_lost_by_peer: u64,
    pub route: Option<crate::ice_route::Route>,
}

/// Peak amplitude (0..1) of interleaved raw audio samples in `format`
/// (`S16LE` or `F32LE`, what decoders produce); None for other formats.
pub fn audio_peak(format: &str, bytes: &[u8]) -> Option<f64> {
    match format {
        "S16LE" => Some(
            bytes
                .chunks_exact(2)
                .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]]).unsigned_abs()) / 32768.0)
                .fold(0.0, f64::max),
        ),
        "F32LE" => Some(
            bytes
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]).abs()))
                .filter(|x| x.is_finite())
                .fold(0.0, f64::max)
                .min(1.0),
        ),
        _ => None,
    }
}

fn num(s: &gst::StructureRef, field: &str) -> Option<f64> {
    let v = s.value(field).ok()?;
    if let Ok(x) = v.get::<u64>() {
        return Some(x as f64);
    }
    if let Ok(x) = v.get::<i64>() {
        return Some(x as f64);
    }
    if let Ok(x) = v.get::<u32>() {
        return Some(f64::from(x));
    }
    if let Ok(x) = v.get::<i32>() {
        return Some(f64::from(x));
    }
    v.get::<f64>().ok()
}

fn is_video(s: &gst::StructureRef) -> bool {
    s.get::<&str>("kind").is_ok_and(|k| k == "video")
}

/// Sums webrtcbin's `get-stats` reply: one sub-structure per stats object,
/// named by type (`outbound-rtp`, `inbound-rtp`, `remote-inbound-rtp`, …).
pub fn parse_webrtc_stats(reply: &gst::StructureRef) -> NetStats {
    let mut n = NetStats::default();
    let mut rtts = Vec::new();
    for (_, value) in reply.iter() {
        let Ok(s) = value.get::<gst::Structure>() else {
            continue;
        };
        let get = |f: &str| num(&s, f).unwrap_or(0.0) as u64;
        match s.name().as_str() {
            "outbound-rtp" => {
                n.bytes_sent += get("bytes-sent");
                n.packets_sent += get("packets-sent");
                if is_video(&s) {
                    n.video_packets_sent += get("packets-sent");
                }
            }
            "inbound-rtp" => {
                n.bytes_received += get("bytes-received");
                n.packets_received += get("packets-received");
                n.packets_lost += num(&s, "packets-lost").unwrap_or(0.0).max(0.0) as u64;
            }
            "remote-inbound-rtp" => {
                if is_video(&s) {
                    n.video_lost_by_peer += num(&s, "packets-lost").unwrap_or(0.0).max(0.0) as u64;
                }
                if let Some(rtt) = num(&s, "round-trip-time").filter(|r| *r > 0.0) {
                    rtts.push(rtt * 1000.0);
                }
            }
            _ => {}
        }
    }
    n.route = crate::ice_route::selected_route(reply);
    if !rtts.is_empty() {
        n.rtt_ms = Some(rtts.iter().sum::<f64>() / rtts.len() as f64);
    }
    n
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn audio_peaks_of_silence_and_sound() {
        let s16: Vec<u8> = [0i16, -16384, 100, 8192]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(audio_peak("S16LE", &s16), Some(0.5));
        assert_eq!(audio_peak("S16LE", &[0; 64]), Some(0.0));
        let f32s: Vec<u8> = [0.25f32, -0.75, f32::NAN]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(audio_peak("F32LE", &f32s), Some(0.75));
        assert_eq!(audio_peak("U8", &[1, 2]), None);
    }

    #[test]
    fn sums_rtp_stats_and_averages_rtt() {
        gst::init().unwrap();
        let out_v = gst::Structure::builder("outbound-rtp")
            .field("kind", "video")
            .field("bytes-sent", 1000u64)
            .field("packets-sent", 10u64)
            .build();
        let out_a = gst::Structure::builder("outbound-rtp")
            .field("bytes-sent", 500u64)
            .field("packets-sent", 5u64)
            .build();
        let inb = gst::Structure::builder("inbound-rtp")
            .field("bytes-received", 700u64)
            .field("packets-received", 7u32)
            .field("packets-lost", 2i64)
            .build();
        let rin1 = gst::Structure::builder("remote-inbound-rtp")
            .field("kind", "video")
            .field("packets-lost", 3i64)
            .field("round-trip-time", 0.002f64)
            .build();
        let rin2 = gst::Structure::builder("remote-inbound-rtp")
            .field("round-trip-time", 0.004f64)
            .build();
        let other = gst::Structure::builder("transport")
            .field("bytes-sent", 99999u64)
            .build();
        let reply = gst::Structure::builder("application/x-webrtc-stats")
            .field("a", out_v)
            .field("b", out_a)
            .field("c", inb)
            .field("d", rin1)
            .field("e", rin2)
            .field("f", other)
            .field("g", 5u32)
            .build();
        let n = parse_webrtc_stats(&reply);
        assert_eq!(
            (
                n.bytes_sent,
                n.packets_sent,
                n.bytes_received,
                n.packets_received
            ),
            (1500, 15, 700, 7)
        );
        assert_eq!(
            (n.packets_lost, n.video_packets_sent, n.video_lost_by_peer),
            (2, 10, 3)
        );
        assert!((n.rtt_ms.unwrap() - 3.0).abs() < 1e-9);
        let empty = gst::Structure::new_empty("application/x-webrtc-stats");
        assert_eq!(parse_webrtc_stats(&empty), NetStats::default());
    }
}

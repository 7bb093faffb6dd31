//! The outside view of a call: what `duet status --json` shows under
//! `call`, and what call events carry.

use super::machine::{Direction, Mute, Phase};
use duet_gst::MediaStats;
use serde::{Deserialize, Serialize};

/// A call as `duet status --json` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallView {
    pub id: String,
    pub peer_name: String,
    pub peer_id: String,
    pub direction: Direction,
    pub state: CallState,
    /// When the call started (dial or invite), seconds since the Unix epoch.
    pub started_at: f64,
    pub stats: CallStats,
    /// What this side sends muted (`duet mute`).
    pub muted: Mute,
    /// What the peer said it sends muted.
    pub remote_muted: Mute,
    /// The file the remote audio and video are recorded to (`--record`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// The ringing sound playing now: `ringback` (caller) or `ringtone`
    /// (callee); absent when none (quiet, headless, or past ringing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<String>,
}

/// Where a call is, as `duet status --json` and events show it: the
/// machine's [`Phase`], or `ended` in the `call_ended` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    Dialing,
    Ringing,
    Connecting,
    Connected,
    Ended,
}

impl From<Phase> for CallState {
    fn from(p: Phase) -> Self {
        match p {
            Phase::Dialing => CallState::Dialing,
            Phase::Ringing => CallState::Ringing,
            Phase::Connecting => CallState::Connecting,
            Phase::Connected => CallState::Connected,
        }
    }
}

/// Shown as its JSON word (`connected`), in the console.
impl std::fmt::Display for CallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Serialize::serialize(self, f)
    }
}

/// Media figures of a call (zero until media flows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallStats {
    pub video_frames_received: u64,
    pub audio_buffers_received: u64,
    pub video_frames_sent: u64,
    pub audio_buffers_sent: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    /// Round-trip time from RTCP; null while unknown.
    pub rtt_ms: Option<f64>,
    /// Peak amplitude (0..1) of the last remote audio buffer played (or
    /// counted); about 0 while the peer is muted; null before audio.
    pub audio_peak_received: Option<f64>,
    /// Glass-to-glass latency of received frames, when both nodes run with
    /// the latency probe (a benchmark setting); null otherwise.
    pub glass_to_glass_ms: Option<LatencyView>,
    /// Milliseconds from the start of this side's media to its first
    /// decoded remote video frame; null until then.
    pub first_frame_ms: Option<f64>,
    /// When the first remote video frame reached the sink, seconds since
    /// the Unix epoch (to time a call from outside the node); null until then.
    pub first_frame_at: Option<f64>,
    /// Where remote audio goes: `playing`, `headless` or `unavailable` (no
    /// output device could be opened; the call goes on with video); null
    /// until remote audio arrives.
    #[serde(default)]
    pub audio_output: Option<String>,
    /// Size of the decoded remote video, `WIDTHxHEIGHT` (e.g. `1280x720`);
    /// null before the first frame.
    #[serde(default)]
    pub video_size_received: Option<String>,
    /// Remote RTP packets lost for good (after retransmissions).
    #[serde(default)]
    pub packets_lost: u64,
    /// Gaps of more than 200 ms between remote video frames, and the
    /// longest gap between two frames (ms).
    #[serde(default)]
    pub video_freezes: u64,
    #[serde(default)]
    pub longest_freeze_ms: f64,
    /// The video bitrate this side's encoder aims at now (kbit/s), lowered
    /// on loss by the bitrate controller; 0 when sending no video.
    #[serde(default)]
    pub video_bitrate_kbps: u32,
    /// Remote video packets rebuilt by FEC (ULPFEC in RED); null when FEC
    /// was not negotiated (`--video-fec off` on either side, or a browser
    /// without it).
    #[serde(default)]
    pub video_fec_recovered: Option<u64>,
    /// How the media goes: `direct` (straight between the two machines) or
    /// `relay` (through a broker's TURN relay), from the selected ICE
    /// candidate pair; null until ICE selected one.
    #[serde(default)]
    pub route: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyView {
    pub count: u64,
    pub median: f64,
    pub p95: f64,
    /// The same over the last 10 s only (a call's steady state, without
    /// its first seconds); null when no frame came in that time.
    #[serde(default)]
    pub recent: Option<RecentLatencyView>,
}

/// Glass-to-glass over the last 10 s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentLatencyView {
    pub count: u64,
    pub median: f64,
    pub p95: f64,
}

impl CallStats {
    /// `first_frame`: (ms after media start, Unix seconds) of the first frame.
    pub fn from_media(s: &MediaStats, first_frame: Option<(f64, f64)>) -> Self {
        CallStats {
            video_frames_received: s.video_frames_received,
            audio_buffers_received: s.audio_buffers_received,
            video_frames_sent: s.video_frames_sent,
            audio_buffers_sent: s.audio_buffers_sent,
            bytes_received: s.bytes_received,
            bytes_sent: s.bytes_sent,
            rtt_ms: s.rtt_ms,
            audio_peak_received: s.audio_peak_received,
            glass_to_glass_ms: s.glass_to_glass.as_ref().map(|l| LatencyView {
                count: l.count,
                median: l.median_ms,
                p95: l.p95_ms,
                recent: s.glass_to_glass_recent.as_ref().map(|r| RecentLatencyView {
                    count: r.count,
                    median: r.median_ms,
                    p95: r.p95_ms,
                }),
            }),
            first_frame_ms: first_frame.map(|f| f.0),
            first_frame_at: first_frame.map(|f| f.1),
            audio_output: s.audio_output.map(|o| audio_output_str(o).to_string()),
            video_size_received: s.video_size_received.map(|(w, h)| format!("{w}x{h}")),
            packets_lost: s.packets_lost,
            video_freezes: s.video_freezes,
            longest_freeze_ms: s.longest_freeze_ms,
            video_bitrate_kbps: s.video_bitrate_kbps,
            video_fec_recovered: s.video_fec_recovered,
            route: s.route.map(|r| r.as_str().to_string()),
        }
    }
}

pub fn audio_output_str(o: duet_gst::AudioOutput) -> &'static str {
    match o {
        duet_gst::AudioOutput::Playing => "playing",
        duet_gst::AudioOutput::Headless => "headless",
        duet_gst::AudioOutput::Unavailable => "unavailable",
        duet_gst::AudioOutput::Off => "off",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::call::machine::EndCode;

    #[test]
    fn words_in_json_are_the_documented_ones() {
        let json = |v: serde_json::Value| v.as_str().unwrap().to_string();
        for (state, word) in [
            (CallState::from(Phase::Dialing), "dialing"),
            (CallState::from(Phase::Connected), "connected"),
            (CallState::Ended, "ended"),
        ] {
            assert_eq!(json(serde_json::to_value(state).unwrap()), word);
        }
        assert_eq!(
            json(serde_json::to_value(Direction::Outgoing).unwrap()),
            "outgoing"
        );
        for (code, word) in [
            (EndCode::HungUp, "hangup"),
            (EndCode::RemoteHungUp, "remote-hangup"),
            (EndCode::NotAllowed, "not-allowed"),
            (EndCode::PeerLost, "peer-lost"),
            (EndCode::MediaUntrusted, "media-untrusted"),
            (EndCode::RateLimited, "rate-limited"),
        ] {
            assert_eq!(json(serde_json::to_value(code).unwrap()), word);
            assert_eq!(code.to_string(), word);
            assert_eq!(word.parse::<EndCode>().unwrap(), code);
        }
        assert!("not-found".parse::<EndCode>().is_err());
    }
}

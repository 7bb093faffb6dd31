//! Human-readable lines for events and calls, shared by `duet events`,
//! `duet status` and the interactive console of `duet up`.

use super::protocol::Event;
use crate::call::CallView;
use crate::peers::PeerView;

pub fn peer_line(p: &PeerView) -> String {
    let changed = if p.identity_changed {
        " [identity changed: not the key this name was first seen with]"
    } else {
        ""
    };
    format!("{} ({}) {}{changed}", p.name, p.short_id, p.status)
}

/// "bob (12D3…x7Q)": a name with the end of its PeerId.
pub fn who(call: &CallView) -> String {
    let id = &call.peer_id;
    let tail = id.get(id.len().saturating_sub(6)..).unwrap_or(id);
    let name = if call.peer_name.is_empty() {
        "?"
    } else {
        &call.peer_name
    };
    format!("{name} ({}…{tail})", id.get(..4).unwrap_or(""))
}

/// One line about a call: who, direction, state and the media figures.
pub fn call_summary(c: &CallView) -> String {
    let s = &c.stats;
    let rtt = s
        .rtt_ms
        .map(|r| format!(", rtt {r:.1} ms"))
        .unwrap_or_default();
    format!(
        "{} {}, {}: {} video frames and {} audio buffers received, {} frames sent{rtt}{}",
        c.direction,
        who(c),
        c.state,
        s.video_frames_received,
        s.audio_buffers_received,
        s.video_frames_sent,
        muted_note(c)
    )
}

/// "; muted here: audio; peer muted: video", or nothing when nobody is muted.
fn muted_note(c: &CallView) -> String {
    let kinds = |m: crate::call::Mute| {
        let k: Vec<&str> = [(m.audio, "audio"), (m.video, "video")]
            .into_iter()
            .filter_map(|(on, k)| on.then_some(k))
            .collect();
        k.join(" and ")
    };
    let mut note = String::new();
    for (label, m) in [("muted here", c.muted), ("peer muted", c.remote_muted)] {
        let k = kinds(m);
        if !k.is_empty() {
            note += &format!("; {label}: {k}");
        }
    }
    note
}

/// "microphone off, camera on": what the peer of `call` sends.
pub fn mute_state(call: &CallView) -> String {
    let onoff = |muted: bool| if muted { "off" } else { "on" };
    let m = call.remote_muted;
    format!("microphone {}, camera {}", onoff(m.audio), onoff(m.video))
}

/// The line `duet events` (without --json) prints for an event.
pub fn event_line(ev: &Event) -> Option<String> {
    Some(match ev {
        Event::PeerUp { peer } => format!("up       {}", peer_line(peer)),
        Event::PeerDown { peer } => format!("down     {}", peer_line(peer)),
        Event::PeerChanged { peer } => format!("changed  {}", peer_line(peer)),
        Event::Dialing { call } => format!("calling  {}", who(call)),
        Event::IncomingCall { call } => format!("incoming {} is calling", who(call)),
        Event::Ringing { call } => format!("ringing  {}", who(call)),
        Event::Connected { call } => format!("connected {}", who(call)),
        Event::CallReplaced { .. } => "calls crossed: took the peer's call".to_string(),
        Event::CallEnded {
            call,
            reason,
            detail,
        } => {
            let detail = detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!("ended    call with {}: {reason}{detail}", who(call))
        }
        Event::RemoteMuted { call } => format!("muted    {}: {}", who(call), mute_state(call)),
        Event::Warning {
            warning, detail, ..
        } => format!("warning  {warning}: {detail}"),
        Event::Lagged { missed } => format!("(missed {missed} events)"),
        Event::Subscribed => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Mute;

    #[test]
    fn summary_says_who_is_muted() {
        let mut c = CallView {
            id: "c1".into(),
            peer_name: "bob".into(),
            peer_id: "12D3KooWabcdefK16WvJ".into(),
            direction: crate::call::Direction::Outgoing,
            state: crate::call::view::CallState::Connected,
            started_at: 0.0,
            stats: Default::default(),
            muted: Mute::default(),
            remote_muted: Mute::default(),
            recording: None,
            tone: None,
        };
        assert!(!call_summary(&c).contains("muted"));
        c.muted.audio = true;
        c.remote_muted = Mute {
            audio: true,
            video: true,
        };
        assert!(
            call_summary(&c).ends_with("; muted here: audio; peer muted: audio and video"),
            "{}",
            call_summary(&c)
        );
        assert_eq!(mute_state(&c), "microphone off, camera off");
    }
}

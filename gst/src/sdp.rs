//! Reading remote SDP before webrtcbin sees it.
//!
//! webrtcbin 1.22 accepts almost any text and fails later, silently (no
//! tracks, recvonly transceivers). Parsing and checking here turns malformed
//! or incompatible descriptions into a typed error at the call site, and
//! gives the answerer the offered payload types it must send with: an
//! answerer that sends with payload types of its own leaves the offerer — a
//! browser in particular — with no tracks, and no error anywhere.

use crate::config::{MediaKind, VideoCodec};
use crate::MediaError;
use gstreamer_sdp as gst_sdp;

/// One negotiated media section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Section {
    pub mline: u32,
    pub pt: u32,
}

/// What the remote offer says we should send with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    pub video: Option<Section>,
    pub audio: Option<Section>,
    pub mlines: u32,
}

/// Parses an SDP text, refusing what cannot be a WebRTC description.
pub(crate) fn parse(text: &str) -> Result<gst_sdp::SDPMessage, MediaError> {
    if !text.trim_start().starts_with("v=0") {
        return Err(MediaError::InvalidSdp("does not start with v=0".into()));
    }
    let msg = gst_sdp::SDPMessage::parse_buffer(text.as_bytes())
        .map_err(|e| MediaError::InvalidSdp(e.to_string()))?;
    if msg.origin().is_none() {
        return Err(MediaError::InvalidSdp("no o= line".into()));
    }
    if msg.medias_len() == 0 {
        return Err(MediaError::InvalidSdp("no m= line".into()));
    }
    for (i, m) in msg.medias().enumerate() {
        if !matches!(m.media(), Some("audio" | "video" | "application")) {
            return Err(MediaError::InvalidSdp(format!(
                "m-line {i}: unknown media {:?}",
                m.media()
            )));
        }
        if m.formats_len() == 0 {
            return Err(MediaError::InvalidSdp(format!("m-line {i}: no formats")));
        }
    }
    Ok(msg)
}

/// Encoding name in `a=rtpmap` for a kind and codec.
pub(crate) fn encoding_name(kind: MediaKind, codec: VideoCodec) -> &'static str {
    match (kind, codec) {
        (MediaKind::Audio, _) => "OPUS",
        (MediaKind::Video, VideoCodec::Vp8) => "VP8",
        (MediaKind::Video, VideoCodec::H264) => "H264",
    }
}

/// The first payload type of `media` with `encoding` (H.264 also needs
/// packetization-mode=1).
pub(crate) fn find_pt(media: &gst_sdp::SDPMediaRef, encoding: &str) -> Option<u32> {
    let mut i = 0;
    while let Some(rtpmap) = media.attribute_val_n("rtpmap", i) {
        i += 1;
        let Some((pt, rest)) = rtpmap.split_once(' ') else {
            continue;
        };
        let name = rest.split('/').next().unwrap_or("");
        let Ok(pt) = pt.trim().parse::<u32>() else {
            continue;
        };
        if !name.eq_ignore_ascii_case(encoding) {
            continue;
        }
        if encoding == "H264"
            && !fmtp_of(media, pt).is_some_and(|f| f.contains("packetization-mode=1"))
        {
            continue;
        }
        return Some(pt);
    }
    None
}

fn fmtp_of(media: &gst_sdp::SDPMediaRef, pt: u32) -> Option<&str> {
    let prefix = format!("{pt} ");
    let mut i = 0;
    while let Some(f) = media.attribute_val_n("fmtp", i) {
        if let Some(rest) = f.strip_prefix(&prefix) {
            return Some(rest);
        }
        i += 1;
    }
    None
}

fn kind_of(media: &gst_sdp::SDPMediaRef) -> Option<MediaKind> {
    match media.media() {
        Some("video") => Some(MediaKind::Video),
        Some("audio") => Some(MediaKind::Audio),
        _ => None,
    }
}

fn offered_names(media: &gst_sdp::SDPMediaRef) -> String {
    let mut names = Vec::new();
    let mut i = 0;
    while let Some(r) = media.attribute_val_n("rtpmap", i) {
        if let Some(n) = r
            .split_once(' ')
            .and_then(|(_, rest)| rest.split('/').next())
        {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        i += 1;
    }
    names.join(", ")
}

/// Checks a remote offer and picks the payload types to answer with. Every
/// audio/video m-line must carry our codec (we could neither send nor decode
/// it otherwise).
pub(crate) fn plan_answer(
    offer: &gst_sdp::SDPMessageRef,
    codec: VideoCodec,
) -> Result<Plan, MediaError> {
    let mut plan = Plan {
        mlines: offer.medias_len(),
        ..Plan::default()
    };
    for (i, m) in offer.medias().enumerate() {
        let Some(kind) = kind_of(m) else { continue };
        let enc = encoding_name(kind, codec);
        let pt = find_pt(m, enc).ok_or_else(|| {
            MediaError::IncompatibleSdp(format!(
                "the offer's {kind:?} m-line {i} has no {enc} (offered: {})",
                offered_names(m)
            ))
        })?;
        let slot = match kind {
            MediaKind::Video => &mut plan.video,
            MediaKind::Audio => &mut plan.audio,
        };
        if slot.is_none() {
            *slot = Some(Section {
                mline: i as u32,
                pt,
            });
        }
    }
    if plan.video.is_none() && plan.audio.is_none() {
        return Err(MediaError::IncompatibleSdp(
            "the offer has no audio or video".into(),
        ));
    }
    Ok(plan)
}

/// Checks a remote answer against our offer: same m-lines, and every kind we
/// offered accepted with our codec.
pub(crate) fn check_answer(
    answer: &gst_sdp::SDPMessageRef,
    offer: &gst_sdp::SDPMessageRef,
) -> Result<(), MediaError> {
    if answer.medias_len() != offer.medias_len() {
        return Err(MediaError::IncompatibleSdp(format!(
            "the answer has {} m-lines, the offer {}",
            answer.medias_len(),
            offer.medias_len()
        )));
    }
    for (i, (a, o)) in answer.medias().zip(offer.medias()).enumerate() {
        if a.media() != o.media() {
            return Err(MediaError::IncompatibleSdp(format!(
                "m-line {i}: {:?} answered with {:?}",
                o.media(),
                a.media()
            )));
        }
        // Port 0 without bundle-only: the peer rejected the m-line.
        if a.port() == 0 && !a.attributes().any(|at| at.key() == "bundle-only") {
            return Err(MediaError::IncompatibleSdp(format!(
                "m-line {i} ({:?}) was rejected by the peer",
                a.media()
            )));
        }
        let ours: Vec<&str> = o.formats().collect();
        if !a.formats().any(|f| ours.contains(&f)) {
            return Err(MediaError::IncompatibleSdp(format!(
                "m-line {i}: the answer's codecs ({}) are not among ours",
                offered_names(a)
            )));
        }
    }
    Ok(())
}

/// Our answer without `a=ssrc` and `a=ssrc-group` lines. webrtcbin 1.22
/// advertises SSRCs in its answer that its RTP does not carry, and sends no
/// MID header extension: a browser trusts the advertised SSRCs, finds no
/// stream for the real one and drops every packet (connected, no picture).
/// Without the lines it binds the stream by payload type, as webrtcbin does.
pub(crate) fn strip_ssrc_lines(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !(line.starts_with("a=ssrc:") || line.starts_with("a=ssrc-group:")))
        .collect()
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE video0 audio1\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 100 102\r\nc=IN IP4 0.0.0.0\r\na=mid:video0\r\na=sendrecv\r\n\
a=rtpmap:100 VP8/90000\r\na=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:audio1\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n";

    #[test]
    fn plans_with_offered_payload_types() {
        gstreamer::init().unwrap();
        let msg = parse(OFFER).unwrap();
        let p = plan_answer(&msg, VideoCodec::Vp8).unwrap();
        assert_eq!(p.video, Some(Section { mline: 0, pt: 100 }));
        assert_eq!(p.audio, Some(Section { mline: 1, pt: 111 }));
        assert_eq!(p.mlines, 2);
        assert_eq!(
            plan_answer(&msg, VideoCodec::H264).unwrap().video,
            Some(Section { mline: 0, pt: 102 })
        );
    }

    #[test]
    fn refuses_garbage_and_incompatible_offers() {
        gstreamer::init().unwrap();
        assert!(matches!(parse("hello"), Err(MediaError::InvalidSdp(_))));
        assert!(matches!(
            parse("v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"),
            Err(MediaError::InvalidSdp(_))
        ));
        let vp9 = OFFER
            .replace("VP8/90000", "VP9/90000")
            .replace("H264/90000", "AV1/90000");
        let err = plan_answer(&parse(&vp9).unwrap(), VideoCodec::Vp8).unwrap_err();
        assert!(
            matches!(&err, MediaError::IncompatibleSdp(m) if m.contains("VP9")),
            "{err}"
        );
        let no_pm = OFFER.replace("packetization-mode=1", "packetization-mode=0");
        assert!(plan_answer(&parse(&no_pm).unwrap(), VideoCodec::H264).is_err());
    }

    #[test]
    fn ssrc_lines_are_stripped_and_nothing_else() {
        let sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ssrc-group:FID 0 42\r\n\
a=ssrc:42 cname:x\r\na=rtpmap:96 VP8/90000\r\na=ssrc:0 msid:a b\r\na=mid:video0\r\n";
        assert_eq!(
            strip_ssrc_lines(sdp),
            "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\na=mid:video0\r\n"
        );
        assert_eq!(strip_ssrc_lines("v=0\r\na=ssrc:1"), "v=0\r\n");
    }

    #[test]
    fn answers_are_checked_against_the_offer() {
        gstreamer::init().unwrap();
        let offer = parse(OFFER).unwrap();
        assert!(check_answer(&offer, &offer).is_ok());
        let rejected = parse(&OFFER.replace("m=video 9", "m=video 0")).unwrap();
        assert!(matches!(
            check_answer(&rejected, &offer),
            Err(MediaError::IncompatibleSdp(_))
        ));
    }
}

//! The sending half of the pipeline: source → raw tap → encoder → payloader
//! → webrtcbin, per kind.
//!
//! A pipeline builder: used by the webrtcbin wiring (the offerer's
//! branches, before PLAYING) and by the service thread (the answerer's,
//! once the offer's payload types are known). The raw video tap before the
//! encoder is [`crate::raw_tap`].

use crate::config::{AudioSource, MediaConfig, MediaKind, VideoCodec, VideoSource};
use crate::elements::make;
use crate::raw_tap::add_raw_video_tap;
use crate::sdp::encoding_name;
use crate::shared::{SendBranch, Shared, AUDIO_PT, VIDEO_PT};
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_webrtc as gst_webrtc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Element names the error mapping relies on.
pub(crate) const VIDEO_SRC: &str = "video-src";
pub(crate) const AUDIO_SRC: &str = "audio-src";

fn set_str(e: &gst::Element, prop: &str, value: &str) {
    if e.find_property(prop).is_some() {
        e.set_property_from_str(prop, value);
    }
}

fn link_all(elems: &[&gst::Element]) -> Result<(), MediaError> {
    gst::Element::link_many(elems.iter().copied())
        .map_err(|e| MediaError::Negotiation(format!("linking: {e}")))
}

/// RTP caps for a payloader.
pub(crate) fn rtp_caps(kind: MediaKind, codec: VideoCodec, pt: u32) -> gst::Caps {
    let enc = encoding_name(kind, codec);
    let mut b = gst::Caps::builder("application/x-rtp")
        .field(
            "media",
            if kind == MediaKind::Video {
                "video"
            } else {
                "audio"
            },
        )
        .field("encoding-name", enc)
        .field("payload", pt as i32)
        .field(
            "clock-rate",
            if kind == MediaKind::Video {
                90000i32
            } else {
                48000i32
            },
        );
    if enc == "H264" {
        b = b.field("packetization-mode", "1");
    }
    b.build()
}

fn video_source(config: &MediaConfig) -> Result<Vec<gst::Element>, MediaError> {
    let raw_caps = gst::Caps::builder("video/x-raw")
        .field("format", "I420")
        .field("width", config.width as i32)
        .field("height", config.height as i32)
        .field("framerate", gst::Fraction::new(config.framerate as i32, 1))
        .build();
    let caps = make("capsfilter", Some("video-raw-caps"))?;
    caps.set_property("caps", &raw_caps);
    Ok(match &config.video {
        VideoSource::Test | VideoSource::TestPattern(_) => {
            let src = make("videotestsrc", Some(VIDEO_SRC))?;
            src.set_property("is-live", true);
            let pattern = match &config.video {
                VideoSource::TestPattern(p) => p.as_str(),
                _ => "ball",
            };
            if src.find_property("pattern").is_some() {
                // An unknown pattern name is a clear start error, not a panic.
                let value = gst::glib::Value::deserialize(
                    pattern,
                    src.property_type("pattern").ok_or_else(|| {
                        MediaError::ElementCreation("videotestsrc pattern".into())
                    })?,
                )
                .map_err(|_| {
                    MediaError::InvalidConfig(format!("unknown videotestsrc pattern `{pattern}`"))
                })?;
                src.set_property_from_value("pattern", &value);
            }
            vec![src, caps]
        }
        other => {
            let src = match other {
                VideoSource::Device(path) => {
                    let s = make("v4l2src", Some(VIDEO_SRC))?;
                    s.set_property("device", path);
                    s
                }
                _ => make("autovideosrc", Some(VIDEO_SRC))?,
            };
            vec![
                src,
                make("videoconvert", None)?,
                make("videoscale", None)?,
                make("videorate", None)?,
                caps,
            ]
        }
    })
}

fn video_encoder(config: &MediaConfig) -> Result<Vec<gst::Element>, MediaError> {
    let kbps = config.video_bitrate_kbps;
    let kf = (config.framerate * 2).max(1) as i32;
    Ok(match config.codec {
        VideoCodec::Vp8 => {
            let enc = make("vp8enc", Some("video-enc"))?;
            enc.set_property("deadline", 1i64);
            enc.set_property("lag-in-frames", 0i32);
            enc.set_property("threads", 1i32);
            enc.set_property("cpu-used", 12i32);
            enc.set_property("target-bitrate", (kbps * 1000) as i32);
            enc.set_property("keyframe-max-dist", kf);
            set_str(&enc, "end-usage", "cbr");
            set_str(&enc, "error-resilient", "default");
            let pay = make("rtpvp8pay", Some("video-pay"))?;
            set_str(&pay, "picture-id-mode", "15-bit");
            vec![enc, pay]
        }
        VideoCodec::H264 => {
            let enc = make("x264enc", Some("video-enc"))?;
            set_str(&enc, "tune", "zerolatency");
            set_str(&enc, "speed-preset", "ultrafast");
            enc.set_property("bitrate", kbps);
            enc.set_property("key-int-max", kf as u32);
            enc.set_property("threads", 1u32);
            let caps = make("capsfilter", None)?;
            caps.set_property(
                "caps",
                gst::Caps::builder("video/x-h264")
                    .field("profile", "constrained-baseline")
                    .build(),
            );
            let pay = make("rtph264pay", Some("video-pay"))?;
            pay.set_property("config-interval", -1i32);
            set_str(&pay, "aggregate-mode", "zero-latency");
            vec![enc, caps, pay]
        }
    })
}

/// Adds the video branch and links it to webrtcbin (`mline`: the m-line to
/// bind to when answering). Returns the payloader.
pub(crate) fn add_video(
    pipeline: &gst::Pipeline,
    webrtc: &gst::Element,
    shared: &Arc<Shared>,
    pt: u32,
    mline: Option<u32>,
) -> Result<SendBranch, MediaError> {
    let config = &shared.config;
    let mut chain = video_source(config)?;
    let tap_pad = chain.last().and_then(|c| c.static_pad("src"));
    let mut preview = Vec::new();
    if let Some(window) = shared.window.get() {
        // Local preview: a tee into the call window's corner. The encoder
        // stays on the source's thread (as headless): the preview's own
        // leaky queue never blocks it.
        let (tee, branch) =
            window.add_preview(pipeline, shared.muted_video.load(Ordering::Relaxed))?;
        preview.extend(branch);
        chain.push(tee);
    }
    chain.extend(video_encoder(config)?);
    let capsf = make("capsfilter", None)?;
    capsf.set_property("caps", rtp_caps(MediaKind::Video, config.codec, pt));
    chain.push(capsf);
    // (tee and its preview branch were added above; add the rest)
    for e in &chain {
        if e.parent().is_none() {
            pipeline
                .add(e)
                .map_err(|err| MediaError::Negotiation(err.to_string()))?;
        }
    }
    let refs: Vec<&gst::Element> = chain.iter().collect();
    link_all(&refs)?;
    if let Some(pad) = tap_pad {
        add_raw_video_tap(&pad, shared);
    }
    let payloader = chain.iter().find(|e| e.name() == "video-pay").cloned();
    let last = chain.last().cloned();
    let (Some(payloader), Some(last)) = (payloader, last) else {
        return Err(MediaError::ElementCreation("video branch".into()));
    };
    let trans = link_to_webrtc(webrtc, &last, mline, true)?;
    config.video_fec.apply(&trans);
    // Downstream first: a live source started before its peers pushes into
    // flushing pads and stops silently.
    for e in preview.iter().rev().chain(chain.iter().rev()) {
        let _ = e.sync_state_with_parent();
    }
    let repeat = chain
        .iter()
        .find(|e| e.name() == "video-enc")
        .and_then(crate::repeat_frame::LastFrame::watch);
    Ok(SendBranch {
        payloader,
        volume: None,
        repeat,
    })
}

/// Adds the audio branch (Opus, 10 ms frames) and links it to webrtcbin.
pub(crate) fn add_audio(
    pipeline: &gst::Pipeline,
    webrtc: &gst::Element,
    shared: &Arc<Shared>,
    pt: u32,
    mline: Option<u32>,
) -> Result<SendBranch, MediaError> {
    let config = &shared.config;
    let src = match &config.audio {
        AudioSource::Test => {
            let s = make("audiotestsrc", Some(AUDIO_SRC))?;
            s.set_property("is-live", true);
            s.set_property("volume", 0.2f64);
            s.set_property("samplesperbuffer", 480i32);
            s
        }
        AudioSource::Device(name) => {
            crate::audio_device::device_element(name, false, Some(AUDIO_SRC))?
        }
        _ => make("autoaudiosrc", Some(AUDIO_SRC))?,
    };
    let conv = make("audioconvert", None)?;
    let res = make("audioresample", None)?;
    let caps = make("capsfilter", None)?;
    caps.set_property(
        "caps",
        gst::Caps::builder("audio/x-raw")
            .field("rate", 48000i32)
            .build(),
    );
    let volume = make("volume", Some("audio-volume"))?;
    volume.set_property("mute", shared.muted_audio.load(Ordering::Relaxed));
    let enc = make("opusenc", Some("audio-enc"))?;
    enc.set_property("bitrate", (config.audio_bitrate_kbps * 1000) as i32);
    set_str(&enc, "frame-size", "10");
    crate::resilience::tune_opus_encoder(&enc);
    let pay = make("rtpopuspay", Some("audio-pay"))?;
    let rtp = make("capsfilter", None)?;
    rtp.set_property("caps", rtp_caps(MediaKind::Audio, config.codec, pt));
    let chain = [&src, &conv, &res, &caps, &volume, &enc, &pay, &rtp];
    pipeline
        .add_many(chain)
        .map_err(|e| MediaError::Negotiation(e.to_string()))?;
    link_all(&chain)?;
    if let Some(pad) = volume.static_pad("src") {
        let shared = Arc::downgrade(shared);
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
            if let Some(s) = shared.upgrade() {
                s.audio_tx.fetch_add(1, Ordering::Relaxed);
            }
            gst::PadProbeReturn::Ok
        });
    }
    link_to_webrtc(webrtc, &rtp, mline, false)?;
    // Downstream first (see add_video).
    for e in chain.iter().rev() {
        let _ = e.sync_state_with_parent();
    }
    Ok(SendBranch {
        payloader: pay,
        volume: Some(volume),
        repeat: None,
    })
}

/// Adds the send branches the offerer links before PLAYING.
pub(crate) fn add_offerer_branches(
    pipeline: &gst::Pipeline,
    webrtc: &gst::Element,
    shared: &Arc<Shared>,
) -> Result<(), MediaError> {
    let c = &shared.config;
    if c.video == VideoSource::None {
        add_recvonly(webrtc, MediaKind::Video, c, VIDEO_PT);
    } else {
        let b = add_video(pipeline, webrtc, shared, VIDEO_PT, None)?;
        if let Ok(mut g) = shared.video_send.lock() {
            *g = Some(b);
        }
    }
    if c.audio == AudioSource::None {
        add_recvonly(webrtc, MediaKind::Audio, c, AUDIO_PT);
    } else {
        let b = add_audio(pipeline, webrtc, shared, AUDIO_PT, None)?;
        if let Ok(mut g) = shared.audio_send.lock() {
            *g = Some(b);
        }
    }
    Ok(())
}

fn link_to_webrtc(
    webrtc: &gst::Element,
    last: &gst::Element,
    mline: Option<u32>,
    video: bool,
) -> Result<gst_webrtc::WebRTCRTPTransceiver, MediaError> {
    let name = mline.map(|m| format!("sink_{m}"));
    let sink = match &name {
        Some(n) => webrtc.request_pad_simple(n),
        None => webrtc.request_pad_simple("sink_%u"),
    }
    .ok_or_else(|| {
        MediaError::Negotiation(format!(
            "webrtcbin gave no sink pad {}",
            name.as_deref().unwrap_or("sink_%u")
        ))
    })?;
    let src = last
        .static_pad("src")
        .ok_or_else(|| MediaError::Negotiation("no src pad".into()))?;
    src.link(&sink)
        .map_err(|e| MediaError::Negotiation(format!("linking to webrtcbin: {e:?}")))?;
    let trans = sink.property::<gst_webrtc::WebRTCRTPTransceiver>("transceiver");
    trans.set_property(
        "direction",
        gst_webrtc::WebRTCRTPTransceiverDirection::Sendrecv,
    );
    // NACK/RTX on video only: Chrome rejects the SDP with NACK on audio.
    trans.set_property("do-nack", video);
    Ok(trans)
}

/// Adds a receive-only transceiver (offerer without a source of that kind).
pub(crate) fn add_recvonly(webrtc: &gst::Element, kind: MediaKind, config: &MediaConfig, pt: u32) {
    let codec = config.codec;
    let caps = rtp_caps(kind, codec, pt);
    let trans = webrtc.emit_by_name::<gst_webrtc::WebRTCRTPTransceiver>(
        "add-transceiver",
        &[&gst_webrtc::WebRTCRTPTransceiverDirection::Recvonly, &caps],
    );
    trans.set_property("do-nack", kind == MediaKind::Video);
    if kind == MediaKind::Video {
        config.video_fec.apply(&trans);
    }
}

//! The receiving half: webrtcbin's `pad-added` → depayloader → decoder →
//! converter → sink, per remote stream.
//!
//! A pipeline builder, called from the webrtcbin wiring's `pad-added`
//! handler. This is the one webrtcbin callback that builds elements instead of only
//! queueing a command: the new pad must be linked before its first buffer
//! returns, or the stream stops with not-linked. Probes at the sinks count
//! decoded media, fire the first-frame events, feed the "media stopped"
//! watchdog and read the latency-probe stamps (`stamps`).

use crate::config::Display;
use crate::elements::make;
use crate::events::MediaEvent;
use crate::probe;
use crate::shared::Shared;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_video as gst_video;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Instant;

mod stamps;

/// How long a remote buffer may take from the jitterbuffer to the sink.
/// Every ms of it is a ms of glass-to-glass. A frame that did not wait
/// for a retransmission leaves the jitterbuffer at once and has the
/// jitterbuffer's latency as slack too; one that waited the full NACK
/// window has only this for decoding (~1 ms for 640x480 VP8 here). With
/// 10 ms the median was ~21 ms (pair and calls); 6 ms gave ~17 ms, 3 ms
/// ~14 ms, each with the same p95 (~26–37 ms at load ~8: frames that wait
/// for a core, late whatever the deadline). The long call tail seen with
/// shorter deadlines before came from RTCP lip-sync ([`crate::playout`]).
const PROCESSING_DEADLINE: gst::ClockTime = gst::ClockTime::from_mseconds(5);

/// Handles `pad-added` of webrtcbin; errors become an Error event.
pub(crate) fn on_pad_added(webrtc: &gst::Element, pad: &gst::Pad, shared: &Arc<Shared>) {
    if pad.direction() != gst::PadDirection::Src {
        return;
    }
    if let Err(e) = link_remote_stream(webrtc, pad, shared) {
        tracing::warn!("remote stream {}: {e}", pad.name());
        shared.events.send(MediaEvent::Error(e));
    }
}

fn link_remote_stream(
    webrtc: &gst::Element,
    pad: &gst::Pad,
    shared: &Arc<Shared>,
) -> Result<(), MediaError> {
    let caps = pad.current_caps().or_else(|| Some(pad.query_caps(None)));
    let s = caps
        .as_ref()
        .and_then(|c| c.structure(0).map(|s| s.to_owned()));
    let media = s
        .as_ref()
        .and_then(|s| s.get::<String>("media").ok())
        .unwrap_or_default();
    let enc = s
        .as_ref()
        .and_then(|s| s.get::<String>("encoding-name").ok())
        .unwrap_or_default()
        .to_ascii_uppercase();
    let pipeline = webrtc
        .parent()
        .and_then(|p| p.downcast::<gst::Pipeline>().ok())
        .ok_or_else(|| MediaError::Negotiation("webrtcbin has no pipeline".into()))?;
    let headless = shared.config.display == Display::Headless;
    let video = media == "video";
    let (depay, dec) = match enc.as_str() {
        "VP8" => {
            let d = make("rtpvp8depay", None)?;
            let dec = make("vp8dec", None)?;
            (d, dec)
        }
        "H264" => {
            let d = make("rtph264depay", None)?;
            let dec = make("avdec_h264", None)?;
            // Frame threading adds frames of delay.
            dec.set_property("max-threads", 1i32);
            (d, dec)
        }
        "OPUS" => {
            let dec = make("opusdec", None)?;
            crate::resilience::tune_opus_decoder(&dec);
            (make("rtpopusdepay", None)?, dec)
        }
        other => {
            return Err(MediaError::IncompatibleSdp(format!(
                "remote sends {media} as {other}, which we cannot decode"
            )))
        }
    };
    if video {
        depay.set_property("request-keyframe", true);
        depay.set_property("wait-for-keyframe", true);
    }
    // Recording taps the encoded stream (no re-encoding).
    let tee = match shared.config.record {
        Some(_) => Some(make("tee", None)?),
        None => None,
    };
    let mut chain = vec![depay.clone()];
    chain.extend(tee.clone());
    chain.push(dec);
    if video {
        chain.push(make("videoconvert", None)?);
    } else {
        chain.push(make("audioconvert", None)?);
        chain.push(make("audioresample", None)?);
    }
    // Window mode: remote video goes into the call window's compositor.
    let window = shared.window.get().filter(|_| video);
    let sink = if let Some(w) = window {
        w.sink().clone()
    } else if headless {
        let name = if video {
            "remote-video-sink"
        } else {
            "remote-audio-sink"
        };
        make("fakesink", Some(name))?
    } else if video {
        let s = make("ximagesink", Some("remote-video-sink"))?;
        s.set_property("force-aspect-ratio", true);
        s
    } else {
        crate::audio_device::audio_output(&shared.config)?
    };
    if window.is_none() {
        if sink.find_property("sync").is_some() {
            sink.set_property("sync", true);
        }
        no_preroll(&sink);
        set_processing_deadline(&sink);
        chain.push(sink.clone());
    }
    pipeline
        .add_many(&chain)
        .map_err(|e| MediaError::Negotiation(e.to_string()))?;
    gst::Element::link_many(&chain)
        .map_err(|e| MediaError::Negotiation(format!("linking {media}: {e}")))?;
    // Where decoded media is counted: the sink, or the window's input.
    let counted = match window {
        Some(w) => {
            let input = w.remote_input()?;
            chain
                .last()
                .and_then(|c| c.static_pad("src"))
                .ok_or_else(|| MediaError::Negotiation("no src pad".into()))?
                .link(&input)
                .map_err(|e| MediaError::Negotiation(format!("linking to the window: {e:?}")))?;
            Some(input)
        }
        None => sink.static_pad("sink"),
    };
    for e in chain.iter().rev() {
        let _ = e.sync_state_with_parent();
    }
    if !video {
        note_audio_output(&sink, shared);
    }
    if let Some(tee) = &tee {
        crate::record::attach(&pipeline, tee, &depay, video, &enc, &shared.recorder);
    }
    if let Some(sp) = counted {
        add_counter(&sp, Arc::downgrade(shared), video);
    }
    if let Some(w) = window.filter(|_| shared.config.latency_probe) {
        w.read_stamps(Arc::downgrade(shared));
    } else if video && shared.config.latency_probe {
        let conv = if tee.is_some() { 3 } else { 2 };
        if let Some(conv_pad) = chain.get(conv).and_then(|c| c.static_pad("sink")) {
            stamps::add_stamp_reader(&conv_pad, Arc::downgrade(shared), &pipeline, &sink);
        }
    }
    let depay_sink = depay
        .static_pad("sink")
        .ok_or_else(|| MediaError::Negotiation("depayloader has no sink pad".into()))?;
    pad.link(&depay_sink)
        .map_err(|e| MediaError::Negotiation(format!("linking remote {media}: {e:?}")))?;
    // The peer is alive while its RTP arrives, whether or not our own sinks
    // keep up: a sink of ours that waits is not the peer vanishing.
    let alive = Arc::downgrade(shared);
    depay_sink.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        if let Some(s) = alive.upgrade() {
            s.touch_media();
        }
        gst::PadProbeReturn::Ok
    });
    crate::remote_bye::track_senders(&depay_sink, shared);
    if video {
        if let Ok(mut g) = shared.remote_video_depay.lock() {
            *g = Some(depay.clone());
        }
        depay.send_event(
            gst_video::UpstreamForceKeyUnitEvent::builder()
                .all_headers(true)
                .build(),
        );
    }
    // Sinks added after PLAYING run with no latency until recalculated.
    pipeline.call_async(|p| {
        if let Err(e) = p.recalculate_latency() {
            tracing::debug!("recalculate_latency: {e}");
        }
    });
    Ok(())
}

/// Records where remote audio goes. autoaudiosink (started by now) falls
/// back to a fake sink when no output opens (no sound server, no ALSA
/// device): the call goes on with video, and the owner is warned.
fn note_audio_output(sink: &gst::Element, shared: &Shared) {
    use crate::stats::AudioOutput;
    let output = if shared.config.display == Display::Headless {
        AudioOutput::Headless
    } else if shared.config.speaker == crate::config::Speaker::None {
        AudioOutput::Off
    } else {
        let fake = sink.downcast_ref::<gst::Bin>().and_then(|bin| {
            bin.iterate_recurse()
                .into_iter()
                .flatten()
                .find(|e| e.factory().is_some_and(|f| f.name().starts_with("fake")))
        });
        match fake {
            Some(_) => AudioOutput::Unavailable,
            None => AudioOutput::Playing,
        }
    };
    if let Ok(mut g) = shared.audio_output.lock() {
        *g = Some(output);
    }
    if output == AudioOutput::Unavailable {
        let reason = "no audio output device could be opened (tried autoaudiosink's sinks: PulseAudio, ALSA, JACK, OSS, OpenAL); remote audio is not played".to_string();
        tracing::warn!("{reason}");
        shared
            .events
            .send(MediaEvent::AudioOutputUnavailable { reason });
    }
}

/// A sink added to a PLAYING pipeline must not wait for preroll
/// (`async=false`). With `async=true` it posts ASYNC_START, the pipeline
/// loses its state and drops to PAUSED until the sink prerolls; in PAUSED the
/// live sources (camera, microphone, test sources) produce nothing, so a sink
/// fed by them (the answerer's local preview) never prerolls and the whole
/// call freezes. For a bin (autoaudiosink), the sink it picks inside.
pub(crate) fn no_preroll(sink: &gst::Element) {
    if sink.find_property("async").is_some() {
        sink.set_property("async", false);
    }
    if let Some(bin) = sink.downcast_ref::<gst::Bin>() {
        bin.connect_deep_element_added(|_, _, e| {
            if e.is::<gst_base::BaseSink>() {
                e.set_property("async", false);
            }
        });
    }
}

/// The sink's processing deadline (default 20 ms) adds to the pipeline
/// latency (see [`PROCESSING_DEADLINE`]). A bin
/// (autoaudiosink, window mode's default speaker) gets it on the sink it
/// picks: its fallback fake sink's 20 ms made window mode's pipeline
/// latency, and so its glass-to-glass, 10 ms more than headless.
fn set_processing_deadline(sink: &gst::Element) {
    let set = |e: &gst::Element| {
        if e.find_property("processing-deadline").is_some() {
            e.set_property("processing-deadline", PROCESSING_DEADLINE.nseconds());
        }
    };
    set(sink);
    if let Some(bin) = sink.downcast_ref::<gst::Bin>() {
        bin.connect_deep_element_added(move |_, _, e| {
            if e.is::<gst_base::BaseSink>() {
                set(e);
            }
        });
    }
}

fn add_counter(pad: &gst::Pad, shared: Weak<Shared>, video: bool) {
    if video {
        // The decoded size, from each caps event (the peer may change it).
        let s = shared.clone();
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let (Some(s), Some(gst::EventView::Caps(c))) =
                (s.upgrade(), info.event().map(|e| e.view()))
            {
                if let Some(st) = c.caps().structure(0) {
                    let dim = |k: &str| st.get::<i32>(k).ok().and_then(|v| u32::try_from(v).ok());
                    if let (Some(w), Some(h)) = (dim("width"), dim("height")) {
                        let packed = (u64::from(w) << 32) | u64::from(h);
                        s.video_size_rx.store(packed, Ordering::Relaxed);
                    }
                }
            }
            gst::PadProbeReturn::Ok
        });
    }
    pad.add_probe(gst::PadProbeType::BUFFER, move |pad, info| {
        let Some(s) = shared.upgrade() else {
            return gst::PadProbeReturn::Ok;
        };
        if !video {
            record_audio_peak(pad, info, &s);
        }
        let (counter, first) = if video {
            (&s.video_rx, &s.first_video)
        } else {
            (&s.audio_rx, &s.first_audio)
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if video {
            if let Ok(mut f) = s.freeze.lock() {
                f.frame(probe::now_us());
            }
        }
        if !first.swap(true, Ordering::AcqRel) {
            if let (true, Some(w)) = (video, s.window.get()) {
                w.on_first_remote_video();
            }
            let (at, since_start) = (Instant::now(), s.start.elapsed());
            s.events.send(if video {
                MediaEvent::FirstRemoteVideoFrame { at, since_start }
            } else {
                MediaEvent::FirstRemoteAudio { at, since_start }
            });
        }
        gst::PadProbeReturn::Ok
    });
}

/// Keeps the peak of a decoded remote audio buffer (see `MediaStats`).
fn record_audio_peak(pad: &gst::Pad, info: &gst::PadProbeInfo, s: &Shared) {
    let format = pad.current_caps().and_then(|c| {
        c.structure(0)
            .and_then(|st| st.get::<String>("format").ok())
    });
    let (Some(format), Some(buffer)) = (format, info.buffer()) else {
        return;
    };
    let Ok(map) = buffer.map_readable() else {
        return;
    };
    if let Some(peak) = crate::stats::audio_peak(&format, map.as_slice()) {
        let millionths = (peak * 1e6).round() as u32;
        s.audio_peak_rx.store(millionths + 1, Ordering::Relaxed);
    }
}

//! Recording the remote side of a call, without re-encoding: each remote
//! stream is teed after its depayloader (before the decoder) into one
//! `matroskamux ! filesink`.
//!
//! The file is written as it comes, in clusters of at most 500 ms with
//! unknown-size elements, so a file cut by a crash still plays (the
//! demuxer scans its clusters; the test kills a node mid-call and decodes
//! the file). It is not muxed `streamable=true`: a streamable file never
//! gets its duration, and readers then guess it from the last cluster
//! (`gst-discoverer-1.0` said 3.9-4.4 s of a 5.0 s call, 0.1 s with short
//! clusters); written normally, a cleanly closed file gets its duration and
//! index at EOS (5.00 s of 5.03 s).
//!
//! Order matters: the muxer writes its header once every pad it has has
//! data, and takes no pad after that. So buffers are dropped until every
//! remote stream of the call has its pad (or 2 s passed), then video starts
//! on a keyframe (one is requested) and audio with it. On close, EOS goes
//! down each branch and the file is closed before the pipeline stops.

use crate::elements::make;
use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_video as gst_video;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest wait for the other remote stream before recording starts without it.
const ALL_STREAMS_WAIT: Duration = Duration::from_secs(2);
/// Longest Matroska cluster (what a crash can lose at most, besides
/// filesink's buffer).
const CLUSTER: gst::ClockTime = gst::ClockTime::from_mseconds(500);
/// Longest wait for the file to be closed on hangup.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// One call's recording.
pub(crate) struct Recorder {
    mux: gst::Element,
    filesink: gst::Element,
    created: Instant,
    /// The record branches' first elements (queues), for EOS.
    branches: Mutex<Vec<gst::Element>>,
    has_video: AtomicBool,
    video_started: AtomicBool,
    keyframe_asked: AtomicBool,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

/// A session's recording: where to (`None`: not recording), the recorder
/// once the first remote stream made it, and the session's m-line count
/// (how many streams to wait for).
#[derive(Debug)]
pub(crate) struct RecordSlot {
    path: Option<PathBuf>,
    mlines: Arc<AtomicU32>,
    recorder: Mutex<Option<Arc<Recorder>>>,
}

impl RecordSlot {
    pub(crate) fn new(path: Option<PathBuf>, mlines: Arc<AtomicU32>) -> RecordSlot {
        RecordSlot {
            path,
            mlines,
            recorder: Mutex::new(None),
        }
    }
}

impl Recorder {
    fn new(pipeline: &gst::Pipeline, path: &std::path::Path) -> Result<Self, MediaError> {
        let mux = make("matroskamux", None)?;
        mux.set_property("streamable", false);
        mux.set_property("max-cluster-duration", CLUSTER.nseconds() as i64);
        let filesink = make("filesink", None)?;
        filesink.set_property("location", path.to_string_lossy().as_ref());
        filesink.set_property("async", false);
        filesink.set_property("sync", false);
        let link = |e: String| MediaError::Negotiation(format!("recorder: {e}"));
        pipeline
            .add_many([&mux, &filesink])
            .map_err(|e| link(e.to_string()))?;
        mux.link(&filesink).map_err(|e| link(e.to_string()))?;
        for e in [&filesink, &mux] {
            let _ = e.sync_state_with_parent();
        }
        tracing::info!("recording to {}", path.display());
        Ok(Recorder {
            mux,
            filesink,
            created: Instant::now(),
            branches: Mutex::new(Vec::new()),
            has_video: AtomicBool::new(false),
            video_started: AtomicBool::new(false),
            keyframe_asked: AtomicBool::new(false),
        })
    }

    /// Every remote stream has its branch, or it is too late to wait.
    fn ready(&self, expected: u32) -> bool {
        let linked = self.branches.lock().map(|b| b.len()).unwrap_or(0) as u32;
        linked >= expected.max(1) || self.created.elapsed() > ALL_STREAMS_WAIT
    }
}

/// Adds a record branch to the remote stream whose encoded buffers leave
/// `tee`; `depay` is asked for keyframes. `enc` is the encoding (VP8, H264,
/// OPUS). Failures are logged: the call goes on unrecorded.
pub(crate) fn attach(
    pipeline: &gst::Pipeline,
    tee: &gst::Element,
    depay: &gst::Element,
    video: bool,
    enc: &str,
    slot: &RecordSlot,
) {
    if let Err(e) = try_attach(pipeline, tee, depay, video, enc, slot) {
        tracing::warn!("not recording this stream: {e}");
    }
}

fn try_attach(
    pipeline: &gst::Pipeline,
    tee: &gst::Element,
    depay: &gst::Element,
    video: bool,
    enc: &str,
    slot: &RecordSlot,
) -> Result<(), MediaError> {
    let Some(path) = slot.path.as_ref() else {
        return Ok(());
    };
    let rec = {
        let mut slot_guard = slot
            .recorder
            .lock()
            .map_err(|_| MediaError::Negotiation("recorder lock".into()))?;
        match slot_guard.as_ref() {
            Some(r) => r.clone(),
            None => {
                let r = Arc::new(Recorder::new(pipeline, path)?);
                *slot_guard = Some(r.clone());
                r
            }
        }
    };
    let fail = |e: String| MediaError::Negotiation(format!("recorder: {e}"));
    let mux_pad = rec
        .mux
        .request_pad_simple(if video { "video_%u" } else { "audio_%u" })
        .ok_or_else(|| fail("the file has started; a late stream is left out".into()))?;
    let queue = make("queue", None)?;
    let mut chain = vec![queue.clone()];
    if enc == "H264" {
        let parse = make("h264parse", None)?;
        chain.push(parse);
    }
    pipeline.add_many(&chain).map_err(|e| fail(e.to_string()))?;
    gst::Element::link_many(&chain).map_err(|e| fail(e.to_string()))?;
    let last_src = chain
        .last()
        .and_then(|e| e.static_pad("src"))
        .ok_or_else(|| fail("no src pad".into()))?;
    last_src
        .link(&mux_pad)
        .map_err(|e| fail(format!("{e:?}")))?;
    for e in chain.iter().rev() {
        let _ = e.sync_state_with_parent();
    }
    let tee_src = tee
        .request_pad_simple("src_%u")
        .ok_or_else(|| fail("tee gave no pad".into()))?;
    let queue_sink = queue
        .static_pad("sink")
        .ok_or_else(|| fail("queue has no sink pad".into()))?;
    add_gate(&tee_src, rec.clone(), &slot.mlines, depay, video);
    tee_src
        .link(&queue_sink)
        .map_err(|e| fail(format!("{e:?}")))?;
    if video {
        rec.has_video.store(true, Ordering::Release);
    }
    if let Ok(mut b) = rec.branches.lock() {
        b.push(queue);
    }
    Ok(())
}

/// Drops buffers until the file may start: every stream linked, then video
/// from a keyframe, audio once video has started.
fn add_gate(
    pad: &gst::Pad,
    rec: Arc<Recorder>,
    mlines: &Arc<AtomicU32>,
    depay: &gst::Element,
    video: bool,
) {
    let mlines = mlines.clone();
    let depay = depay.downgrade();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
        if video && rec.video_started.load(Ordering::Acquire) {
            return gst::PadProbeReturn::Ok;
        }
        let expected = mlines.load(Ordering::Relaxed);
        if !rec.ready(expected) {
            return gst::PadProbeReturn::Drop;
        }
        if !video {
            let go =
                !rec.has_video.load(Ordering::Acquire) || rec.video_started.load(Ordering::Acquire);
            return if go {
                gst::PadProbeReturn::Ok
            } else {
                gst::PadProbeReturn::Drop
            };
        }
        let keyframe = info
            .buffer()
            .is_some_and(|b| !b.flags().contains(gst::BufferFlags::DELTA_UNIT));
        if keyframe {
            rec.video_started.store(true, Ordering::Release);
            return gst::PadProbeReturn::Ok;
        }
        if !rec.keyframe_asked.swap(true, Ordering::AcqRel) {
            if let Some(d) = depay.upgrade() {
                d.call_async(|d| {
                    d.send_event(
                        gst_video::UpstreamForceKeyUnitEvent::builder()
                            .all_headers(true)
                            .build(),
                    );
                });
            }
        }
        gst::PadProbeReturn::Drop
    });
}

/// Ends the recording cleanly: EOS down every branch, then waits (a few
/// seconds at most) for the file to be closed.
pub(crate) fn finish(slot: &RecordSlot) {
    let Some(rec) = slot.recorder.lock().ok().and_then(|mut g| g.take()) else {
        return;
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    if let Some(pad) = rec.filesink.static_pad("sink") {
        pad.add_probe(gst::PadProbeType::EVENT_DOWNSTREAM, move |_, info| {
            if let Some(gst::PadProbeData::Event(ev)) = &info.data {
                if ev.type_() == gst::EventType::Eos {
                    let _ = tx.try_send(());
                }
            }
            gst::PadProbeReturn::Ok
        });
    }
    let branches = rec.branches.lock().map(|b| b.clone()).unwrap_or_default();
    if branches.is_empty() {
        return;
    }
    for q in &branches {
        if let Some(pad) = q.static_pad("sink") {
            pad.send_event(gst::event::Eos::new());
        }
    }
    if rx.recv_timeout(CLOSE_WAIT).is_err() {
        tracing::warn!("the recording was not closed within {CLOSE_WAIT:?}");
    }
}

//! The session's service thread: the one place that waits on webrtcbin.
//!
//! It owns the negotiation ([`crate::negotiation`]), acts on the bus
//! ([`crate::bus`]), emits periodic stats, ticks the call window's clock
//! and runs the media watchdog ([`crate::health`]).
//!
//! It sleeps on its command queue until the next deadline: the next stats
//! tick, the watchdog's next check ([`Health::next_check`]: the moment the
//! peer's silence would reach the media timeout, or the next look at the
//! pipeline state), and — while the peer's DTLS certificate is undecided
//! after the remote description — a [`TRUST_POLL`] fallback tick beside the
//! DTLS transports' state notifications. Everything else wakes it through
//! the queue: the owner's inputs, webrtcbin's callbacks and bus messages.

use crate::bus;
use crate::command::{Cmd, CmdTx};
use crate::events::MediaEvent;
use crate::health::Health;
use crate::negotiation::Negotiator;
use crate::shared::Shared;
use crate::stats::parse_webrtc_stats;
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How often the DTLS certificate is looked at while undecided, should a
/// transport's state notification be missed.
const TRUST_POLL: Duration = Duration::from_millis(20);

struct Service {
    neg: Negotiator,
    health: Health,
    window_closed: bool,
}

/// The service thread's loop; returns on `Cmd::Stop`.
pub(crate) fn run(
    shared: Arc<Shared>,
    pipeline: gst::Pipeline,
    webrtc: gst::Element,
    tx: CmdTx,
    rx: mpsc::Receiver<Cmd>,
) {
    let bus = pipeline.bus();
    if let Some(bus) = &bus {
        let window = Arc::downgrade(&shared);
        bus::forward(bus, tx.clone(), move |msg| {
            if let Some(shared) = window.upgrade() {
                if let Some(w) = shared.window.get() {
                    w.on_element_message(msg);
                }
            }
        });
    }
    let mut svc = Service {
        neg: Negotiator {
            shared,
            pipeline,
            webrtc,
            tx,
        },
        health: Health::new(),
        window_closed: false,
    };
    let interval = svc
        .neg
        .shared
        .config
        .stats_interval
        .max(Duration::from_millis(100));
    let mut next_stats = Instant::now() + interval;
    loop {
        if let Some(bus) = &bus {
            while let Some(msg) = bus.pop() {
                svc.on_bus(&msg);
            }
        }
        let shared = &svc.neg.shared;
        let trust_pending =
            shared.trust.is_undecided() && shared.remote_set.load(Ordering::Acquire);
        if trust_pending {
            svc.neg.check_trust();
        }
        svc.health.check(shared, &svc.neg.pipeline);
        if Instant::now() >= next_stats {
            next_stats += interval;
            svc.poll_stats();
            if let Some(w) = shared.window.get() {
                w.tick();
            }
        }
        let mut deadline = next_stats;
        if let Some(at) = svc.health.next_check(shared) {
            deadline = deadline.min(at);
        }
        if trust_pending {
            deadline = deadline.min(Instant::now() + TRUST_POLL);
        }
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Cmd::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Ok(Cmd::Bus(msg)) => svc.on_bus(&msg),
            Ok(cmd) => svc.neg.handle(cmd),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if let Some(bus) = &bus {
        bus.unset_sync_handler();
    }
}

impl Service {
    /// ximagesink's only runtime error: its window was closed.
    fn on_window_closed(&mut self) {
        if !self.window_closed {
            self.window_closed = true;
            self.neg.shared.events.send(MediaEvent::WindowClosed);
        }
    }

    fn on_bus(&mut self, msg: &gst::Message) {
        match msg.view() {
            gst::MessageView::Error(_)
                if msg
                    .src()
                    .is_some_and(|s| s.name() == crate::window::WINDOW_SINK) =>
            {
                self.on_window_closed()
            }
            gst::MessageView::Error(err) => {
                self.neg
                    .fail(bus::runtime_error(msg, err, &self.neg.shared.config));
            }
            gst::MessageView::Warning(w) => {
                tracing::debug!(
                    "gstreamer warning from {:?}: {}",
                    msg.src().map(|s| s.path_string()),
                    w.error()
                );
            }
            gst::MessageView::Latency(_) => {
                let _ = self.neg.pipeline.recalculate_latency();
            }
            _ => {}
        }
    }

    fn poll_stats(&self) {
        if let Some(n) = crate::fec::recovered(&self.neg.pipeline) {
            self.neg.shared.fec_recovered.store(n, Ordering::Relaxed);
        }
        let s = Arc::downgrade(&self.neg.shared);
        let p = gst::Promise::with_change_func(move |reply| {
            let Some(s) = s.upgrade() else { return };
            if let Ok(Some(reply)) = reply {
                tracing::trace!("get-stats: {reply}");
                let net = parse_webrtc_stats(reply);
                let prev = s.net.lock().map(|mut g| std::mem::replace(&mut *g, net));
                if let Ok(prev) = prev {
                    crate::resilience::adapt(&s, &prev, &net);
                }
            }
            s.events.send(MediaEvent::Stats(s.snapshot()));
        });
        self.neg
            .webrtc
            .emit_by_name::<()>("get-stats", &[&None::<gst::Pad>, &p]);
    }
}

//! The call window's side of the actor (window mode): labels and cards,
//! the ringing window of an incoming call, and what the window's keys and
//! its close button do. duet-gst only reports keys ([`WindowKey`]); their
//! meaning in a call is decided here.
//!
//! The callee gets a window as soon as the phone rings (the `y`/`n` keys
//! need one) with the card "alice is calling — y answer, n reject": the
//! call window of the session prepared while ringing (one window per call,
//! already showing when the answer comes), or, when the call is not
//! prepared (recording) or its prepared media failed, a [`RingingWindow`]
//! that answering closes before the call window opens. The caller's call
//! window opens at dial time with the card "calling bob…". Every window
//! closes when the call ends.

use super::Actor;
use crate::call::machine::{CallEvent, Direction, Phase};
use duet_gst::{MediaEvent, MediaKind, RingingWindow, ToneKind, WindowKey};
use libp2p::PeerId;
use tokio::sync::mpsc;

/// The ringing card of an incoming call and its events.
pub(super) type Ringing = (RingingWindow, mpsc::Receiver<MediaEvent>);

pub(super) async fn next_ringing_event(ringing: &mut Option<Ringing>) -> Option<MediaEvent> {
    match ringing {
        Some((_, rx)) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    fn windowed(&self) -> bool {
        self.config.media.display.is_windowed()
    }

    /// An incoming call is ringing here, waiting for a person.
    fn rings_here(&self) -> bool {
        self.machine
            .call()
            .is_some_and(|c| c.direction == Direction::Incoming && c.phase == Phase::Ringing)
    }

    /// After a call event: opens the ringing card of an incoming call
    /// (unless auto-answering), closes it when the call moves on.
    pub(super) fn window_on_event(&mut self, event: &CallEvent<PeerId>) {
        self.tone_on_event(event);
        let ringing_in = self
            .machine
            .call()
            .filter(|c| c.direction == Direction::Incoming && c.phase == Phase::Ringing);
        match (event, ringing_in) {
            // An auto-answered call is past ringing here: no card. A
            // prepared one shows it on its call window (its media starts
            // right after this event).
            (CallEvent::Incoming { .. }, Some(call)) if !call.media_started() => {
                self.open_ringing_card()
            }
            (CallEvent::Connecting { .. }, _) => self.set_card(),
            (_, None) => self.ringing = None,
            _ => {}
        }
    }

    /// The card "alice is calling — y answer, n reject" in a window of its
    /// own, for a call ringing here without a call window (window mode).
    fn open_ringing_card(&mut self) {
        let Some(name) = self
            .machine
            .call()
            .filter(|_| self.windowed() && self.rings_here() && self.ringing.is_none())
            .map(|c| c.peer_name.clone())
        else {
            return;
        };
        let card = ringing_card(&name);
        let display = self.config.media.display;
        let t0 = std::time::Instant::now();
        match RingingWindow::open_on(display, &format!("duet — {name}"), &card) {
            Ok(w) => {
                tracing::debug!("ringing card open in {:.1} ms", ms_since(t0));
                self.ringing = Some(w)
            }
            Err(e) => tracing::warn!("cannot open the ringing window: {e}"),
        }
    }

    /// The media stopped: if the call still rings (its prepared media
    /// failed), the card goes on in a window of its own.
    pub(super) fn window_after_media_stop(&mut self) {
        self.open_ringing_card();
    }

    /// Ringback while the callee rings, ringtone while we ring; silence
    /// otherwise, when quiet, and without a window.
    fn tone_on_event(&mut self, event: &CallEvent<PeerId>) {
        let kind = match event {
            // An auto-answered call is past ringing here: no ringtone.
            CallEvent::Incoming { .. } if self.rings_here() => Some(ToneKind::Ringtone),
            CallEvent::Ringing { .. } => Some(ToneKind::Ringback),
            _ => None,
        };
        self.tone = None;
        let Some(kind) = kind.filter(|_| self.windowed() && !self.config.quiet) else {
            return;
        };
        let t0 = std::time::Instant::now();
        match duet_gst::Tone::play(kind) {
            Ok(t) => {
                tracing::debug!("{} playing in {:.1} ms", kind.as_str(), ms_since(t0));
                self.tone = Some(t)
            }
            Err(e) => tracing::warn!("cannot play the {}: {e}", kind.as_str()),
        }
    }

    /// After the media session started: the peer's name and the card.
    pub(super) fn window_on_media_start(&mut self) {
        if self.windowed() {
            // The call window took the spare sink: the next call's.
            duet_gst::window::keep_spare_sink();
        }
        self.ringing = None;
        // Prepared while ringing, the call window is the ringing card.
        if !self.rings_here() && self.tone.as_ref().map(|t| t.kind()) == Some(ToneKind::Ringtone) {
            self.tone = None;
        }
        self.set_card();
    }

    /// The peer's name and the card on the call window, for the call's
    /// phase: ringing here, calling, or connecting after the answer.
    fn set_card(&self) {
        let (Some(call), Some(m)) = (self.machine.call(), &self.media) else {
            return;
        };
        let name = &call.peer_name;
        let card = match call.direction {
            Direction::Outgoing => format!("calling {name}…"),
            Direction::Incoming if call.phase == Phase::Ringing => ringing_card(name),
            Direction::Incoming => format!("connecting to {name}…"),
        };
        m.session.set_window_labels(name, Some(&card));
    }

    /// A key or the close button of the ringing card or the call window.
    pub(super) async fn on_window_event(&mut self, ev: MediaEvent) {
        let result = match ev {
            MediaEvent::Key(WindowKey::Yes) => self.machine.answer(),
            MediaEvent::Key(WindowKey::No) => self.machine.reject(),
            MediaEvent::Key(WindowKey::Hangup) | MediaEvent::WindowClosed => self.machine.hangup(),
            MediaEvent::Key(WindowKey::Mic) => {
                self.toggle_local_mute(MediaKind::Audio).await;
                return;
            }
            MediaEvent::Key(WindowKey::Camera) => {
                self.toggle_local_mute(MediaKind::Video).await;
                return;
            }
            MediaEvent::Key(WindowKey::Fullscreen) => {
                match &self.media {
                    Some(m) => m.session.toggle_fullscreen(),
                    None => tracing::debug!("fullscreen: only in the call window"),
                }
                return;
            }
            _ => return,
        };
        match result {
            Ok(actions) => self.execute(actions).await,
            Err(e) => tracing::debug!("window key ignored: {e}"),
        }
    }

    /// `m`/`v` in the window: mutes or unmutes what we send, as
    /// `duet mute`/`duet unmute` do (the peer is told).
    pub(super) async fn toggle_local_mute(&mut self, kind: MediaKind) {
        let Some(call) = self.machine.call() else {
            return;
        };
        let muted = !call.muted.get(kind);
        if let Err(e) = self.set_local_mute(kind, muted).await {
            tracing::info!("window key: cannot mute {kind}: {e}");
        }
    }
}

fn ringing_card(caller: &str) -> String {
    format!("{caller} is calling — y answer, n reject")
}

fn ms_since(t0: std::time::Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1000.0
}

//! The call actor: one task that owns the node's current call (its
//! notices are built in `notify`).
//!
//! It is the only place where a call's pieces meet: the pure
//! [`CallMachine`] decides, and the actor carries out its [`Action`]s —
//! signalling through the network task, media through a
//! [`MediaSession`], timers in one sleep of its select loop. Inputs
//! come from a [`CallHandle`] (user commands with replies, signalling from
//! the network) and from the current session's event stream. What happens
//! is announced as [`CallNotice`]s on a broadcast channel, which never
//! blocks the actor.

mod media;
mod mute;
mod notify;
mod timers;
mod window;

use super::handle::{CallConfig, CallError, CallHandle, CallInput, CallNotice, Msg};
use super::machine::{Action, CallMachine, CommandError, MediaRole, SdpKind};
use super::view::CallStats;
use crate::net;
use crate::proto::call::{CallId, CallSignal};
use duet_gst::{ConnectionState, MediaEvent, MediaSession, MediaStats, Role};
use libp2p::PeerId;
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

const INPUT_CAPACITY: usize = 256;
/// Inputs from peers other than the current call's.
const OTHERS_CAPACITY: usize = 32;
const NOTICE_CAPACITY: usize = 256;
/// Starting the pipeline takes milliseconds, a real camera ~1 s; a device
/// that hangs in its state change must not hold the call (and the node's
/// shutdown) hostage. The stuck thread is left behind.
const MEDIA_START_TIMEOUT: Duration = Duration::from_secs(6);

/// The media of the current call.
struct Media {
    session: MediaSession,
    events: mpsc::Receiver<MediaEvent>,
    stats: MediaStats,
    /// First remote video frame: (ms after media start, Unix seconds).
    first_frame: Option<(f64, f64)>,
}

struct Started {
    id: String,
    at: SystemTime,
    peer_name: String,
}

impl Started {
    fn of(call: &super::machine::Call<PeerId>) -> Started {
        Started {
            id: call.id.to_string(),
            at: SystemTime::now(),
            peer_name: call.peer_name.clone(),
        }
    }
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

struct Actor {
    machine: CallMachine<PeerId>,
    config: CallConfig,
    net: net::Client,
    media: Option<Media>,
    /// The current (or just ended) call's beginning, kept past its end
    /// for the `Ended` notice.
    started: Option<Started>,
    /// Figures of the media just stopped, for the `Ended` notice.
    ended_stats: Option<CallStats>,
    /// The current (or just ended) call's recording file.
    recording: Option<String>,
    notices: broadcast::Sender<CallNotice>,
    timers: timers::Timers,
    /// The node's do-not-disturb, handed to the machine with each signal.
    dnd: watch::Receiver<bool>,
    /// The card of an incoming call while it rings (window mode).
    ringing: Option<window::Ringing>,
    /// The ringback or ringtone playing (window mode, not quiet).
    tone: Option<duet_gst::Tone>,
}

/// Starts the call actor for the node `me` named `my_name`.
pub fn spawn(me: PeerId, my_name: String, config: CallConfig, net: net::Client) -> CallHandle {
    let (tx, rx) = mpsc::channel(INPUT_CAPACITY);
    let (others_tx, others_rx) = mpsc::channel(OTHERS_CAPACITY);
    let (notices, _) = broadcast::channel(NOTICE_CAPACITY);
    let (dnd_tx, dnd) = watch::channel(false);
    let actor = Actor {
        machine: CallMachine::new(me, my_name, config.timeouts)
            .with_policy(config.policy)
            .with_prepare(media::prepare_while_ringing(&config)),
        config,
        net,
        media: None,
        started: None,
        ended_stats: None,
        recording: None,
        notices: notices.clone(),
        timers: timers::Timers::new(),
        dnd,
        ringing: None,
        tone: None,
    };
    tokio::spawn(actor.run(rx, others_rx));
    CallHandle::new(tx, others_tx, notices, dnd_tx)
}

async fn next_media_event(media: &mut Option<Media>) -> Option<MediaEvent> {
    match media {
        Some(m) => m.events.recv().await,
        None => std::future::pending().await,
    }
}

impl Actor {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>, mut others: mpsc::Receiver<CallInput>) {
        loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(Msg::Shutdown { reply }) => {
                        if self.machine.call().is_some() {
                            let actions = self.machine.hangup().unwrap_or_default();
                            self.execute(actions).await;
                        }
                        let _ = reply.send(());
                        return;
                    }
                    Some(msg) => self.on_msg(msg).await,
                    None => return,
                },
                Some(input) = others.recv() => self.on_msg(Msg::Input(input)).await,
                Some(ev) = next_media_event(&mut self.media) => self.on_media(ev).await,
                Some(ev) = window::next_ringing_event(&mut self.ringing) => {
                    self.on_window_event(ev).await
                }
                (id, timer) = self.timers.next() => {
                    let actions = self.machine.on_timer(&id, timer);
                    self.execute(actions).await;
                }
            }
        }
    }

    async fn on_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Dial { peer, name, reply } => {
                let new_id = CallId::random();
                match self.machine.dial(new_id.clone(), peer, name) {
                    Ok((id, actions)) => {
                        let _ = reply.send(Ok(id.to_string()));
                        if id == new_id {
                            self.started = self.machine.call().map(Started::of);
                            if let Some(call) = self.view() {
                                self.publish(CallNotice::Dialing { call });
                            }
                        }
                        self.execute(actions).await;
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Msg::Answer { reply } => {
                let r = self.machine.answer();
                self.reply_and_execute(r, reply).await;
            }
            Msg::Reject { reply } => {
                let r = self.machine.reject();
                self.reply_and_execute(r, reply).await;
            }
            Msg::Hangup { reply } => {
                let r = self.machine.hangup();
                self.reply_and_execute(r, reply).await;
            }
            Msg::View { reply } => {
                let _ = reply.send(self.view());
            }
            Msg::SetMuted { kind, muted, reply } => {
                let _ = reply.send(self.set_local_mute(kind, muted).await);
            }
            Msg::Input(input) => {
                let actions = match input {
                    CallInput::Signal {
                        from,
                        trust,
                        signal,
                    } => {
                        tracing::debug!("signal from {from}: {}", signal_name(&signal));
                        self.machine.set_dnd(*self.dnd.borrow());
                        let actions = self.machine.on_signal_from(from, trust, signal);
                        log_turned_away(&actions);
                        actions
                    }
                    CallInput::SignalFailed { peer, call_id } => {
                        self.machine.on_send_failed(&peer, &call_id)
                    }
                    CallInput::SignalRefused { peer, call_id } => {
                        self.machine.on_send_refused(&peer, &call_id)
                    }
                    CallInput::PeerLost { peer } => self.machine.on_peer_lost(&peer),
                };
                self.execute(actions).await;
            }
            Msg::Shutdown { .. } => {}
        }
    }

    async fn reply_and_execute(
        &mut self,
        result: Result<Vec<Action<PeerId>>, CommandError>,
        reply: oneshot::Sender<Result<(), CallError>>,
    ) {
        match result {
            Ok(actions) => {
                let _ = reply.send(Ok(()));
                self.execute(actions).await;
            }
            Err(e) => {
                let _ = reply.send(Err(e.into()));
            }
        }
    }

    async fn on_media(&mut self, ev: MediaEvent) {
        let actions = match ev {
            MediaEvent::LocalDescription { sdp, .. } => self.machine.on_local_description(sdp),
            MediaEvent::LocalCandidate { mline, candidate } => {
                self.machine.on_local_candidate(mline, candidate)
            }
            MediaEvent::ConnectionState(ConnectionState::Connected) => {
                self.keyframe_on_connect();
                self.machine.on_media_connected()
            }
            MediaEvent::ConnectionState(s) if s.is_terminal() => self
                .machine
                .on_media_failed(format!("media connection {s:?}").to_lowercase()),
            MediaEvent::MediaTimeout { silent_for } => {
                tracing::info!(
                    "no media from the peer for {:.1} s",
                    silent_for.as_secs_f64()
                );
                self.machine.on_media_timeout()
            }
            MediaEvent::Error(e) => self.media_error(e),
            MediaEvent::RemoteEnded => self.machine.on_remote_media_ended(),
            ev @ (MediaEvent::Key(_) | MediaEvent::WindowClosed) => {
                self.on_window_event(ev).await;
                Vec::new()
            }
            MediaEvent::AudioOutputUnavailable { reason } => {
                if let Some(call) = self.machine.call() {
                    self.publish(CallNotice::Warning {
                        call_id: call.id.to_string(),
                        warning: "audio-output-unavailable".into(),
                        detail: reason,
                    });
                }
                Vec::new()
            }
            MediaEvent::Stats(stats) => {
                if let Some(m) = self.media.as_mut() {
                    m.stats = stats;
                }
                Vec::new()
            }
            MediaEvent::FirstRemoteVideoFrame { since_start, at } => {
                let ms = since_start.as_secs_f64() * 1000.0;
                tracing::info!("first remote video frame {ms:.0} ms after media start");
                let wall = SystemTime::now()
                    .checked_sub(at.elapsed())
                    .unwrap_or_else(SystemTime::now);
                if let Some(m) = self.media.as_mut() {
                    m.first_frame = Some((ms, unix_seconds(wall)));
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        self.execute(actions).await;
    }

    /// Carries out the machine's actions in order; failures feed back into
    /// the machine (whose answer is carried out after what was queued).
    async fn execute(&mut self, actions: Vec<Action<PeerId>>) {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            match action {
                Action::StartMedia(role) => match self.start_media(role).await {
                    Ok(()) => self.window_on_media_start(),
                    Err(e) => {
                        tracing::warn!("cannot start media: {e}");
                        queue.extend(self.machine.on_media_failed(e.to_string()));
                    }
                },
                Action::SetRemoteDescription { kind, sdp } => {
                    let kind = match kind {
                        SdpKind::Offer => duet_gst::SdpKind::Offer,
                        SdpKind::Answer => duet_gst::SdpKind::Answer,
                    };
                    let result = match &self.media {
                        Some(m) => m.session.set_remote_description(kind, &sdp),
                        None => Ok(()),
                    };
                    if let Err(e) = result {
                        tracing::warn!("remote description refused: {e}");
                        queue.extend(self.media_error(e));
                    }
                }
                Action::AddRemoteCandidate { mline, candidate } => {
                    if let Some(Err(e)) = self
                        .media
                        .as_ref()
                        .map(|m| m.session.add_remote_candidate(mline, &candidate))
                    {
                        tracing::warn!("remote ICE candidate refused: {e}");
                    }
                }
                Action::StopMedia => {
                    self.stop_media();
                    self.window_after_media_stop();
                }
                Action::Send { to, signal } => {
                    tracing::debug!("sending {}", signal_name(&signal));
                    self.net.send_signal(to, signal).await
                }
                Action::Arm {
                    call_id,
                    timer,
                    after,
                } => self.timers.arm(call_id, timer, after),
                Action::MuteMedia { kind, muted } => self.mute_media(kind, muted),
                Action::RemoteMuted(muted) => self.show_remote_mute(muted),
                Action::Notify(event) => {
                    self.window_on_event(&event);
                    self.notify(event);
                }
            }
        }
    }
}

fn log_turned_away(actions: &[Action<PeerId>]) {
    for a in actions {
        if let Action::Send {
            to,
            signal: CallSignal::Reject { reason, .. },
        } = a
        {
            tracing::info!("turning away a call from {to}: {reason:?}");
        }
    }
}

fn signal_name(s: &CallSignal) -> &'static str {
    match s {
        CallSignal::Invite { .. } => "invite",
        CallSignal::Ringing { .. } => "ringing",
        CallSignal::Accept { .. } => "accept",
        CallSignal::Reject { .. } => "reject",
        CallSignal::Ice { .. } => "ice",
        CallSignal::Hangup { .. } => "hangup",
        CallSignal::Mute { .. } => "mute",
    }
}

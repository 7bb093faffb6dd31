//! What the actor tells the world: the outside view of the current call,
//! and call events turned into [`CallNotice`]s on the broadcast channel.

use super::{unix_seconds, Actor, Started};
use crate::call::handle::CallNotice;
use crate::call::machine::{CallEvent, Mute};
use crate::call::view::{CallState, CallStats, CallView};
use libp2p::PeerId;
use std::time::SystemTime;

impl Actor {
    pub(super) fn view(&self) -> Option<CallView> {
        let call = self.machine.call()?;
        let started_at = match &self.started {
            Some(s) if s.id == call.id.as_str() => s.at,
            _ => SystemTime::now(),
        };
        let stats = self
            .media
            .as_ref()
            .map(|m| {
                let s = m.session.stats();
                CallStats::from_media(&s, m.first_frame)
            })
            .unwrap_or_default();
        Some(CallView {
            id: call.id.to_string(),
            peer_name: call.peer_name.clone(),
            peer_id: call.peer.to_string(),
            direction: call.direction,
            state: call.phase.into(),
            started_at: unix_seconds(started_at),
            stats,
            muted: call.muted,
            remote_muted: call.remote_muted,
            recording: self.recording.clone(),
            tone: self.tone.as_ref().map(|t| t.kind().as_str().to_string()),
        })
    }

    pub(super) fn notify(&mut self, event: CallEvent<PeerId>) {
        let notice = match event {
            CallEvent::Incoming { .. } => {
                self.started = self.machine.call().map(Started::of);
                self.view().map(|call| CallNotice::Incoming { call })
            }
            CallEvent::Ringing { .. } => self.view().map(|call| CallNotice::Ringing { call }),
            CallEvent::Connecting { .. } => None,
            CallEvent::Connected { .. } => self.view().map(|call| CallNotice::Connected { call }),
            CallEvent::Replaced { old, new } => Some(CallNotice::Replaced {
                old: old.to_string(),
                new: new.to_string(),
            }),
            CallEvent::RemoteMuted { .. } => {
                self.view().map(|call| CallNotice::RemoteMuted { call })
            }
            CallEvent::Ended {
                call_id,
                peer,
                direction,
                reason,
            } => {
                let stats = self.ended_stats.take().unwrap_or_default();
                let started = self.started.take().filter(|s| s.id == call_id.as_str());
                let call = CallView {
                    id: call_id.to_string(),
                    peer_name: started
                        .as_ref()
                        .map(|s| s.peer_name.clone())
                        .unwrap_or_default(),
                    peer_id: peer.to_string(),
                    direction,
                    state: CallState::Ended,
                    started_at: started.map(|s| unix_seconds(s.at)).unwrap_or(0.0),
                    stats,
                    muted: Mute::default(),
                    remote_muted: Mute::default(),
                    recording: self.recording.take(),
                    tone: None,
                };
                Some(CallNotice::Ended { call, reason })
            }
        };
        if let Some(notice) = notice {
            self.publish(notice);
        }
    }

    pub(super) fn publish(&self, notice: CallNotice) {
        log_notice(&notice);
        // Nobody listening is fine.
        let _ = self.notices.send(notice);
    }
}

fn log_notice(notice: &CallNotice) {
    match notice {
        CallNotice::Dialing { call } => {
            tracing::info!("calling {} ({})", call.peer_name, call.peer_id)
        }
        CallNotice::Incoming { call } => {
            tracing::info!("incoming call from {} ({})", call.peer_name, call.peer_id)
        }
        CallNotice::Ringing { call } => tracing::info!("{} is ringing", call.peer_name),
        CallNotice::Connected { call } => tracing::info!("connected with {}", call.peer_name),
        CallNotice::Replaced { old, new } => {
            tracing::info!("crossing calls: ours {old} became the peer's {new}")
        }
        CallNotice::Ended { call, reason } => {
            tracing::info!("call {} ended: {}", call.id, reason.code())
        }
        CallNotice::RemoteMuted { call } => {
            let m = call.remote_muted;
            tracing::info!(
                "{} mutes audio: {}, video: {}",
                call.peer_name,
                m.audio,
                m.video
            )
        }
        CallNotice::Warning {
            warning, detail, ..
        } => {
            tracing::warn!("{warning}: {detail}")
        }
    }
}

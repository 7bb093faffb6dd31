//! Mute in the actor: the user's mute goes through the machine (which
//! decides and signals it), and both sides' mute states are applied to the
//! media session, also to one started after they were set.

use super::Actor;
use crate::call::handle::CallError;
use crate::call::machine::Mute;
use duet_gst::{AudioSource, MediaKind, VideoSource};

impl Actor {
    /// Mutes or unmutes what this side sends: the media goes silent or
    /// black, the peer is told, the view shows it.
    pub(super) async fn set_local_mute(
        &mut self,
        kind: MediaKind,
        muted: bool,
    ) -> Result<(), CallError> {
        let media = &self.config.media;
        let sent = match kind {
            MediaKind::Audio => media.audio != AudioSource::None,
            MediaKind::Video => media.video != VideoSource::None,
        };
        if !sent {
            return Err(CallError::NotSent(kind));
        }
        let actions = self.machine.set_muted(kind, muted)?;
        self.execute(actions).await;
        Ok(())
    }

    pub(super) fn mute_media(&self, kind: MediaKind, muted: bool) {
        if let Some(m) = &self.media {
            if let Err(e) = m.session.set_muted(kind, muted) {
                tracing::warn!("cannot mute {kind}: {e}");
            }
        }
    }

    pub(super) fn show_remote_mute(&self, muted: Mute) {
        if let Some(m) = &self.media {
            m.session.set_remote_muted(MediaKind::Audio, muted.audio);
            m.session.set_remote_muted(MediaKind::Video, muted.video);
        }
    }

    /// A session just started: it takes the call's mute states (a callee
    /// may have muted, or heard the caller's mute, while it rang).
    pub(super) fn restore_mute(&self) {
        let Some(call) = self.machine.call() else {
            return;
        };
        let (local, remote) = (call.muted, call.remote_muted);
        for kind in [MediaKind::Audio, MediaKind::Video] {
            if local.get(kind) {
                self.mute_media(kind, true);
            }
        }
        self.show_remote_mute(remote);
    }
}

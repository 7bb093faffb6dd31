//! Starting and stopping the call's MediaSession (bounded: a device that
//! hangs cannot hold the actor), and what its errors mean for the call.

use super::*;

/// Whether an incoming call's media is prepared while it rings (see the
/// machine's `prepare`). In window mode the prepared session's call window
/// is the ringing card (`window`). Not when recording, where a call
/// declined would leave a file behind.
pub(super) fn prepare_while_ringing(config: &CallConfig) -> bool {
    config.record_dir.is_none()
}

impl Actor {
    /// A media failure; an untrusted peer certificate has its own reason.
    pub(super) fn media_error(&mut self, e: duet_gst::MediaError) -> Vec<Action<PeerId>> {
        match e {
            duet_gst::MediaError::Untrusted(_) => self.machine.on_media_untrusted(e.to_string()),
            e => self.machine.on_media_failed(e.to_string()),
        }
    }

    pub(super) async fn start_media(
        &mut self,
        role: MediaRole,
    ) -> Result<(), duet_gst::MediaError> {
        self.stop_media();
        self.ended_stats = None;
        let role = match role {
            MediaRole::Offerer => Role::Offerer,
            MediaRole::Answerer => Role::Answerer,
        };
        let mut config = self.config.media.clone();
        // The brokers' STUN/TURN servers, with credentials current now.
        config.ice_servers.extend(self.net.ice_servers());
        config.record = self.record_file();
        self.recording = config.record.as_ref().map(|p| p.display().to_string());
        let t0 = std::time::Instant::now();
        let start = tokio::task::spawn_blocking(move || MediaSession::start(config, role));
        let started = tokio::time::timeout(MEDIA_START_TIMEOUT, start)
            .await
            .map_err(|_| {
                duet_gst::MediaError::StateChange(format!(
                    "the media did not start within {} s (a camera or microphone that hangs?)",
                    MEDIA_START_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| duet_gst::MediaError::Init(format!("media start task: {e}")))??;
        let (session, events) = started;
        tracing::debug!(
            "media started in {:.1} ms",
            t0.elapsed().as_secs_f64() * 1000.0
        );
        self.media = Some(Media {
            session,
            events,
            stats: MediaStats::default(),
            first_frame: None,
        });
        self.restore_mute();
        Ok(())
    }

    /// A new file in the record directory for this call, if recording.
    pub(super) fn record_file(&self) -> Option<std::path::PathBuf> {
        let dir = self.config.record_dir.as_ref()?;
        if let Err(e) = std::fs::create_dir_all(dir) {
            tracing::warn!("not recording: cannot create {}: {e}", dir.display());
            return None;
        }
        let peer = self.machine.call().map(|c| c.peer_name.clone())?;
        Some(crate::call::recording::file_for(
            dir,
            &peer,
            SystemTime::now(),
        ))
    }

    /// Media just connected: the encoders ran before (a session prepared
    /// while ringing, for seconds), so what they send next is a delta frame
    /// the peer cannot decode; a key frame now shows the first picture at
    /// once rather than after the peer's PLI round trip.
    pub(super) fn keyframe_on_connect(&self) {
        if let Some(Err(e)) = self.media.as_ref().map(|m| m.session.request_keyframe()) {
            tracing::debug!("key frame at connect: {e}");
        }
    }

    pub(super) fn stop_media(&mut self) {
        if let Some(m) = self.media.take() {
            self.ended_stats = Some(CallStats::from_media(&m.session.stats(), m.first_frame));
            tokio::spawn(async move {
                m.session.close().await;
                // What the call's threads freed goes back to the kernel.
                let _ = tokio::task::spawn_blocking(crate::allocator::release_free_memory).await;
            });
        }
    }
}

//! The session's inputs for the call window (window mode) and the mute
//! states: ours, which the window's keys toggle, and the peer's.

use super::MediaSession;
use crate::config::MediaKind;
use std::sync::atomic::Ordering;

impl MediaSession {
    /// Whether the peer said it sends `kind` muted.
    pub fn remote_muted(&self, kind: MediaKind) -> bool {
        self.shared.remote_muted(kind).load(Ordering::Relaxed)
    }

    /// Whether what we send of `kind` is muted.
    pub fn is_muted(&self, kind: MediaKind) -> bool {
        match kind {
            MediaKind::Video => self.shared.muted_video.load(Ordering::Relaxed),
            MediaKind::Audio => self.shared.muted_audio.load(Ordering::Relaxed),
        }
    }

    /// Window mode: the peer's name (drawn with the call time; the window
    /// title is `duet — NAME`) and the card shown until remote video
    /// arrives (e.g. "calling bob…"). No-op when headless.
    pub fn set_window_labels(&self, peer_name: &str, card: Option<&str>) {
        if let Some(w) = self.shared.window.get() {
            w.set_labels(peer_name, card);
        }
    }

    /// The window's `f` key: enters or leaves fullscreen. No-op when headless.
    pub fn toggle_fullscreen(&self) {
        if let Some(w) = self.shared.window.get() {
            w.toggle_fullscreen();
        }
    }

    /// The peer muted (or unmuted) what it sends (it said so over
    /// signalling): recorded for [`Self::remote_muted`], and with video the
    /// window shows a "camera off" card instead of a black picture.
    pub fn set_remote_muted(&self, kind: MediaKind, muted: bool) {
        self.shared
            .remote_muted(kind)
            .store(muted, Ordering::Relaxed);
        if let (MediaKind::Video, Some(w)) = (kind, self.shared.window.get()) {
            w.set_remote_video_muted(muted);
        }
    }
}

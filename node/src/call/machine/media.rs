//! The machine's side of media events: media up, media broken, and the
//! two ways a peer that vanished without a word is noticed — its media
//! ended (RTCP BYE) and no hangup followed within [`REMOTE_END_GRACE`], or
//! nothing arrived from it for the media's silence timeout.

use super::*;

/// After the peer's media ends (RTCP BYE), its hangup message normally
/// follows at once; if it does not within this grace, the peer is gone.
pub const REMOTE_END_GRACE: Duration = Duration::from_secs(1);

impl<P: Clone + Ord + Debug> CallMachine<P> {
    /// Media is flowing (ICE and DTLS connected).
    pub fn on_media_connected(&mut self) -> Vec<Action<P>> {
        let Some(call) = self.call.as_mut() else {
            return Vec::new();
        };
        if call.phase != Phase::Connecting {
            return Vec::new();
        }
        call.phase = Phase::Connected;
        vec![Action::Notify(CallEvent::Connected {
            call_id: call.id.clone(),
        })]
    }

    /// Media failed (ICE failed, pipeline error, peer's media gone).
    pub fn on_media_failed(&mut self, why: String) -> Vec<Action<P>> {
        if let Some(actions) = self.unprepare() {
            return actions;
        }
        if self.call.as_ref().is_some_and(|c| c.media_started) {
            self.end_with_hangup(HangupReason::Error, EndReason::MediaFailed(why))
        } else {
            Vec::new()
        }
    }

    /// The peer's media is not the one its signalling vouched for (DTLS
    /// certificate vs SDP fingerprint): end the call on both sides.
    pub fn on_media_untrusted(&mut self, why: String) -> Vec<Action<P>> {
        if let Some(actions) = self.unprepare() {
            return actions;
        }
        if self.call.as_ref().is_some_and(|c| c.media_started) {
            self.end_with_hangup(HangupReason::MediaUntrusted, EndReason::MediaUntrusted(why))
        } else {
            Vec::new()
        }
    }

    /// The peer's media ended (RTCP BYE): its hangup should follow; arm
    /// the grace after which the call ends as `peer-lost`.
    pub fn on_remote_media_ended(&mut self) -> Vec<Action<P>> {
        let Some(call) = &self.call else {
            return Vec::new();
        };
        vec![Action::Arm {
            call_id: call.id.clone(),
            timer: Timer::RemoteEnd,
            after: REMOTE_END_GRACE,
        }]
    }

    /// No media from the peer for the media's silence timeout: the peer is
    /// gone (a process killed, a cable pulled), the call ends as `peer-lost`.
    pub fn on_media_timeout(&mut self) -> Vec<Action<P>> {
        self.end(EndReason::PeerLost)
    }
}

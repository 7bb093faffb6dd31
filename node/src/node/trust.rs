//! The node's side of the allow-list: names seen on the LAN are pinned to
//! their first PeerId in the contacts, listed peers are flagged when a
//! known name comes with a new key, and each invite is judged
//! ([`CallerTrust`]) before it reaches the call machine, which decides.

use super::State;
use crate::call::CallerTrust;
use crate::contacts::accept;
use crate::contacts::Seen;
use crate::peers::PeerView;
use libp2p::PeerId;

impl State {
    /// Pins `name` to `peer` if it is new; warns when a known name shows up
    /// with another key.
    pub(super) fn seen(&mut self, name: &str, peer: PeerId) {
        match self.contacts.update(|c| Ok(c.seen(name, peer))) {
            Ok(Seen::Changed(pinned)) => tracing::warn!(
                "identity changed: a peer named {name:?} has the key {peer}, but {name:?} was \
                 first seen as {pinned}; it is not auto-answered (`duet contacts add {name} \
                 {peer}` accepts the new key)"
            ),
            Ok(Seen::Full) => tracing::debug!("contacts full: {name:?} is not pinned"),
            Ok(Seen::New | Seen::Known) => {}
            Err(e) => tracing::warn!("cannot record contact {name:?}: {e}"),
        }
    }

    /// Sets `identity_changed` on a listed peer.
    pub(super) fn flag(&mut self, mut view: PeerView) -> PeerView {
        if let Ok(peer) = view.peer_id.parse::<PeerId>() {
            view.identity_changed = self.contacts.contacts().changed(&view.name, &peer);
        }
        view
    }

    /// What the allow-list says of a caller, by the name the peer table
    /// knows it by (else the name in its invite).
    pub(super) fn trust(&mut self, peer: PeerId, invite_name: &str) -> CallerTrust {
        let id = peer.to_string();
        let listed = self
            .table
            .list()
            .into_iter()
            .find(|p| p.peer_id == id)
            .map(|p| (p.name, p.kind == "web"));
        let (name, web) = listed.unwrap_or_else(|| (invite_name.to_string(), false));
        self.seen(&name, peer);
        let mut verdict = accept::judge(&self.accept, self.contacts.contacts(), &peer, Some(&name));
        if web && !verdict.identity_changed && accept::allows_web(&self.accept, &name) {
            verdict.trust = CallerTrust::Allowed;
        }
        tracing::info!(
            "call from {name} ({peer}): {}{}",
            match verdict.trust {
                CallerTrust::Allowed => "on the allow-list",
                CallerTrust::NotAllowed => "not on the allow-list",
            },
            if verdict.identity_changed {
                " (identity changed)"
            } else {
                ""
            }
        );
        verdict.trust
    }
}

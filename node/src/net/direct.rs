//! Signalling rides a direct connection wherever one can be made, so a
//! call never depends on a broker that merely introduced its peers.
//!
//! A peer reached only over a broker's relay circuit (its direct dial lost
//! the race, or failed at the time) is dialed at the direct addresses it
//! reports over identify: the smaller PeerId at once, the larger after
//! [`GRACE`], each with a capped backoff while the network does not route.
//! Once a direct connection exists, the circuits to that peer are closed as
//! soon as no signalling is in flight to it: `/duet/call/1` spreads its
//! requests over all of a peer's connections, and a circuit ends with its
//! broker. Where no direct connection can be made, the circuit stays and
//! carries everything, as before.
//!
//! Pure rules: connection events, time and the dialing come in from the
//! Swarm owner (through [`Links`]), so they are unit-tested without a network.

use super::backoff::Backoff;
use super::dialer::{from_fresh_port, Links};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::PeerCondition;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

/// The larger PeerId waits this long before dialing too.
pub const GRACE: Duration = Duration::from_secs(1);
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Peer {
    direct: HashSet<ConnectionId>,
    relayed: HashSet<ConnectionId>,
    /// The direct addresses the peer reported.
    addrs: Vec<Multiaddr>,
    next_dial: Instant,
    backoff: Backoff,
    dialing: Option<ConnectionId>,
}

impl Peer {
    fn wants_dial(&self) -> bool {
        self.direct.is_empty()
            && !self.relayed.is_empty()
            && self.dialing.is_none()
            && !self.addrs.is_empty()
    }
}

/// Whether `addr` goes through a relay.
pub fn is_relayed(addr: &Multiaddr) -> bool {
    addr.iter().any(|p| p == Protocol::P2pCircuit)
}

/// An address another host could dial directly: not relayed, not loopback.
fn dialable(addr: &Multiaddr) -> bool {
    let routable = match addr.iter().next() {
        Some(Protocol::Ip4(ip)) => !ip.is_loopback() && !ip.is_unspecified(),
        Some(Protocol::Ip6(ip)) => !ip.is_loopback() && !ip.is_unspecified(),
        _ => true,
    };
    routable && !is_relayed(addr)
}

/// The connected peers' connections, direct or relayed, and the dials
/// that try to replace a circuit with a direct connection.
#[derive(Debug, Default)]
pub struct DirectLinks {
    peers: HashMap<PeerId, Peer>,
}

impl DirectLinks {
    /// A connection to `peer` was established.
    pub fn established(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        relayed: bool,
        local: PeerId,
        now: Instant,
    ) {
        let grace = if local < peer { Duration::ZERO } else { GRACE };
        let p = self.peers.entry(peer).or_insert_with(|| Peer {
            direct: HashSet::new(),
            relayed: HashSet::new(),
            addrs: Vec::new(),
            next_dial: now + grace,
            backoff: Backoff::new(FIRST_BACKOFF, MAX_BACKOFF),
            dialing: None,
        });
        if p.dialing == Some(id) {
            p.dialing = None;
        }
        if relayed {
            p.relayed.insert(id);
        } else {
            p.direct.insert(id);
            p.backoff.reset();
        }
    }

    /// A connection to `peer` closed.
    pub fn closed(&mut self, peer: PeerId, id: ConnectionId) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.direct.remove(&id);
        p.relayed.remove(&id);
        if p.direct.is_empty() && p.relayed.is_empty() && p.dialing.is_none() {
            self.peers.remove(&peer);
        }
    }

    /// `peer` reported its listen addresses (identify).
    pub fn addresses(&mut self, peer: PeerId, addrs: &[Multiaddr]) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.addrs = addrs.iter().filter(|a| dialable(a)).cloned().collect();
        }
    }

    /// Our dial `id` failed (it may not be ours).
    pub fn dial_failed(&mut self, id: ConnectionId) {
        let mut gone = None;
        for (peer, p) in &mut self.peers {
            if p.dialing == Some(id) {
                p.dialing = None;
                if p.direct.is_empty() && p.relayed.is_empty() {
                    gone = Some(*peer);
                }
            }
        }
        if let Some(peer) = gone {
            self.peers.remove(&peer);
        }
    }

    /// When [`DirectLinks::dial_due`] has something to do next, if ever.
    pub fn next_due(&self) -> Option<Instant> {
        self.peers
            .values()
            .filter(|p| p.wants_dial())
            .map(|p| p.next_dial)
            .min()
    }

    /// Dials the peers reached only over a circuit whose dial is due.
    pub fn dial_due(&mut self, links: &mut impl Links, now: Instant) {
        for (peer, p) in &mut self.peers {
            if !p.wants_dial() || p.next_dial > now {
                continue;
            }
            let opts = from_fresh_port(*peer, p.addrs.clone(), PeerCondition::Always).build();
            let id = opts.connection_id();
            match links.dial(opts) {
                Ok(()) => {
                    tracing::debug!("{peer} is reached over a circuit only: dialing it directly");
                    p.dialing = Some(id);
                }
                Err(e) => tracing::debug!("cannot dial {peer} directly: {e}"),
            }
            p.next_dial = now + p.backoff.step();
        }
    }

    /// Circuits no longer needed: their peer has a direct connection and,
    /// by `busy`, no signalling in flight. Each is returned once: the
    /// caller closes them.
    pub fn redundant(&mut self, busy: impl Fn(&PeerId) -> bool) -> Vec<ConnectionId> {
        self.peers
            .iter_mut()
            .filter(|(peer, p)| !p.direct.is_empty() && !busy(peer))
            .flat_map(|(_, p)| p.relayed.drain())
            .collect()
    }
}

#[cfg(test)]
mod tests;

//! The nodes brokers handed out, and dialling them: the one with the
//! smaller PeerId at once, the other a moment later only if no connection
//! came meanwhile, with a capped backoff while it stays unreachable. The
//! direct addresses go first; the relayed ones (through a broker) only
//! [`CIRCUIT_AFTER`] later if no connection came meanwhile: a circuit that
//! wins the race carries the calls' signalling through the broker and dies
//! with it, while where the network routes a direct dial takes
//! milliseconds. A peer no broker lists any more is forgotten after
//! [`PEER_FORGET`].

use super::super::backoff::Backoff;
use super::super::dialer::{from_fresh_port, Links};
use super::super::direct::is_relayed;
use super::super::NetEvent;
use crate::proto::broker::PeerRecord;
use libp2p::swarm::dial_opts::PeerCondition;
use libp2p::{Multiaddr, PeerId};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

const PEER_FIRST_BACKOFF: Duration = Duration::from_secs(1);
const PEER_MAX_BACKOFF: Duration = Duration::from_secs(15);
/// The larger PeerId waits this long before dialling too.
const GRACE: Duration = Duration::from_millis(500);
const PEER_FORGET: Duration = Duration::from_secs(30);
/// How long the direct dial has before the relayed addresses are dialed too.
pub const CIRCUIT_AFTER: Duration = Duration::from_secs(1);

struct Handed {
    addrs: Vec<Multiaddr>,
    next_dial: Instant,
    /// When to dial the relayed addresses, unless connected by then.
    circuit_at: Option<Instant>,
    backoff: Backoff,
    last_seen: Instant,
}

impl Handed {
    /// A peer first handed out at `now`, at `addrs`, first dialled at `first_dial`.
    fn new(addrs: Vec<Multiaddr>, first_dial: Instant, now: Instant) -> Handed {
        Handed {
            addrs,
            next_dial: first_dial,
            circuit_at: None,
            backoff: Backoff::new(PEER_FIRST_BACKOFF, PEER_MAX_BACKOFF),
            last_seen: now,
        }
    }
}

#[derive(Default)]
pub struct HandedPeers {
    peers: HashMap<PeerId, Handed>,
}

impl HandedPeers {
    /// When a dial is due next, if ever.
    pub fn next_due(&self, links: &impl Links) -> Option<Instant> {
        self.peers
            .iter()
            .filter(|(p, _)| !links.is_connected(p))
            .flat_map(|(_, h)| [Some(h.next_dial), h.circuit_at])
            .flatten()
            .min()
    }

    pub fn dial_due(&mut self, links: &mut impl Links, now: Instant) {
        self.peers
            .retain(|_, h| now.duration_since(h.last_seen) < PEER_FORGET);
        for (peer, h) in &mut self.peers {
            if links.is_connected(peer) {
                h.circuit_at = None;
                continue;
            }
            let (relayed, direct): (Vec<Multiaddr>, Vec<Multiaddr>) =
                h.addrs.iter().cloned().partition(is_relayed);
            if h.circuit_at.is_some_and(|at| at <= now) {
                h.circuit_at = None;
                // Also while the direct dial is pending (a dropping router
                // lets it hang).
                dial(links, *peer, relayed.clone(), PeerCondition::Disconnected);
            }
            if h.next_dial > now || h.addrs.is_empty() {
                continue;
            }
            if direct.is_empty() {
                dial(
                    links,
                    *peer,
                    relayed,
                    PeerCondition::DisconnectedAndNotDialing,
                );
            } else {
                dial(
                    links,
                    *peer,
                    direct,
                    PeerCondition::DisconnectedAndNotDialing,
                );
                if !relayed.is_empty() && h.circuit_at.is_none() {
                    h.circuit_at = Some(now + CIRCUIT_AFTER);
                }
            }
            h.next_dial = now + h.backoff.step();
        }
    }

    #[cfg(test)]
    fn insert(&mut self, peer: PeerId, addrs: Vec<Multiaddr>, now: Instant) {
        self.peers.insert(peer, Handed::new(addrs, now, now));
    }

    pub fn connected(&mut self, peer: &PeerId) {
        if let Some(h) = self.peers.get_mut(peer) {
            h.backoff.reset();
        }
    }

    /// A broker still lists `peers` (unchanged): they stay.
    pub fn touch(&mut self, peers: &HashSet<PeerId>, now: Instant) {
        for peer in peers {
            if let Some(h) = self.peers.get_mut(peer) {
                h.last_seen = now;
            }
        }
    }

    /// A broker's list; returns the peers first seen now.
    pub fn handed_out(
        &mut self,
        local: PeerId,
        peers: Vec<PeerRecord>,
        now: Instant,
    ) -> Vec<NetEvent> {
        let mut events = Vec::new();
        for record in peers {
            match self.peers.get_mut(&record.peer) {
                Some(h) => {
                    h.last_seen = now;
                    if h.addrs != record.addrs {
                        h.addrs = record.addrs;
                        h.next_dial = now;
                    }
                }
                None => {
                    tracing::debug!("{} handed out at {:?}", record.peer, record.addrs);
                    let grace = if local < record.peer {
                        Duration::ZERO
                    } else {
                        GRACE
                    };
                    self.peers
                        .insert(record.peer, Handed::new(record.addrs, now + grace, now));
                    events.push(NetEvent::ViaBroker { peer: record.peer });
                }
            }
        }
        events
    }
}

fn dial(links: &mut impl Links, peer: PeerId, addrs: Vec<Multiaddr>, condition: PeerCondition) {
    if addrs.is_empty() {
        return;
    }
    let opts = from_fresh_port(peer, addrs, condition).build();
    if let Err(e) = links.dial(opts) {
        tracing::debug!("cannot dial {peer} (from a broker): {e}");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::net::fake_links::{ordered, FakeLinks};

    #[test]
    fn direct_addresses_first_the_circuit_only_if_they_did_not_connect() {
        let (small, large) = ordered();
        let t0 = Instant::now();
        let addrs: Vec<Multiaddr> = [
            format!("/ip4/10.77.1.2/tcp/7170/ws/p2p/{small}/p2p-circuit"),
            "/ip4/10.77.2.3/tcp/4001".to_string(),
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let mut links = FakeLinks::new(small);
        let mut h = HandedPeers::default();
        h.insert(large, addrs.clone(), t0);
        h.dial_due(&mut links, t0);
        assert_eq!(links.dialed.len(), 1);
        assert!(
            !links.dialed[0].contains("p2p-circuit"),
            "{:?}",
            links.dialed
        );
        assert_eq!(h.next_due(&links), Some(t0 + CIRCUIT_AFTER));
        h.dial_due(&mut links, t0 + CIRCUIT_AFTER);
        let circuits: Vec<&String> = links
            .dialed
            .iter()
            .filter(|d| d.contains("p2p-circuit"))
            .collect();
        assert_eq!(circuits.len(), 1, "{:?}", links.dialed);
        assert!(
            !circuits[0].contains("10.77.2.3"),
            "apart from the direct dial"
        );

        // The direct dial connected in time: no circuit.
        let mut links = FakeLinks::new(small);
        let mut h = HandedPeers::default();
        h.insert(large, addrs, t0);
        h.dial_due(&mut links, t0);
        links.connected.insert(large);
        h.dial_due(&mut links, t0 + CIRCUIT_AFTER);
        assert_eq!(links.dialed.len(), 1);
        assert_eq!(h.next_due(&links), None);
    }
}

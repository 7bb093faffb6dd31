//! The nodes brokers handed out, and dialling them directly: the one with
//! the smaller PeerId at once, the other a moment later only if no
//! connection came meanwhile; all of a peer's addresses at once (direct and
//! relayed), with a capped backoff while it stays unreachable. A peer no
//! broker lists any more is forgotten after [`PEER_FORGET`].

use super::super::behaviour::Behaviour;
use super::super::NetEvent;
use crate::proto::broker::PeerRecord;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, Swarm};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

const PEER_FIRST_BACKOFF: Duration = Duration::from_secs(1);
const PEER_MAX_BACKOFF: Duration = Duration::from_secs(15);
/// The larger PeerId waits this long before dialling too.
const GRACE: Duration = Duration::from_millis(500);
const PEER_FORGET: Duration = Duration::from_secs(30);

struct Handed {
    addrs: Vec<Multiaddr>,
    next_dial: Instant,
    backoff: Duration,
    last_seen: Instant,
}

#[derive(Default)]
pub struct HandedPeers {
    peers: HashMap<PeerId, Handed>,
}

impl HandedPeers {
    /// When a dial is due next, if ever.
    pub fn next_due(&self, swarm: &Swarm<Behaviour>) -> Option<Instant> {
        self.peers
            .iter()
            .filter(|(p, _)| !swarm.is_connected(p))
            .map(|(_, h)| h.next_dial)
            .min()
    }

    pub fn dial_due(&mut self, swarm: &mut Swarm<Behaviour>, now: Instant) {
        self.peers
            .retain(|_, h| now.duration_since(h.last_seen) < PEER_FORGET);
        for (peer, h) in &mut self.peers {
            if h.next_dial > now || swarm.is_connected(peer) || h.addrs.is_empty() {
                continue;
            }
            let opts = DialOpts::peer_id(*peer)
                .addresses(h.addrs.clone())
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .allocate_new_port()
                .build();
            if let Err(e) = swarm.dial(opts) {
                tracing::debug!("cannot dial {peer} (from a broker): {e}");
            }
            h.next_dial = now + h.backoff;
            h.backoff = (h.backoff * 2).min(PEER_MAX_BACKOFF);
        }
    }

    pub fn connected(&mut self, peer: &PeerId) {
        if let Some(h) = self.peers.get_mut(peer) {
            h.backoff = PEER_FIRST_BACKOFF;
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
                    self.peers.insert(
                        record.peer,
                        Handed {
                            addrs: record.addrs,
                            next_dial: now + grace,
                            backoff: PEER_FIRST_BACKOFF,
                            last_seen: now,
                        },
                    );
                    events.push(NetEvent::ViaBroker { peer: record.peer });
                }
            }
        }
        events
    }
}

//! Which discovered records to dial, when, and what a dial proved.
//!
//! The node with the smaller PeerId dials at once. The larger one waits
//! [`FALLBACK_GRACE`] and dials only if no connection came meanwhile: a
//! newcomer's query is not always answered by every node at once (mdns-sd
//! was seen leaving one of two responders silent until its 1 s re-query),
//! while the existing nodes hear the newcomer's announcement within
//! milliseconds, so this keeps joining fast whichever side is smaller.
//! DESIGN.md's hazard — both sides dialing at the same moment from their
//! listen ports, a TCP simultaneous open where both act as Noise initiator —
//! cannot happen: dials use a fresh port ([`DialOpts`] `allocate_new_port`),
//! so a rare double dial yields two good connections, not a failed one.
//!
//! Dials try one address at a time and carry the PeerId the record claims:
//! Noise proves it, and a record whose address answers with another PeerId
//! is rejected for good. A record's name is passed on only once a dial
//! proved the record; otherwise peers are named by their signed presence.

use super::behaviour::Behaviour;
use super::discovery::Record;
use super::NetEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError};
use libp2p::{Multiaddr, PeerId, Swarm};
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU8;
use std::time::Duration;
use tokio::time::Instant;

pub const FALLBACK_GRACE: Duration = Duration::from_millis(250);
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

struct Known {
    record: Record,
    rejected: bool,
    verified: bool,
    next_dial: Instant,
    backoff: Duration,
}

/// Records by DNS-SD full name, and the dials in flight.
#[derive(Default)]
pub struct Dialer {
    records: HashMap<String, Known>,
    dialing: HashMap<ConnectionId, String>,
}

fn discovered(r: &Record) -> NetEvent {
    NetEvent::Discovered {
        peer: r.peer,
        name: r.name.clone(),
        addrs: r.addrs.clone(),
    }
}

impl Dialer {
    /// A record was resolved. Returns an event when it updates a proven one.
    pub fn resolved(&mut self, record: Record, swarm: &Swarm<Behaviour>) -> Option<NetEvent> {
        let local = *swarm.local_peer_id();
        if record.peer == local {
            return None;
        }
        let (verified, rejected) = match self.records.get(&record.fullname) {
            Some(k) if k.record == record => return None,
            Some(k) if k.record.peer == record.peer && k.record.addrs == record.addrs => {
                (k.verified, k.rejected)
            }
            _ => (false, false),
        };
        tracing::debug!(
            "resolved {:?}: {} at {:?}",
            record.fullname,
            record.peer,
            record.addrs
        );
        let now = Instant::now();
        let next_dial = if local < record.peer {
            now
        } else {
            now + FALLBACK_GRACE
        };
        let event = (verified && swarm.is_connected(&record.peer)).then(|| discovered(&record));
        let known = Known {
            record,
            rejected,
            verified,
            next_dial,
            backoff: FIRST_BACKOFF,
        };
        self.records.insert(known.record.fullname.clone(), known);
        event
    }

    /// A record went away. Returns `Removed` if no other record names its peer.
    pub fn removed(&mut self, fullname: &str) -> Option<NetEvent> {
        let gone = self.records.remove(fullname)?;
        tracing::debug!("DNS-SD record {fullname:?} removed");
        let peer = gone.record.peer;
        let still = self
            .records
            .values()
            .any(|k| k.record.peer == peer && !k.rejected);
        (!gone.rejected && !still).then_some(NetEvent::Removed { peer })
    }

    /// Records that may need a dial: not rejected, not being dialed, peer not connected.
    fn candidates<'a>(
        &'a self,
        swarm: &'a Swarm<Behaviour>,
    ) -> impl Iterator<Item = (&'a String, &'a Known)> + 'a {
        let in_flight: HashSet<&String> = self.dialing.values().collect();
        self.records.iter().filter(move |(f, k)| {
            !k.rejected && !in_flight.contains(f) && !swarm.is_connected(&k.record.peer)
        })
    }

    /// When [`Dialer::dial_due`] has something to do next, if ever.
    pub fn next_due(&self, swarm: &Swarm<Behaviour>) -> Option<Instant> {
        self.candidates(swarm).map(|(_, k)| k.next_dial).min()
    }

    /// Dials every record that is due, not rejected and not yet connected.
    pub fn dial_due(&mut self, swarm: &mut Swarm<Behaviour>) {
        let now = Instant::now();
        let due: Vec<(String, PeerId, Vec<Multiaddr>)> = self
            .candidates(swarm)
            .filter(|(_, k)| k.next_dial <= now)
            .map(|(f, k)| (f.clone(), k.record.peer, k.record.addrs.clone()))
            .collect();
        for (fullname, peer, addrs) in due {
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::Always)
                .override_dial_concurrency_factor(NonZeroU8::MIN)
                .allocate_new_port()
                .build();
            let id = opts.connection_id();
            match swarm.dial(opts) {
                Ok(()) => {
                    self.dialing.insert(id, fullname.clone());
                }
                Err(e) => tracing::debug!("cannot dial {peer}: {e}"),
            }
            if let Some(k) = self.records.get_mut(&fullname) {
                k.next_dial = now + k.backoff;
                k.backoff = (k.backoff * 2).min(MAX_BACKOFF);
            }
        }
    }

    /// A connection was established. If it was our dial of a record, the
    /// record is proven and its name and addresses are passed on.
    pub fn connected(&mut self, id: ConnectionId) -> Option<NetEvent> {
        let fullname = self.dialing.remove(&id)?;
        let known = self.records.get_mut(&fullname)?;
        known.verified = true;
        known.backoff = FIRST_BACKOFF;
        Some(discovered(&known.record))
    }

    /// A dial failed; a wrong PeerId rejects the record for good.
    pub fn dial_failed(&mut self, id: ConnectionId, error: &DialError) {
        let Some(fullname) = self.dialing.remove(&id) else {
            return;
        };
        match (error, self.records.get_mut(&fullname)) {
            (DialError::WrongPeerId { obtained, address }, Some(known)) => {
                known.rejected = true;
                tracing::warn!(
                    "ignoring DNS-SD record {fullname:?}: it claims {} but {address} \
                     authenticated as {obtained}",
                    known.record.peer
                );
            }
            _ => tracing::debug!("dial for {fullname:?} failed: {error}"),
        }
    }

    /// After losing every connection to `peer`, dial its records again later.
    pub fn disconnected(&mut self, peer: PeerId, local: PeerId) {
        let delay = if local < peer {
            Duration::from_secs(1)
        } else {
            FALLBACK_GRACE
        };
        let at = Instant::now() + delay;
        for k in self.records.values_mut().filter(|k| k.record.peer == peer) {
            k.next_dial = k.next_dial.max(at);
        }
    }
}

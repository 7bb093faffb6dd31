//! Which discovered records to dial, when, and what a dial proved.
//!
//! The node with the smaller PeerId dials at once. The larger one waits
//! [`FALLBACK_GRACE`] and dials only if no connection came meanwhile: a
//! newcomer's query is not always answered by every node at once (mdns-sd
//! was seen leaving one of two responders silent until its 1 s re-query),
//! while the existing nodes hear the newcomer's announcement within
//! milliseconds, so this keeps joining fast whichever side is smaller.
//! The known libp2p hazard — both sides dialing at the same moment from
//! their listen ports, a TCP simultaneous open where both act as Noise
//! initiator, which fails the handshake — cannot happen: dials use a fresh port ([`DialOpts`] `allocate_new_port`),
//! so a rare double dial yields two good connections, not a failed one.
//!
//! Dials try one address at a time and carry the PeerId the record claims:
//! Noise proves it, and a record whose address answers with another PeerId
//! is rejected for good. A record's name is passed on only once the record
//! is proven; otherwise peers are named by their signed presence. A record
//! is proven by our dial of it, or, when the peer is connected already (it
//! dialed us first, or a broker introduced us), by that connection: an
//! address of the record is one the authenticated peer reported itself
//! (identify) or one we reached it at. No extra dial, and an unverified
//! record is never trusted: its addresses must be the peer's own.
//!
//! Anyone on the LAN can announce records, so the records not yet proven
//! by a dial are bounded: at most [`MAX_UNPROVEN`] are kept (a newcomer
//! evicts the oldest one not being dialed, so a real peer's fresh record
//! still gets its dial), each for at most [`MAX_UNPROVEN_AGE`], and one
//! whose dial failed [`MAX_FAILED_DIALS`] times is forgotten. That also
//! bounds the dials in flight, hence the sockets they hold.
//!
//! Time and the connection state come in from the caller (`now`, and the
//! [`Links`] the Swarm implements), so every rule is unit-tested without a
//! network or a clock.

use super::backoff::Backoff;
use super::behaviour::Behaviour;
use super::discovery::Record;
use super::NetEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition, WithPeerIdWithAddresses};
use libp2p::swarm::{ConnectionId, DialError};
use libp2p::{Multiaddr, PeerId, Swarm};
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU8;
use std::time::Duration;
use tokio::time::Instant;

pub const FALLBACK_GRACE: Duration = Duration::from_millis(250);
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Records not (yet) proven by a dial kept at once.
pub const MAX_UNPROVEN: usize = 64;
/// How long a record may stay unproven before it is forgotten.
pub const MAX_UNPROVEN_AGE: Duration = Duration::from_secs(60);
/// Failed dials after which an unproven record is forgotten.
pub const MAX_FAILED_DIALS: u32 = 3;

/// What the dialer needs of the Swarm: who we are, whom we are connected
/// to, and a way to dial.
/// A dial of `peer` at `addrs` from a fresh local port, never the one we
/// listen on (see the module docs): every direct dial of the node is one.
pub(crate) fn from_fresh_port(
    peer: PeerId,
    addrs: Vec<Multiaddr>,
    condition: PeerCondition,
) -> WithPeerIdWithAddresses {
    DialOpts::peer_id(peer)
        .addresses(addrs)
        .condition(condition)
        .allocate_new_port()
}

pub trait Links {
    fn local_peer(&self) -> PeerId;
    fn is_connected(&self, peer: &PeerId) -> bool;
    fn dial(&mut self, opts: DialOpts) -> Result<(), DialError>;
}

impl Links for Swarm<Behaviour> {
    fn local_peer(&self) -> PeerId {
        *self.local_peer_id()
    }
    fn is_connected(&self, peer: &PeerId) -> bool {
        Swarm::is_connected(self, peer)
    }
    fn dial(&mut self, opts: DialOpts) -> Result<(), DialError> {
        Swarm::dial(self, opts)
    }
}

struct Known {
    record: Record,
    rejected: bool,
    verified: bool,
    next_dial: Instant,
    backoff: Backoff,
    /// When this record was first resolved.
    seen: Instant,
    failures: u32,
}

/// Records by DNS-SD full name, and the dials in flight.
#[derive(Default)]
pub struct Dialer {
    records: HashMap<String, Known>,
    dialing: HashMap<ConnectionId, String>,
    /// Addresses connected peers are known to hold: reported by the peer
    /// over identify, or where we reached it. Cleared when it disconnects.
    owned: HashMap<PeerId, HashSet<Multiaddr>>,
}

/// The address without a trailing `/p2p/…`.
fn bare(addr: &Multiaddr) -> Multiaddr {
    let mut a = addr.clone();
    if matches!(a.iter().last(), Some(libp2p::multiaddr::Protocol::P2p(_))) {
        a.pop();
    }
    a
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
    pub fn resolved(
        &mut self,
        record: Record,
        links: &impl Links,
        now: Instant,
    ) -> Option<NetEvent> {
        let local = links.local_peer();
        if record.peer == local {
            return None;
        }
        let (verified, rejected, seen) = match self.records.get(&record.fullname) {
            Some(k) if k.record == record => return None,
            Some(k) if k.record.peer == record.peer && k.record.addrs == record.addrs => {
                (k.verified, k.rejected, k.seen)
            }
            Some(k) => (false, false, k.seen),
            None => {
                if !self.make_room() {
                    tracing::debug!(
                        "{MAX_UNPROVEN} unproven DNS-SD records are being dialed; ignoring {:?}",
                        record.fullname
                    );
                    return None;
                }
                (false, false, now)
            }
        };
        tracing::debug!(
            "resolved {:?}: {} at {:?}",
            record.fullname,
            record.peer,
            record.addrs
        );
        let next_dial = if local < record.peer {
            now
        } else {
            now + FALLBACK_GRACE
        };
        let verified = verified || self.owns(&record, links);
        let event = (verified && links.is_connected(&record.peer)).then(|| discovered(&record));
        let known = Known {
            record,
            rejected,
            verified,
            next_dial,
            backoff: Backoff::new(FIRST_BACKOFF, MAX_BACKOFF),
            seen,
            failures: 0,
        };
        self.records.insert(known.record.fullname.clone(), known);
        event
    }

    /// Whether `record`'s peer is connected and holds one of its addresses.
    fn owns(&self, record: &Record, links: &impl Links) -> bool {
        let Some(owned) = self.owned.get(&record.peer) else {
            return false;
        };
        links.is_connected(&record.peer) && record.addrs.iter().any(|a| owned.contains(&bare(a)))
    }

    /// The connected `peer` holds `addrs` (it reported them over identify,
    /// or we reached it there). Its unproven records naming one of them are
    /// proven now; returns their events.
    pub fn peer_addresses(
        &mut self,
        peer: PeerId,
        addrs: &[Multiaddr],
        links: &impl Links,
    ) -> Vec<NetEvent> {
        if !links.is_connected(&peer) {
            return Vec::new();
        }
        self.owned
            .entry(peer)
            .or_default()
            .extend(addrs.iter().map(bare));
        let proven: Vec<String> = self
            .records
            .iter()
            .filter(|(_, k)| k.record.peer == peer && !k.verified && !k.rejected)
            .filter(|(_, k)| self.owns(&k.record, links))
            .map(|(f, _)| f.clone())
            .collect();
        let mut events = Vec::new();
        for f in proven {
            if let Some(k) = self.records.get_mut(&f) {
                tracing::debug!("DNS-SD record {f:?} proven by the connection to {peer}");
                k.verified = true;
                k.backoff.reset();
                events.push(discovered(&k.record));
            }
        }
        events
    }

    /// Unproven records that may be forgotten: not being dialed.
    fn unproven_idle(&self) -> impl Iterator<Item = (&String, &Known)> {
        let in_flight: HashSet<&String> = self.dialing.values().collect();
        self.records
            .iter()
            .filter(move |(f, k)| !k.verified && !in_flight.contains(f))
    }

    /// Before a new record is kept: if [`MAX_UNPROVEN`] are kept already,
    /// forgets the oldest unproven one that is not being dialed. False when
    /// there is no room (all of them are being dialed).
    fn make_room(&mut self) -> bool {
        let unproven = self.records.values().filter(|k| !k.verified).count();
        if unproven < MAX_UNPROVEN {
            return true;
        }
        let oldest = self
            .unproven_idle()
            .min_by_key(|(_, k)| k.seen)
            .map(|(f, _)| f.clone());
        oldest.is_some_and(|f| self.records.remove(&f).is_some())
    }

    /// Forgets unproven records older than [`MAX_UNPROVEN_AGE`].
    pub fn forget_stale(&mut self, now: Instant) {
        let stale: Vec<String> = self
            .unproven_idle()
            .filter(|(_, k)| now.saturating_duration_since(k.seen) > MAX_UNPROVEN_AGE)
            .map(|(f, _)| f.clone())
            .collect();
        for f in stale {
            tracing::debug!("forgetting DNS-SD record {f:?}: never proven by a dial");
            self.records.remove(&f);
        }
    }

    /// Whether `peer` is on our link: we resolved a DNS-SD record of it.
    pub fn on_link(&self, peer: &PeerId) -> bool {
        self.records
            .values()
            .any(|k| k.record.peer == *peer && !k.rejected)
    }

    /// How many records are kept, and how many of them are unproven.
    pub fn counts(&self) -> (usize, usize) {
        let unproven = self.records.values().filter(|k| !k.verified).count();
        (self.records.len(), unproven)
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
        links: &'a impl Links,
    ) -> impl Iterator<Item = (&'a String, &'a Known)> + 'a {
        let in_flight: HashSet<&String> = self.dialing.values().collect();
        self.records.iter().filter(move |(f, k)| {
            !k.rejected && !in_flight.contains(f) && !links.is_connected(&k.record.peer)
        })
    }

    /// When [`Dialer::dial_due`] has something to do next, if ever.
    pub fn next_due(&self, links: &impl Links) -> Option<Instant> {
        self.candidates(links).map(|(_, k)| k.next_dial).min()
    }

    /// Dials every record that is due, not rejected and not yet connected.
    pub fn dial_due(&mut self, links: &mut impl Links, now: Instant) {
        self.forget_stale(now);
        let due: Vec<(String, PeerId, Vec<Multiaddr>)> = self
            .candidates(links)
            .filter(|(_, k)| k.next_dial <= now)
            .map(|(f, k)| (f.clone(), k.record.peer, k.record.addrs.clone()))
            .collect();
        for (fullname, peer, addrs) in due {
            let opts = from_fresh_port(peer, addrs, PeerCondition::Always)
                .override_dial_concurrency_factor(NonZeroU8::MIN)
                .build();
            let id = opts.connection_id();
            match links.dial(opts) {
                Ok(()) => {
                    self.dialing.insert(id, fullname.clone());
                }
                Err(e) => tracing::debug!("cannot dial {peer}: {e}"),
            }
            if let Some(k) = self.records.get_mut(&fullname) {
                k.next_dial = now + k.backoff.step();
            }
        }
    }

    /// A connection was established. If it was our dial of a record, the
    /// record is proven and its name and addresses are passed on.
    pub fn connected(&mut self, id: ConnectionId) -> Option<NetEvent> {
        let fullname = self.dialing.remove(&id)?;
        let known = self.records.get_mut(&fullname)?;
        known.verified = true;
        known.backoff.reset();
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
            (_, Some(known)) => {
                known.failures += 1;
                tracing::debug!("dial for {fullname:?} failed: {error}");
                if !known.verified && known.failures >= MAX_FAILED_DIALS {
                    tracing::debug!("forgetting DNS-SD record {fullname:?} after failed dials");
                    self.records.remove(&fullname);
                }
            }
            (_, None) => tracing::debug!("dial for {fullname:?} failed: {error}"),
        }
    }

    /// After losing every connection to `peer`, dial its records again later.
    pub fn disconnected(&mut self, peer: PeerId, local: PeerId, now: Instant) {
        self.owned.remove(&peer);
        let delay = if local < peer {
            Duration::from_secs(1)
        } else {
            FALLBACK_GRACE
        };
        let at = now + delay;
        for k in self.records.values_mut().filter(|k| k.record.peer == peer) {
            k.next_dial = k.next_dial.max(at);
        }
    }
}

#[cfg(test)]
mod tests;

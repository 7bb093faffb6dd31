//! Who is registered in which namespace, until when. Pure (time is passed
//! in), so the rules are unit-tested here: the TTL a node asks for is
//! clamped to the broker's range (a short minimum, so a vanished node stops
//! being handed out within a minute even if nobody noticed it go), and a
//! node's registrations are dropped at once when its last connection closes.
//!
//! Discovery is incremental: every change (a node registered, changed its
//! addresses, left) takes the next number of one broker-wide sequence, and
//! a node that asks with the cursor of its last answer gets only what
//! changed since, in the [`Changes`] it is handed (with a network of 1,000
//! nodes asking every 2 s, full lists were most of the broker's work and
//! memory). A cursor older than what a namespace remembers of its
//! departures (or from before the namespace existed) gets the full list.
//! Long lists go in pages of [`PAGE`], oldest change first.

use crate::proto::broker::{PeerRecord, MAX_ADDRS, MAX_PEERS};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Departures a namespace remembers for incremental answers.
const MAX_DEPARTURES: usize = 4096;
/// Most peers in one answer (about 2 KB): every connection's Noise buffers
/// grow to the largest message written on it and stay that large (three
/// of them: 100 peers a page cost ~30 KB per connection), so a long list
/// goes in small pages (docs/broker.md, `## Memory`).
pub const PAGE: usize = 16;

#[derive(Debug, Clone, Copy)]
pub struct TtlRange {
    pub min: Duration,
    pub max: Duration,
}

impl Default for TtlRange {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(10),
            max: Duration::from_secs(60),
        }
    }
}

#[derive(Debug)]
struct Entry {
    addrs: Vec<Multiaddr>,
    expires: Instant,
    /// Sequence number of its last change (registered, new addresses).
    changed: u64,
}

#[derive(Debug, Default)]
struct Namespace {
    entries: HashMap<PeerId, Entry>,
    /// (sequence number, peer) of recent departures, oldest first.
    departed: VecDeque<(u64, PeerId)>,
    /// Cursors below this get the full list.
    horizon: u64,
}

/// What a node is handed: the full list, or what changed since its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub peers: Vec<PeerRecord>,
    pub removed: Vec<PeerId>,
    pub cursor: u64,
    pub full: bool,
    /// More changes follow: ask again with the cursor at once.
    pub more: bool,
}

#[derive(Debug, Default)]
pub struct Registry {
    ttl: TtlRange,
    namespaces: HashMap<String, Namespace>,
    seq: u64,
}

/// Addresses worth handing out: no loopback or unspecified IPs, no
/// `/p2p` of another peer except a relay's in a circuit address, at most
/// [`MAX_ADDRS`].
fn usable(addrs: Vec<Multiaddr>) -> Vec<Multiaddr> {
    addrs
        .into_iter()
        .filter(|a| {
            let circuit = a.iter().any(|p| p == Protocol::P2pCircuit);
            a.iter().all(|p| match p {
                Protocol::Ip4(ip) => !ip.is_loopback() && !ip.is_unspecified(),
                Protocol::Ip6(ip) => !ip.is_loopback() && !ip.is_unspecified(),
                Protocol::P2p(_) => circuit,
                _ => true,
            })
        })
        .take(MAX_ADDRS)
        .collect()
}

impl Namespace {
    fn depart(&mut self, seq: u64, peer: PeerId) {
        self.departed.push_back((seq, peer));
        while self.departed.len() > MAX_DEPARTURES {
            if let Some((s, _)) = self.departed.pop_front() {
                self.horizon = s;
            }
        }
    }
}

impl Registry {
    pub fn new(ttl: TtlRange) -> Self {
        Self {
            ttl,
            namespaces: HashMap::new(),
            seq: 0,
        }
    }

    /// Registers or refreshes `peer`; returns the granted TTL and whether it is new.
    pub fn register(
        &mut self,
        peer: PeerId,
        namespace: &str,
        addrs: Vec<Multiaddr>,
        ttl_secs: u64,
        now: Instant,
    ) -> (Duration, bool) {
        let ttl = Duration::from_secs(ttl_secs).clamp(self.ttl.min, self.ttl.max);
        let addrs = usable(addrs);
        let seq = self.seq;
        let ns = self
            .namespaces
            .entry(namespace.to_string())
            .or_insert_with(|| Namespace {
                horizon: seq,
                ..Namespace::default()
            });
        match ns.entries.get_mut(&peer) {
            // A refresh with the same addresses is no change.
            Some(e) if e.addrs == addrs => {
                e.expires = now + ttl;
                (ttl, false)
            }
            found => {
                let new = found.is_none();
                let changed = seq + 1;
                self.seq = changed;
                let entry = Entry {
                    addrs,
                    expires: now + ttl,
                    changed,
                };
                ns.entries.insert(peer, entry);
                (ttl, new)
            }
        }
    }

    /// The live registrations of `namespace` other than `asker`'s: all of
    /// them, or with `since` (the cursor of the asker's last answer) only
    /// those that changed after it, and who left.
    pub fn discover(
        &self,
        namespace: &str,
        asker: &PeerId,
        since: Option<u64>,
        now: Instant,
    ) -> Changes {
        let mut changes = Changes {
            peers: Vec::new(),
            removed: Vec::new(),
            cursor: self.seq,
            full: true,
            more: false,
        };
        let Some(ns) = self.namespaces.get(namespace) else {
            return changes;
        };
        let since = since.filter(|s| *s >= ns.horizon && *s <= self.seq);
        changes.full = since.is_none();
        let since = since.unwrap_or(0);
        let mut changed: Vec<(&PeerId, &Entry)> = ns
            .entries
            .iter()
            .filter(|(p, e)| *p != asker && e.expires > now && e.changed > since)
            .collect();
        // In pages, oldest change first; the cursor then says how far.
        changed.sort_unstable_by_key(|(_, e)| e.changed);
        if changed.len() > PAGE {
            changed.truncate(PAGE);
            changes.more = true;
            changes.cursor = changed.last().map_or(self.seq, |(_, e)| e.changed);
        }
        changes.peers = changed
            .into_iter()
            .map(|(p, e)| PeerRecord {
                peer: *p,
                addrs: e.addrs.clone(),
            })
            .collect();
        if !changes.full {
            changes.removed = ns
                .departed
                .iter()
                .filter(|(s, p)| *s > since && p != asker && !ns.entries.contains_key(p))
                .map(|(_, p)| *p)
                .take(MAX_PEERS)
                .collect();
        }
        changes
    }

    /// Removes `peer` from `namespace`; true if it was there.
    pub fn unregister(&mut self, peer: &PeerId, namespace: &str) -> bool {
        let seq = self.seq + 1;
        let removed = self.namespaces.get_mut(namespace).is_some_and(|ns| {
            let there = ns.entries.remove(peer).is_some();
            if there {
                ns.depart(seq, *peer);
            }
            there
        });
        if removed {
            self.seq = seq;
            // An empty namespace is forgotten: made again, its horizon is
            // then, so older cursors get the full list.
            self.namespaces.retain(|_, ns| !ns.entries.is_empty());
        }
        removed
    }

    /// Removes every registration of `peer` (its last connection closed);
    /// returns the namespaces it left.
    pub fn remove_peer(&mut self, peer: &PeerId) -> Vec<String> {
        let names: Vec<String> = self
            .namespaces
            .iter()
            .filter(|(_, ns)| ns.entries.contains_key(peer))
            .map(|(n, _)| n.clone())
            .collect();
        for name in &names {
            self.unregister(peer, name);
        }
        names
    }

    /// Drops expired registrations; returns them as (peer, namespace).
    pub fn expire(&mut self, now: Instant) -> Vec<(PeerId, String)> {
        let gone: Vec<(PeerId, String)> = self
            .namespaces
            .iter()
            .flat_map(|(name, ns)| {
                ns.entries
                    .iter()
                    .filter(|(_, e)| e.expires <= now)
                    .map(|(p, _)| (*p, name.clone()))
            })
            .collect();
        for (peer, name) in &gone {
            self.unregister(peer, name);
        }
        gone
    }

    /// Registrations in all namespaces.
    pub fn len(&self) -> usize {
        self.namespaces.values().map(|ns| ns.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;

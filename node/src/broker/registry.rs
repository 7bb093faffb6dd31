//! Who is registered in which namespace, until when. Pure (time is passed
//! in), so the rules are unit-tested here: the TTL a node asks for is
//! clamped to the broker's range (a short minimum, so a vanished node stops
//! being handed out within a minute even if nobody noticed it go), and a
//! node's registrations are dropped at once when its last connection closes.

use crate::proto::broker::{PeerRecord, MAX_ADDRS, MAX_PEERS};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

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
}

#[derive(Debug, Default)]
pub struct Registry {
    ttl: TtlRange,
    namespaces: HashMap<String, HashMap<PeerId, Entry>>,
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

impl Registry {
    pub fn new(ttl: TtlRange) -> Self {
        Self {
            ttl,
            namespaces: HashMap::new(),
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
        let entry = Entry {
            addrs: usable(addrs),
            expires: now + ttl,
        };
        let ns = self.namespaces.entry(namespace.to_string()).or_default();
        let new = ns.insert(peer, entry).is_none();
        (ttl, new)
    }

    /// The live registrations of `namespace` other than `asker`'s.
    pub fn discover(&self, namespace: &str, asker: &PeerId, now: Instant) -> Vec<PeerRecord> {
        let Some(ns) = self.namespaces.get(namespace) else {
            return Vec::new();
        };
        ns.iter()
            .filter(|(p, e)| *p != asker && e.expires > now)
            .take(MAX_PEERS)
            .map(|(p, e)| PeerRecord {
                peer: *p,
                addrs: e.addrs.clone(),
            })
            .collect()
    }

    /// Removes `peer` from `namespace`; true if it was there.
    pub fn unregister(&mut self, peer: &PeerId, namespace: &str) -> bool {
        let removed = self
            .namespaces
            .get_mut(namespace)
            .is_some_and(|ns| ns.remove(peer).is_some());
        self.namespaces.retain(|_, ns| !ns.is_empty());
        removed
    }

    /// Removes every registration of `peer` (its last connection closed);
    /// returns the namespaces it left.
    pub fn remove_peer(&mut self, peer: &PeerId) -> Vec<String> {
        let mut left = Vec::new();
        for (name, ns) in &mut self.namespaces {
            if ns.remove(peer).is_some() {
                left.push(name.clone());
            }
        }
        self.namespaces.retain(|_, ns| !ns.is_empty());
        left
    }

    /// Drops expired registrations; returns them as (peer, namespace).
    pub fn expire(&mut self, now: Instant) -> Vec<(PeerId, String)> {
        let mut gone = Vec::new();
        for (name, ns) in &mut self.namespaces {
            ns.retain(|p, e| {
                let live = e.expires > now;
                if !live {
                    gone.push((*p, name.clone()));
                }
                live
            });
        }
        self.namespaces.retain(|_, ns| !ns.is_empty());
        gone
    }

    /// Registrations in all namespaces.
    pub fn len(&self) -> usize {
        self.namespaces.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn ttl_is_clamped_and_expired_entries_are_not_handed_out() {
        let mut r = Registry::new(TtlRange::default());
        let (a, b, t0) = (PeerId::random(), PeerId::random(), Instant::now());
        let (ttl, new) = r.register(a, "ns", vec![addr("/ip4/10.0.0.1/tcp/1")], 7200, t0);
        assert_eq!((ttl, new), (Duration::from_secs(60), true));
        let (ttl, _) = r.register(b, "ns", vec![], 1, t0);
        assert_eq!(ttl, Duration::from_secs(10));
        assert_eq!(r.discover("ns", &a, t0).len(), 1);
        assert_eq!(r.discover("ns", &a, t0)[0].peer, b);
        let later = t0 + Duration::from_secs(11);
        assert!(r.discover("ns", &a, later).is_empty());
        assert_eq!(r.expire(later), vec![(b, "ns".to_string())]);
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn namespaces_are_separate_and_a_disconnect_removes_everywhere() {
        let mut r = Registry::new(TtlRange::default());
        let (a, b, now) = (PeerId::random(), PeerId::random(), Instant::now());
        r.register(a, "one", vec![], 30, now);
        r.register(a, "two", vec![], 30, now);
        r.register(b, "two", vec![], 30, now);
        assert!(r.discover("one", &b, now).iter().all(|p| p.peer == a));
        assert!(r.discover("three", &b, now).is_empty());
        let mut left = r.remove_peer(&a);
        left.sort();
        assert_eq!(left, ["one", "two"]);
        assert!(r
            .discover("two", &PeerId::random(), now)
            .iter()
            .all(|p| p.peer == b));
        assert!(r.unregister(&b, "two"));
        assert!(r.is_empty());
    }

    #[test]
    fn only_usable_addresses_are_kept() {
        let mut r = Registry::new(TtlRange::default());
        let (a, now) = (PeerId::random(), Instant::now());
        let p2p = format!("/ip4/10.0.0.2/tcp/1/p2p/{}", PeerId::random());
        let addrs = vec![
            addr("/ip4/127.0.0.1/tcp/1"),
            addr("/ip4/0.0.0.0/tcp/1"),
            addr(&p2p),
            addr("/ip4/10.0.0.1/udp/2/quic-v1"),
            addr(&format!("{p2p}/p2p-circuit")),
        ];
        r.register(a, "ns", addrs, 30, now);
        let got = r.discover("ns", &PeerId::random(), now);
        let want = vec![
            addr("/ip4/10.0.0.1/udp/2/quic-v1"),
            addr(&format!("{p2p}/p2p-circuit")),
        ];
        assert_eq!(got[0].addrs, want);
    }
}

//! The peer table: which peers are listed, and why. Pure state transitions
//! (time is passed in), so the membership rules are unit-tested here and
//! the I/O lives elsewhere.
//!
//! A peer is listed while it is connected (its PeerId authenticated by
//! Noise), has a name (from its signed presence, else its DNS-SD TXT), has
//! not said goodbye (DNS-SD goodbye or presence "offline") and has not
//! missed its presence heartbeats.

use crate::proto::{DisplayName, Presence, Status};
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

mod short_id;
pub mod target;
pub use short_id::{short_id, short_ids, MIN_SHORT_ID};

/// A listed peer as shown to users (`duet peers --json`, events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerView {
    pub name: String,
    pub peer_id: String,
    pub short_id: String,
    pub status: Status,
    pub addrs: Vec<String>,
    /// Its name was first seen with another PeerId (see `duet contacts`).
    #[serde(default)]
    pub identity_changed: bool,
    /// How the peer was found: `mdns`, `broker` (both for one peer seen both ways).
    #[serde(default)]
    pub via: Vec<String>,
    /// `node`, or `web`: a browser a broker bridges (`web:alice via …`).
    #[serde(default = "node_kind")]
    pub kind: String,
}

fn node_kind() -> String {
    "node".into()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerChange {
    Up(PeerView),
    Down(PeerView),
    Changed(PeerView),
}

impl PeerChange {
    pub fn map(self, f: impl FnOnce(PeerView) -> PeerView) -> Self {
        match self {
            PeerChange::Up(v) => PeerChange::Up(f(v)),
            PeerChange::Down(v) => PeerChange::Down(f(v)),
            PeerChange::Changed(v) => PeerChange::Changed(f(v)),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    connections: Vec<Multiaddr>,
    txt_name: Option<DisplayName>,
    txt_addrs: Vec<Multiaddr>,
    identify_addrs: Vec<Multiaddr>,
    presence: Option<Presence>,
    last_seen: Instant,
    left: bool,
    stale: bool,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            connections: Vec::new(),
            txt_name: None,
            txt_addrs: Vec::new(),
            identify_addrs: Vec::new(),
            presence: None,
            last_seen: now,
            left: false,
            stale: false,
        }
    }

    fn name(&self) -> Option<&DisplayName> {
        self.presence
            .as_ref()
            .map(|p| &p.name)
            .or(self.txt_name.as_ref())
    }

    fn listed(&self) -> bool {
        !self.connections.is_empty() && !self.left && !self.stale && self.name().is_some()
    }

    fn forgettable(&self) -> bool {
        self.connections.is_empty() && self.txt_name.is_none()
    }
}

#[derive(Debug, Default)]
pub struct PeerTable {
    entries: HashMap<PeerId, Entry>,
    /// Peers a broker handed out (kept apart: they are handed out before
    /// the connection that makes an entry worth keeping).
    via_broker: HashSet<PeerId>,
    /// Stand-ins for web users a broker bridges (see net::web_peers).
    web: HashSet<PeerId>,
}

impl PeerTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection to `peer` (authenticated) was established at `addr`.
    pub fn connected(&mut self, peer: PeerId, addr: Multiaddr, now: Instant) -> Vec<PeerChange> {
        self.update(peer, now, |e| {
            if e.connections.is_empty() {
                e.last_seen = now;
                e.stale = false;
            }
            e.connections.push(addr);
        })
    }

    /// A connection to `peer` at `addr` closed; `remaining` are still open.
    pub fn disconnected(
        &mut self,
        peer: PeerId,
        addr: &Multiaddr,
        remaining: u32,
    ) -> Vec<PeerChange> {
        let changes = self.update_existing(peer, |e| {
            if let Some(i) = e.connections.iter().position(|a| a == addr) {
                e.connections.remove(i);
            }
            if remaining == 0 {
                e.connections.clear();
                e.identify_addrs.clear();
                e.presence = None;
                e.left = false;
                e.stale = false;
            }
        });
        if remaining == 0 {
            self.web.remove(&peer);
        }
        changes
    }

    /// `peer` is a web user bridged by a broker (its connection follows).
    pub fn web_user(&mut self, peer: PeerId) -> Vec<PeerChange> {
        self.web.insert(peer);
        Vec::new()
    }

    /// `peer` reported its listen addresses (identify, over the connection).
    pub fn identified(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) -> Vec<PeerChange> {
        self.update_existing(peer, |e| e.identify_addrs = addrs)
    }

    /// A DNS-SD record for `peer` was resolved.
    pub fn discovered(
        &mut self,
        peer: PeerId,
        name: DisplayName,
        addrs: Vec<Multiaddr>,
        now: Instant,
    ) -> Vec<PeerChange> {
        self.update(peer, now, |e| {
            e.txt_name = Some(name);
            e.txt_addrs = addrs;
        })
    }

    /// A broker handed out `peer`.
    pub fn via_broker(&mut self, peer: PeerId) -> Vec<PeerChange> {
        if !self.via_broker.insert(peer) {
            return Vec::new();
        }
        // Only a listed peer's view changes; nothing to do otherwise.
        let before = self.entries.get(&peer).filter(|e| e.listed());
        let Some(view) = before.and_then(|e| self.view(&peer, e)) else {
            return Vec::new();
        };
        vec![PeerChange::Changed(view)]
    }

    /// The DNS-SD record of `peer` was removed (goodbye or expiry).
    pub fn removed(&mut self, peer: PeerId) -> Vec<PeerChange> {
        self.update_existing(peer, |e| {
            e.txt_name = None;
            e.txt_addrs.clear();
            e.left = true;
        })
    }

    /// A signed presence message from `peer` arrived. Older ones are ignored.
    pub fn presence(&mut self, peer: PeerId, p: Presence, now: Instant) -> Vec<PeerChange> {
        self.update(peer, now, |e| {
            if e.presence.as_ref().is_some_and(|old| old.seq >= p.seq) {
                return;
            }
            e.last_seen = now;
            e.stale = false;
            e.left = p.status == Status::Offline;
            e.presence = Some(p);
        })
    }

    /// Marks connected peers silent for longer than `timeout` as gone and
    /// returns them, so their connections can be closed.
    pub fn expire(&mut self, now: Instant, timeout: Duration) -> (Vec<PeerChange>, Vec<PeerId>) {
        let silent: Vec<PeerId> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                // A nameless connection (a broker) sends no presence to miss.
                !e.connections.is_empty()
                    && !e.stale
                    && e.name().is_some()
                    && now.duration_since(e.last_seen) > timeout
            })
            .map(|(p, _)| *p)
            .collect();
        let mut changes = Vec::new();
        for p in &silent {
            changes.extend(self.update_existing(*p, |e| e.stale = true));
        }
        (changes, silent)
    }

    /// The name `peer` gave in its own signed presence, if it sent one.
    pub fn signed_name(&self, peer: &PeerId) -> Option<&DisplayName> {
        self.entries.get(peer)?.presence.as_ref().map(|p| &p.name)
    }

    /// The listed peers, sorted by name then PeerId.
    pub fn list(&self) -> Vec<PeerView> {
        let mut v: Vec<PeerView> = self
            .entries
            .iter()
            .filter(|(_, e)| e.listed())
            .filter_map(|(p, e)| self.view(p, e))
            .collect();
        v.sort_by(|a, b| (&a.name, &a.peer_id).cmp(&(&b.name, &b.peer_id)));
        v
    }

    fn update(
        &mut self,
        peer: PeerId,
        now: Instant,
        f: impl FnOnce(&mut Entry),
    ) -> Vec<PeerChange> {
        self.entries.entry(peer).or_insert_with(|| Entry::new(now));
        self.update_existing(peer, f)
    }

    fn update_existing(&mut self, peer: PeerId, f: impl FnOnce(&mut Entry)) -> Vec<PeerChange> {
        let Some(entry) = self.entries.get(&peer) else {
            return Vec::new();
        };
        let before = entry.listed().then(|| self.view(&peer, entry)).flatten();
        let Some(entry) = self.entries.get_mut(&peer) else {
            return Vec::new();
        };
        f(entry);
        let forget = entry.forgettable();
        let after = self
            .entries
            .get(&peer)
            .filter(|e| e.listed())
            .and_then(|e| self.view(&peer, e));
        if forget {
            self.entries.remove(&peer);
        }
        match (before, after) {
            (None, Some(a)) => vec![PeerChange::Up(a)],
            (Some(b), None) => vec![PeerChange::Down(b)],
            (Some(b), Some(a)) if a != b => vec![PeerChange::Changed(a)],
            _ => Vec::new(),
        }
    }

    fn view(&self, peer: &PeerId, e: &Entry) -> Option<PeerView> {
        let name = e.name()?.to_string();
        // What the peer advertises; where we happen to reach it only if nothing else.
        let mut addrs: Vec<String> = Vec::new();
        let advertised = e.txt_addrs.iter().chain(e.identify_addrs.iter());
        let fallback = e.connections.iter();
        for a in advertised
            .chain(fallback.filter(|_| e.txt_addrs.is_empty() && e.identify_addrs.is_empty()))
        {
            if is_loopback(a) {
                continue;
            }
            let s = without_p2p(a).to_string();
            if !addrs.contains(&s) {
                addrs.push(s);
            }
        }
        addrs.sort();
        let peer_id = peer.to_string();
        let others = self
            .entries
            .iter()
            .filter(|(p, o)| *p != peer && o.listed())
            .map(|(p, _)| p.to_string());
        let mut via = Vec::new();
        if e.txt_name.is_some() {
            via.push("mdns".to_string());
        }
        if self.via_broker.contains(peer) {
            via.push("broker".to_string());
        }
        let kind = if self.web.contains(peer) {
            "web"
        } else {
            "node"
        };
        Some(PeerView {
            kind: kind.into(),
            via,
            short_id: short_id(&peer_id, others),
            name,
            peer_id,
            status: e.presence.as_ref().map(|p| p.status).unwrap_or_default(),
            addrs,
            identity_changed: false,
        })
    }
}

fn is_loopback(a: &Multiaddr) -> bool {
    a.iter().any(|p| match p {
        libp2p::multiaddr::Protocol::Ip4(ip) => ip.is_loopback(),
        libp2p::multiaddr::Protocol::Ip6(ip) => ip.is_loopback(),
        _ => false,
    })
}

fn without_p2p(a: &Multiaddr) -> Multiaddr {
    a.iter()
        .filter(|p| !matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn name(s: &str) -> DisplayName {
        DisplayName::new(s).unwrap()
    }
    fn addr() -> Multiaddr {
        "/ip4/10.77.0.2/tcp/4001".parse().unwrap()
    }
    fn presence(n: &str, status: Status, seq: u64) -> Presence {
        Presence {
            name: name(n),
            status,
            seq,
        }
    }

    #[test]
    fn listed_once_connected_and_named() {
        let mut t = PeerTable::new();
        let p = PeerId::random();
        let now = Instant::now();
        assert!(t.discovered(p, name("bob"), vec![addr()], now).is_empty());
        let ch = t.connected(p, addr(), now);
        assert!(matches!(&ch[..], [PeerChange::Up(v)] if v.name == "bob"));
        assert_eq!(t.list().len(), 1);
    }

    #[test]
    fn presence_names_an_inbound_peer_and_updates_status() {
        let mut t = PeerTable::new();
        let p = PeerId::random();
        let now = Instant::now();
        assert!(t.connected(p, addr(), now).is_empty());
        let ch = t.presence(p, presence("amy", Status::Available, 1), now);
        assert!(matches!(&ch[..], [PeerChange::Up(v)] if v.name == "amy"));
        let ch = t.presence(p, presence("amy", Status::Dnd, 2), now);
        assert!(matches!(&ch[..], [PeerChange::Changed(v)] if v.status == Status::Dnd));
        assert!(t
            .presence(p, presence("amy", Status::Available, 1), now)
            .is_empty());
    }

    #[test]
    fn goodbye_offline_disconnect_and_silence_take_a_peer_down() {
        let now = Instant::now();
        let setup = || {
            let mut t = PeerTable::new();
            let p = PeerId::random();
            t.discovered(p, name("bob"), vec![], now);
            t.connected(p, addr(), now);
            (t, p)
        };
        let (mut t, p) = setup();
        assert!(matches!(&t.removed(p)[..], [PeerChange::Down(_)]));
        let (mut t, p) = setup();
        let ch = t.presence(p, presence("bob", Status::Offline, 5), now);
        assert!(matches!(&ch[..], [PeerChange::Down(_)]));
        let (mut t, p) = setup();
        assert!(matches!(
            &t.disconnected(p, &addr(), 0)[..],
            [PeerChange::Down(_)]
        ));
        let (mut t, p) = setup();
        let (ch, silent) = t.expire(now + Duration::from_secs(2), Duration::from_secs(7));
        assert!(ch.is_empty() && silent.is_empty());
        let (ch, silent) = t.expire(now + Duration::from_secs(8), Duration::from_secs(7));
        assert!(matches!(&ch[..], [PeerChange::Down(_)]));
        assert_eq!(silent, vec![p]);
        let later = now + Duration::from_secs(9);
        let ch = t.presence(p, presence("bob", Status::Available, 9), later);
        assert!(
            matches!(&ch[..], [PeerChange::Up(_)]),
            "a fresh heartbeat relists"
        );
    }

    #[test]
    fn same_name_peers_are_both_listed() {
        let mut t = PeerTable::new();
        let now = Instant::now();
        for _ in 0..2 {
            let p = PeerId::random();
            t.discovered(p, name("bob"), vec![], now);
            t.connected(p, addr(), now);
        }
        let l = t.list();
        assert_eq!(l.len(), 2);
        assert_ne!(l[0].peer_id, l[1].peer_id);
        assert_ne!(l[0].short_id, l[1].short_id);
    }
}

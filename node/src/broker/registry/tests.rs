#![allow(clippy::unwrap_used)]
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
    assert_eq!(r.discover("ns", &a, None, t0).peers.len(), 1);
    assert_eq!(r.discover("ns", &a, None, t0).peers[0].peer, b);
    let later = t0 + Duration::from_secs(11);
    assert!(r.discover("ns", &a, None, later).peers.is_empty());
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
    assert!(r
        .discover("one", &b, None, now)
        .peers
        .iter()
        .all(|p| p.peer == a));
    assert!(r.discover("three", &b, None, now).peers.is_empty());
    let mut left = r.remove_peer(&a);
    left.sort();
    assert_eq!(left, ["one", "two"]);
    assert!(r
        .discover("two", &PeerId::random(), None, now)
        .peers
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
    let got = r.discover("ns", &PeerId::random(), None, now).peers;
    let want = vec![
        addr("/ip4/10.0.0.1/udp/2/quic-v1"),
        addr(&format!("{p2p}/p2p-circuit")),
    ];
    assert_eq!(got[0].addrs, want);
}

#[test]
fn a_cursor_gets_only_what_changed_since() {
    let mut r = Registry::new(TtlRange::default());
    let (a, b, c, now) = (
        PeerId::random(),
        PeerId::random(),
        PeerId::random(),
        Instant::now(),
    );
    r.register(a, "ns", vec![], 30, now);
    r.register(b, "ns", vec![], 30, now);
    let first = r.discover("ns", &a, None, now);
    assert!(first.full);
    assert_eq!(first.peers.len(), 1);
    // Nothing changed; a refresh with the same addresses is no change.
    r.register(b, "ns", vec![], 30, now);
    let same = r.discover("ns", &a, Some(first.cursor), now);
    assert!(!same.full && same.peers.is_empty() && same.removed.is_empty());
    assert_eq!(same.cursor, first.cursor);
    // c arrives, b changes address, then b leaves.
    r.register(c, "ns", vec![], 30, now);
    r.register(b, "ns", vec![addr("/ip4/10.0.0.2/tcp/1")], 30, now);
    let next = r.discover("ns", &a, Some(same.cursor), now);
    assert_eq!(next.peers.len(), 2);
    assert!(r.unregister(&b, "ns"));
    let last = r.discover("ns", &a, Some(next.cursor), now);
    assert_eq!((last.peers.len(), last.removed.clone()), (0, vec![b]));
    // A cursor from the future (another broker run) gets everything.
    assert!(r.discover("ns", &a, Some(last.cursor + 5), now).full);
}

#[test]
fn a_cursor_older_than_the_namespace_gets_the_full_list() {
    let mut r = Registry::new(TtlRange::default());
    let (a, b, now) = (PeerId::random(), PeerId::random(), Instant::now());
    r.register(a, "one", vec![], 30, now);
    let old = r.discover("two", &b, None, now).cursor;
    r.register(a, "two", vec![], 30, now);
    let d = r.discover("two", &b, Some(old), now);
    assert!(!d.full);
    assert_eq!(d.peers.len(), 1);
    r.unregister(&a, "two");
    r.register(a, "two", vec![], 30, now);
    assert!(r.discover("two", &b, Some(0), now).full);
}

#[test]
fn long_lists_come_in_pages_that_add_up() {
    let mut r = Registry::new(TtlRange::default());
    let (asker, now) = (PeerId::random(), Instant::now());
    let all: Vec<PeerId> = (0..PAGE * 2 + 5).map(|_| PeerId::random()).collect();
    for p in &all {
        r.register(*p, "ns", vec![], 30, now);
    }
    let first = r.discover("ns", &asker, None, now);
    assert!(first.full && first.more);
    assert_eq!(first.peers.len(), PAGE);
    let mut seen: Vec<PeerId> = first.peers.iter().map(|p| p.peer).collect();
    let mut cursor = first.cursor;
    loop {
        let page = r.discover("ns", &asker, Some(cursor), now);
        assert!(!page.full);
        seen.extend(page.peers.iter().map(|p| p.peer));
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    seen.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(seen, want);
    assert!(r.discover("ns", &asker, Some(cursor), now).peers.is_empty());
}

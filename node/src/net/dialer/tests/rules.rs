//! The dial rules with injected time and connection state: who dials
//! first, backoff, proof, rejection, forgetting, redial after a loss.

use super::super::*;
use crate::net::fake_links::{ordered, FakeLinks};
use crate::proto::DisplayName;

fn record(peer: PeerId) -> Record {
    Record {
        fullname: format!("bob [{}]._duet._udp.local.", &peer.to_string()[46..]),
        peer,
        name: DisplayName::new("bob").unwrap(),
        addrs: vec!["/ip4/10.77.0.2/tcp/4001".parse().unwrap()],
    }
}

#[test]
fn the_smaller_peer_id_dials_at_once_the_larger_after_the_grace() {
    let (small, large) = ordered();
    let t0 = Instant::now();

    let mut links = FakeLinks::new(small);
    let mut d = Dialer::default();
    d.resolved(record(large), &links, t0);
    assert_eq!(d.next_due(&links), Some(t0));
    d.dial_due(&mut links, t0);
    assert_eq!(links.dials.len(), 1);

    let mut links = FakeLinks::new(large);
    let mut d = Dialer::default();
    d.resolved(record(small), &links, t0);
    assert_eq!(d.next_due(&links), Some(t0 + FALLBACK_GRACE));
    d.dial_due(&mut links, t0);
    assert!(links.dials.is_empty(), "not before the grace");
    // The smaller side connected meanwhile: no dial at all.
    links.connected.insert(small);
    d.dial_due(&mut links, t0 + FALLBACK_GRACE);
    assert!(links.dials.is_empty());
    assert_eq!(d.next_due(&links), None);
}

#[test]
fn failed_dials_back_off_and_an_unproven_record_is_forgotten() {
    let (small, large) = ordered();
    let mut links = FakeLinks::new(small);
    let mut d = Dialer::default();
    let t0 = Instant::now();
    d.resolved(record(large), &links, t0);
    let mut now = t0;
    let mut gaps = Vec::new();
    for _ in 0..MAX_FAILED_DIALS {
        d.dial_due(&mut links, now);
        let (_, id) = *links.dials.last().unwrap();
        d.dial_failed(id, &DialError::Aborted);
        match d.next_due(&links) {
            Some(next) => {
                gaps.push(next - now);
                now = next;
            }
            None => break,
        }
    }
    assert_eq!(gaps, [FIRST_BACKOFF, FIRST_BACKOFF * 2]);
    assert_eq!(
        d.counts(),
        (0, 0),
        "forgotten after {MAX_FAILED_DIALS} failures"
    );
}

#[test]
fn a_dial_proves_the_record_and_a_wrong_peer_id_rejects_it_for_good() {
    let (small, large) = ordered();
    let mut links = FakeLinks::new(small);
    let mut d = Dialer::default();
    let t0 = Instant::now();

    d.resolved(record(large), &links, t0);
    d.dial_due(&mut links, t0);
    let (_, id) = links.dials[0];
    match d.connected(id) {
        Some(NetEvent::Discovered { peer, .. }) => assert_eq!(peer, large),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.counts(), (1, 0), "proven");

    let liar = record(PeerId::random());
    let liar_name = liar.fullname.clone();
    let mut links = FakeLinks::new(small);
    let mut d = Dialer::default();
    d.resolved(liar, &links, t0);
    // Whichever PeerId is smaller, the dial is due after the grace at most.
    d.dial_due(&mut links, t0 + FALLBACK_GRACE);
    let (_, id) = links.dials[0];
    let error = DialError::WrongPeerId {
        obtained: PeerId::random(),
        address: "/ip4/10.77.0.2/tcp/4001".parse().unwrap(),
    };
    d.dial_failed(id, &error);
    for later in [Duration::from_secs(5), Duration::from_secs(50)] {
        d.dial_due(&mut links, t0 + later);
    }
    assert_eq!(links.dials.len(), 1, "never dialed again");
    assert!(d.records.get(&liar_name).is_some_and(|k| k.rejected));
}

#[test]
fn a_lost_peer_is_redialed_later_not_at_once() {
    let (small, large) = ordered();
    let mut links = FakeLinks::new(small);
    let mut d = Dialer::default();
    let t0 = Instant::now();
    d.resolved(record(large), &links, t0);
    d.dial_due(&mut links, t0);
    let (_, id) = links.dials[0];
    d.connected(id);
    let t1 = t0 + Duration::from_secs(10);
    d.disconnected(large, small, t1);
    assert_eq!(d.next_due(&links), Some(t1 + Duration::from_secs(1)));
    d.dial_due(&mut links, t1);
    assert_eq!(links.dials.len(), 1);
    d.dial_due(&mut links, t1 + Duration::from_secs(1));
    assert_eq!(links.dials.len(), 2);
}

#[test]
fn a_peer_connected_first_proves_its_record_by_its_own_addresses() {
    let (small, large) = ordered();
    let t0 = Instant::now();
    // We are the larger side: the smaller one connected meanwhile, so we
    // never dial; its identify proves the record instead.
    let mut links = FakeLinks::new(large);
    let mut d = Dialer::default();
    d.resolved(record(small), &links, t0);
    links.connected.insert(small);
    d.dial_due(&mut links, t0 + FALLBACK_GRACE);
    assert!(links.dials.is_empty());
    let other: Multiaddr = "/ip4/10.77.0.9/tcp/4001".parse().unwrap();
    assert!(d.peer_addresses(small, &[other], &links).is_empty());
    assert_eq!(d.counts(), (1, 1), "not the record's address: unproven");
    let own: Multiaddr = format!("/ip4/10.77.0.2/tcp/4001/p2p/{small}")
        .parse()
        .unwrap();
    match d.peer_addresses(small, &[own], &links).as_slice() {
        [NetEvent::Discovered { peer, .. }] => assert_eq!(*peer, small),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.counts(), (1, 0), "proven");
    assert!(links.dials.is_empty(), "without a dial");
}

#[test]
fn a_record_resolved_after_the_connection_is_proven_at_once_or_not_at_all() {
    let (small, large) = ordered();
    let t0 = Instant::now();
    let mut links = FakeLinks::new(large);
    let mut d = Dialer::default();
    // Addresses reported by a peer that is not connected prove nothing.
    let own: Multiaddr = "/ip4/10.77.0.2/tcp/4001".parse().unwrap();
    d.peer_addresses(small, std::slice::from_ref(&own), &links);
    assert!(d.resolved(record(small), &links, t0).is_none());
    assert_eq!(d.counts(), (1, 1));

    let mut d = Dialer::default();
    links.connected.insert(small);
    d.peer_addresses(small, std::slice::from_ref(&own), &links);
    let liar = Record {
        fullname: "liar._duet._udp.local.".into(),
        addrs: vec!["/ip4/10.77.0.66/tcp/4001".parse().unwrap()],
        ..record(small)
    };
    assert!(d.resolved(liar, &links, t0).is_none(), "not its address");
    match d.resolved(record(small), &links, t0) {
        Some(NetEvent::Discovered { peer, .. }) => assert_eq!(peer, small),
        other => panic!("{other:?}"),
    }
    // Once it disconnects, what it reported is forgotten.
    d.disconnected(small, large, t0);
    links.connected.clear();
    assert!(d.owned.is_empty());
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The circuit-to-direct rules with injected time and connection events.

use super::*;
use crate::net::fake_links::{ordered, FakeLinks};

fn id(n: usize) -> ConnectionId {
    ConnectionId::new_unchecked(n)
}

fn reported() -> Vec<Multiaddr> {
    [
        "/ip4/127.0.0.1/tcp/4001",
        "/ip4/10.77.2.3/tcp/4001",
        "/ip4/10.77.2.3/udp/4001/quic-v1",
        "/ip4/10.77.1.2/tcp/7170/ws/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit",
    ]
    .iter()
    .map(|a| a.parse().unwrap())
    .collect()
}

#[test]
fn a_peer_on_a_circuit_only_is_dialed_at_its_direct_addresses() {
    let (small, large) = ordered();
    let t0 = Instant::now();
    let mut links = FakeLinks::new(small);
    let mut d = DirectLinks::default();
    d.established(large, id(1), true, small, t0);
    assert_eq!(d.next_due(), None, "no address known yet");
    d.addresses(large, &reported());
    assert_eq!(d.next_due(), Some(t0), "the smaller side at once");
    d.dial_due(&mut links, t0);
    assert_eq!(links.dials.len(), 1);
    let dialed = &links.dialed[0];
    assert!(dialed.contains("10.77.2.3"), "{dialed}");
    assert!(!dialed.contains("127.0.0.1") && !dialed.contains("p2p-circuit"));
    assert_eq!(d.next_due(), None, "one dial at a time");

    // It failed (the router drops it): again after the backoff, doubling.
    let (_, first) = links.dials[0];
    d.dial_failed(first);
    assert_eq!(d.next_due(), Some(t0 + FIRST_BACKOFF));
    d.dial_due(&mut links, t0 + FIRST_BACKOFF);
    let (_, second) = links.dials[1];
    d.dial_failed(second);
    assert_eq!(d.next_due(), Some(t0 + FIRST_BACKOFF * 3));

    // The larger side waits the grace.
    let mut d = DirectLinks::default();
    d.established(small, id(1), true, large, t0);
    d.addresses(small, &reported());
    assert_eq!(d.next_due(), Some(t0 + GRACE));
}

#[test]
fn a_direct_connection_makes_the_circuit_redundant_once_nothing_is_in_flight() {
    let (small, large) = ordered();
    let t0 = Instant::now();
    let mut links = FakeLinks::new(small);
    let mut d = DirectLinks::default();
    d.established(large, id(1), true, small, t0);
    d.addresses(large, &reported());
    assert!(
        d.redundant(|_| false).is_empty(),
        "the circuit is all there is"
    );
    d.dial_due(&mut links, t0);
    let (_, dial) = links.dials[0];
    d.established(large, dial, false, small, t0);
    assert_eq!(d.next_due(), None);
    assert!(d.redundant(|_| true).is_empty(), "signalling in flight");
    assert_eq!(d.redundant(|_| false), vec![id(1)]);
    assert!(d.redundant(|_| false).is_empty(), "once");
    d.closed(large, id(1));
    // Losing the direct connection too forgets the peer.
    d.closed(large, dial);
    assert!(d.peers.is_empty());
}

#[test]
fn a_peer_connected_directly_is_never_dialed() {
    let (small, large) = ordered();
    let t0 = Instant::now();
    let mut links = FakeLinks::new(small);
    let mut d = DirectLinks::default();
    d.established(large, id(1), false, small, t0);
    d.addresses(large, &reported());
    d.established(large, id(2), true, small, t0);
    assert_eq!(d.next_due(), None);
    d.dial_due(&mut links, t0 + MAX_BACKOFF);
    assert!(links.dials.is_empty());
    assert_eq!(d.redundant(|_| false), vec![id(2)]);
}

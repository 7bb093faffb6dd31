#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The bounds on unproven records; the dial rules are in [`rules`].
use super::*;
use crate::proto::DisplayName;

fn keep(d: &mut Dialer, n: usize, verified: bool, seen: Instant) -> String {
    let fullname = format!("fake{n}._duet._udp.local.");
    if !verified && !d.make_room() {
        return fullname;
    }
    let record = Record {
        fullname: fullname.clone(),
        peer: PeerId::random(),
        name: DisplayName::new("x").unwrap(),
        addrs: vec!["/ip4/10.77.9.9/tcp/1".parse().unwrap()],
    };
    let known = Known {
        record,
        rejected: false,
        verified,
        next_dial: seen,
        backoff: Backoff::new(FIRST_BACKOFF, MAX_BACKOFF),
        seen,
        failures: 0,
    };
    d.records.insert(fullname.clone(), known);
    fullname
}

mod rules;

#[test]
fn unproven_records_are_bounded_in_count_and_age() {
    let mut d = Dialer::default();
    let t0 = Instant::now();
    let proven = keep(&mut d, 0, true, t0);
    for n in 1..=2000 {
        keep(&mut d, n, false, t0 + Duration::from_millis(n as u64));
    }
    assert_eq!(d.counts(), (MAX_UNPROVEN + 1, MAX_UNPROVEN));
    assert!(d.records.contains_key(&proven), "a proven record stays");
    assert!(
        d.records.contains_key("fake2000._duet._udp.local."),
        "the newest is kept"
    );
    d.forget_stale(t0 + MAX_UNPROVEN_AGE + Duration::from_secs(3));
    assert_eq!(d.counts(), (1, 0));
}

#[test]
fn no_room_while_every_unproven_record_is_being_dialed() {
    let mut d = Dialer::default();
    let t0 = Instant::now();
    for n in 0..MAX_UNPROVEN {
        let f = keep(&mut d, n, false, t0);
        d.dialing.insert(ConnectionId::new_unchecked(n), f);
    }
    let late = keep(&mut d, 9999, false, t0);
    assert!(!d.records.contains_key(&late));
    assert_eq!(d.counts(), (MAX_UNPROVEN, MAX_UNPROVEN));
}

//! When no direct route exists between the subnets: signalling over the
//! broker's relay circuit and media through its TURN, or only the media
//! through TURN when just UDP is blocked.

use super::*;

#[test]
fn without_a_direct_route_signalling_goes_over_the_broker_relay_and_media_through_turn() {
    // broker and alice on subnet 1, bob on subnet 2; the router passes only
    // traffic to and from the broker: signalling crosses the relay circuit,
    // media the broker's TURN.
    let lan = Lan::routed(2, 2).unwrap();
    lan.filter(Filter::AllBut(lan.host(0).ip)).unwrap();
    let broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    let alice = start(&lan, 1, "alice", &["--broker", &broker.addr]);
    let bob = start(&lan, 2, "bob", &["--broker", &broker.addr]);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    assert!(
        broker.logs().contains("relaying a circuit"),
        "{}",
        broker.logs()
    );

    // The call rings: invite and ringing crossed the circuit, with the
    // caller's own PeerId (Noise end to end through the relay).
    let bob_events = bob.events().unwrap();
    let mut dialing = alice.cli().args(["call", "bob"]).spawn().unwrap();
    let incoming = bob_events
        .wait_for("incoming_call", CONNECTED, |e| e.kind() == "incoming_call")
        .unwrap_or_else(|e| panic!("{e:#}\n{}", alice.logs()));
    assert_eq!(incoming.value["call"]["peer_id"], a.as_str());
    wait_until("alice to see bob ringing", CONNECTED, || {
        Ok((alice.status()?.call["state"] == "ringing").then_some(()))
    })
    .unwrap();

    // Answered, it connects, and the media goes through the broker's TURN.
    let out = bob.cli().args(["answer"]).output().unwrap();
    assert!(out.status.success(), "{out:?}\n{}", bob.logs());
    let dialed = dialing.wait().unwrap();
    assert!(dialed.success(), "duet call: {dialed:?}\n{}", alice.logs());
    for n in [&alice, &bob] {
        wait_route(n, "relay");
        wait_media(n, 60);
    }
    hang_up(&alice, &bob);
}

#[test]
fn without_udp_between_subnets_media_goes_through_the_broker_turn() {
    // broker and alice on subnet 1, bob on subnet 2; the router drops UDP
    // between the subnets except to and from the broker.
    let lan = Lan::routed(2, 2).unwrap();
    let broker_ip = lan.host(0).ip;
    lan.filter(Filter::UdpBut(broker_ip)).unwrap();
    let broker = DuetBroker::start(lan.host(0), &[]).unwrap();
    assert!(
        broker.logs().contains("STUN/TURN on udp"),
        "{}",
        broker.logs()
    );
    let alice = start(&lan, 1, "alice", &["--broker", &broker.addr]);
    let bob = answerer(&lan, 2, "bob", &broker.addr);
    let (a, b) = (alice.peer_id().unwrap(), bob.peer_id().unwrap());
    alice.wait_for_peers(&[&b], LISTED).unwrap();
    bob.wait_for_peers(&[&a], LISTED).unwrap();
    for n in [&alice, &bob] {
        wait_until(
            &format!("{} to get TURN credentials", n.name),
            LISTED,
            || Ok(has_turn(n).then_some(())),
        )
        .unwrap();
    }
    // Garbage on the TURN port leaves it serving.
    udp_garbage(lan.host(2), broker_ip, 3478);

    call_and_hang_up(&alice, &bob, "relay");
}

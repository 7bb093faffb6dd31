#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn broker_address_keeps_its_peer_id_apart() {
    let id = PeerId::random();
    let a: Multiaddr = format!("/ip4/10.0.0.1/tcp/7170/ws/p2p/{id}")
        .parse()
        .unwrap();
    let (bare, peer) = split_peer(&a);
    assert_eq!(bare.to_string(), "/ip4/10.0.0.1/tcp/7170/ws");
    assert_eq!(peer, Some(id));
    let b: Multiaddr = "/ip4/10.0.0.1/tcp/7171".parse().unwrap();
    assert_eq!(split_peer(&b), (b.clone(), None));
}

#[test]
fn a_new_client_is_connecting_to_every_broker() {
    let a: Multiaddr = "/ip4/10.0.0.1/tcp/7171".parse().unwrap();
    let c = BrokerClient::new(std::slice::from_ref(&a), None);
    assert_eq!(
        c.views(),
        vec![BrokerView {
            addr: a.to_string(),
            state: BrokerState::Connecting,
            peer_id: None,
            turn: false
        }]
    );
}

//! The request-response behaviour for `/duet/broker/1`, shared by the node
//! (outbound: it asks) and the broker (inbound: it answers). CBOR, with a
//! small request cap: a registration is a few addresses.

use crate::proto::broker::{BrokerRequest, BrokerResponse, BROKER_PROTOCOL};
use libp2p::request_response::{self, cbor, ProtocolSupport};
use libp2p::StreamProtocol;
use std::time::Duration;

const MAX_REQUEST_BYTES: u64 = 16 * 1024;
const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub type Behaviour = cbor::Behaviour<BrokerRequest, BrokerResponse>;
pub type Event = request_response::Event<BrokerRequest, BrokerResponse>;

/// `serve`: the broker's side (answers); otherwise the node's (asks).
pub fn behaviour(serve: bool) -> Behaviour {
    let support = if serve {
        ProtocolSupport::Inbound
    } else {
        ProtocolSupport::Outbound
    };
    let codec = cbor::codec::Codec::default()
        .set_request_size_maximum(MAX_REQUEST_BYTES)
        .set_response_size_maximum(MAX_RESPONSE_BYTES);
    request_response::Behaviour::with_codec(
        codec,
        [(StreamProtocol::new(BROKER_PROTOCOL), support)],
        request_response::Config::default()
            .with_request_timeout(REQUEST_TIMEOUT)
            .with_max_concurrent_streams(10_000),
    )
}

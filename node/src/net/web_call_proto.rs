//! The request-response behaviour for `/duet/web-call/1`, shared by the
//! node and the broker (both ask and answer). CBOR, capped.

use crate::proto::web_call::{WebCallAck, WebCallRequest, MAX_WEB_CALL_BYTES, WEB_CALL_PROTOCOL};
use libp2p::request_response::{self, cbor, ProtocolSupport};
use libp2p::StreamProtocol;
use std::time::Duration;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

pub type Behaviour = cbor::Behaviour<WebCallRequest, WebCallAck>;
pub type Event = request_response::Event<WebCallRequest, WebCallAck>;

pub fn behaviour() -> Behaviour {
    let codec = cbor::codec::Codec::default()
        .set_request_size_maximum(MAX_WEB_CALL_BYTES)
        .set_response_size_maximum(4 * 1024);
    request_response::Behaviour::with_codec(
        codec,
        [(
            StreamProtocol::new(WEB_CALL_PROTOCOL),
            ProtocolSupport::Full,
        )],
        request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
    )
}

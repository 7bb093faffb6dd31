//! The request-response codec for `/duet/call/1`: one JSON message per
//! stream, read with a hard size cap before anything is decoded, so an
//! oversized or garbage request costs at most the cap and ends as a logged
//! inbound failure.

use crate::proto::call::{decode_signal, encode_signal, CallSignal, SignalAck, MAX_SIGNAL_BYTES};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use std::io;

const MAX_ACK_BYTES: usize = 1024;

#[derive(Debug, Clone, Default)]
pub struct SignalCodec;

async fn read_capped<T: AsyncRead + Unpin + Send>(io: &mut T, cap: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(cap as u64 + 1).read_to_end(&mut buf).await?;
    if buf.len() > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message exceeds the {cap}-byte cap"),
        ));
    }
    Ok(buf)
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

impl libp2p::request_response::Codec for SignalCodec {
    type Protocol = StreamProtocol;
    type Request = CallSignal;
    type Response = SignalAck;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<CallSignal>
    where
        T: AsyncRead + Unpin + Send,
    {
        // libp2p drops a request whose read fails without an event, so the
        // rejection is logged here (the stream is reset; the sender sees a failure).
        let decoded = match read_capped(io, MAX_SIGNAL_BYTES).await {
            Ok(bytes) => decode_signal(&bytes).map_err(invalid),
            Err(e) => Err(e),
        };
        if let Err(e) = &decoded {
            tracing::warn!("rejected a signalling message: {e}");
        }
        decoded
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SignalAck>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = read_capped(io, MAX_ACK_BYTES).await?;
        serde_json::from_slice(&bytes).map_err(invalid)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: CallSignal,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let bytes = encode_signal(&req).map_err(invalid)?;
        io.write_all(&bytes).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: SignalAck,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let bytes = serde_json::to_vec(&res).map_err(invalid)?;
        io.write_all(&bytes).await?;
        io.close().await
    }
}

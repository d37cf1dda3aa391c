//! The `request_response::Codec` shared by the v3 and the legacy protocol:
//! one unsigned-varint length-prefixed protobuf per direction and stream.

use std::io;
use std::marker::PhantomData;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response;
use waku_core::codec::{read_frame, read_request_frame, write_frame};

use crate::proto::v2beta4::HistoryRpc;
use crate::proto::{StoreQueryRequest, StoreQueryResponse};

/// The v3 protocol id, as a libp2p [`StreamProtocol`].
pub const PROTOCOL: StreamProtocol = StreamProtocol::new(waku_core::protocol_id::STORE_QUERY_V3);

/// The legacy protocol id, as a libp2p [`StreamProtocol`].
pub const LEGACY_PROTOCOL: StreamProtocol = StreamProtocol::new(waku_core::protocol_id::STORE_V2);

/// Largest request body accepted or written, in bytes (64 KiB: room for
/// [`crate::MAX_HASHES_PER_QUERY`] hashes and ten long content topics).
pub const MAX_REQUEST_SIZE: usize = 64 * 1024;

/// Largest response body accepted or written, in bytes: a full page of
/// [`crate::MAX_PAGE_SIZE`] messages of the largest size relay forwards
/// (150 KiB), plus 64 KiB for keys, topics and framing.
pub const MAX_RESPONSE_SIZE: usize =
    crate::MAX_PAGE_SIZE * waku_core::DEFAULT_MAX_MESSAGE_SIZE + 64 * 1024;

/// Reads and writes frames with [`waku_core::codec`].
///
/// Neither write closes the stream: the libp2p request-response handler
/// closes the write side itself after each request and response, which is
/// what js-waku waits for before it decodes a response.
#[derive(Debug)]
pub struct FrameCodec<Req, Resp> {
    _types: PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> Default for FrameCodec<Req, Resp> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<Req, Resp> Clone for FrameCodec<Req, Resp> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A request as the service reads it off a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound<Req> {
    /// A frame that decoded as the protocol's request.
    Query(Req),
    /// A complete frame that did not decode (or announced more than
    /// [`MAX_REQUEST_SIZE`]): the service answers it with the protocol's
    /// error instead of dropping the stream. Holds the decoder's reason.
    Undecodable(String),
}

/// The v3 codec.
pub type StoreCodec = FrameCodec<StoreQueryRequest, StoreQueryResponse>;

/// The legacy codec: both directions carry a `HistoryRPC`.
pub type LegacyStoreCodec = FrameCodec<HistoryRpc, HistoryRpc>;

impl<Req, Resp> request_response::Codec for FrameCodec<Req, Resp>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Default + Send + 'static,
{
    type Protocol = StreamProtocol;
    type Request = Inbound<Req>;
    type Response = Resp;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Inbound<Req>>
    where
        T: AsyncRead + Unpin + Send,
    {
        // A stream that ends before or inside a frame stays an error (the
        // stream is dropped); a whole frame that does not decode is answered.
        Ok(match read_request_frame(io, MAX_REQUEST_SIZE).await? {
            Ok(request) => Inbound::Query(request),
            Err(e) => Inbound::Undecodable(e.to_string()),
        })
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(read_frame(io, MAX_RESPONSE_SIZE).await?)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Inbound<Req>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            Inbound::Query(request) => Ok(write_frame(io, &request, MAX_REQUEST_SIZE).await?),
            Inbound::Undecodable(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an undecodable request is never sent",
            )),
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Resp,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Ok(write_frame(io, &response, MAX_RESPONSE_SIZE).await?)
    }
}

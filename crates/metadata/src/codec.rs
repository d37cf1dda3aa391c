//! The `request_response::Codec` of `/vac/waku/metadata/1.0.0`: one
//! unsigned-varint length-prefixed protobuf per direction and stream.

use std::io;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response;
use waku_core::codec::{read_frame, write_frame};

use crate::proto::{WakuMetadataRequest, WakuMetadataResponse};

/// The protocol id, as a libp2p [`StreamProtocol`].
pub const PROTOCOL: StreamProtocol = StreamProtocol::new(waku_core::protocol_id::METADATA);

/// Largest request or response body accepted or written, in bytes.
///
/// The largest valid message lists all 1024 shards of a cluster twice:
/// unpacked in field 2 (128 × 2 + 896 × 3 bytes) and packed in field 3
/// (1 920 bytes plus tag and length), plus at most 6 for the cluster id,
/// under 4 900 bytes in all. 8 KiB holds every valid message and still
/// refuses anything absurd before allocating.
pub const MAX_FRAME_SIZE: usize = 8192;

/// Reads and writes metadata frames with [`waku_core::codec`].
///
/// Neither write closes the stream: the libp2p request-response handler
/// closes the write side itself right after `write_request` and right after
/// `write_response` (libp2p-request-response 0.30), which is what js-waku
/// waits for before it decodes a response.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetadataCodec;

impl request_response::Codec for MetadataCodec {
    type Protocol = StreamProtocol;
    type Request = WakuMetadataRequest;
    type Response = WakuMetadataResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Self::Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(read_frame(io, MAX_FRAME_SIZE).await?)
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Self::Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(read_frame(io, MAX_FRAME_SIZE).await?)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Self::Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Ok(write_frame(io, &request, MAX_FRAME_SIZE).await?)
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Self::Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Ok(write_frame(io, &response, MAX_FRAME_SIZE).await?)
    }
}

//! The codec of the test-driven fake peer: the metadata wire types in
//! `waku_core::codec` frames, written here because the crate's own codec is
//! private (the fake stands in for a foreign implementation anyway).

use std::io;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use waku_core::codec::{read_frame, write_frame};
use waku_metadata::MAX_FRAME_SIZE;
use waku_metadata::proto::{WakuMetadataRequest, WakuMetadataResponse};

/// Reads and writes one metadata frame per direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct FakeCodec;

impl Codec for FakeCodec {
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

//! A request-response peer that sends and receives raw bytes on the
//! metadata protocol, standing in for a foreign client such as js-waku.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::{self, Codec, ProtocolSupport};
use waku_metadata::PROTOCOL;

/// What the raw peer sends on a new stream.
#[derive(Debug, Clone)]
pub enum RawRequest {
    /// These bytes, then the write side is closed.
    Bytes(Vec<u8>),
    /// Nothing, ever: the stream stays open and silent (the idle streams
    /// js-waku opens ahead of time).
    Idle,
}

/// Reads until the end of the stream; writes bytes as given.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

async fn read_all<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(64 * 1024).read_to_end(&mut buf).await?;
    Ok(buf)
}

impl Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = RawRequest;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<RawRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(RawRequest::Bytes(read_all(io).await?))
    }

    /// Returns only at the end of the stream: proof that the responder
    /// closed its write side.
    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_all(io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: RawRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            RawRequest::Bytes(bytes) => {
                io.write_all(&bytes).await?;
                io.flush().await
            }
            RawRequest::Idle => futures::future::pending().await,
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&response).await?;
        io.flush().await
    }
}

/// The raw peer's behaviour.
pub type Raw = request_response::Behaviour<RawCodec>;

/// A raw peer whose own requests may wait up to `timeout`.
pub fn raw(timeout: std::time::Duration) -> Raw {
    Raw::with_codec(
        RawCodec,
        [(PROTOCOL, ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(timeout),
    )
}

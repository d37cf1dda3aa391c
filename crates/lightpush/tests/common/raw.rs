//! A request-response peer that writes raw bytes on a lightpush protocol and
//! reads the answer until the end of the stream, standing in for js-waku.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::{self, Codec, ProtocolSupport};

/// What the raw peer sends on a new stream.
#[derive(Debug, Clone)]
pub enum RawRequest {
    /// These bytes, then the write side is closed.
    Bytes(Vec<u8>),
    /// Nothing, ever: the stream stays open and silent (the idle streams
    /// js-waku opens ahead of time).
    Idle,
}

/// Writes bytes as given; reads everything until the end of the stream.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = RawRequest;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<RawRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(io::Error::other("raw client serves nothing"))
    }

    /// Returns only at the end of the stream: proof that the responder
    /// closed its write side.
    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut buf = Vec::new();
        io.take(1024 * 1024).read_to_end(&mut buf).await?;
        Ok(buf)
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
        _: &mut T,
        _: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(io::Error::other("raw client serves nothing"))
    }
}

/// The raw peer's behaviour.
pub type Raw = request_response::Behaviour<RawCodec>;

/// A raw peer speaking `protocol`, whose requests may wait up to `timeout`.
pub fn raw(protocol: StreamProtocol, timeout: std::time::Duration) -> Raw {
    Raw::with_codec(
        RawCodec,
        [(protocol, ProtocolSupport::Outbound)],
        request_response::Config::default().with_request_timeout(timeout),
    )
}

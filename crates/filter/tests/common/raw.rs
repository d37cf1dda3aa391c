//! Request-response peers that write and read raw bytes on the filter
//! protocols, standing in for js-waku (or for a misbehaving service).

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::{self, Codec, ProtocolSupport};

/// What the raw peer sends on a new stream.
#[derive(Debug, Clone)]
pub enum RawRequest {
    /// These bytes, then the write side is closed.
    Bytes(Vec<u8>),
    /// Nothing, ever (the idle streams js-waku opens ahead of time).
    Idle,
}

/// Writes bytes as given. With `read_answer`, reads a response until the
/// end of the stream; without, returns at once without reading (as js-waku
/// does for UNSUBSCRIBE). Inbound streams are read to the end.
#[derive(Debug, Clone, Copy)]
pub struct RawCodec {
    /// Whether responses are read.
    pub read_answer: bool,
}

async fn read_all<T: AsyncRead + Unpin + Send>(io: &mut T) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(1024 * 1024).read_to_end(&mut buf).await?;
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

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        if self.read_answer {
            read_all(io).await
        } else {
            Ok(Vec::new())
        }
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
        bytes: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&bytes).await
    }
}

/// A raw peer.
pub type Raw = request_response::Behaviour<RawCodec>;

/// A raw peer with the given protocols.
pub fn raw(
    protocols: impl IntoIterator<Item = (StreamProtocol, ProtocolSupport)>,
    read_answer: bool,
) -> Raw {
    Raw::with_codec(
        RawCodec { read_answer },
        protocols,
        request_response::Config::default()
            .with_request_timeout(std::time::Duration::from_secs(10)),
    )
}

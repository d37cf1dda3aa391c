//! Request-response peers that write and read raw bytes on any protocol,
//! standing in for a foreign peer such as js-waku (or for a misbehaving
//! one): requests and responses are byte strings, written as given.
//!
//! ```
//! use std::time::Duration;
//!
//! use libp2p::StreamProtocol;
//! use libp2p::request_response::ProtocolSupport;
//! use waku_testkit::raw::{RawCodec, raw};
//!
//! // A js-waku-like client on the store protocol that reads answers of up
//! // to 32 MiB and lets its requests wait 60 s.
//! let client = raw(
//!     [(
//!         StreamProtocol::new("/vac/waku/store-query/3.0.0"),
//!         ProtocolSupport::Outbound,
//!     )],
//!     RawCodec {
//!         read_limit: 32 * 1024 * 1024,
//!         ..RawCodec::default()
//!     },
//!     Duration::from_secs(60),
//! );
//! # drop(client);
//! ```

use std::io;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::{self, Codec, ProtocolSupport};

/// What the raw peer sends on a new stream. (Streams left open and
/// silent, as js-waku opens ahead of time, are the conformance runner's
/// input: `waku_conformance::wire::Outbound::Idle`.)
#[derive(Debug, Clone)]
pub enum RawRequest {
    /// These bytes, then the write side is closed.
    Bytes(Vec<u8>),
}

/// Writes bytes as given (flushed). Inbound requests are read until the end
/// of the stream. With `read_answer`, a response is read until the end of
/// the stream too (so it returns only once the responder closed its write
/// side); without, the request completes at once with an empty response and
/// nothing is read (as js-waku does for a filter UNSUBSCRIBE). Reads stop
/// after `read_limit` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCodec {
    /// Whether responses are read.
    pub read_answer: bool,
    /// Most bytes read from one stream (request or response).
    pub read_limit: u64,
}

impl RawCodec {
    /// The read limit of [`RawCodec::default`]: 1 MiB.
    pub const DEFAULT_READ_LIMIT: u64 = 1024 * 1024;
}

impl Default for RawCodec {
    /// Reads answers, up to [`RawCodec::DEFAULT_READ_LIMIT`] bytes.
    fn default() -> Self {
        Self {
            read_answer: true,
            read_limit: Self::DEFAULT_READ_LIMIT,
        }
    }
}

impl RawCodec {
    async fn read_all<T: AsyncRead + Unpin + Send>(&self, io: &mut T) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        io.take(self.read_limit).read_to_end(&mut buf).await?;
        Ok(buf)
    }
}

impl Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = RawRequest;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<RawRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(RawRequest::Bytes(self.read_all(io).await?))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        if self.read_answer {
            self.read_all(io).await
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
        let RawRequest::Bytes(bytes) = request;
        io.write_all(&bytes).await?;
        io.flush().await
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

/// A raw peer's behaviour.
pub type Raw = request_response::Behaviour<RawCodec>;

/// A raw peer speaking `protocols` (each with its direction), reading as
/// `codec` says, whose own requests may wait up to `request_timeout`.
pub fn raw(
    protocols: impl IntoIterator<Item = (StreamProtocol, ProtocolSupport)>,
    codec: RawCodec,
    request_timeout: Duration,
) -> Raw {
    Raw::with_codec(
        codec,
        protocols,
        request_response::Config::default().with_request_timeout(request_timeout),
    )
}

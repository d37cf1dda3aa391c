//! The fake node's codec: reads one length-prefixed request (reporting an
//! oversize prefix or an empty stream instead of failing, so the service
//! can answer them), writes answers and pushes verbatim (the fake frames
//! them itself, or not, as its defects say).

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;

/// Largest request body the fake reads.
pub const MAX_REQUEST: usize = 1024 * 1024;

/// A request as read.
#[derive(Debug, Clone)]
pub enum Request {
    /// The stream ended before a byte was sent.
    Empty,
    /// A whole frame's body.
    Frame(Vec<u8>),
    /// A length prefix above [`MAX_REQUEST`] (the body left unread).
    TooLarge(usize),
    /// Bytes written by the fake itself (a push, its own metadata
    /// request), never read.
    Push(Vec<u8>),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct FakeCodec;

impl Codec for FakeCodec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut prefix = Vec::new();
        loop {
            let mut byte = [0u8; 1];
            if io.read(&mut byte).await? == 0 {
                if prefix.is_empty() {
                    return Ok(Request::Empty);
                }
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            prefix.push(byte[0]);
            if byte[0] & 0x80 == 0 || prefix.len() == 10 {
                break;
            }
        }
        let (len, _) = unsigned_varint::decode::usize(&prefix)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if len > MAX_REQUEST {
            return Ok(Request::TooLarge(len));
        }
        let mut body = vec![0u8; len];
        io.read_exact(&mut body).await?;
        Ok(Request::Frame(body))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut out = Vec::new();
        io.take(1024).read_to_end(&mut out).await?;
        Ok(out)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Request,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        if let Request::Push(bytes) = request {
            io.write_all(&bytes).await?;
        }
        io.flush().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        body: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&body).await?;
        io.flush().await
    }
}

//! The framing every Waku request/response protocol uses: one protobuf
//! message preceded by its length as an unsigned varint.
//!
//! The async functions work on any `futures` stream (libp2p substreams
//! implement these traits), so a protocol crate can use them from a libp2p
//! `request_response::Codec` or on a raw stream. The frame size limit is
//! checked before anything is allocated.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use prost::Message;

/// Longest unsigned varint accepted as a length prefix (enough for a `u64`).
const MAX_VARINT_LEN: usize = 10;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The stream ended before the first byte of a frame: the peer sent nothing.
    #[error("stream closed before a frame started")]
    Closed,
    /// The stream ended inside the length prefix or the body.
    #[error("truncated frame: expected {expected} bytes, got {got}")]
    Truncated {
        /// Bytes the prefix announced (or the prefix itself, when cut there).
        expected: usize,
        /// Bytes that arrived.
        got: usize,
    },
    /// The length prefix is not a valid unsigned varint.
    #[error("malformed length prefix")]
    BadLength,
    /// The frame is longer than the limit.
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Announced (or, when writing, encoded) frame size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The body is not the expected protobuf message.
    #[error("undecodable frame: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<CodecError> for std::io::Error {
    fn from(e: CodecError) -> Self {
        match e {
            CodecError::Io(io) => io,
            CodecError::Closed | CodecError::Truncated { .. } => {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, e)
            }
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
        }
    }
}

/// Encodes `message` as a frame: varint length, then the protobuf bytes.
pub fn encode_frame<M: Message>(message: &M) -> Vec<u8> {
    message.encode_length_delimited_to_vec()
}

/// Decodes one frame from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a frame, and otherwise
/// the message and the number of bytes the frame took.
pub fn decode_frame<M: Message + Default>(
    buf: &[u8],
    max_size: usize,
) -> Result<Option<(M, usize)>, CodecError> {
    let (len, rest) = match unsigned_varint::decode::usize(buf) {
        Ok(v) => v,
        Err(unsigned_varint::decode::Error::Insufficient) => return Ok(None),
        Err(_) => return Err(CodecError::BadLength),
    };
    if len > max_size {
        return Err(CodecError::TooLarge {
            size: len,
            max: max_size,
        });
    }
    let prefix_len = buf.len() - rest.len();
    let Some(body) = rest.get(..len) else {
        return Ok(None);
    };
    Ok(Some((M::decode(body)?, prefix_len + len)))
}

/// Reads one length prefix; `None` when the stream ends before its first byte.
async fn read_length<R: AsyncRead + Unpin>(io: &mut R) -> Result<Option<usize>, CodecError> {
    let mut prefix = [0u8; MAX_VARINT_LEN];
    for i in 0..MAX_VARINT_LEN {
        let mut byte = [0u8; 1];
        if io.read(&mut byte).await? == 0 {
            if i == 0 {
                return Ok(None);
            }
            return Err(CodecError::Truncated {
                expected: i + 1,
                got: i,
            });
        }
        prefix[i] = byte[0];
        if byte[0] & 0x80 == 0 {
            return unsigned_varint::decode::usize(&prefix[..=i])
                .map(|(len, _)| Some(len))
                .map_err(|_| CodecError::BadLength);
        }
    }
    Err(CodecError::BadLength)
}

/// Reads one frame of at most `max_size` body bytes and decodes it.
pub async fn read_frame<M, R>(io: &mut R, max_size: usize) -> Result<M, CodecError>
where
    M: Message + Default,
    R: AsyncRead + Unpin,
{
    let len = read_length(io).await?.ok_or(CodecError::Closed)?;
    if len > max_size {
        return Err(CodecError::TooLarge {
            size: len,
            max: max_size,
        });
    }
    let mut body = vec![0u8; len];
    let mut got = 0;
    while got < len {
        let n = io.read(&mut body[got..]).await?;
        if n == 0 {
            return Err(CodecError::Truncated { expected: len, got });
        }
        got += n;
    }
    Ok(M::decode(body.as_slice())?)
}

/// Reads one request frame for a service that answers bad requests.
///
/// The outer error is a stream that ended before or inside the frame, or
/// failed: there is no request to answer. The inner error is a whole frame
/// that did not decode ([`CodecError::Decode`]) or a length prefix above
/// `max_size` ([`CodecError::TooLarge`], the body left unread): the service
/// answers those with its protocol's error status.
pub async fn read_request_frame<M, R>(
    io: &mut R,
    max_size: usize,
) -> std::io::Result<Result<M, CodecError>>
where
    M: Message + Default,
    R: AsyncRead + Unpin,
{
    match read_frame(io, max_size).await {
        Ok(message) => Ok(Ok(message)),
        Err(e @ (CodecError::Decode(_) | CodecError::TooLarge { .. })) => Ok(Err(e)),
        Err(other) => Err(other.into()),
    }
}

/// Encodes `message` as one frame and writes it, refusing bodies over `max_size`.
///
/// The stream is flushed but not closed: a responder closes its write side
/// after the response (see [`write_frame_and_close`]).
pub async fn write_frame<M, W>(io: &mut W, message: &M, max_size: usize) -> Result<(), CodecError>
where
    M: Message,
    W: AsyncWrite + Unpin,
{
    let size = message.encoded_len();
    if size > max_size {
        return Err(CodecError::TooLarge {
            size,
            max: max_size,
        });
    }
    io.write_all(&encode_frame(message)).await?;
    io.flush().await?;
    Ok(())
}

/// Writes one frame and closes the write side, as a responder must (js-waku
/// reads a response until the end of the stream).
pub async fn write_frame_and_close<M, W>(
    io: &mut W,
    message: &M,
    max_size: usize,
) -> Result<(), CodecError>
where
    M: Message,
    W: AsyncWrite + Unpin,
{
    write_frame(io, message, max_size).await?;
    io.close().await?;
    Ok(())
}

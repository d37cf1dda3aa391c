//! Raw frames on request/response streams: the runner writes exactly the
//! bytes a check gives (well-formed or hostile) and reads back one
//! length-prefixed frame, then looks at how the stream ends.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use tokio::sync::Notify;

/// The largest frame the runner reads (a full store page is about 15 MiB at
/// most; nothing the checks ask for comes near).
pub const MAX_READ: usize = 32 * 1024 * 1024;

/// How long the runner waits, after an answer, for the stream to end.
pub const END_WAIT: Duration = Duration::from_millis(1500);

/// How a stream went on after the answer frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The peer closed its write side right after the frame.
    Closed,
    /// More bytes followed the frame.
    ExtraBytes,
    /// The stream stayed open and silent for [`END_WAIT`].
    LeftOpen,
    /// The stream was reset or failed after the frame.
    Reset,
}

/// What came back on a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// One frame (its body, without the length prefix), then `end`.
    Frame {
        /// The frame body.
        body: Vec<u8>,
        /// What followed the frame.
        end: StreamEnd,
    },
    /// The peer closed the stream without writing a byte.
    Closed,
    /// The peer wrote something that is not a whole frame.
    Malformed(String),
}

impl Answer {
    /// The frame body, if a frame came back.
    pub fn body(&self) -> Option<&[u8]> {
        match self {
            Answer::Frame { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// A frame received on a stream the target opened (a filter push, a
/// metadata request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound(pub Vec<u8>);

/// The request/response codec of the runner: outbound requests are bytes
/// written verbatim, inbound requests and outbound responses are frames.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

/// What the runner sends: bytes written as given, then the write side is
/// closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// Bytes for a stream the runner opens.
    Bytes(Vec<u8>),
    /// A frame read on a stream the target opened (never written).
    Received(Inbound),
    /// Nothing: the stream stays open and silent until the [`Hold`] is
    /// released, then it is dropped (the streams js-waku opens ahead of
    /// time and may never use). The request then fails with
    /// [`IDLE_RELEASED`].
    Idle(Hold),
    /// Bytes written, the write side closed, and the stream dropped
    /// without reading the answer (js-waku's filter UNSUBSCRIBE). The
    /// request then fails with [`FIRED`].
    Fire(Vec<u8>),
}

/// The error text of an [`Outbound::Idle`] request once released.
pub const IDLE_RELEASED: &str = "idle stream released";

/// The error text of an [`Outbound::Fire`] request once written.
pub const FIRED: &str = "written without reading the answer";

/// Keeps an [`Outbound::Idle`] stream open until [`Hold::release`] is
/// called (never released, it stays open until the request times out).
#[derive(Debug, Clone, Default)]
pub struct Hold(Arc<Notify>);

impl Hold {
    /// Lets the idle stream go: it is dropped.
    pub fn release(&self) {
        self.0.notify_one();
    }
}

impl PartialEq for Hold {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Hold {}

/// Reads a varint length prefix; `Ok(None)` when the stream ends before
/// its first byte.
async fn read_prefix<T: AsyncRead + Unpin>(
    io: &mut T,
) -> io::Result<Option<Result<usize, String>>> {
    let mut prefix = Vec::with_capacity(10);
    loop {
        let mut byte = [0u8; 1];
        if io.read(&mut byte).await? == 0 {
            if prefix.is_empty() {
                return Ok(None);
            }
            return Ok(Some(Err(format!(
                "stream ended inside the length prefix after {} bytes",
                prefix.len()
            ))));
        }
        prefix.push(byte[0]);
        if byte[0] & 0x80 == 0 {
            return Ok(Some(
                unsigned_varint::decode::usize(&prefix)
                    .map(|(len, _)| len)
                    .map_err(|e| format!("bad length prefix: {e}")),
            ));
        }
        if prefix.len() == 10 {
            return Ok(Some(Err("length prefix longer than 10 bytes".into())));
        }
    }
}

/// Reads the body of `len` bytes; `Err` text when the stream ends early.
async fn read_body<T: AsyncRead + Unpin>(
    io: &mut T,
    len: usize,
) -> io::Result<Result<Vec<u8>, String>> {
    let mut body = vec![0u8; len];
    let mut got = 0;
    while got < len {
        let n = io.read(&mut body[got..]).await?;
        if n == 0 {
            return Ok(Err(format!("truncated frame: {got} of {len} bytes")));
        }
        got += n;
    }
    Ok(Ok(body))
}

impl Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Outbound;
    type Response = Answer;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Outbound>
    where
        T: AsyncRead + Unpin + Send,
    {
        let len = match read_prefix(io).await? {
            Some(Ok(len)) if len <= MAX_READ => len,
            Some(Ok(len)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("inbound frame of {len} bytes"),
                ));
            }
            Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            None => return Err(io::ErrorKind::UnexpectedEof.into()),
        };
        let body = read_body(io, len)
            .await?
            .map_err(|e| io::Error::new(io::ErrorKind::UnexpectedEof, e))?;
        Ok(Outbound::Received(Inbound(body)))
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Answer>
    where
        T: AsyncRead + Unpin + Send,
    {
        let len = match read_prefix(io).await? {
            None => return Ok(Answer::Closed),
            Some(Err(e)) => return Ok(Answer::Malformed(e)),
            Some(Ok(len)) if len > MAX_READ => {
                return Ok(Answer::Malformed(format!("announced a {len}-byte frame")));
            }
            Some(Ok(len)) => len,
        };
        let body = match read_body(io, len).await? {
            Ok(body) => body,
            Err(e) => return Ok(Answer::Malformed(e)),
        };
        let mut next = [0u8; 1];
        let end = match tokio::time::timeout(END_WAIT, io.read(&mut next)).await {
            Ok(Ok(0)) => StreamEnd::Closed,
            Ok(Ok(_)) => StreamEnd::ExtraBytes,
            Ok(Err(_)) => StreamEnd::Reset,
            Err(_) => StreamEnd::LeftOpen,
        };
        Ok(Answer::Frame { body, end })
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Outbound,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match request {
            Outbound::Bytes(bytes) => io.write_all(&bytes).await?,
            Outbound::Received(_) => {}
            Outbound::Idle(hold) => {
                io.flush().await?;
                hold.0.notified().await;
                // Failing the write drops the stream unread and unclosed.
                return Err(io::Error::other(IDLE_RELEASED));
            }
            Outbound::Fire(bytes) => {
                io.write_all(&bytes).await?;
                io.close().await?;
                return Err(io::Error::other(FIRED));
            }
        }
        io.flush().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Answer,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        if let Answer::Frame { body, .. } = response {
            let mut prefix = unsigned_varint::encode::usize_buffer();
            io.write_all(unsigned_varint::encode::usize(body.len(), &mut prefix))
                .await?;
            io.write_all(&body).await?;
        }
        io.flush().await
    }
}

/// `body` with its varint length prefix: a well-formed frame.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut prefix = unsigned_varint::encode::usize_buffer();
    let mut out = unsigned_varint::encode::usize(body.len(), &mut prefix).to_vec();
    out.extend_from_slice(body);
    out
}

/// A frame whose body does not decode as any protobuf message: a field
/// tag with wire type 7 (which does not exist).
pub fn undecodable_frame() -> Vec<u8> {
    frame(&[0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f])
}

/// A length prefix announcing 100 bytes followed by only 10, then the end
/// of the stream.
pub fn truncated_frame() -> Vec<u8> {
    let mut out = vec![100u8];
    out.extend_from_slice(&[0x0a; 10]);
    out
}

/// The hostile inputs every request/response suite sends, in the order
/// they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// A whole frame whose body decodes as no protobuf message.
    Undecodable,
    /// A length prefix announcing 64 MiB.
    OversizePrefix,
    /// A frame cut short: 100 bytes announced, 10 sent, then the end.
    Truncated,
    /// A stream closed without a request (an unused stream, as js-waku
    /// opens ahead of time).
    Empty,
}

impl Hostile {
    /// Every hostile input, in the order the suites send them.
    pub const ALL: [Hostile; 4] = [
        Hostile::Undecodable,
        Hostile::OversizePrefix,
        Hostile::Truncated,
        Hostile::Empty,
    ];

    /// The input in a few words, as evidence.
    pub fn describe(self) -> &'static str {
        match self {
            Hostile::Undecodable => "undecodable request frame",
            Hostile::OversizePrefix => "length prefix announcing 64 MiB",
            Hostile::Truncated => "frame cut short (100 bytes announced, 10 sent)",
            Hostile::Empty => "stream closed without a request",
        }
    }

    /// The bytes written on the stream before it is closed.
    pub fn bytes(self) -> Vec<u8> {
        match self {
            Hostile::Undecodable => undecodable_frame(),
            Hostile::OversizePrefix => oversize_prefix(),
            Hostile::Truncated => truncated_frame(),
            Hostile::Empty => Vec::new(),
        }
    }
}

/// A length prefix announcing 64 MiB followed by a few bytes: a peer that
/// allocates what the prefix says, or waits for the rest forever, is
/// exposed.
pub fn oversize_prefix() -> Vec<u8> {
    let mut prefix = unsigned_varint::encode::usize_buffer();
    let mut out = unsigned_varint::encode::usize(64 * 1024 * 1024, &mut prefix).to_vec();
    out.extend_from_slice(&[0x0a, 0x01, 0x78]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hostile_frames_are_what_they_claim() {
        let bad = undecodable_frame();
        let decoded =
            waku_core::codec::decode_frame::<waku_store::proto::StoreQueryRequest>(&bad, 1024);
        assert!(decoded.is_err(), "{decoded:?}");
        let cut = truncated_frame();
        let partial =
            waku_core::codec::decode_frame::<waku_store::proto::StoreQueryRequest>(&cut, 1024);
        assert!(matches!(partial, Ok(None)), "{partial:?}");
        let big = oversize_prefix();
        let (len, _) = unsigned_varint::decode::usize(&big).unwrap_or((0, &[]));
        assert_eq!(len, 64 * 1024 * 1024);
    }
}

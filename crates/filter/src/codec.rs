//! The `request_response` codecs of the two filter protocols.
//!
//! Subscribe: [`SubscribeServiceCodec`] reads requests without failing on
//! bad input (an undecodable request is still answered, with 400) and
//! [`SubscribeClientCodec`] is its counterpart. Push: [`PushSendCodec`]
//! writes an already encoded frame and expects no answer, [`PushRecvCodec`]
//! reads one. None of them closes the stream: the libp2p request-response
//! handler closes the write side after every request and response.

use std::io;

use bytes::Bytes;
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use waku_core::codec::{CodecError, read_frame, read_request_frame, write_frame};

use crate::proto::{FilterSubscribeRequest, FilterSubscribeResponse, MessagePush};

/// `/vac/waku/filter-subscribe/2.0.0-beta1`.
pub const SUBSCRIBE_PROTOCOL: StreamProtocol =
    StreamProtocol::new(waku_core::protocol_id::FILTER_SUBSCRIBE_V2);
/// `/vac/waku/filter-push/2.0.0-beta1`.
pub const PUSH_PROTOCOL: StreamProtocol =
    StreamProtocol::new(waku_core::protocol_id::FILTER_PUSH_V2);

/// Largest subscribe request or response frame: 100 content topics of
/// generous length fit many times over.
pub const MAX_SUBSCRIBE_FRAME: usize = 256 * 1024;

/// Room a push takes besides the message.
pub const PUSH_OVERHEAD: usize = 64 * 1024;

fn unsupported(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, what.to_owned())
}

/// A subscribe request as the service read it.
#[derive(Debug, Clone)]
pub enum InboundSubscribe {
    /// A decoded request.
    Request(FilterSubscribeRequest),
    /// The frame is not a `FilterSubscribeRequest` (or is too long).
    Malformed(String),
}

/// Service side of the subscribe protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubscribeServiceCodec;

impl Codec for SubscribeServiceCodec {
    type Protocol = StreamProtocol;
    type Request = InboundSubscribe;
    type Response = FilterSubscribeResponse;

    async fn read_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InboundSubscribe>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(match read_request_frame(io, MAX_SUBSCRIBE_FRAME).await? {
            Ok(request) => InboundSubscribe::Request(request),
            Err(e) => InboundSubscribe::Malformed(e.to_string()),
        })
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
    ) -> io::Result<Self::Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(unsupported(
            "the filter service sends no subscribe requests",
        ))
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: InboundSubscribe,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(unsupported(
            "the filter service sends no subscribe requests",
        ))
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: FilterSubscribeResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Ok(write_frame(io, &response, MAX_SUBSCRIBE_FRAME).await?)
    }
}

/// Client side of the subscribe protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubscribeClientCodec;

impl Codec for SubscribeClientCodec {
    type Protocol = StreamProtocol;
    type Request = FilterSubscribeRequest;
    type Response = FilterSubscribeResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<Self::Request>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(unsupported(
            "the filter client serves no subscribe requests",
        ))
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Self::Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(read_frame(io, MAX_SUBSCRIBE_FRAME).await?)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: FilterSubscribeRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Ok(write_frame(io, &request, MAX_SUBSCRIBE_FRAME).await?)
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: Self::Response,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(unsupported(
            "the filter client serves no subscribe requests",
        ))
    }
}

/// Sending side of the push protocol: the request is a complete frame
/// (length prefix included), encoded once for all subscribers.
#[derive(Debug, Clone, Copy, Default)]
pub struct PushSendCodec;

impl Codec for PushSendCodec {
    type Protocol = StreamProtocol;
    type Request = Bytes;
    type Response = ();

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<Bytes>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(unsupported("the filter service receives no pushes"))
    }

    /// A push has no answer: done as soon as the frame is written and the
    /// write side closed (dropping a stream whose write side is closed
    /// sends no reset on yamux or mplex, so the frame is not lost).
    async fn read_response<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<()>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(())
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        frame: Bytes,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&frame).await?;
        io.flush().await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, _: &mut T, _: ()) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(unsupported("the filter service receives no pushes"))
    }
}

/// A push as the client read it.
#[derive(Debug, Clone)]
pub enum InboundPush {
    /// A decoded push.
    Push(Box<MessagePush>),
    /// The frame is not a `MessagePush` (or is too long).
    Malformed(String),
}

/// Receiving side of the push protocol.
#[derive(Debug, Clone, Copy)]
pub struct PushRecvCodec {
    /// Largest push frame read.
    pub max_frame: usize,
}

impl Codec for PushRecvCodec {
    type Protocol = StreamProtocol;
    type Request = InboundPush;
    type Response = ();

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<InboundPush>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_frame(io, self.max_frame).await {
            Ok(push) => Ok(InboundPush::Push(Box::new(push))),
            Err(e @ (CodecError::Decode(_) | CodecError::TooLarge { .. })) => {
                Ok(InboundPush::Malformed(e.to_string()))
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<()>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(unsupported("the filter client sends no pushes"))
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: InboundPush,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(unsupported("the filter client sends no pushes"))
    }

    /// Nothing is written back: a push gets no answer.
    async fn write_response<T>(&mut self, _: &StreamProtocol, _: &mut T, _: ()) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Ok(())
    }
}

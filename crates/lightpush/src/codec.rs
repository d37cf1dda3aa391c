//! The `request_response` codecs of both lightpush versions.
//!
//! [`ServiceCodec`] reads what a client sends without failing on bad input
//! (an undecodable or oversized request is still answered, with 400 or 413);
//! [`ClientCodec`] writes a push in the form the negotiated protocol wants.
//! Neither closes the stream: the libp2p request-response handler closes the
//! write side after every request and every response it writes.

use std::io;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use waku_core::WakuMessage;
use waku_core::codec::{CodecError, read_frame, read_request_frame, write_frame};

use crate::proto::{LightPushRequest, LightPushResponse, PushRequest, PushRpc};

/// `/vac/waku/lightpush/3.0.0`.
pub const PROTOCOL_V3: StreamProtocol = StreamProtocol::new(waku_core::protocol_id::LIGHTPUSH_V3);
/// `/vac/waku/lightpush/2.0.0-beta1` (legacy).
pub const PROTOCOL_V2: StreamProtocol = StreamProtocol::new(waku_core::protocol_id::LIGHTPUSH_V2);

/// Room a request takes besides the message: request id, pubsub topic and
/// protobuf overhead.
pub const REQUEST_OVERHEAD: usize = 64 * 1024;

/// Largest response frame read or written: a response is a request id, a
/// code, a description and a count.
pub const MAX_RESPONSE_SIZE: usize = 64 * 1024;

/// Which lightpush protocol a stream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `/vac/waku/lightpush/3.0.0`.
    V3,
    /// `/vac/waku/lightpush/2.0.0-beta1`.
    V2,
}

impl Version {
    /// The protocol id.
    pub fn protocol(self) -> StreamProtocol {
        match self {
            Self::V3 => PROTOCOL_V3,
            Self::V2 => PROTOCOL_V2,
        }
    }

    fn of(protocol: &StreamProtocol) -> Self {
        if protocol.as_ref() == PROTOCOL_V2.as_ref() {
            Self::V2
        } else {
            Self::V3
        }
    }
}

/// What a client sent on one stream, as the service codec read it.
#[derive(Debug, Clone)]
pub enum InboundRequest {
    /// A v3 request.
    V3(LightPushRequest),
    /// A legacy v2 RPC.
    V2(PushRpc),
    /// The frame was not a protobuf of the expected type.
    Malformed {
        /// The protocol of the stream.
        version: Version,
        /// The decoder's complaint.
        reason: String,
    },
    /// The length prefix announced more than the service reads; the body was
    /// not read.
    Oversized {
        /// The protocol of the stream.
        version: Version,
        /// The announced length.
        size: usize,
        /// The limit.
        max: usize,
    },
}

/// The service's answer, in the form of the stream's protocol.
#[derive(Debug, Clone)]
pub enum OutboundResponse {
    /// A v3 response.
    V3(LightPushResponse),
    /// A legacy v2 RPC carrying `response`.
    V2(Box<PushRpc>),
}

/// Service side: reads requests of either version, writes responses.
#[derive(Debug, Clone, Copy)]
pub struct ServiceCodec {
    /// Largest request frame read, in bytes.
    pub max_request_size: usize,
}

fn map_read<T>(
    version: Version,
    read: Result<T, CodecError>,
    wrap: fn(T) -> InboundRequest,
) -> InboundRequest {
    match read {
        Ok(request) => wrap(request),
        Err(CodecError::TooLarge { size, max }) => InboundRequest::Oversized { version, size, max },
        Err(CodecError::Decode(e)) => InboundRequest::Malformed {
            version,
            reason: e.to_string(),
        },
        // `read_request_frame` gives no other inner error.
        Err(other) => InboundRequest::Malformed {
            version,
            reason: other.to_string(),
        },
    }
}

impl Codec for ServiceCodec {
    type Protocol = StreamProtocol;
    type Request = InboundRequest;
    type Response = OutboundResponse;

    async fn read_request<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InboundRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let version = Version::of(protocol);
        match version {
            Version::V3 => Ok(map_read(
                version,
                read_request_frame(io, self.max_request_size).await?,
                InboundRequest::V3,
            )),
            Version::V2 => Ok(map_read(
                version,
                read_request_frame(io, self.max_request_size).await?,
                InboundRequest::V2,
            )),
        }
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
    ) -> io::Result<Self::Response>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the lightpush service sends no requests",
        ))
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: InboundRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the lightpush service sends no requests",
        ))
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: OutboundResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match response {
            OutboundResponse::V3(r) => write_frame(io, &r, MAX_RESPONSE_SIZE).await?,
            OutboundResponse::V2(r) => write_frame(io, &r, MAX_RESPONSE_SIZE).await?,
        }
        Ok(())
    }
}

/// A push as the client hands it to the codec; encoded as v3 or v2
/// depending on what the service accepted.
#[derive(Debug, Clone)]
pub struct OutboundPush {
    /// Our request id.
    pub request_id: String,
    /// The pubsub topic; `None` asks a v3 service to autoshard. A v2 stream
    /// needs one (the write fails without it).
    pub pubsub_topic: Option<String>,
    /// The message.
    pub message: WakuMessage,
}

/// The service's answer as the client read it, from either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundResponse {
    /// The protocol it came on.
    pub version: Version,
    /// The request id the service echoed.
    pub request_id: String,
    /// v3: the status code; v2: `None` (v2 only says success or failure).
    pub status_code: Option<u32>,
    /// Whether the push succeeded.
    pub is_success: bool,
    /// v3 `status_desc` or v2 `info`.
    pub description: Option<String>,
    /// v3 `relay_peer_count`.
    pub relay_peer_count: Option<u32>,
}

/// Client side: writes pushes, reads responses.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCodec;

impl Codec for ClientCodec {
    type Protocol = StreamProtocol;
    type Request = OutboundPush;
    type Response = InboundResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<OutboundPush>
    where
        T: AsyncRead + Unpin + Send,
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the lightpush client serves no requests",
        ))
    }

    async fn read_response<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InboundResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        match Version::of(protocol) {
            Version::V3 => {
                let r: LightPushResponse = read_frame(io, MAX_RESPONSE_SIZE).await?;
                Ok(InboundResponse {
                    version: Version::V3,
                    request_id: r.request_id,
                    status_code: Some(r.status_code),
                    is_success: (200..300).contains(&r.status_code),
                    description: r.status_desc,
                    relay_peer_count: r.relay_peer_count,
                })
            }
            Version::V2 => {
                let r: PushRpc = read_frame(io, MAX_RESPONSE_SIZE).await?;
                let response = r.response.ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "PushRPC without a response")
                })?;
                Ok(InboundResponse {
                    version: Version::V2,
                    request_id: r.request_id,
                    status_code: None,
                    is_success: response.is_success,
                    description: response.info,
                    relay_peer_count: None,
                })
            }
        }
    }

    async fn write_request<T>(
        &mut self,
        protocol: &StreamProtocol,
        io: &mut T,
        push: OutboundPush,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let max = usize::MAX;
        match Version::of(protocol) {
            Version::V3 => {
                let request = LightPushRequest {
                    request_id: push.request_id,
                    pubsub_topic: push.pubsub_topic,
                    message: Some(push.message.into()),
                };
                write_frame(io, &request, max).await?;
            }
            Version::V2 => {
                let pubsub_topic = push.pubsub_topic.ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "the legacy lightpush protocol needs a pubsub topic",
                    )
                })?;
                let rpc = PushRpc {
                    request_id: push.request_id,
                    request: Some(PushRequest {
                        pubsub_topic,
                        message: Some(push.message.into()),
                    }),
                    response: None,
                };
                write_frame(io, &rpc, max).await?;
            }
        }
        Ok(())
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
        _: InboundResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the lightpush client serves no requests",
        ))
    }
}

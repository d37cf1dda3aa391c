//! The `request_response` codecs of `/vac/waku/peer-exchange/2.0.0-alpha1`:
//! one unsigned-varint length-prefixed `PeerExchangeRPC` per direction and
//! stream. Neither closes the stream: the libp2p request-response handler
//! closes the write side after every request and response it writes.

use std::io;

use futures::{AsyncRead, AsyncWrite};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use waku_core::codec::{CodecError, read_frame, read_request_frame, write_frame};

use super::proto::{PeerExchangeQuery, PeerExchangeResponse, PeerExchangeRpc};

/// The protocol id, as a libp2p [`StreamProtocol`].
pub const PROTOCOL: StreamProtocol = StreamProtocol::new(waku_core::protocol_id::PEER_EXCHANGE);

/// Largest request body the service reads: a request is one `uint64`, so
/// 1 KiB leaves room for any encoder and refuses anything absurd.
pub const MAX_REQUEST_SIZE: usize = 1024;

/// Largest response body read or written: 1 MiB, room for more than 3 000
/// ENRs of the 300 bytes EIP-778 allows.
pub const MAX_RESPONSE_SIZE: usize = 1024 * 1024;

/// What a requester sent, as the service codec read it.
#[derive(Debug, Clone)]
pub enum InboundRequest {
    /// A query for `num_peers` peers.
    Query { num_peers: u64 },
    /// A frame that did not decode, was too large, or carried no query.
    Malformed(String),
}

/// Service side: reads requests without failing on bad input (they are
/// answered with 400), writes responses.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceCodec;

fn unsupported<T>(what: &str) -> io::Result<T> {
    Err(io::Error::new(io::ErrorKind::Unsupported, what.to_owned()))
}

impl Codec for ServiceCodec {
    type Protocol = StreamProtocol;
    type Request = InboundRequest;
    type Response = PeerExchangeRpc;

    async fn read_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InboundRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(
            match read_request_frame::<PeerExchangeRpc, _>(io, MAX_REQUEST_SIZE).await? {
                Ok(PeerExchangeRpc {
                    query: Some(query), ..
                }) => InboundRequest::Query {
                    num_peers: query.num_peers,
                },
                Ok(_) => InboundRequest::Malformed("the request carries no query".to_owned()),
                Err(e) => InboundRequest::Malformed(e.to_string()),
            },
        )
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        _: &mut T,
    ) -> io::Result<PeerExchangeRpc>
    where
        T: AsyncRead + Unpin + Send,
    {
        unsupported("the peer-exchange service sends no requests")
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
        unsupported("the peer-exchange service sends no requests")
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: PeerExchangeRpc,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        Ok(write_frame(io, &response, MAX_RESPONSE_SIZE).await?)
    }
}

/// The service's answer as the client read it.
#[derive(Debug, Clone)]
pub enum InboundResponse {
    /// A decoded response.
    Response(PeerExchangeResponse),
    /// A frame that did not decode, was too large, or carried no response.
    Malformed(String),
}

/// Client side: writes queries, reads responses.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCodec;

impl Codec for ClientCodec {
    type Protocol = StreamProtocol;
    type Request = u64;
    type Response = InboundResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<u64>
    where
        T: AsyncRead + Unpin + Send,
    {
        unsupported("the peer-exchange client serves no requests")
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<InboundResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        Ok(
            match read_frame::<PeerExchangeRpc, _>(io, MAX_RESPONSE_SIZE).await {
                Ok(PeerExchangeRpc {
                    response: Some(response),
                    ..
                }) => InboundResponse::Response(response),
                Ok(_) => InboundResponse::Malformed("the answer carries no response".to_owned()),
                Err(e @ (CodecError::Decode(_) | CodecError::TooLarge { .. })) => {
                    InboundResponse::Malformed(e.to_string())
                }
                Err(other) => return Err(other.into()),
            },
        )
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        num_peers: u64,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let rpc = PeerExchangeRpc {
            query: Some(PeerExchangeQuery { num_peers }),
            response: None,
        };
        Ok(write_frame(io, &rpc, MAX_REQUEST_SIZE).await?)
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
        unsupported("the peer-exchange client serves no requests")
    }
}

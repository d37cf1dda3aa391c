//! Events of the store behaviours.

use std::io;

use libp2p::PeerId;
use libp2p::request_response::{OutboundFailure, OutboundRequestId};

use crate::response::{ResponseError, StoreResponse};

/// Why a query of ours got no acceptable response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The response is an error status or is malformed.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// The response echoes another request id.
    #[error("response carries request id {got:?}, we sent {sent:?}")]
    WrongRequestId {
        /// What we sent.
        sent: String,
        /// What came back.
        got: String,
    },
    /// No response in time.
    #[error("timed out")]
    Timeout,
    /// The peer does not speak the protocol.
    #[error("peer does not support the store protocol")]
    UnsupportedProtocol,
    /// The connection closed, or could not be opened, before the response.
    #[error("connection closed")]
    ConnectionClosed,
    /// The stream failed or carried an undecodable or oversized frame.
    #[error("stream error: {0}")]
    Stream(#[source] io::Error),
}

impl From<OutboundFailure> for QueryError {
    fn from(f: OutboundFailure) -> Self {
        match f {
            OutboundFailure::Timeout => Self::Timeout,
            OutboundFailure::UnsupportedProtocols => Self::UnsupportedProtocol,
            OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => {
                Self::ConnectionClosed
            }
            OutboundFailure::Io(e) => Self::Stream(e),
        }
    }
}

/// What the v3 [`Behaviour`](crate::Behaviour) reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A query we sent with [`Behaviour::send_query`](crate::Behaviour::send_query)
    /// finished.
    QueryResult {
        /// The peer asked.
        peer_id: PeerId,
        /// The id `send_query` returned.
        request_id: OutboundRequestId,
        /// The checked response or why there is none.
        result: Result<StoreResponse, QueryError>,
    },
    /// We answered a peer's query.
    Served {
        /// The peer.
        peer_id: PeerId,
        /// The status we answered.
        status_code: u32,
    },
}

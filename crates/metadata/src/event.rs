//! Events of the metadata [`Behaviour`](crate::Behaviour) and why peers are
//! rejected.

use std::io;

use libp2p::PeerId;
use waku_sharding::ClusterId;

use crate::PeerMetadata;

/// How a peer's metadata reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// In the peer's response to our request.
    Response,
    /// In a request the peer sent us (a requester includes its own metadata).
    Request,
}

/// Why a metadata request of ours got no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// No response within [`Config::request_timeout`](crate::Config::request_timeout).
    #[error("timed out")]
    Timeout,
    /// The peer does not support `/vac/waku/metadata/1.0.0`.
    #[error("peer does not support the metadata protocol")]
    UnsupportedProtocol,
    /// The connection closed before the response arrived.
    #[error("connection closed")]
    ConnectionClosed,
    /// The stream failed, or the response was malformed or too large.
    #[error("stream error: {0}")]
    Stream(#[source] io::Error),
}

/// Why a peer was disconnected by cluster enforcement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RejectReason {
    /// The peer runs in another cluster.
    #[error("peer is in cluster {theirs}, we are in cluster {ours}")]
    ClusterMismatch {
        /// Our cluster.
        ours: ClusterId,
        /// The cluster the peer reported (as on the wire).
        theirs: u32,
    },
    /// The peer's metadata carries no cluster id.
    #[error("peer reported no cluster id")]
    NoClusterId,
    /// Our metadata request failed.
    #[error("metadata request failed: {0}")]
    QueryFailed(#[source] QueryError),
}

/// What the metadata behaviour reports to the swarm.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A peer's metadata arrived and is now stored (see
    /// [`Behaviour::peer_metadata`](crate::Behaviour::peer_metadata)).
    Received {
        /// The peer.
        peer_id: PeerId,
        /// What it reported.
        metadata: PeerMetadata,
        /// Whether it came in a response or in the peer's own request.
        origin: Origin,
    },
    /// Cluster enforcement is closing every connection to this peer.
    Rejected {
        /// The peer.
        peer_id: PeerId,
        /// Why.
        reason: RejectReason,
    },
    /// A metadata request failed and the peer is kept: enforcement is off,
    /// or the peer already showed our cluster in a request of its own.
    QueryFailed {
        /// The peer.
        peer_id: PeerId,
        /// Why.
        error: QueryError,
    },
}

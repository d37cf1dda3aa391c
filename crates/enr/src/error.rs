//! The error type of this crate.

use multiaddr::Multiaddr;
use waku_sharding::{MAX_SHARD_INDEX, ShardId};

/// The largest encoded record EIP-778 allows, in bytes.
pub const MAX_ENR_SIZE: usize = 300;

/// Why a record could not be decoded or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnrError {
    /// The text form is not valid unpadded base64url.
    #[error("ENR text is not valid base64url: {0}")]
    Base64(String),
    /// The bytes are not a well-formed EIP-778 record: bad RLP, unsorted or
    /// duplicate keys, an identity scheme other than `v4`, a missing or invalid
    /// `secp256k1` public key, or trailing bytes after the record.
    #[error("ENR is not a well-formed record (bad RLP or structure): {0}")]
    InvalidRecord(String),
    /// The record is well formed but its signature does not verify against its
    /// `secp256k1` public key.
    #[error("ENR signature does not verify")]
    BadSignature,
    /// The encoded record is larger than EIP-778's 300-byte limit.
    #[error("ENR is {size} bytes, over the {MAX_ENR_SIZE}-byte limit of EIP-778")]
    TooLarge {
        /// The size the encoded record has (or would have), in bytes.
        size: usize,
    },
    /// One of the Waku entries (`multiaddrs`, `rs`, `rsv`, `waku2`) holds a
    /// value that does not follow its format.
    #[error("malformed `{field}` entry: {reason}")]
    MalformedField {
        /// The ENR key of the entry.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A multiaddr given to the builder carries the node's own `/p2p/` peer id;
    /// 31/WAKU2-ENR stores multiaddrs without it.
    #[error("multiaddr {addr} carries the node's own peer id; leave /p2p/ out")]
    OwnPeerId {
        /// The offending multiaddr.
        addr: Multiaddr,
    },
    /// A multiaddr given to the builder cannot be stored in a `multiaddrs` entry.
    #[error("multiaddr {addr} cannot be stored: {reason}")]
    InvalidMultiaddr {
        /// The offending multiaddr.
        addr: Multiaddr,
        /// Why it was refused.
        reason: String,
    },
    /// The shard set cannot be written as `rs` nor as `rsv`.
    #[error("shards cannot be encoded: {0}")]
    UnencodableShards(String),
    /// An `rs` or `rsv` entry, read or to be written, names a shard index
    /// above 1023: RELAY-SHARDING clusters have 1024 shards, 0 to 1023.
    #[error(
        "`{field}` entry names shard {shard}, but a cluster has shards 0 to {MAX_SHARD_INDEX} only"
    )]
    ShardOutOfRange {
        /// The ENR key of the entry (`rs` or `rsv`).
        field: &'static str,
        /// The first out-of-range shard index.
        shard: ShardId,
    },
    /// The record is meant for discv5 but has no `waku2` flag set.
    #[error("a record for discv5 needs at least one waku2 capability")]
    NoCapabilities,
    /// Signing the record failed.
    #[error("signing the record failed: {0}")]
    Signing(String),
}

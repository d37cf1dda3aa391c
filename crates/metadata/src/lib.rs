//! # waku-metadata
//!
//! 66/WAKU2-METADATA: the request/response protocol
//! `/vac/waku/metadata/1.0.0` by which Waku nodes tell each other their
//! cluster id and relay shards, and the cluster enforcement 64/WAKU2-NETWORK
//! asks of nodes on The Waku Network.
//!
//! - [`Behaviour`]: a libp2p `NetworkBehaviour` that answers requests with
//!   our metadata, asks every new peer for theirs, stores the answers
//!   ([`Behaviour::peer_metadata`]) and, when enforcing, disconnects peers of
//!   another cluster, without a cluster id, or that cannot answer;
//! - [`Config`] and [`ShardSet`], the shared set of shards we announce,
//!   updated by the node as relay subscribes and unsubscribes;
//! - [`MetadataCodec`]: the length-prefixed protobuf codec, usable with any
//!   `request_response::Behaviour`;
//! - [`proto`]: the wire types.
//!
//! ```no_run
//! use waku_metadata::{Behaviour, Config, ShardSet};
//!
//! let shards = ShardSet::with_shards([0, 4])?;
//! let metadata = Behaviour::new(Config::new(1).with_shards(shards.clone()));
//! // Later, when relay subscribes to shard 5:
//! shards.insert(5)?;
//! # let _ = metadata;
//! # Ok::<(), waku_sharding::PubsubTopicError>(())
//! ```

mod behaviour;
mod codec;
mod config;
mod event;
mod peer;
pub mod proto;

pub use behaviour::Behaviour;
pub use codec::{MAX_FRAME_SIZE, MetadataCodec, PROTOCOL};
pub use config::{Config, ShardSet};
pub use event::{Event, Origin, QueryError, RejectReason};
pub use peer::PeerMetadata;

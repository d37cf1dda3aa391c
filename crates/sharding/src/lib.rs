//! # waku-sharding
//!
//! RELAY-SHARDING for Waku v2: which gossipsub topic (shard) a message travels on.
//!
//! - [`ClusterId`], [`ShardId`] and [`RelayShard`], the static-sharding
//!   pubsub topic `/waku/2/rs/<cluster>/<shard>` (parse and format);
//! - [`autoshard`]: content topic to shard by hashing its application and version;
//! - [`NetworkConfig`]: cluster id and shard count, with [`NetworkConfig::TWN`]
//!   (The Waku Network: cluster 1, 8 shards);
//! - [`ShardMapper`]: the content-topic-to-shard policy, with [`AutoSharding`]
//!   and the explicit [`ShardTable`] for projects running dedicated shards.

mod autoshard;
mod mapper;
mod network;
mod pubsub_topic;

pub use autoshard::{AutoshardError, autoshard, autoshard_index};
pub use mapper::{AutoSharding, MappingError, ShardMapper, ShardTable, ShardTableKey};
pub use network::{NetworkConfig, NetworkConfigError};
pub use pubsub_topic::{
    ClusterId, MAX_SHARD_INDEX, PubsubTopicError, RelayShard, RelayShards, ShardId,
};

#![doc = include_str!("../README.md")]

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

//! Autosharding: a content topic's shard from a hash of its application and
//! version, so publishers and subscribers agree without configuration.

use sha2::{Digest, Sha256};
use waku_core::{ContentTopic, ContentTopicError};

use crate::{ClusterId, RelayShard, ShardId};

/// Why a content topic cannot be autosharded.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutoshardError {
    /// The content topic is malformed.
    #[error(transparent)]
    ContentTopic(#[from] ContentTopicError),
    /// Only generation 0 is defined.
    #[error("content topic {topic:?}: generation {generation} is not supported (only 0)")]
    UnsupportedGeneration {
        /// The topic.
        topic: String,
        /// Its generation.
        generation: u32,
    },
    /// A network needs at least one shard.
    #[error("the number of shards in the network must be at least 1")]
    NoShards,
}

/// The shard index of `topic` in a network of `num_shards` shards:
/// the last 8 bytes of `sha256(application || version)` read as a big-endian
/// `u64`, modulo the shard count.
pub fn autoshard_index(topic: &ContentTopic, num_shards: u16) -> Result<ShardId, AutoshardError> {
    if num_shards == 0 {
        return Err(AutoshardError::NoShards);
    }
    if topic.generation() != 0 {
        return Err(AutoshardError::UnsupportedGeneration {
            topic: topic.to_string(),
            generation: topic.generation(),
        });
    }
    let digest = Sha256::new()
        .chain_update(topic.application().as_bytes())
        .chain_update(topic.version().as_bytes())
        .finalize();
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&digest[24..]);
    let value = u64::from_be_bytes(tail);
    // The remainder is below num_shards, which fits in a u16.
    Ok((value % u64::from(num_shards)) as ShardId)
}

/// Parses `content_topic` and returns its shard in `cluster` of `num_shards` shards.
pub fn autoshard(
    content_topic: &str,
    cluster: ClusterId,
    num_shards: u16,
) -> Result<RelayShard, AutoshardError> {
    let topic: ContentTopic = content_topic.parse()?;
    Ok(RelayShard::new(
        cluster,
        autoshard_index(&topic, num_shards)?,
    ))
}

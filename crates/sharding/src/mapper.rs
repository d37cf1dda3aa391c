//! Content-topic-to-shard policies.
//!
//! The public network autoshards; a project running dedicated shards maps its
//! own topics onto its own shards with an explicit [`ShardTable`].

use std::collections::HashMap;

use waku_core::{ContentTopic, ContentTopicError};

use crate::{AutoshardError, ClusterId, NetworkConfig, RelayShard, ShardId};

/// Why a content topic has no shard under a policy.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MappingError {
    /// Autosharding refused the topic.
    #[error(transparent)]
    Autoshard(#[from] AutoshardError),
    /// The content topic is malformed.
    #[error(transparent)]
    ContentTopic(#[from] ContentTopicError),
    /// The explicit table has no entry for the topic.
    #[error("no shard is configured for content topic {0:?}")]
    NotMapped(String),
}

/// Decides which shard carries a content topic.
pub trait ShardMapper: Send + Sync {
    /// The shard carrying `content_topic`.
    fn shard_for(&self, content_topic: &str) -> Result<RelayShard, MappingError>;
}

/// Autosharding over a network's shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoSharding(pub NetworkConfig);

impl ShardMapper for AutoSharding {
    fn shard_for(&self, content_topic: &str) -> Result<RelayShard, MappingError> {
        Ok(self.0.autoshard(content_topic)?)
    }
}

/// What a [`ShardTable`] entry matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ShardTableKey {
    /// Exactly this content topic (as written).
    ContentTopic(String),
    /// Every content topic of this application.
    Application(String),
}

/// An explicit mapping for dedicated shards: exact content topics first, then
/// applications. Topics matching neither are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardTable {
    cluster: ClusterId,
    entries: HashMap<ShardTableKey, ShardId>,
}

impl ShardTable {
    /// An empty table for `cluster`.
    pub fn new(cluster: ClusterId) -> Self {
        Self {
            cluster,
            entries: HashMap::new(),
        }
    }

    /// Adds (or replaces) an entry and returns the table.
    pub fn with(mut self, key: ShardTableKey, shard: ShardId) -> Self {
        self.entries.insert(key, shard);
        self
    }

    /// Adds (or replaces) an entry.
    pub fn insert(&mut self, key: ShardTableKey, shard: ShardId) {
        self.entries.insert(key, shard);
    }
}

impl ShardMapper for ShardTable {
    fn shard_for(&self, content_topic: &str) -> Result<RelayShard, MappingError> {
        let exact = ShardTableKey::ContentTopic(content_topic.to_owned());
        if let Some(shard) = self.entries.get(&exact) {
            return Ok(RelayShard::new(self.cluster, *shard));
        }
        let parsed: ContentTopic = content_topic.parse()?;
        let app = ShardTableKey::Application(parsed.application().to_owned());
        self.entries
            .get(&app)
            .map(|shard| RelayShard::new(self.cluster, *shard))
            .ok_or_else(|| MappingError::NotMapped(content_topic.to_owned()))
    }
}

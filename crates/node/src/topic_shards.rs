//! Which shard carries a content topic on this node: the operator's
//! `--content-topic-shard` table first (a project's dedicated shards), then
//! autosharding when it is on. Used wherever a request names content topics
//! but no pubsub topic: `/relay/v1/auto`, lightpush, filter, `--content-topic`.

use std::str::FromStr;

use waku_sharding::{
    ClusterId, MAX_SHARD_INDEX, MappingError, NetworkConfig, RelayShard, ShardId, ShardMapper,
    ShardTable, ShardTableKey,
};

/// The node's content-topic-to-shard policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicShards {
    table: Option<ShardTable>,
    auto: Option<NetworkConfig>,
}

/// Why a content topic has no shard here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicShardError {
    /// Autosharding is off and the table does not name the topic.
    #[error("Autosharding is disabled")]
    Disabled,
    /// The topic is malformed, or autosharding refused it.
    #[error("Autosharding error: {0}")]
    Mapping(MappingError),
}

impl TopicShards {
    /// Autosharding over `auto` (none: off), after the entries of `table`.
    pub fn new(auto: Option<NetworkConfig>, table: Option<ShardTable>) -> Self {
        Self { table, auto }
    }

    /// Whether no content topic can be mapped (no table, no autosharding).
    pub fn is_off(&self) -> bool {
        self.table.is_none() && self.auto.is_none()
    }

    /// The shard of `content_topic`.
    pub fn shard(&self, content_topic: &str) -> Result<RelayShard, TopicShardError> {
        if let Some(table) = &self.table {
            match table.shard_for(content_topic) {
                Ok(shard) => return Ok(shard),
                Err(MappingError::NotMapped(_)) => {}
                Err(other) => return Err(TopicShardError::Mapping(other)),
            }
        }
        let auto = self.auto.ok_or(TopicShardError::Disabled)?;
        auto.autoshard(content_topic)
            .map_err(|e| TopicShardError::Mapping(e.into()))
    }
}

impl ShardMapper for TopicShards {
    fn shard_for(&self, content_topic: &str) -> Result<RelayShard, MappingError> {
        self.shard(content_topic).map_err(|e| match e {
            TopicShardError::Disabled => MappingError::NotMapped(content_topic.to_owned()),
            TopicShardError::Mapping(m) => m,
        })
    }
}

/// One `--content-topic-shard` entry: `<content topic>=<shard>` (the topic
/// starts with `/`) or `<application>=<shard>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicShardEntry {
    /// What the entry matches.
    pub key: ShardTableKey,
    /// The shard.
    pub shard: ShardId,
}

impl FromStr for TopicShardEntry {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, shard) = text
            .rsplit_once('=')
            .ok_or_else(|| format!("{text:?} is not <content topic or application>=<shard>"))?;
        let shard: ShardId = shard
            .parse()
            .ok()
            .filter(|s| *s <= MAX_SHARD_INDEX)
            .ok_or_else(|| format!("{shard:?} is not a shard index (0..={MAX_SHARD_INDEX})"))?;
        let key = if key.starts_with('/') {
            key.parse::<waku_core::ContentTopic>()
                .map_err(|e| format!("{key:?}: {e}"))?;
            ShardTableKey::ContentTopic(key.to_owned())
        } else if key.is_empty() || key.contains('/') {
            return Err(format!(
                "{key:?} is neither a content topic nor an application name"
            ));
        } else {
            ShardTableKey::Application(key.to_owned())
        };
        Ok(Self { key, shard })
    }
}

/// The table of `entries` for `cluster` (none without entries).
pub fn table(cluster: ClusterId, entries: &[TopicShardEntry]) -> Option<ShardTable> {
    (!entries.is_empty()).then(|| {
        entries.iter().fold(ShardTable::new(cluster), |table, e| {
            table.with(e.key.clone(), e.shard)
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn entries_name_a_content_topic_or_an_application() {
        let exact: TopicShardEntry = "/myapp/1/chat/proto=3".parse().unwrap();
        assert_eq!(
            exact.key,
            ShardTableKey::ContentTopic("/myapp/1/chat/proto".into())
        );
        assert_eq!(exact.shard, 3);
        let app: TopicShardEntry = "myapp=4".parse().unwrap();
        assert_eq!(app.key, ShardTableKey::Application("myapp".into()));
        for bad in ["myapp", "myapp=1024", "/not-a-topic=1", "=1", "a/b=1"] {
            assert!(bad.parse::<TopicShardEntry>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_table_comes_first_then_autosharding() {
        let entries: Vec<TopicShardEntry> = ["/myapp/1/chat/proto=3", "myapp=4"]
            .iter()
            .map(|e| e.parse().unwrap())
            .collect();
        let shards = TopicShards::new(Some(NetworkConfig::TWN), table(1, &entries));
        assert_eq!(shards.shard("/myapp/1/chat/proto").unwrap().shard, 3);
        assert_eq!(shards.shard("/myapp/1/other/proto").unwrap().shard, 4);
        // Not in the table: autosharding (shard 4 of 8 for this topic).
        assert_eq!(shards.shard("/app/1/chat/proto").unwrap().shard, 4);

        let static_only = TopicShards::new(None, table(42, &entries));
        assert_eq!(
            static_only.shard("/myapp/1/x/proto").unwrap().to_string(),
            "/waku/2/rs/42/4"
        );
        assert_eq!(
            static_only.shard("/app/1/chat/proto").unwrap_err(),
            TopicShardError::Disabled
        );
        assert!(TopicShards::new(None, None).is_off());
        assert!(matches!(
            static_only.shard("junk"),
            Err(TopicShardError::Mapping(_))
        ));
    }
}

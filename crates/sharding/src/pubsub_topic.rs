//! Cluster and shard ids and the static-sharding pubsub topic name.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A cluster: an independent Waku network (cluster 1 is The Waku Network).
pub type ClusterId = u16;

/// A shard index within a cluster.
pub type ShardId = u16;

/// Largest shard index: a cluster has 1024 shards (the ENR `rsv` bit vector
/// holds one bit per shard).
pub const MAX_SHARD_INDEX: ShardId = 1023;

/// The prefix every static-sharding pubsub topic starts with.
const PREFIX: &str = "/waku/2/rs/";

/// One shard of one cluster: the gossipsub topic `/waku/2/rs/<cluster>/<shard>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayShard {
    /// The cluster.
    pub cluster: ClusterId,
    /// The shard within the cluster.
    pub shard: ShardId,
}

/// Why a string is not a static-sharding pubsub topic.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PubsubTopicError {
    /// The topic does not have the form `/waku/2/rs/<cluster>/<shard>`.
    #[error("pubsub topic {0:?} is not of the form /waku/2/rs/<cluster>/<shard>")]
    NotStaticSharding(String),
    /// The shard index is above [`MAX_SHARD_INDEX`].
    #[error("shard {0} is out of range: a cluster has shards 0 to {MAX_SHARD_INDEX}")]
    ShardOutOfRange(u16),
    /// The cluster or shard is not a decimal number from 0 to 65535 written
    /// without sign or leading zeros.
    #[error("pubsub topic {topic:?}: {field} {value:?} is not an integer from 0 to 65535")]
    InvalidNumber {
        /// The rejected topic.
        topic: String,
        /// `cluster` or `shard`.
        field: &'static str,
        /// The field as written.
        value: String,
    },
}

/// Parses a cluster or shard number in canonical decimal form. Leading zeros
/// are refused: gossipsub compares topic strings, so `/waku/2/rs/01/2` is not
/// the topic of shard 2.
fn parse_u16(topic: &str, field: &'static str, value: &str) -> Result<u16, PubsubTopicError> {
    let invalid = || PubsubTopicError::InvalidNumber {
        topic: topic.to_owned(),
        field,
        value: value.to_owned(),
    };
    let canonical = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && !(value.len() > 1 && value.starts_with('0'));
    if !canonical {
        return Err(invalid());
    }
    value.parse().map_err(|_| invalid())
}

impl RelayShard {
    /// The shard `shard` of cluster `cluster`, without range check (for
    /// constants and values already checked; see [`Self::try_new`]).
    pub const fn new(cluster: ClusterId, shard: ShardId) -> Self {
        Self { cluster, shard }
    }

    /// The shard `shard` of cluster `cluster`, refusing indices above
    /// [`MAX_SHARD_INDEX`].
    pub fn try_new(cluster: ClusterId, shard: ShardId) -> Result<Self, PubsubTopicError> {
        if shard > MAX_SHARD_INDEX {
            return Err(PubsubTopicError::ShardOutOfRange(shard));
        }
        Ok(Self { cluster, shard })
    }

    /// The pubsub topic name of this shard.
    pub fn pubsub_topic(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for RelayShard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}/{}", self.cluster, self.shard)
    }
}

impl FromStr for RelayShard {
    type Err = PubsubTopicError;

    fn from_str(topic: &str) -> Result<Self, Self::Err> {
        let not_static = || PubsubTopicError::NotStaticSharding(topic.to_owned());
        let rest = topic.strip_prefix(PREFIX).ok_or_else(not_static)?;
        let (cluster, shard) = rest.split_once('/').ok_or_else(not_static)?;
        if shard.contains('/') {
            return Err(not_static());
        }
        Self::try_new(
            parse_u16(topic, "cluster", cluster)?,
            parse_u16(topic, "shard", shard)?,
        )
    }
}

/// A set of shards of one cluster, as advertised in ENRs and metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelayShards {
    /// The cluster.
    pub cluster: ClusterId,
    /// The shards, sorted and unique.
    pub shards: BTreeSet<ShardId>,
}

impl RelayShards {
    /// The given shards of `cluster`.
    pub fn new(cluster: ClusterId, shards: impl IntoIterator<Item = ShardId>) -> Self {
        Self {
            cluster,
            shards: shards.into_iter().collect(),
        }
    }

    /// Whether `shard` belongs to this set.
    pub fn contains(&self, shard: &RelayShard) -> bool {
        shard.cluster == self.cluster && self.shards.contains(&shard.shard)
    }

    /// The members as [`RelayShard`]s.
    pub fn iter(&self) -> impl Iterator<Item = RelayShard> + '_ {
        self.shards
            .iter()
            .map(|s| RelayShard::new(self.cluster, *s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_membership_checks_the_cluster() {
        let set = RelayShards::new(1, [0, 3, 3]);
        assert_eq!(set.shards.len(), 2);
        assert!(set.contains(&RelayShard::new(1, 3)));
        assert!(!set.contains(&RelayShard::new(2, 3)));
        assert_eq!(
            set.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            ["/waku/2/rs/1/0", "/waku/2/rs/1/3"]
        );
    }
}

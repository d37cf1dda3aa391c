//! The shape of a network: its cluster id and how many shards autosharding
//! spreads content topics over.

use crate::{AutoshardError, ClusterId, RelayShard, ShardId, autoshard};

/// A network's cluster id and shard count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetworkConfig {
    /// The cluster id.
    pub cluster_id: ClusterId,
    /// Number of shards autosharding maps content topics onto (shards `0..num_shards`).
    pub num_shards: u16,
}

/// Why a network configuration is unusable.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkConfigError {
    /// The shard count is outside `1..=1024` (the ENR shard bit vector holds 1024).
    #[error("the number of shards must be from 1 to {max}, got {0}", max = NetworkConfig::MAX_SHARDS)]
    ShardCount(u16),
}

impl NetworkConfig {
    /// The Waku Network: cluster 1, 8 autosharded shards.
    pub const TWN: Self = Self {
        cluster_id: 1,
        num_shards: 8,
    };

    /// Largest shard count a network may have.
    pub const MAX_SHARDS: u16 = 1024;

    /// Shard count of an autosharded network other than The Waku Network
    /// that does not state one: a single shard (RELAY-SHARDING).
    pub const DEFAULT_NUM_SHARDS: u16 = 1;

    /// A checked network configuration.
    pub fn new(cluster_id: ClusterId, num_shards: u16) -> Result<Self, NetworkConfigError> {
        if num_shards == 0 || num_shards > Self::MAX_SHARDS {
            return Err(NetworkConfigError::ShardCount(num_shards));
        }
        Ok(Self {
            cluster_id,
            num_shards,
        })
    }

    /// The autosharded network of `cluster_id`: `num_shards` shards when
    /// given; otherwise The Waku Network's 8 for cluster 1 and
    /// [`Self::DEFAULT_NUM_SHARDS`] for any other cluster.
    pub fn for_cluster(
        cluster_id: ClusterId,
        num_shards: Option<u16>,
    ) -> Result<Self, NetworkConfigError> {
        match num_shards {
            Some(n) => Self::new(cluster_id, n),
            None if cluster_id == Self::TWN.cluster_id => Ok(Self::TWN),
            None => Self::new(cluster_id, Self::DEFAULT_NUM_SHARDS),
        }
    }

    /// Whether `shard` is one of this network's autosharded shards.
    pub fn contains(&self, shard: RelayShard) -> bool {
        shard.cluster == self.cluster_id && shard.shard < self.num_shards
    }

    /// Every shard of the network.
    pub fn shards(&self) -> impl Iterator<Item = RelayShard> + '_ {
        (0..self.num_shards).map(|s: ShardId| RelayShard::new(self.cluster_id, s))
    }

    /// The shard autosharding assigns `content_topic` to.
    pub fn autoshard(&self, content_topic: &str) -> Result<RelayShard, AutoshardError> {
        autoshard(content_topic, self.cluster_id, self.num_shards)
    }
}

//! Which discovered records become dial candidates (33/WAKU2-DISCV5).

use std::collections::BTreeSet;

use waku_enr::WakuEnr;
use waku_sharding::{ClusterId, ShardId};

/// Why a discovered record is not a dial candidate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The record has no `waku2` field with at least one capability set: it
    /// is not a Waku node (e.g. an Ethereum node sharing the DHT).
    #[error("not a Waku node (no waku2 capability)")]
    NotWaku,
    /// The record names no shards, or shards of another cluster.
    #[error("cluster {found:?}, we are on cluster {ours}")]
    OtherCluster {
        /// The record's cluster, if it names one.
        found: Option<ClusterId>,
        /// Our cluster.
        ours: ClusterId,
    },
    /// The record's shards and ours have none in common.
    #[error("no shard in common")]
    NoCommonShard,
    /// The record gives no address we could dial.
    #[error("no dialable address")]
    NoAddress,
}

/// The rule a discovered record must pass: a Waku node of our cluster that
/// relays at least one of the wanted shards and can be dialled.
///
/// A project on dedicated shards keeps only its own shards in
/// [`RecordFilter::with_shards`]; an empty shard set accepts any shard of
/// the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordFilter {
    cluster: ClusterId,
    shards: BTreeSet<ShardId>,
}

impl RecordFilter {
    /// Accepts Waku nodes of `cluster`, whatever their shards.
    pub fn new(cluster: ClusterId) -> Self {
        Self {
            cluster,
            shards: BTreeSet::new(),
        }
    }

    /// Accepts only nodes with at least one of `shards`.
    #[must_use]
    pub fn with_shards(mut self, shards: impl IntoIterator<Item = ShardId>) -> Self {
        self.shards = shards.into_iter().collect();
        self
    }

    /// The cluster records must be on.
    pub fn cluster(&self) -> ClusterId {
        self.cluster
    }

    /// Checks `record`.
    pub fn check(&self, record: &WakuEnr) -> Result<(), Rejection> {
        if !record.is_waku_node() {
            return Err(Rejection::NotWaku);
        }
        let shards = record.shards();
        match &shards {
            Some(s) if s.cluster == self.cluster => {}
            _ => {
                return Err(Rejection::OtherCluster {
                    found: shards.map(|s| s.cluster),
                    ours: self.cluster,
                });
            }
        }
        if let Some(s) = shards
            && !self.shards.is_empty()
            && s.shards.is_disjoint(&self.shards)
        {
            return Err(Rejection::NoCommonShard);
        }
        if record.dial_addresses().is_empty() {
            return Err(Rejection::NoAddress);
        }
        Ok(())
    }
}

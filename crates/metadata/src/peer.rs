//! What a peer told us about itself.

use std::collections::BTreeSet;

use waku_sharding::{ClusterId, MAX_SHARD_INDEX, RelayShards, ShardId};

use crate::proto::{WakuMetadataRequest, WakuMetadataResponse};

/// A peer's metadata as received: its cluster id and relay shards.
///
/// Values are kept as they came on the wire (`uint32`), so a cluster id or
/// shard outside our `u16` ranges is still visible; [`Self::cluster`] and
/// [`Self::relay_shards`] give the checked forms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    /// The cluster id the peer reported, if any.
    pub cluster_id: Option<u32>,
    /// The shards the peer reported, sorted and without duplicates.
    pub shards: BTreeSet<u32>,
}

impl PeerMetadata {
    /// The metadata carried by fields `cluster_id` and `shards`.
    pub fn new(cluster_id: Option<u32>, shards: impl IntoIterator<Item = u32>) -> Self {
        Self {
            cluster_id,
            shards: shards.into_iter().collect(),
        }
    }

    /// The reported cluster, if present and a valid [`ClusterId`].
    pub fn cluster(&self) -> Option<ClusterId> {
        self.cluster_id.and_then(|c| ClusterId::try_from(c).ok())
    }

    /// The reported shards as [`RelayShards`] of the reported cluster,
    /// leaving out indices above [`MAX_SHARD_INDEX`]; `None` without a valid
    /// cluster id.
    pub fn relay_shards(&self) -> Option<RelayShards> {
        let cluster = self.cluster()?;
        Some(RelayShards::new(
            cluster,
            self.shards
                .iter()
                .filter_map(|s| ShardId::try_from(*s).ok())
                .filter(|s| *s <= MAX_SHARD_INDEX),
        ))
    }

    /// Whether the peer reported cluster `cluster` and shard `shard` in it.
    pub fn serves(&self, cluster: ClusterId, shard: ShardId) -> bool {
        self.cluster_id == Some(u32::from(cluster)) && self.shards.contains(&u32::from(shard))
    }
}

/// The shards a received message lists: field 3 (packed, what go-waku
/// writes and nwaku reads first) when it holds any, else field 2 (what
/// js-waku writes).
fn received_shards<'a>(packed: &'a [u32], unpacked: &'a [u32]) -> &'a [u32] {
    if packed.is_empty() { unpacked } else { packed }
}

impl From<&WakuMetadataRequest> for PeerMetadata {
    fn from(request: &WakuMetadataRequest) -> Self {
        Self::new(
            request.cluster_id,
            received_shards(&request.shards_packed, &request.shards)
                .iter()
                .copied(),
        )
    }
}

impl From<&WakuMetadataResponse> for PeerMetadata {
    fn from(response: &WakuMetadataResponse) -> Self {
        Self::new(
            response.cluster_id,
            received_shards(&response.shards_packed, &response.shards)
                .iter()
                .copied(),
        )
    }
}

//! Configuration of the metadata [`Behaviour`](crate::Behaviour) and the
//! shared, updatable set of shards it announces.

use std::collections::BTreeSet;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use waku_sharding::{ClusterId, MAX_SHARD_INDEX, PubsubTopicError, ShardId};

/// The relay shards our node announces, shared between the metadata
/// behaviour and whoever manages relay subscriptions.
///
/// Clones share the same set: the node keeps one clone and updates it when
/// relay subscribes to or unsubscribes from a shard; every metadata request
/// and response sent afterwards carries the new set. A node that does not run
/// relay leaves it empty (66/WAKU2-METADATA: no shard information without
/// relay).
#[derive(Debug, Clone, Default)]
pub struct ShardSet(Arc<RwLock<BTreeSet<ShardId>>>);

/// Refuses shard indices above [`MAX_SHARD_INDEX`].
fn check(shard: ShardId) -> Result<ShardId, PubsubTopicError> {
    if shard > MAX_SHARD_INDEX {
        return Err(PubsubTopicError::ShardOutOfRange(shard));
    }
    Ok(shard)
}

impl ShardSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding `shards`, refusing indices above [`MAX_SHARD_INDEX`].
    pub fn with_shards(
        shards: impl IntoIterator<Item = ShardId>,
    ) -> Result<Self, PubsubTopicError> {
        let set = Self::new();
        set.replace(shards)?;
        Ok(set)
    }

    fn read(&self) -> RwLockReadGuard<'_, BTreeSet<ShardId>> {
        // The set stays consistent even if a writer panicked: every update
        // is a single `BTreeSet` operation.
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeSet<ShardId>> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `shard`; returns whether it was new. Indices above
    /// [`MAX_SHARD_INDEX`] are refused.
    pub fn insert(&self, shard: ShardId) -> Result<bool, PubsubTopicError> {
        let shard = check(shard)?;
        Ok(self.write().insert(shard))
    }

    /// Removes `shard`; returns whether it was present.
    pub fn remove(&self, shard: ShardId) -> bool {
        self.write().remove(&shard)
    }

    /// Replaces the whole set at once. Nothing changes if an index is above
    /// [`MAX_SHARD_INDEX`].
    pub fn replace(
        &self,
        shards: impl IntoIterator<Item = ShardId>,
    ) -> Result<(), PubsubTopicError> {
        let new = shards
            .into_iter()
            .map(check)
            .collect::<Result<BTreeSet<_>, _>>()?;
        *self.write() = new;
        Ok(())
    }

    /// Removes every shard.
    pub fn clear(&self) {
        self.write().clear();
    }

    /// Whether `shard` is in the set.
    pub fn contains(&self, shard: ShardId) -> bool {
        self.read().contains(&shard)
    }

    /// Number of shards in the set.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// A copy of the current shards, sorted.
    pub fn snapshot(&self) -> BTreeSet<ShardId> {
        self.read().clone()
    }
}

/// Settings of the metadata [`Behaviour`](crate::Behaviour).
///
/// Build it with [`Config::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The cluster our node runs in; sent in every request and response.
    pub(crate) cluster_id: ClusterId,
    /// The shards we announce (shared with the relay side, see [`ShardSet`]).
    pub(crate) shards: ShardSet,
    /// Disconnect peers whose metadata query fails, that report no cluster
    /// id, or that report another cluster. Defaults to `true`.
    pub(crate) enforce_cluster: bool,
    /// How long a metadata request may take (stream negotiation, request
    /// and response) before it fails; also how long an inbound stream may
    /// stay silent before the server drops it.
    pub(crate) request_timeout: Duration,
    /// How long a peer's metadata is considered fresh. A connected peer
    /// whose metadata is older is asked again; a disconnected peer's
    /// metadata is forgotten once it is older.
    pub(crate) metadata_ttl: Duration,
    /// Upper bound on concurrent metadata streams per connection (inbound
    /// and outbound together).
    pub(crate) max_concurrent_streams: usize,
}

impl Config {
    /// Default [`Config::request_timeout`]: 10 seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default [`Config::metadata_ttl`]: 6 hours, the value 66/WAKU2-METADATA
    /// recommends.
    pub const DEFAULT_METADATA_TTL: Duration = Duration::from_secs(6 * 60 * 60);
    /// Default [`Config::max_concurrent_streams`].
    pub const DEFAULT_MAX_CONCURRENT_STREAMS: usize = 100;

    /// A node of `cluster_id` with no shards, enforcing the cluster.
    pub fn new(cluster_id: ClusterId) -> Self {
        Self {
            cluster_id,
            shards: ShardSet::new(),
            enforce_cluster: true,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            metadata_ttl: Self::DEFAULT_METADATA_TTL,
            max_concurrent_streams: Self::DEFAULT_MAX_CONCURRENT_STREAMS,
        }
    }

    /// The cluster our node runs in.
    pub fn cluster_id(&self) -> ClusterId {
        self.cluster_id
    }

    /// The shards we announce.
    pub fn shards(&self) -> &ShardSet {
        &self.shards
    }

    /// Whether peers of another (or no) cluster are disconnected.
    pub fn enforce_cluster(&self) -> bool {
        self.enforce_cluster
    }

    /// How long a metadata request may take before it fails (also how long
    /// an inbound stream may stay silent).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Upper bound on concurrent metadata streams per connection.
    pub fn max_concurrent_streams(&self) -> usize {
        self.max_concurrent_streams
    }

    /// How long a peer's metadata is considered fresh.
    pub fn metadata_ttl(&self) -> Duration {
        self.metadata_ttl
    }

    /// Announces the shards of `shards` (keep a clone to update them).
    pub fn with_shards(mut self, shards: ShardSet) -> Self {
        self.shards = shards;
        self
    }

    /// Turns cluster enforcement on or off.
    pub fn with_enforce_cluster(mut self, enforce: bool) -> Self {
        self.enforce_cluster = enforce;
        self
    }

    /// Sets [`Config::request_timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`Config::metadata_ttl`].
    pub fn with_metadata_ttl(mut self, ttl: Duration) -> Self {
        self.metadata_ttl = ttl;
        self
    }

    /// Sets [`Config::max_concurrent_streams`].
    pub fn with_max_concurrent_streams(mut self, streams: usize) -> Self {
        self.max_concurrent_streams = streams;
        self
    }
}

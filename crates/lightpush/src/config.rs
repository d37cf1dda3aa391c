//! Settings of the lightpush [`Service`](crate::service::Behaviour) and
//! [`Client`](crate::client::Behaviour).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use waku_core::MessageValidator;
use waku_sharding::ShardMapper;

use crate::{RateLimit, ServedTopics};

/// Settings of the lightpush [`Service`](crate::service::Behaviour).
///
/// Build it with [`ServiceConfig::default`] and the `with_*` methods.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// Size (`max_message_size`, 150 KiB by default) and timestamp
    /// (`max_timestamp_skew`, 20 s) checks applied before publishing.
    pub(crate) validator: MessageValidator,
    /// How to find the pubsub topic of a request that names none (v3 allows
    /// leaving it out). `None`: such requests are answered 400.
    pub(crate) shard_mapper: Option<Arc<dyn ShardMapper>>,
    /// Topics the service publishes on (others are answered 421).
    pub(crate) served_topics: ServedTopics,
    /// Per-peer request rate; `None` (the default, as in nwaku) is unlimited.
    pub(crate) rate_limit: RateLimit,
    /// How long a request may take from stream opening to our response,
    /// including the node's publish; past it the stream is dropped.
    pub(crate) request_timeout: Duration,
    /// Requests handed to the node and not answered yet above which new
    /// requests are answered 503.
    pub(crate) max_pending_publishes: usize,
    /// Concurrent lightpush streams per connection.
    pub(crate) max_concurrent_streams: usize,
    /// Also serve the legacy `/vac/waku/lightpush/2.0.0-beta1`.
    pub(crate) serve_legacy: bool,
}

impl ServiceConfig {
    /// Default [`ServiceConfig::request_timeout`].
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default [`ServiceConfig::max_pending_publishes`].
    pub const DEFAULT_MAX_PENDING_PUBLISHES: usize = 1000;
    /// Default [`ServiceConfig::max_concurrent_streams`].
    pub const DEFAULT_MAX_CONCURRENT_STREAMS: usize = 100;

    /// Sets the size, `meta` and timestamp checks applied before publishing.
    pub fn with_validator(mut self, validator: MessageValidator) -> Self {
        self.validator = validator;
        self
    }

    /// Sets [`ServiceConfig::shard_mapper`] (for example
    /// `Arc::new(AutoSharding(NetworkConfig::TWN))`).
    pub fn with_shard_mapper(mut self, mapper: Arc<dyn ShardMapper>) -> Self {
        self.shard_mapper = Some(mapper);
        self
    }

    /// Sets [`ServiceConfig::served_topics`] (keep a clone to update it).
    pub fn with_served_topics(mut self, topics: ServedTopics) -> Self {
        self.served_topics = topics;
        self
    }

    /// Sets [`ServiceConfig::rate_limit`].
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Sets [`ServiceConfig::request_timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ServiceConfig::max_pending_publishes`].
    pub fn with_max_pending_publishes(mut self, max: usize) -> Self {
        self.max_pending_publishes = max;
        self
    }

    /// Sets [`ServiceConfig::max_concurrent_streams`].
    pub fn with_max_concurrent_streams(mut self, max: usize) -> Self {
        self.max_concurrent_streams = max;
        self
    }

    /// Sets [`ServiceConfig::serve_legacy`].
    pub fn with_legacy(mut self, serve: bool) -> Self {
        self.serve_legacy = serve;
        self
    }
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            validator: MessageValidator::default(),
            shard_mapper: None,
            served_topics: ServedTopics::any(),
            rate_limit: RateLimit::UNLIMITED,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_pending_publishes: Self::DEFAULT_MAX_PENDING_PUBLISHES,
            max_concurrent_streams: Self::DEFAULT_MAX_CONCURRENT_STREAMS,
            serve_legacy: true,
        }
    }
}

impl fmt::Debug for ServiceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceConfig")
            .field("validator", &self.validator)
            .field(
                "shard_mapper",
                &self.shard_mapper.as_ref().map(|_| "<mapper>"),
            )
            .field("served_topics", &self.served_topics)
            .field("rate_limit", &self.rate_limit)
            .field("request_timeout", &self.request_timeout)
            .field("max_pending_publishes", &self.max_pending_publishes)
            .field("max_concurrent_streams", &self.max_concurrent_streams)
            .field("serve_legacy", &self.serve_legacy)
            .finish()
    }
}

/// Which protocols the [`Client`](crate::client::Behaviour) offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientProtocols {
    /// v3, falling back to the legacy v2 when the service lacks v3.
    V3ThenLegacy,
    /// v3 only.
    V3Only,
    /// The legacy v2 only.
    LegacyOnly,
}

/// Settings of the lightpush [`Client`](crate::client::Behaviour).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// How long a push may take until the response arrives.
    pub(crate) request_timeout: Duration,
    /// Protocols offered to the service.
    pub(crate) protocols: ClientProtocols,
    /// Concurrent lightpush streams per connection.
    pub(crate) max_concurrent_streams: usize,
}

impl ClientConfig {
    /// Default [`ClientConfig::request_timeout`].
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// Sets [`ClientConfig::request_timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ClientConfig::protocols`].
    pub fn with_protocols(mut self, protocols: ClientProtocols) -> Self {
        self.protocols = protocols;
        self
    }

    /// Sets [`ClientConfig::max_concurrent_streams`].
    pub fn with_max_concurrent_streams(mut self, max: usize) -> Self {
        self.max_concurrent_streams = max;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            protocols: ClientProtocols::V3ThenLegacy,
            max_concurrent_streams: 100,
        }
    }
}

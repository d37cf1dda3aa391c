//! Settings of the filter [`Service`](crate::service::Behaviour) and
//! [`Client`](crate::client::Behaviour).

use std::time::Duration;

use waku_core::DEFAULT_MAX_MESSAGE_SIZE;

use crate::RateLimit;

/// The default per-peer limit on subscribe-protocol requests: nwaku's 30
/// requests per minute. `--rate-limit filter:...` replaces it; like nwaku,
/// the filter service never takes the global `--rate-limit` setting.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::new(30, Duration::from_secs(60));

/// Settings of the filter [`Service`](crate::service::Behaviour); the defaults are
/// nwaku's.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// Most subscribers served at once; a new one beyond is answered 503.
    pub(crate) max_peers: usize,
    /// Most (pubsub topic, content topic) criteria one subscriber may hold;
    /// a subscribe that would exceed it is answered 503.
    pub(crate) max_criteria_per_peer: usize,
    /// Most content topics in one subscribe or unsubscribe (more: 400).
    pub(crate) max_content_topics_per_request: usize,
    /// A subscription not refreshed (subscribe, ping, unsubscribe) for this
    /// long is removed.
    pub(crate) subscription_timeout: Duration,
    /// How long one push may take (stream opening and writing).
    pub(crate) push_timeout: Duration,
    /// A subscriber whose pushes keep failing for this long is removed
    /// (12/WAKU2-FILTER suggests one minute).
    pub(crate) unreachable_timeout: Duration,
    /// Per-peer rate of subscribe-protocol requests (over it: 429); `None`
    /// or a zero volume or period is unlimited. Default:
    /// [`DEFAULT_RATE_LIMIT`], nwaku's 30 per minute.
    pub(crate) rate_limit: RateLimit,
    /// How long a subscribe stream may take before it is dropped; also how
    /// long an idle stream is tolerated.
    pub(crate) request_timeout: Duration,
    /// Concurrent subscribe streams per connection.
    pub(crate) max_concurrent_streams: usize,
    /// Concurrent push streams per connection.
    pub(crate) max_concurrent_pushes: usize,
    /// A message whose deterministic hash was seen by
    /// [`push`](crate::service::Behaviour::push) less than this long ago is
    /// not pushed again (nwaku's message cache); zero pushes every message.
    pub(crate) duplicate_window: Duration,
}

impl ServiceConfig {
    /// nwaku's [`ServiceConfig::max_peers`].
    pub const DEFAULT_MAX_PEERS: usize = 1000;
    /// nwaku's [`ServiceConfig::max_criteria_per_peer`].
    pub const DEFAULT_MAX_CRITERIA_PER_PEER: usize = 1000;
    /// nwaku's [`ServiceConfig::max_content_topics_per_request`].
    pub const DEFAULT_MAX_CONTENT_TOPICS_PER_REQUEST: usize = 100;
    /// nwaku's [`ServiceConfig::subscription_timeout`]: 5 minutes.
    pub const DEFAULT_SUBSCRIPTION_TIMEOUT: Duration = Duration::from_secs(300);
    /// nwaku's [`ServiceConfig::push_timeout`]: 20 seconds.
    pub const DEFAULT_PUSH_TIMEOUT: Duration = Duration::from_secs(20);
    /// Default [`ServiceConfig::unreachable_timeout`]: 1 minute.
    pub const DEFAULT_UNREACHABLE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default [`ServiceConfig::request_timeout`].
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// nwaku's [`ServiceConfig::duplicate_window`] (its message cache TTL):
    /// 2 minutes.
    pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

    /// Most subscribers served at once.
    pub fn max_peers(&self) -> usize {
        self.max_peers
    }

    /// Most (pubsub topic, content topic) criteria one subscriber may hold.
    pub fn max_criteria_per_peer(&self) -> usize {
        self.max_criteria_per_peer
    }

    /// Most content topics in one subscribe or unsubscribe.
    pub fn max_content_topics_per_request(&self) -> usize {
        self.max_content_topics_per_request
    }

    /// How long a subscription lives without being refreshed.
    pub fn subscription_timeout(&self) -> Duration {
        self.subscription_timeout
    }

    /// How long one push may take.
    pub fn push_timeout(&self) -> Duration {
        self.push_timeout
    }

    /// How long pushes to a subscriber may keep failing before it is removed.
    pub fn unreachable_timeout(&self) -> Duration {
        self.unreachable_timeout
    }

    /// The per-peer rate of subscribe-protocol requests.
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    /// How long a pushed message's hash is remembered: the same message
    /// given to [`push`](crate::service::Behaviour::push) again within this
    /// window is not pushed. Zero switches the check off.
    pub fn duplicate_window(&self) -> Duration {
        self.duplicate_window
    }

    /// Sets [`ServiceConfig::max_peers`].
    pub fn with_max_peers(mut self, max: usize) -> Self {
        self.max_peers = max;
        self
    }

    /// Sets [`ServiceConfig::max_criteria_per_peer`].
    pub fn with_max_criteria_per_peer(mut self, max: usize) -> Self {
        self.max_criteria_per_peer = max;
        self
    }

    /// Sets [`ServiceConfig::max_content_topics_per_request`].
    pub fn with_max_content_topics_per_request(mut self, max: usize) -> Self {
        self.max_content_topics_per_request = max;
        self
    }

    /// Sets [`ServiceConfig::subscription_timeout`].
    pub fn with_subscription_timeout(mut self, timeout: Duration) -> Self {
        self.subscription_timeout = timeout;
        self
    }

    /// Sets [`ServiceConfig::push_timeout`].
    pub fn with_push_timeout(mut self, timeout: Duration) -> Self {
        self.push_timeout = timeout;
        self
    }

    /// Sets [`ServiceConfig::unreachable_timeout`].
    pub fn with_unreachable_timeout(mut self, timeout: Duration) -> Self {
        self.unreachable_timeout = timeout;
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

    /// Sets [`ServiceConfig::max_concurrent_streams`].
    pub fn with_max_concurrent_streams(mut self, max: usize) -> Self {
        self.max_concurrent_streams = max;
        self
    }

    /// Sets [`ServiceConfig::max_concurrent_pushes`].
    pub fn with_max_concurrent_pushes(mut self, max: usize) -> Self {
        self.max_concurrent_pushes = max;
        self
    }

    /// Sets [`ServiceConfig::duplicate_window`]; [`Duration::ZERO`] pushes
    /// every message, duplicates included.
    pub fn with_duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            max_peers: Self::DEFAULT_MAX_PEERS,
            max_criteria_per_peer: Self::DEFAULT_MAX_CRITERIA_PER_PEER,
            max_content_topics_per_request: Self::DEFAULT_MAX_CONTENT_TOPICS_PER_REQUEST,
            subscription_timeout: Self::DEFAULT_SUBSCRIPTION_TIMEOUT,
            push_timeout: Self::DEFAULT_PUSH_TIMEOUT,
            unreachable_timeout: Self::DEFAULT_UNREACHABLE_TIMEOUT,
            rate_limit: DEFAULT_RATE_LIMIT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_streams: 100,
            max_concurrent_pushes: 256,
            duplicate_window: Self::DEFAULT_DUPLICATE_WINDOW,
        }
    }
}

/// Settings of the filter [`Client`](crate::client::Behaviour).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// How long a subscribe-protocol request may take; also how long an
    /// inbound push stream may stay silent.
    pub(crate) request_timeout: Duration,
    /// Largest pushed message accepted (serialized `WakuMessage`).
    pub(crate) max_message_size: usize,
    /// Concurrent inbound push streams per connection.
    pub(crate) max_concurrent_pushes: usize,
}

impl ClientConfig {
    /// Sets [`ClientConfig::request_timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ClientConfig::max_message_size`].
    pub fn with_max_message_size(mut self, max: usize) -> Self {
        self.max_message_size = max;
        self
    }

    /// Sets [`ClientConfig::max_concurrent_pushes`].
    pub fn with_max_concurrent_pushes(mut self, max: usize) -> Self {
        self.max_concurrent_pushes = max;
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_concurrent_pushes: 256,
        }
    }
}

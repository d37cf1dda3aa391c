//! Settings of the peer-exchange service.

use std::time::Duration;

use waku_core::RateLimit;

/// Settings of the peer-exchange service [`Behaviour`](super::Behaviour).
///
/// Build it with [`Config::default`] and the `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    pub(crate) cache_size: usize,
    pub(crate) max_peers_per_response: usize,
    pub(crate) record_ttl: Duration,
    pub(crate) rate_limit: RateLimit,
    pub(crate) request_timeout: Duration,
    pub(crate) max_concurrent_streams: usize,
}

impl Config {
    /// Default [`Config::cache_size`]: 1 000 ENRs, well above the 60 the
    /// spec recommends at least.
    pub const DEFAULT_CACHE_SIZE: usize = 1000;
    /// Default [`Config::max_peers_per_response`]: 60, nwaku's cap.
    pub const DEFAULT_MAX_PEERS_PER_RESPONSE: usize = 60;
    /// Largest [`Config::max_peers_per_response`] accepted: the answer
    /// must fit in [`MAX_RESPONSE_SIZE`](crate::peer_exchange::MAX_RESPONSE_SIZE).
    pub const MAX_PEERS_PER_RESPONSE_LIMIT: usize = 3000;
    /// Default [`Config::record_ttl`]: 30 minutes.
    pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(30 * 60);
    /// Default [`Config::request_timeout`]: 10 seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default [`Config::max_concurrent_streams`].
    pub const DEFAULT_MAX_CONCURRENT_STREAMS: usize = 100;

    /// Most ENRs kept; when full, the oldest is dropped for a new one.
    pub fn cache_size(&self) -> usize {
        self.cache_size
    }

    /// Most ENRs in one answer, whatever the requester asks for.
    pub fn max_peers_per_response(&self) -> usize {
        self.max_peers_per_response
    }

    /// How long an ENR stays in the cache after it was last added.
    pub fn record_ttl(&self) -> Duration {
        self.record_ttl
    }

    /// Requests allowed per peer (unlimited by default, as in nwaku).
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    /// How long an inbound stream may take to deliver its request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Most concurrent peer-exchange streams per connection.
    pub fn max_concurrent_streams(&self) -> usize {
        self.max_concurrent_streams
    }

    /// Sets [`Config::cache_size`] (at least 1).
    pub fn with_cache_size(mut self, size: usize) -> Self {
        self.cache_size = size.max(1);
        self
    }

    /// Sets [`Config::max_peers_per_response`], capped at
    /// [`Config::MAX_PEERS_PER_RESPONSE_LIMIT`].
    pub fn with_max_peers_per_response(mut self, max: usize) -> Self {
        self.max_peers_per_response = max.min(Self::MAX_PEERS_PER_RESPONSE_LIMIT);
        self
    }

    /// Sets [`Config::record_ttl`].
    pub fn with_record_ttl(mut self, ttl: Duration) -> Self {
        self.record_ttl = ttl;
        self
    }

    /// Sets [`Config::rate_limit`].
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Sets [`Config::request_timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`Config::max_concurrent_streams`].
    pub fn with_max_concurrent_streams(mut self, streams: usize) -> Self {
        self.max_concurrent_streams = streams;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cache_size: Self::DEFAULT_CACHE_SIZE,
            max_peers_per_response: Self::DEFAULT_MAX_PEERS_PER_RESPONSE,
            record_ttl: Self::DEFAULT_RECORD_TTL,
            rate_limit: RateLimit::UNLIMITED,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_streams: Self::DEFAULT_MAX_CONCURRENT_STREAMS,
        }
    }
}

//! Configuration of the store behaviours.

use std::time::Duration;

use crate::RateLimit;

/// Settings of the v3 [`Behaviour`](crate::Behaviour) and the legacy
/// [`LegacyBehaviour`](crate::LegacyBehaviour).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// How long a request may take, ours or a peer's; inbound streams that
    /// carry no request are dropped after this long.
    pub(crate) request_timeout: Duration,
    /// Most concurrent streams per connection.
    pub(crate) max_concurrent_streams: usize,
    /// Most queries the service answers at once; beyond, it answers 503.
    pub(crate) max_pending_queries: usize,
    /// Limit on the queries the service answers per peer: each requesting
    /// peer has its own token bucket, and a peer beyond its limit is
    /// answered 429. `None` or a zero volume or period is no limit.
    pub(crate) rate_limit: RateLimit,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_concurrent_streams: 100,
            max_pending_queries: 64,
            rate_limit: RateLimit::UNLIMITED,
        }
    }
}

impl Config {
    /// Sets [`Config::request_timeout`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`Config::max_pending_queries`].
    pub fn with_max_pending_queries(mut self, n: usize) -> Self {
        self.max_pending_queries = n;
        self
    }

    /// Limits the queries the service answers per peer: each requesting
    /// peer has its own token bucket, and a peer beyond `limit` is answered
    /// 429. Default: [`RateLimit::UNLIMITED`].
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }
}

//! Configuration of the store behaviours.

use std::time::Duration;

use crate::RateLimit;

/// Settings of the v3 [`Behaviour`](crate::Behaviour) and the legacy
/// [`LegacyBehaviour`](crate::LegacyBehaviour).
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a request may take, ours or a peer's; inbound streams that
    /// carry no request are dropped after this long.
    pub request_timeout: Duration,
    /// Most concurrent streams per connection.
    pub max_concurrent_streams: usize,
    /// Most queries the service answers at once; beyond, it answers 503.
    pub max_pending_queries: usize,
    /// Limit on the queries the service answers per peer: each requesting
    /// peer has its own token bucket, and a peer beyond its limit is
    /// answered 429. `None` or a zero volume or period is no limit.
    pub rate_limit: Option<RateLimit>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_concurrent_streams: 100,
            max_pending_queries: 64,
            rate_limit: None,
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

    /// Sets [`Config::rate_limit`]: at most `volume` queries per `period`
    /// from each peer (zero in either: no limit).
    pub fn with_rate_limit(mut self, volume: u32, period: Duration) -> Self {
        self.rate_limit = Some(RateLimit::new(volume, period));
        self
    }
}

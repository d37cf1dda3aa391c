//! Settings of the peer-exchange client.

use std::time::Duration;

/// Settings of the peer-exchange client [`Behaviour`](super::Behaviour).
///
/// Build it with [`Config::default`] and the `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    pub(crate) request_timeout: Duration,
    pub(crate) max_concurrent_streams: usize,
}

impl Config {
    /// Default [`Config::request_timeout`]: 10 seconds.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default [`Config::max_concurrent_streams`].
    pub const DEFAULT_MAX_CONCURRENT_STREAMS: usize = 100;

    /// How long a request may take (stream negotiation, request and
    /// answer) before it fails.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Most concurrent peer-exchange streams per connection.
    pub fn max_concurrent_streams(&self) -> usize {
        self.max_concurrent_streams
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
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_concurrent_streams: Self::DEFAULT_MAX_CONCURRENT_STREAMS,
        }
    }
}

//! A token bucket limiting how many queries the service answers.

use std::time::{Duration, Instant};

/// At most `requests` queries per `period`, refilled continuously.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Queries allowed per period (also the burst size).
    pub requests: u32,
    /// The period.
    pub period: Duration,
}

/// The bucket state.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: f64::from(limit.requests),
            last: Instant::now(),
        }
    }

    /// Takes a token if one is left.
    pub(crate) fn try_take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let period = self.limit.period.as_secs_f64();
        let cap = f64::from(self.limit.requests);
        if period > 0.0 {
            self.tokens = (self.tokens + elapsed * cap / period).min(cap);
        } else {
            self.tokens = cap;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills() {
        let mut b = TokenBucket::new(RateLimit {
            requests: 2,
            period: Duration::from_millis(100),
        });
        assert!(b.try_take());
        assert!(b.try_take());
        assert!(!b.try_take());
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.try_take());
    }
}

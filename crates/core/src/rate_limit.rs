//! Per-peer request rate limiting, shared by the store, lightpush and
//! filter services: every service takes one [`RateLimit`] (`volume` requests
//! per `period`, parsed from `10/1s`).
//!
//! [`PeerRateLimiter`] keeps one token bucket per peer: a bucket holds at
//! most `volume` tokens, refills continuously at `volume` per `period`, and
//! every request takes one token. A zero volume or period means no limit.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// At most `volume` requests per `period`; a volume or period of zero means
/// no limit (as in nwaku).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per period (and the burst a quiet peer may send).
    pub volume: u32,
    /// The period.
    pub period: Duration,
}

impl RateLimit {
    /// No limit at all.
    pub const UNLIMITED: Self = Self::new(0, Duration::ZERO);

    /// `volume` requests per `period`.
    pub const fn new(volume: u32, period: Duration) -> Self {
        Self { volume, period }
    }

    /// Whether this setting switches limiting off.
    pub fn is_unlimited(&self) -> bool {
        self.volume == 0 || self.period.is_zero()
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unlimited() {
            return f.write_str("no limit");
        }
        write!(f, "{}/{:?}", self.volume, self.period)
    }
}

/// Why a rate limit could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rate limit {0:?}: expected volume/period, e.g. 10/1s (units ms, s, m, h)")]
pub struct RateLimitParseError(pub String);

fn parse_period(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}

/// Reads `volume/period`, the period being a number and one of the units
/// `ms`, `s`, `m`, `h` (`10/1s`, `100/1m`, `20/500ms`); spaces around the
/// parts are allowed.
impl FromStr for RateLimit {
    type Err = RateLimitParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || RateLimitParseError(text.to_owned());
        let (volume, period) = text.split_once('/').ok_or_else(bad)?;
        let volume = volume.trim();
        if volume.is_empty() || !volume.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let volume: u32 = volume.parse().map_err(|_| bad())?;
        let period = parse_period(period.trim()).ok_or_else(bad)?;
        Ok(Self::new(volume, period))
    }
}

/// One peer's token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets keyed by peer (or any other key).
#[derive(Debug, Clone)]
pub struct PeerRateLimiter<K> {
    limit: Option<RateLimit>,
    buckets: HashMap<K, Bucket>,
    calls: u32,
}

/// How many checks pass between two removals of refilled buckets.
const PRUNE_EVERY: u32 = 1024;

impl<K: Hash + Eq + Clone> PeerRateLimiter<K> {
    /// A limiter applying `limit` to every key; an unlimited setting lets
    /// everything through.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit: Some(limit).filter(|l| !l.is_unlimited()),
            buckets: HashMap::new(),
            calls: 0,
        }
    }

    /// The limit in force, if any.
    pub fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Takes one token from `key`'s bucket at time `now`; `false` when the
    /// bucket is empty (the request must be refused).
    pub fn try_acquire(&mut self, key: &K, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        self.calls = self.calls.wrapping_add(1);
        if self.calls.is_multiple_of(PRUNE_EVERY) {
            self.prune(now);
        }
        let capacity = f64::from(limit.volume);
        let rate = capacity / limit.period.as_secs_f64();
        let bucket = self.buckets.entry(key.clone()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets buckets that have refilled completely (they behave exactly
    /// like a new one).
    pub fn prune(&mut self, now: Instant) {
        let Some(limit) = self.limit else {
            self.buckets.clear();
            return;
        };
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.updated) < limit.period);
    }

    /// Number of keys with a bucket.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_volume_per_period() {
        assert_eq!(
            " 100 / 1m ".parse::<RateLimit>(),
            Ok(RateLimit::new(100, Duration::from_secs(60)))
        );
        assert_eq!(
            "20/500ms".parse::<RateLimit>().map(|l| l.period),
            Ok(Duration::from_millis(500))
        );
        assert_eq!(
            "5/2h".parse::<RateLimit>().map(|l| l.period),
            Ok(Duration::from_secs(7200))
        );
        for bad in [
            "", "10", "10/", "/1s", "10/1", "10/1d", "-1/1s", "x/1s", "10/s",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bucket_allows_volume_then_refills() {
        let mut limiter = PeerRateLimiter::new(RateLimit::new(3, Duration::from_secs(3)));
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.try_acquire(&"a", t0)));
        assert!(!limiter.try_acquire(&"a", t0));
        // Another key has its own bucket.
        assert!(limiter.try_acquire(&"b", t0));
        // One token per second comes back.
        assert!(limiter.try_acquire(&"a", t0 + Duration::from_millis(1000)));
        assert!(!limiter.try_acquire(&"a", t0 + Duration::from_millis(1100)));
        limiter.prune(t0 + Duration::from_secs(10));
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn unlimited_lets_everything_through() {
        let mut limiter = PeerRateLimiter::new(RateLimit::new(0, Duration::from_secs(1)));
        let now = Instant::now();
        assert!((0..10_000).all(|_| limiter.try_acquire(&1u8, now)));
        assert_eq!(limiter.tracked(), 0);
        assert_eq!(limiter.limit(), None);
        // A zero period switches limiting off too, and so does no setting.
        let mut zero_period = PeerRateLimiter::new(RateLimit::new(5, Duration::ZERO));
        assert!((0..100).all(|_| zero_period.try_acquire(&1u8, now)));
        let mut none = PeerRateLimiter::new(RateLimit::UNLIMITED);
        assert!((0..100).all(|_| none.try_acquire(&1u8, now)));
        assert_eq!(
            RateLimit::new(0, Duration::from_secs(1)).to_string(),
            "no limit"
        );
    }
}

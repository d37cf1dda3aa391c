//! Per-peer request rate limiting, shared by the store, lightpush and
//! filter services: every service takes one [`RateLimit`] (`volume` requests
//! per `period`, parsed from `10/1s`).
//!
//! [`PeerRateLimiter`] keeps one budget per peer, counted as nwaku counts it
//! (`waku/common/rate_limit/token_bucket.nim`, compensating mode): a peer
//! starts with `volume` requests; the period starts with the first request
//! taken from a full budget; once a whole period has passed, the budget is
//! full again, plus a bonus of at most a quarter of `volume` for a peer
//! that had used up its budget. Budgets do not trickle back during the
//! period: the 31st subscribe of a minute is refused however slowly the 30
//! before it came. A zero volume or period means no limit.

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

/// One peer's budget.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests left in this period.
    budget: u32,
    /// When the period started: the last request taken from a full budget,
    /// or the last refill.
    period_start: Instant,
    /// When a request last came (for pruning).
    last_seen: Instant,
}

impl Bucket {
    fn full(limit: RateLimit, now: Instant) -> Self {
        Self {
            budget: limit.volume,
            period_start: now,
            last_seen: now,
        }
    }

    /// Refills the budget once a whole period has passed since it started;
    /// a peer that used much of its budget over the periods gets up to a
    /// quarter of `volume` on top (nwaku's compensation).
    fn refill(&mut self, limit: RateLimit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.period_start);
        if elapsed < limit.period {
            return;
        }
        let cap = f64::from(limit.volume);
        let periods = elapsed.as_secs_f64() / limit.period.as_secs_f64();
        let left = f64::from(self.budget) / cap / periods;
        let bonus = if left >= 1.0 {
            0.0
        } else {
            ((1.0 - left) * cap).min(cap * 0.25).trunc()
        };
        // Bounded by 1.25 * volume, which fits a u32 volume's range.
        self.budget = limit.volume.saturating_add(bonus as u32);
        self.period_start = now;
    }
}

/// Request budgets keyed by peer (or any other key).
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

    /// Takes one request from `key`'s budget at time `now`; `false` when
    /// the budget is spent for this period (the request must be refused).
    pub fn try_acquire(&mut self, key: &K, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        self.calls = self.calls.wrapping_add(1);
        if self.calls.is_multiple_of(PRUNE_EVERY) {
            self.prune(now);
        }
        let bucket = self
            .buckets
            .entry(key.clone())
            .or_insert_with(|| Bucket::full(limit, now));
        bucket.last_seen = now;
        if bucket.budget >= limit.volume {
            bucket.period_start = now;
        }
        if bucket.budget == 0 {
            bucket.refill(limit, now);
        }
        if bucket.budget > 0 {
            bucket.budget -= 1;
            true
        } else {
            false
        }
    }

    /// Forgets the budgets of keys not seen for a whole period (their
    /// budget would be full again at their next request).
    pub fn prune(&mut self, now: Instant) {
        let Some(limit) = self.limit else {
            self.buckets.clear();
            return;
        };
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.last_seen) < limit.period);
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
    fn budget_allows_volume_then_refills_after_the_period() {
        let mut limiter = PeerRateLimiter::new(RateLimit::new(3, Duration::from_secs(3)));
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.try_acquire(&"a", t0)));
        assert!(!limiter.try_acquire(&"a", t0));
        // Another key has its own budget.
        assert!(limiter.try_acquire(&"b", t0));
        // Nothing trickles back within the period.
        assert!(!limiter.try_acquire(&"a", t0 + Duration::from_millis(2900)));
        // After it, the budget is full again, with a bonus of a quarter of
        // the volume (truncated: 0 here) for the peer that used it up.
        let t1 = t0 + Duration::from_secs(3);
        assert!((0..3).all(|_| limiter.try_acquire(&"a", t1)));
        assert!(!limiter.try_acquire(&"a", t1));
        limiter.prune(t1 + Duration::from_secs(10));
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn slow_requests_do_not_earn_tokens_back_within_the_period() {
        // nwaku's filter default: 30 a minute; the 31st is refused even
        // when the 30 came one per second.
        let mut limiter = PeerRateLimiter::new(RateLimit::new(30, Duration::from_secs(60)));
        let t0 = Instant::now();
        for i in 0..30 {
            assert!(limiter.try_acquire(&"a", t0 + Duration::from_secs(i)));
        }
        assert!(!limiter.try_acquire(&"a", t0 + Duration::from_secs(45)));
        // A peer that used it all gets a quarter more next period.
        let next = t0 + Duration::from_secs(61);
        assert_eq!(
            (0..40).filter(|_| limiter.try_acquire(&"a", next)).count(),
            37
        );
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

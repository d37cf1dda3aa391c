//! Per-peer request rate limiting, shared by the store, lightpush and
//! filter services and configured like nwaku's `--rate-limit`.
//!
//! A setting reads `[protocol:]volume/period`, the period being a number and
//! one of the units `ms`, `s`, `m`, `h` (`lightpush:10/1s`, `filter:100/1m`,
//! `store:20/500ms`; a setting without a protocol is the global default).
//! [`RateLimitSettings`] parses a whole list, as the node's command line
//! gives it, so the node can hand each protocol its [`RateLimit`].
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

/// Why a rate-limit setting could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitParseError {
    /// The text is not `[protocol:]volume/period`.
    #[error(
        "invalid rate-limit setting {0:?}: expected [protocol:]volume/period, e.g. lightpush:10/1s"
    )]
    Syntax(String),
    /// The protocol name is not one nwaku knows.
    #[error("unknown protocol {0:?} in rate-limit setting (known: {known})", known = KNOWN_PROTOCOLS.join(", "))]
    UnknownProtocol(String),
}

/// Protocol names accepted in front of a setting (nwaku's list plus
/// `global`, which is the same as giving none).
pub const KNOWN_PROTOCOLS: [&str; 7] = [
    "global",
    "store",
    "storev2",
    "storev3",
    "lightpush",
    "px",
    "filter",
];

/// One parsed `[protocol:]volume/period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSetting {
    /// The protocol (lower case), `None` for the global default.
    pub protocol: Option<String>,
    /// The limit.
    pub limit: RateLimit,
}

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

impl FromStr for RateLimitSetting {
    type Err = RateLimitParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || RateLimitParseError::Syntax(text.to_owned());
        let lower = text.trim().to_ascii_lowercase();
        let (protocol, rest) = match lower.split_once(':') {
            Some((p, rest)) => (Some(p.trim().to_owned()), rest),
            None => (None, lower.as_str()),
        };
        if let Some(p) = &protocol
            && !KNOWN_PROTOCOLS.contains(&p.as_str())
        {
            return Err(RateLimitParseError::UnknownProtocol(p.clone()));
        }
        let (volume, period) = rest.split_once('/').ok_or_else(syntax)?;
        let volume = volume.trim();
        if volume.is_empty() || !volume.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let volume: u32 = volume.parse().map_err(|_| syntax())?;
        let period = parse_period(period.trim()).ok_or_else(syntax)?;
        Ok(Self {
            protocol: protocol.filter(|p| p != "global"),
            limit: RateLimit::new(volume, period),
        })
    }
}

/// A list of settings such as the node's repeated `--rate-limit` flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitSettings(Vec<RateLimitSetting>);

impl RateLimitSettings {
    /// Parses every setting; the first bad one is the error.
    pub fn parse<I, S>(settings: I) -> Result<Self, RateLimitParseError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        settings
            .into_iter()
            .map(|s| s.as_ref().parse())
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The limit for `protocol`, `None` when nothing applies to it.
    ///
    /// Its own setting wins (the last one given; `store` also covers
    /// `storev2` and `storev3` unless they have their own), then the global
    /// one, except for `filter`, which like nwaku never takes the global
    /// setting (the filter crate then applies its own default, nwaku's 30
    /// per minute). The result may be unlimited (a zero volume or period),
    /// which [`PeerRateLimiter`] treats as "no limit".
    pub fn for_protocol(&self, protocol: &str) -> Option<RateLimit> {
        let own = |name: &str| {
            self.0
                .iter()
                .rev()
                .find(|s| s.protocol.as_deref() == Some(name))
                .map(|s| s.limit)
        };
        let generic_store = if protocol.starts_with("storev") {
            own("store")
        } else {
            None
        };
        let global = || {
            self.0
                .iter()
                .rev()
                .find(|s| s.protocol.is_none())
                .map(|s| s.limit)
        };
        own(protocol).or(generic_store).or_else(
            || {
                if protocol == "filter" { None } else { global() }
            },
        )
    }

    /// The parsed settings, in the order given.
    pub fn settings(&self) -> &[RateLimitSetting] {
        &self.0
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
    /// A limiter applying `limit` to every key; `None` or an unlimited
    /// setting lets everything through.
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit: limit.filter(|l| !l.is_unlimited()),
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
    fn parses_nwaku_forms() {
        let s: RateLimitSetting = "lightpush:10/1s".parse().unwrap();
        assert_eq!(s.protocol.as_deref(), Some("lightpush"));
        assert_eq!(s.limit, RateLimit::new(10, Duration::from_secs(1)));
        let s: RateLimitSetting = " Filter : 100 / 1m ".parse().unwrap();
        assert_eq!(s.protocol.as_deref(), Some("filter"));
        assert_eq!(s.limit, RateLimit::new(100, Duration::from_secs(60)));
        let s: RateLimitSetting = "20/500ms".parse().unwrap();
        assert_eq!(s.protocol, None);
        assert_eq!(s.limit.period, Duration::from_millis(500));
        let s: RateLimitSetting = "global:5/2h".parse().unwrap();
        assert_eq!(s.protocol, None);
        assert_eq!(s.limit.period, Duration::from_secs(7200));
    }

    #[test]
    fn refuses_malformed_settings() {
        for bad in [
            "", "10", "10/", "/1s", "10/1", "10/1d", "-1/1s", "x/1s", "10/s",
        ] {
            assert!(
                matches!(
                    bad.parse::<RateLimitSetting>(),
                    Err(RateLimitParseError::Syntax(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            "relay:1/1s".parse::<RateLimitSetting>(),
            Err(RateLimitParseError::UnknownProtocol("relay".into()))
        );
    }

    #[test]
    fn picks_protocol_then_global() {
        let s = RateLimitSettings::parse(["100/1s", "lightpush:10/1s", "store:3/1m"]).unwrap();
        assert_eq!(
            s.for_protocol("lightpush"),
            Some(RateLimit::new(10, Duration::from_secs(1)))
        );
        assert_eq!(
            s.for_protocol("px"),
            Some(RateLimit::new(100, Duration::from_secs(1)))
        );
        // Filter never falls back to the global setting (nwaku).
        assert_eq!(s.for_protocol("filter"), None);
        assert_eq!(
            s.for_protocol("storev3"),
            Some(RateLimit::new(3, Duration::from_secs(60)))
        );
        let off = RateLimitSettings::parse(["lightpush:0/1s"]).unwrap();
        assert!(off.for_protocol("lightpush").unwrap().is_unlimited());
        assert_eq!(RateLimitSettings::default().for_protocol("px"), None);
    }

    #[test]
    fn bucket_allows_volume_then_refills() {
        let mut limiter = PeerRateLimiter::new(Some(RateLimit::new(3, Duration::from_secs(3))));
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
        let mut limiter = PeerRateLimiter::new(Some(RateLimit::new(0, Duration::from_secs(1))));
        let now = Instant::now();
        assert!((0..10_000).all(|_| limiter.try_acquire(&1u8, now)));
        assert_eq!(limiter.tracked(), 0);
        assert_eq!(limiter.limit(), None);
        // A zero period switches limiting off too, and so does no setting.
        let mut zero_period = PeerRateLimiter::new(Some(RateLimit::new(5, Duration::ZERO)));
        assert!((0..100).all(|_| zero_period.try_acquire(&1u8, now)));
        let mut none = PeerRateLimiter::new(None);
        assert!((0..100).all(|_| none.try_acquire(&1u8, now)));
        assert_eq!(
            RateLimit::new(0, Duration::from_secs(1)).to_string(),
            "no limit"
        );
    }
}

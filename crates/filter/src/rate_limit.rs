//! Per-peer token buckets for the subscribe protocol.
//!
//! The node parses nwaku's `--rate-limit filter:volume/period` setting
//! (waku-lightpush has the parser) and passes the volume and period here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// At most `volume` requests per `period` from one peer; zero in either
/// means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per period (also the burst a quiet peer may send).
    pub volume: u32,
    /// The period.
    pub period: Duration,
}

impl RateLimit {
    /// nwaku's default for filter: 30 requests per minute and peer.
    pub const NWAKU_DEFAULT: Self = Self::new(30, Duration::from_secs(60));

    /// `volume` requests per `period`.
    pub const fn new(volume: u32, period: Duration) -> Self {
        Self { volume, period }
    }

    fn is_unlimited(&self) -> bool {
        self.volume == 0 || self.period.is_zero()
    }
}

/// One bucket per peer: it holds at most `volume` tokens, refills at
/// `volume` per `period`, and each request takes one.
#[derive(Debug, Clone)]
pub(crate) struct PeerRateLimiter {
    limit: Option<RateLimit>,
    buckets: HashMap<PeerId, (f64, Instant)>,
}

impl PeerRateLimiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit: limit.filter(|l| !l.is_unlimited()),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token from `peer`'s bucket; `false` when it is empty.
    pub(crate) fn try_acquire(&mut self, peer: &PeerId, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        let capacity = f64::from(limit.volume);
        let (tokens, updated) = self.buckets.entry(*peer).or_insert((capacity, now));
        let refill = now.saturating_duration_since(*updated).as_secs_f64() * capacity
            / limit.period.as_secs_f64();
        *tokens = (*tokens + refill).min(capacity);
        *updated = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets buckets that are full again.
    pub(crate) fn prune(&mut self, now: Instant) {
        if let Some(limit) = self.limit {
            self.buckets
                .retain(|_, (_, updated)| now.saturating_duration_since(*updated) < limit.period);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_then_refill() {
        let mut l = PeerRateLimiter::new(Some(RateLimit::new(2, Duration::from_secs(2))));
        let (a, b) = (PeerId::random(), PeerId::random());
        let t = Instant::now();
        assert!(l.try_acquire(&a, t) && l.try_acquire(&a, t));
        assert!(!l.try_acquire(&a, t));
        assert!(l.try_acquire(&b, t));
        assert!(l.try_acquire(&a, t + Duration::from_secs(1)));
        l.prune(t + Duration::from_secs(5));
        assert!(l.buckets.is_empty());
        let mut off = PeerRateLimiter::new(Some(RateLimit::new(0, Duration::from_secs(1))));
        assert!((0..100).all(|_| off.try_acquire(&a, t)));
    }
}

//! A per-shard token bucket: the "free bandwidth" rule of 64/WAKU2-NETWORK.
//!
//! Each pubsub topic gets its own bucket of `burst` tokens refilled at
//! `rate` tokens per second; a message costs one token (message rate) or its
//! encoded length (byte rate). A message that finds too few tokens is
//! **ignored**, never rejected: exceeding a shard's capacity is not the
//! forwarding peer's fault, so it must not cost that peer score.
//!
//! With [`RateLimitValidator::exempt_rln_proofs`] (the default of
//! [`RateLimitValidator::free_bandwidth`]) messages carrying a
//! `rate_limit_proof` are always accepted (RLN validation judges them) but
//! still use up tokens, so the bucket measures the shard's whole traffic
//! while only messages without a proof are dropped once it is exhausted.
//!
//! The clock is the validation timestamp (`MessageContext::now`); a clock
//! that goes backwards refills nothing.

use std::collections::HashMap;

use waku_core::Timestamp;

use crate::validation::{MessageContext, ShardValidator, Verdict, reason};

/// The 64/WAKU2-NETWORK free-bandwidth limit: 1 Mbps, in bytes per second.
pub const FREE_BANDWIDTH_BYTES_PER_SEC: f64 = 1_000_000.0 / 8.0;

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    /// One token per message.
    Messages,
    /// One token per byte of encoded message.
    Bytes,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Timestamp,
}

/// Ignores messages beyond a per-shard rate (see the module documentation).
#[derive(Debug, Clone)]
pub struct RateLimitValidator {
    unit: RateUnit,
    rate: f64,
    burst: f64,
    exempt_rln_proofs: bool,
    buckets: HashMap<String, Bucket>,
}

impl RateLimitValidator {
    /// At most `per_second` messages per second on each shard, with bursts
    /// of up to `burst` messages.
    pub fn messages_per_second(per_second: f64, burst: u32) -> Self {
        Self::new(RateUnit::Messages, per_second, f64::from(burst))
    }

    /// At most `per_second` bytes of encoded messages per second on each
    /// shard, with bursts of up to `burst` bytes.
    pub fn bytes_per_second(per_second: f64, burst: u64) -> Self {
        // Precision loss above 2^53 bytes is irrelevant for a burst size.
        #[allow(clippy::cast_precision_loss)]
        let burst = burst as f64;
        Self::new(RateUnit::Bytes, per_second, burst)
    }

    /// 64/WAKU2-NETWORK's free bandwidth: messages without an RLN proof are
    /// ignored while the shard carries 1 Mbps or more (one second of burst).
    pub fn free_bandwidth() -> Self {
        Self::new(
            RateUnit::Bytes,
            FREE_BANDWIDTH_BYTES_PER_SEC,
            FREE_BANDWIDTH_BYTES_PER_SEC,
        )
        .exempt_rln_proofs(true)
    }

    fn new(unit: RateUnit, rate: f64, burst: f64) -> Self {
        Self {
            unit,
            rate: rate.max(0.0),
            burst: burst.max(0.0),
            exempt_rln_proofs: false,
            buckets: HashMap::new(),
        }
    }

    /// Whether messages with a `rate_limit_proof` are exempt (still counted).
    pub fn exempt_rln_proofs(mut self, exempt: bool) -> Self {
        self.exempt_rln_proofs = exempt;
        self
    }

    /// The unit of the limit.
    pub fn unit(&self) -> RateUnit {
        self.unit
    }

    /// Decides for one message of `encoded_len` bytes on `pubsub_topic` at
    /// time `now` (ns), taking its tokens when accepted.
    pub fn check(
        &mut self,
        pubsub_topic: &str,
        encoded_len: usize,
        has_rln_proof: bool,
        now: Timestamp,
    ) -> Verdict {
        #[allow(clippy::cast_precision_loss)]
        let cost = match self.unit {
            RateUnit::Messages => 1.0,
            RateUnit::Bytes => encoded_len as f64,
        };
        if !self.buckets.contains_key(pubsub_topic) {
            self.buckets.insert(
                pubsub_topic.to_owned(),
                Bucket {
                    tokens: self.burst,
                    last: now,
                },
            );
        }
        let Some(bucket) = self.buckets.get_mut(pubsub_topic) else {
            return Verdict::Accept;
        };
        if now > bucket.last {
            #[allow(clippy::cast_precision_loss)]
            let elapsed = (now - bucket.last) as f64 / 1e9;
            bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
            bucket.last = now;
        }
        if self.exempt_rln_proofs && has_rln_proof {
            bucket.tokens = (bucket.tokens - cost).max(0.0);
            return Verdict::Accept;
        }
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            Verdict::Accept
        } else {
            Verdict::Ignore(reason::RATE_LIMITED)
        }
    }
}

impl ShardValidator for RateLimitValidator {
    fn validate(&mut self, ctx: &MessageContext<'_>) -> Verdict {
        self.check(
            ctx.pubsub_topic,
            ctx.encoded_len,
            ctx.message.rate_limit_proof.is_some(),
            ctx.now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Timestamp = 1_000_000_000;

    #[test]
    fn burst_then_refill_per_topic() {
        let mut v = RateLimitValidator::messages_per_second(2.0, 3);
        let t0 = 100 * SEC;
        for _ in 0..3 {
            assert_eq!(v.check("a", 10, false, t0), Verdict::Accept);
        }
        assert_eq!(
            v.check("a", 10, false, t0),
            Verdict::Ignore(reason::RATE_LIMITED)
        );
        // Another shard has its own bucket.
        assert_eq!(v.check("b", 10, false, t0), Verdict::Accept);
        // Half a second refills one token.
        assert_eq!(v.check("a", 10, false, t0 + SEC / 2), Verdict::Accept);
        assert_eq!(
            v.check("a", 10, false, t0 + SEC / 2),
            Verdict::Ignore(reason::RATE_LIMITED)
        );
        // A clock going backwards refills nothing.
        assert_eq!(
            v.check("a", 10, false, t0),
            Verdict::Ignore(reason::RATE_LIMITED)
        );
    }

    #[test]
    fn free_bandwidth_exempts_rln_messages_but_counts_them() {
        let mut v = RateLimitValidator::free_bandwidth();
        let t0 = 100 * SEC;
        // 125 kB of proven traffic uses the whole second.
        assert_eq!(v.check("a", 125_000, true, t0), Verdict::Accept);
        assert_eq!(
            v.check("a", 100, false, t0),
            Verdict::Ignore(reason::RATE_LIMITED)
        );
        assert_eq!(v.check("a", 100, true, t0), Verdict::Accept);
        assert_eq!(v.check("a", 100, false, t0 + SEC / 100), Verdict::Accept);
    }
}

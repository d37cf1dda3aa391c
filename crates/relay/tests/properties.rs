//! Property tests of the shipped validators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use waku_core::WakuMessage;
use waku_relay::{
    ProtectedShardValidator, RateLimitValidator, SigningKey, Verdict, reason,
    sign_for_protected_shard,
};
use waku_sharding::RelayShard;

const NOW: i64 = 1_750_000_000_000_000_000;

fn key(seed: [u8; 32]) -> Option<SigningKey> {
    SigningKey::from_slice(&seed).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever is signed with the shard key verifies; changing any signed
    /// attribute afterwards breaks the signature.
    #[test]
    fn signed_messages_verify_and_tampering_is_caught(
        seed in any::<[u8; 32]>(),
        payload in proptest::collection::vec(any::<u8>(), 0..512),
        content_topic in "/[a-z]{1,8}/[0-9]/[a-z]{1,8}/proto",
        skew in -299_000_000_000i64..299_000_000_000,
        ephemeral in any::<Option<bool>>(),
        shard in 0u16..1024,
        flip in any::<prop::sample::Index>(),
    ) {
        let Some(sk) = key(seed) else { return Ok(()) };
        let shard = RelayShard::new(1, shard);
        let topic = shard.to_string();
        let validator = ProtectedShardValidator::new(shard, *sk.verifying_key());
        let mut m = WakuMessage::new(payload.clone(), content_topic);
        m.timestamp = Some(NOW + skew);
        m.ephemeral = ephemeral;
        sign_for_protected_shard(&sk, &topic, &mut m);
        prop_assert_eq!(m.meta_bytes().len(), 64);
        prop_assert_eq!(validator.check(&topic, &m, NOW), Verdict::Accept);

        let mut tampered = m.clone();
        let mut p = payload;
        if p.is_empty() {
            p.push(0);
        } else {
            let i = flip.index(p.len());
            p[i] ^= 1;
        }
        tampered.payload = p.into();
        prop_assert_eq!(
            validator.check(&topic, &tampered, NOW),
            Verdict::Reject(reason::PROTECTED_BAD_SIGNATURE)
        );
        let mut flipped = m.clone();
        flipped.ephemeral = Some(!m.is_ephemeral());
        prop_assert_eq!(
            validator.check(&topic, &flipped, NOW),
            Verdict::Reject(reason::PROTECTED_BAD_SIGNATURE)
        );
        // Signed for one shard, replayed on another protected shard.
        let other = RelayShard::new(1, (shard.shard + 1) % 1024);
        let other_validator = ProtectedShardValidator::new(other, *sk.verifying_key());
        prop_assert_eq!(
            other_validator.check(&other.to_string(), &m, NOW),
            Verdict::Reject(reason::PROTECTED_BAD_SIGNATURE)
        );
    }

    /// Over any arrival pattern, a token bucket never lets more than
    /// `burst + rate * elapsed` messages through, and never rejects.
    #[test]
    fn rate_limit_never_exceeds_its_budget(
        rate in 1u32..50,
        burst in 1u32..20,
        gaps_ms in proptest::collection::vec(0u64..200, 1..300),
    ) {
        let mut v = RateLimitValidator::messages_per_second(f64::from(rate), burst);
        let mut now = NOW;
        let mut accepted = 0u64;
        for gap in &gaps_ms {
            now += i64::try_from(*gap).unwrap() * 1_000_000;
            match v.check("/waku/2/rs/1/0", 100, false, now) {
                Verdict::Accept => accepted += 1,
                Verdict::Ignore(r) => prop_assert_eq!(r, reason::RATE_LIMITED),
                Verdict::Reject(r) => prop_assert!(false, "rejected: {}", r),
            }
        }
        let elapsed_s = (now - NOW) as f64 / 1e9;
        prop_assert!(accepted as f64 <= f64::from(burst) + f64::from(rate) * elapsed_s + 1e-9);
    }
}

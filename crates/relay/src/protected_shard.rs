//! Protected shards (nwaku's `--protected-shard shard:pubkey`): on such a
//! shard only messages signed by the shard's key are relayed.
//!
//! The rule, as nwaku applies it:
//!
//! - the signed digest is `sha256(pubsub_topic || payload || content_topic ||
//!   timestamp || ephemeral)`, the timestamp as 8 bytes **little-endian**
//!   (unlike the deterministic message hash) and `ephemeral` as one byte
//!   (1 or 0); `meta` is left out because it carries the signature;
//! - `meta` holds the 64-byte compact secp256k1 ECDSA signature `r || s`
//!   (low-s) over that digest, used directly as the 32-byte message;
//! - the timestamp is present and strictly less than 5 minutes from the
//!   node's clock.
//!
//! Anything else on the protected shard is rejected; messages on other topics
//! are accepted by this validator.

use std::time::Duration;

use k256::ecdsa::Signature;
use k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
pub use k256::ecdsa::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use waku_core::{Timestamp, WakuMessage};
use waku_sharding::RelayShard;

use crate::validation::{MessageContext, ShardValidator, Verdict, reason};

/// How far a protected-shard message timestamp may be from the node's clock.
pub const PROTECTED_SHARD_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Why a public key string is unusable.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The string is not hexadecimal.
    #[error("public key is not hex: {0}")]
    Hex(String),
    /// The bytes are not a SEC1-encoded secp256k1 point.
    #[error("not a SEC1 secp256k1 public key (33 or 65 bytes)")]
    NotAPoint,
}

/// Parses a secp256k1 public key written in hex (optionally `0x`-prefixed),
/// compressed (33 bytes) or uncompressed (65 bytes), as nwaku's
/// `--protected-shard` flag takes it.
pub fn parse_public_key_hex(s: &str) -> Result<VerifyingKey, KeyError> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(digits).map_err(|e| KeyError::Hex(e.to_string()))?;
    VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| KeyError::NotAPoint)
}

/// The digest a protected-shard signature covers (see the module
/// documentation).
pub fn protected_shard_digest(pubsub_topic: &str, message: &WakuMessage) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(pubsub_topic.as_bytes());
    hasher.update(&message.payload);
    hasher.update(message.content_topic.as_bytes());
    hasher.update(message.timestamp_or_zero().to_le_bytes());
    hasher.update([u8::from(message.is_ephemeral())]);
    hasher.finalize().into()
}

/// Signs `message` for the protected shard `pubsub_topic`: writes the 64-byte
/// signature into `meta` (replacing what was there). The message timestamp
/// must be set before signing, as it is covered.
pub fn sign_for_protected_shard(key: &SigningKey, pubsub_topic: &str, message: &mut WakuMessage) {
    let digest = protected_shard_digest(pubsub_topic, message);
    // k256 signs with RFC 6979 nonces and normalises s, so this cannot fail
    // for a 32-byte digest; fall back to no signature rather than panic.
    let signature: Option<Signature> = key.sign_prehash(&digest).ok();
    message.meta = signature.map(|s| bytes::Bytes::copy_from_slice(&s.to_bytes()));
}

/// Accepts, on one shard, only messages signed by the shard key and at most
/// [`PROTECTED_SHARD_WINDOW`] away from the node's clock; rejects all others.
/// Messages on other topics are accepted.
#[derive(Debug, Clone)]
pub struct ProtectedShardValidator {
    topic: String,
    key: VerifyingKey,
    window: Duration,
}

impl ProtectedShardValidator {
    /// Protects `shard` with `key`.
    pub fn new(shard: RelayShard, key: VerifyingKey) -> Self {
        Self::for_topic(shard.to_string(), key)
    }

    /// Protects a pubsub topic given as a string (any topic, static shard
    /// or not).
    pub fn for_topic(pubsub_topic: impl Into<String>, key: VerifyingKey) -> Self {
        Self {
            topic: pubsub_topic.into(),
            key,
            window: PROTECTED_SHARD_WINDOW,
        }
    }

    /// The protected pubsub topic.
    pub fn pubsub_topic(&self) -> &str {
        &self.topic
    }

    /// Checks one message on the protected topic against the clock `now`.
    pub fn check(&self, pubsub_topic: &str, message: &WakuMessage, now: Timestamp) -> Verdict {
        if pubsub_topic != self.topic {
            return Verdict::Accept;
        }
        let timestamp = message.timestamp_or_zero();
        if timestamp == 0 {
            return Verdict::Reject(reason::PROTECTED_NO_TIMESTAMP);
        }
        let window = u64::try_from(self.window.as_nanos()).unwrap_or(u64::MAX);
        if timestamp.abs_diff(now) >= window {
            return Verdict::Reject(reason::PROTECTED_STALE);
        }
        let meta = message.meta_bytes();
        if meta.len() != 64 {
            return Verdict::Reject(reason::PROTECTED_NO_SIGNATURE);
        }
        let Ok(signature) = Signature::from_slice(meta) else {
            return Verdict::Reject(reason::PROTECTED_NO_SIGNATURE);
        };
        let digest = protected_shard_digest(pubsub_topic, message);
        match self.key.verify_prehash(&digest, &signature) {
            Ok(()) => Verdict::Accept,
            Err(_) => {
                tracing::debug!(topic = %self.topic, "protected shard: signature does not verify");
                Verdict::Reject(reason::PROTECTED_BAD_SIGNATURE)
            }
        }
    }
}

impl ShardValidator for ProtectedShardValidator {
    fn validate(&mut self, ctx: &MessageContext<'_>) -> Verdict {
        self.check(ctx.pubsub_topic, ctx.message, ctx.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "/waku/2/rs/1/5";
    const NOW: Timestamp = 1_700_000_000_000_000_000;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    fn signed(ts: i64) -> WakuMessage {
        let mut m = WakuMessage::new(&b"hello"[..], "/app/1/chat/proto");
        m.timestamp = Some(ts);
        sign_for_protected_shard(&key(7), TOPIC, &mut m);
        m
    }

    #[test]
    fn digest_uses_little_endian_timestamp_and_ephemeral_byte() {
        let mut m = WakuMessage::new(&b"p"[..], "c");
        m.timestamp = Some(0x0102_0304_0506_0708);
        m.meta = Some(bytes::Bytes::from_static(b"ignored"));
        let mut expected = Sha256::new();
        expected.update(b"tp");
        expected.update(b"c");
        expected.update([8, 7, 6, 5, 4, 3, 2, 1]);
        expected.update([0]);
        let expected: [u8; 32] = expected.finalize().into();
        assert_eq!(protected_shard_digest("t", &m), expected);
        m.ephemeral = Some(true);
        assert_ne!(protected_shard_digest("t", &m), expected);
    }

    #[test]
    fn window_is_five_minutes_exclusive() {
        let v = ProtectedShardValidator::for_topic(TOPIC, *key(7).verifying_key());
        let four_min = 4 * 60 * 1_000_000_000;
        let five_min = 5 * 60 * 1_000_000_000;
        assert_eq!(
            v.check(TOPIC, &signed(NOW - four_min), NOW),
            Verdict::Accept
        );
        assert_eq!(
            v.check(TOPIC, &signed(NOW + four_min), NOW),
            Verdict::Accept
        );
        assert_eq!(
            v.check(TOPIC, &signed(NOW - five_min), NOW),
            Verdict::Reject(reason::PROTECTED_STALE)
        );
        assert_eq!(
            v.check(TOPIC, &signed(0), NOW),
            Verdict::Reject(reason::PROTECTED_NO_TIMESTAMP)
        );
    }

    #[test]
    fn other_topics_pass_and_wrong_signer_fails() {
        let v = ProtectedShardValidator::for_topic(TOPIC, *key(8).verifying_key());
        assert_eq!(
            v.check("/waku/2/rs/1/6", &signed(NOW), NOW),
            Verdict::Accept
        );
        assert_eq!(
            v.check(TOPIC, &signed(NOW), NOW),
            Verdict::Reject(reason::PROTECTED_BAD_SIGNATURE)
        );
    }

    #[test]
    fn public_key_hex_forms() {
        let vk = *key(7).verifying_key();
        let compressed = hex::encode(vk.to_encoded_point(true).as_bytes());
        let uncompressed = hex::encode(vk.to_encoded_point(false).as_bytes());
        assert_eq!(parse_public_key_hex(&compressed), Ok(vk));
        assert_eq!(parse_public_key_hex(&format!("0x{uncompressed}")), Ok(vk));
        assert!(matches!(parse_public_key_hex("zz"), Err(KeyError::Hex(_))));
        assert_eq!(parse_public_key_hex("02ff"), Err(KeyError::NotAPoint));
    }
}

//! The deterministic message hash of 14/WAKU2-MESSAGE.
//!
//! `sha256(pubsub_topic || payload || content_topic || meta || timestamp)`,
//! where the timestamp is 8 bytes, big-endian.
//!
//! **Absent or zero timestamp.** The spec says an absent attribute should be
//! left out of the concatenation, and js-waku does so; nwaku always appends
//! the 8 timestamp bytes (zeros when unset). We follow nwaku, the reference
//! node whose stores hold most messages, so that hash lookups against nwaku
//! stores agree. Messages js-waku sends always carry a non-zero timestamp, so
//! the two rules only differ for messages without a timestamp. An absent
//! `meta` contributes no bytes under both rules.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::WakuMessage;

/// A 32-byte deterministic message hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MessageHash(pub [u8; 32]);

/// Why a string is not a message hash.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a message hash is 64 hex characters, optionally prefixed by 0x: {0}")]
pub struct MessageHashParseError(String);

impl MessageHash {
    /// The hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The hash as 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A hash from a 32-byte slice; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }
}

impl fmt::Display for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for MessageHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageHash({})", self.to_hex())
    }
}

impl FromStr for MessageHash {
    type Err = MessageHashParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix("0x").unwrap_or(s);
        let mut out = [0u8; 32];
        hex::decode_to_slice(digits, &mut out).map_err(|_| MessageHashParseError(s.to_owned()))?;
        Ok(Self(out))
    }
}

/// The deterministic hash of `message` as published on `pubsub_topic`
/// (nwaku's rule for absent timestamps: see the module documentation).
pub fn message_hash(pubsub_topic: &str, message: &WakuMessage) -> MessageHash {
    let timestamp = message.timestamp_or_zero().to_be_bytes();
    let parts: [&[u8]; 5] = [
        pubsub_topic.as_bytes(),
        &message.payload,
        message.content_topic.as_bytes(),
        message.meta_bytes(),
        &timestamp,
    ];
    let len: usize = parts.iter().map(|p| p.len()).sum();
    // Small preimages are gathered and hashed in one call, which is measurably
    // faster than five incremental updates; large ones are streamed.
    if len <= SMALL_PREIMAGE {
        return PREIMAGE.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            for part in parts {
                buf.extend_from_slice(part);
            }
            MessageHash(Sha256::digest(buf.as_slice()).into())
        });
    }
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    MessageHash(hasher.finalize().into())
}

/// Largest preimage gathered into the per-thread buffer and hashed in one call.
const SMALL_PREIMAGE: usize = 4096;

thread_local! {
    /// Reused preimage buffer (no allocation or zeroing per hash).
    static PREIMAGE: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(SMALL_PREIMAGE));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_prefix() {
        let h = MessageHash([0xab; 32]);
        assert_eq!(h.to_hex().len(), 64);
        assert_eq!(h.to_hex().parse::<MessageHash>(), Ok(h));
        assert_eq!(format!("0x{h}").parse::<MessageHash>(), Ok(h));
        assert!("abcd".parse::<MessageHash>().is_err());
        assert!("zz".repeat(32).parse::<MessageHash>().is_err());
    }
}

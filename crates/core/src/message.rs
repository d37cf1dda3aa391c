//! The `WakuMessage` domain type (14/WAKU2-MESSAGE).

use bytes::Bytes;
use prost::Message as _;

use crate::proto::message::v1 as pb;

/// Largest `meta` attribute a message may carry, in bytes (14/WAKU2-MESSAGE).
pub const MAX_META_SIZE: usize = 64;

/// Why bytes or a wire value are not an acceptable `WakuMessage`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// The bytes are not a protobuf `WakuMessage`.
    #[error("undecodable WakuMessage: {0}")]
    Decode(String),
    /// The `meta` attribute is longer than [`MAX_META_SIZE`].
    #[error("invalid length for Meta field: {0} bytes, at most {MAX_META_SIZE} are allowed")]
    MetaTooLong(usize),
}

/// The rate-limiting proof RLN relay attaches to a message
/// (17/WAKU2-RLN-RELAY); carried opaquely by every other protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitProof {
    /// The zkSNARK proof.
    pub proof: Bytes,
    /// Root of the membership Merkle tree the proof was made against.
    pub merkle_root: Bytes,
    /// The epoch the message was sent in.
    pub epoch: Bytes,
    /// Shamir share x.
    pub share_x: Bytes,
    /// Shamir share y.
    pub share_y: Bytes,
    /// The internal nullifier.
    pub nullifier: Bytes,
    /// The RLN application identifier.
    pub rln_identifier: Bytes,
}

/// A Waku message: the unit every Waku protocol carries.
///
/// Optional attributes keep their presence (`Some(0)` and `None` encode
/// differently), so decoding and re-encoding a message yields the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WakuMessage {
    /// The application payload.
    pub payload: Bytes,
    /// The content topic, normally `/{app}/{version}/{name}/{encoding}`; kept
    /// as received: parse it with [`crate::ContentTopic`] where its form matters.
    pub content_topic: String,
    /// Payload version (encryption scheme); absent reads as 0.
    pub version: Option<u32>,
    /// Sender's time in nanoseconds since the Unix epoch; absent reads as 0.
    pub timestamp: Option<i64>,
    /// Application metadata, at most [`MAX_META_SIZE`] bytes.
    pub meta: Option<Bytes>,
    /// RLN rate-limiting proof.
    pub rate_limit_proof: Option<RateLimitProof>,
    /// Whether the message is ephemeral (not to be stored); absent reads as false.
    pub ephemeral: Option<bool>,
}

impl WakuMessage {
    /// A message with a payload, a content topic and nothing else.
    pub fn new(payload: impl Into<Bytes>, content_topic: impl Into<String>) -> Self {
        Self {
            payload: payload.into(),
            content_topic: content_topic.into(),
            ..Self::default()
        }
    }

    /// The timestamp, 0 when absent.
    pub fn timestamp_or_zero(&self) -> i64 {
        self.timestamp.unwrap_or(0)
    }

    /// The payload version, 0 when absent.
    pub fn version_or_zero(&self) -> u32 {
        self.version.unwrap_or(0)
    }

    /// Whether the message is ephemeral (absent reads as false).
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral.unwrap_or(false)
    }

    /// The `meta` bytes, empty when absent.
    pub fn meta_bytes(&self) -> &[u8] {
        self.meta.as_deref().unwrap_or_default()
    }

    /// Decodes a protobuf-encoded message and checks its structural rules.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        let wire =
            pb::WakuMessage::decode(bytes).map_err(|e| MessageError::Decode(e.to_string()))?;
        Self::try_from(wire)
    }

    /// The protobuf encoding of the message.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        pb::WakuMessage::from(self.clone()).encode_to_vec()
    }

    /// The length of [`Self::encode_to_vec`] without encoding.
    pub fn encoded_len(&self) -> usize {
        pb::WakuMessage::from(self.clone()).encoded_len()
    }
}

impl TryFrom<pb::WakuMessage> for WakuMessage {
    type Error = MessageError;

    fn try_from(wire: pb::WakuMessage) -> Result<Self, Self::Error> {
        if let Some(meta) = &wire.meta
            && meta.len() > MAX_META_SIZE
        {
            return Err(MessageError::MetaTooLong(meta.len()));
        }
        Ok(Self {
            payload: wire.payload,
            content_topic: wire.content_topic,
            version: wire.version,
            timestamp: wire.timestamp,
            meta: wire.meta,
            rate_limit_proof: wire.rate_limit_proof.map(RateLimitProof::from),
            ephemeral: wire.ephemeral,
        })
    }
}

impl From<WakuMessage> for pb::WakuMessage {
    fn from(m: WakuMessage) -> Self {
        Self {
            payload: m.payload,
            content_topic: m.content_topic,
            version: m.version,
            timestamp: m.timestamp,
            meta: m.meta,
            rate_limit_proof: m.rate_limit_proof.map(pb::RateLimitProof::from),
            ephemeral: m.ephemeral,
        }
    }
}

impl From<pb::RateLimitProof> for RateLimitProof {
    fn from(p: pb::RateLimitProof) -> Self {
        Self {
            proof: p.proof,
            merkle_root: p.merkle_root,
            epoch: p.epoch,
            share_x: p.share_x,
            share_y: p.share_y,
            nullifier: p.nullifier,
            rln_identifier: p.rln_identifier,
        }
    }
}

impl From<RateLimitProof> for pb::RateLimitProof {
    fn from(p: RateLimitProof) -> Self {
        Self {
            proof: p.proof,
            merkle_root: p.merkle_root,
            epoch: p.epoch,
            share_x: p.share_x,
            share_y: p.share_y,
            nullifier: p.nullifier,
            rln_identifier: p.rln_identifier,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_of_65_bytes_is_rejected() {
        let wire = pb::WakuMessage {
            meta: Some(Bytes::from(vec![0u8; 65])),
            ..Default::default()
        };
        assert_eq!(
            WakuMessage::try_from(wire),
            Err(MessageError::MetaTooLong(65))
        );
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(matches!(
            WakuMessage::decode(&[0xff, 0xff, 0xff]),
            Err(MessageError::Decode(_))
        ));
    }
}

//! Message checks shared by relay, store and lightpush: serialized size,
//! `meta` length and timestamp window.

use std::time::Duration;

use crate::{MAX_META_SIZE, Timestamp, WakuMessage};

/// nwaku's default maximum serialized message size: 150 KiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 150 * 1024;

/// nwaku's default tolerance between a message timestamp and the node's clock.
pub const DEFAULT_MAX_TIMESTAMP_SKEW: Duration = Duration::from_secs(20);

/// Why a well-formed message is not acceptable to this node.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidationError {
    /// The serialized message exceeds the configured limit (nwaku's words,
    /// which operators' tests match).
    #[error("Message size exceeded maximum of {max} bytes")]
    TooLarge {
        /// Serialized size of the message.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// `meta` exceeds [`MAX_META_SIZE`].
    #[error("invalid length for Meta field: {0} bytes, at most {MAX_META_SIZE} are allowed")]
    MetaTooLong(usize),
    /// The timestamp is further from the node's clock than allowed.
    #[error(
        "timestamp {timestamp} is {} ms from the node's clock {now}; at most {} ms are allowed",
        timestamp.abs_diff(*now) / 1_000_000,
        max_skew.as_millis()
    )]
    TimestampOutOfWindow {
        /// The message's timestamp (ns).
        timestamp: Timestamp,
        /// The node's clock when checking (ns).
        now: Timestamp,
        /// The allowed distance.
        max_skew: Duration,
    },
}

/// Size, `meta` and timestamp rules with their configured limits.
///
/// A message without a timestamp (absent or 0) passes the timestamp check,
/// as in nwaku: the window only bounds timestamps that are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageValidator {
    /// Largest serialized `WakuMessage`, in bytes.
    pub max_message_size: usize,
    /// Largest distance between a message timestamp and the node's clock.
    pub max_timestamp_skew: Duration,
}

impl Default for MessageValidator {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_timestamp_skew: DEFAULT_MAX_TIMESTAMP_SKEW,
        }
    }
}

impl MessageValidator {
    /// Checks the serialized size of a message.
    pub fn check_size(&self, encoded_len: usize) -> Result<(), ValidationError> {
        if encoded_len > self.max_message_size {
            return Err(ValidationError::TooLarge {
                size: encoded_len,
                max: self.max_message_size,
            });
        }
        Ok(())
    }

    /// Checks the `meta` length.
    pub fn check_meta(&self, message: &WakuMessage) -> Result<(), ValidationError> {
        let len = message.meta_bytes().len();
        if len > MAX_META_SIZE {
            return Err(ValidationError::MetaTooLong(len));
        }
        Ok(())
    }

    /// Checks that a present timestamp lies within the window around `now`.
    pub fn check_timestamp(
        &self,
        message: &WakuMessage,
        now: Timestamp,
    ) -> Result<(), ValidationError> {
        let timestamp = message.timestamp_or_zero();
        if timestamp == 0 {
            return Ok(());
        }
        let skew = u64::try_from(self.max_timestamp_skew.as_nanos()).unwrap_or(u64::MAX);
        if timestamp.abs_diff(now) > skew {
            return Err(ValidationError::TimestampOutOfWindow {
                timestamp,
                now,
                max_skew: self.max_timestamp_skew,
            });
        }
        Ok(())
    }

    /// All checks: size of the `encoded_len`-byte serialization, `meta`, timestamp.
    pub fn validate(
        &self,
        message: &WakuMessage,
        encoded_len: usize,
        now: Timestamp,
    ) -> Result<(), ValidationError> {
        self.check_size(encoded_len)?;
        self.check_meta(message)?;
        self.check_timestamp(message, now)
    }
}

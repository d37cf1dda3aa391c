//! Ingest: the node composer hands every message it receives (from relay,
//! lightpush, ...) to an [`Archive`], which keeps the eligible ones.

use std::sync::Arc;
use std::time::Duration;

use waku_core::{
    DEFAULT_MAX_TIMESTAMP_SKEW, MessageHash, MessageValidator, Timestamp, WakuMessage, now_nanos,
};

use crate::message_store::{MessageStore, StoreError, StoredMessage};

/// Largest distance between a message's timestamp and our clock for it to
/// be stored (13/WAKU2-STORE: 20 seconds): waku-core's
/// [`DEFAULT_MAX_TIMESTAMP_SKEW`], the window relay validates with too.
pub const MAX_TIMESTAMP_SKEW: Duration = DEFAULT_MAX_TIMESTAMP_SKEW;

/// What happened to an eligible message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Newly stored under this hash.
    Stored(MessageHash),
    /// Already stored under this hash; nothing changed.
    Duplicate(MessageHash),
}

impl Ingested {
    /// The message hash.
    pub fn hash(&self) -> MessageHash {
        match self {
            Self::Stored(h) | Self::Duplicate(h) => *h,
        }
    }
}

/// Why a message was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// Ephemeral messages are never stored.
    #[error("ephemeral message")]
    Ephemeral,
    /// The message has no (or a zero) timestamp.
    #[error("message without timestamp")]
    MissingTimestamp,
    /// The timestamp is more than the allowed skew before our clock.
    #[error("timestamp {timestamp} is more than {skew:?} in the past")]
    TooOld {
        /// The message timestamp.
        timestamp: Timestamp,
        /// The allowed skew.
        skew: Duration,
    },
    /// The timestamp is more than the allowed skew after our clock.
    #[error("timestamp {timestamp} is more than {skew:?} in the future")]
    TooNew {
        /// The message timestamp.
        timestamp: Timestamp,
        /// The allowed skew.
        skew: Duration,
    },
    /// The backend failed; the message may not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Feeds messages into a [`MessageStore`], applying the eligibility rules
/// of 13/WAKU2-STORE: ephemeral messages are skipped, messages without a
/// timestamp or with one more than [`MAX_TIMESTAMP_SKEW`] away from our
/// clock are rejected, and each message is stored once per hash with the
/// pubsub topic it arrived on.
///
/// Cheap to clone; clones share the store.
#[derive(Clone)]
pub struct Archive {
    store: Arc<dyn MessageStore>,
    /// waku-core's shared checks; only its timestamp window is used here.
    validator: MessageValidator,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("max_skew", &self.validator.max_timestamp_skew)
            .finish_non_exhaustive()
    }
}

impl Archive {
    /// An archive writing into `store`.
    pub fn new(store: Arc<dyn MessageStore>) -> Self {
        Self {
            store,
            validator: MessageValidator {
                max_timestamp_skew: MAX_TIMESTAMP_SKEW,
                ..MessageValidator::default()
            },
        }
    }

    /// Changes the allowed timestamp skew.
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.validator.max_timestamp_skew = max_skew;
        self
    }

    /// The store written into.
    pub fn store(&self) -> &Arc<dyn MessageStore> {
        &self.store
    }

    /// Whether `message` may be stored when our clock reads `now`.
    ///
    /// The window is waku-core's [`MessageValidator::check_timestamp`]. That
    /// check lets a message without a timestamp pass (as relay must); the
    /// store is stricter and rejects it, since the spec makes the timestamp
    /// mandatory for storage.
    pub fn check_eligible(&self, message: &WakuMessage, now: Timestamp) -> Result<(), IngestError> {
        if message.is_ephemeral() {
            return Err(IngestError::Ephemeral);
        }
        if message.timestamp_or_zero() == 0 {
            return Err(IngestError::MissingTimestamp);
        }
        // The only error check_timestamp reports is the window; which side
        // of it the timestamp lies on is ours to tell.
        self.validator.check_timestamp(message, now).map_err(|_| {
            let timestamp = message.timestamp_or_zero();
            let skew = self.validator.max_timestamp_skew;
            if timestamp < now {
                IngestError::TooOld { timestamp, skew }
            } else {
                IngestError::TooNew { timestamp, skew }
            }
        })
    }

    /// Stores `message`, received on `pubsub_topic`, if it is eligible.
    /// Resolves once the message is durable.
    pub async fn handle_message(
        &self,
        pubsub_topic: &str,
        message: WakuMessage,
    ) -> Result<Ingested, IngestError> {
        self.check_eligible(&message, now_nanos())?;
        let entry = StoredMessage::new(pubsub_topic, message);
        let hash = entry.hash;
        let new = self.store.put(vec![entry]).await?;
        Ok(if new.first().copied().unwrap_or(false) {
            Ingested::Stored(hash)
        } else {
            Ingested::Duplicate(hash)
        })
    }

    /// Stores the eligible messages of a batch in one backend call; one
    /// result per input, in order.
    pub async fn handle_messages(
        &self,
        batch: Vec<(String, WakuMessage)>,
    ) -> Vec<Result<Ingested, IngestError>> {
        let now = now_nanos();
        let mut results: Vec<Option<Result<Ingested, IngestError>>> =
            Vec::with_capacity(batch.len());
        let mut entries = Vec::new();
        let mut slots = Vec::new();
        for (i, (topic, message)) in batch.into_iter().enumerate() {
            match self.check_eligible(&message, now) {
                Ok(()) => {
                    entries.push(StoredMessage::new(topic, message));
                    slots.push(i);
                    results.push(None);
                }
                Err(e) => results.push(Some(Err(e))),
            }
        }
        let hashes: Vec<MessageHash> = entries.iter().map(|e| e.hash).collect();
        match self.store.put(entries).await {
            Ok(new) => {
                for ((slot, hash), is_new) in slots.iter().zip(hashes).zip(new) {
                    results[*slot] = Some(Ok(if is_new {
                        Ingested::Stored(hash)
                    } else {
                        Ingested::Duplicate(hash)
                    }));
                }
            }
            Err(e) => {
                let text = e.to_string();
                for slot in &slots {
                    results[*slot] = Some(Err(StoreError::Unavailable(text.clone()).into()));
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StoreError::Unavailable("no result".into()).into())))
            .collect()
    }
}

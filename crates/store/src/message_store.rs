//! The storage abstraction every backend implements, and the types that
//! cross it.

use std::future::Future;
use std::pin::Pin;

use waku_core::{MessageHash, Timestamp, WakuMessage, message_hash};

/// The future a [`MessageStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Why a backend operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The query's cursor is not the hash of any stored message.
    #[error("unknown cursor: no stored message has hash {0}")]
    UnknownCursor(MessageHash),
    /// The backend cannot serve requests (database down, writer stopped).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// A stored row could not be decoded.
    #[error("corrupt stored row: {0}")]
    Corrupt(String),
    /// The store URL or options are not acceptable.
    #[error("invalid store configuration: {0}")]
    Config(String),
}

/// A message as the store keeps it: key (the deterministic hash) and value
/// (the message and the pubsub topic it was received on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The deterministic message hash (14/WAKU2-MESSAGE).
    pub hash: MessageHash,
    /// The pubsub topic the message was received on.
    pub pubsub_topic: String,
    /// The message.
    pub message: WakuMessage,
}

impl StoredMessage {
    /// An entry for `message` received on `pubsub_topic`; computes the hash.
    pub fn new(pubsub_topic: impl Into<String>, message: WakuMessage) -> Self {
        let pubsub_topic = pubsub_topic.into();
        Self {
            hash: message_hash(&pubsub_topic, &message),
            pubsub_topic,
            message,
        }
    }

    /// The sort timestamp: the message's own timestamp (0 when absent).
    pub fn timestamp(&self) -> Timestamp {
        self.message.timestamp_or_zero()
    }
}

/// Which stored messages a query selects. Every set criterion must hold
/// (an empty `content_topics` or `hashes` list means "any").
///
/// The protocol layers decide which combinations a client may send; a
/// backend answers any combination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFilter {
    /// Only messages received on this pubsub topic.
    pub pubsub_topic: Option<String>,
    /// Only messages with one of these content topics.
    pub content_topics: Vec<String>,
    /// Only messages with `timestamp >= time_start` (inclusive).
    pub time_start: Option<Timestamp>,
    /// Only messages with `timestamp < time_end` (exclusive).
    pub time_end: Option<Timestamp>,
    /// Only messages with one of these hashes.
    pub hashes: Vec<MessageHash>,
}

impl MessageFilter {
    /// Whether `entry` matches the filter.
    pub fn matches(&self, entry: &StoredMessage) -> bool {
        let ts = entry.timestamp();
        self.pubsub_topic
            .as_ref()
            .is_none_or(|t| *t == entry.pubsub_topic)
            && (self.content_topics.is_empty()
                || self.content_topics.contains(&entry.message.content_topic))
            && self.time_start.is_none_or(|s| ts >= s)
            && self.time_end.is_none_or(|e| ts < e)
            && (self.hashes.is_empty() || self.hashes.contains(&entry.hash))
    }
}

/// One page request against a backend: a filter, an exclusive cursor, a
/// direction and a page size.
///
/// Entries are ordered by `(timestamp, hash)`. Forward walks that order
/// upwards from the cursor (or from the oldest entry), backward walks it
/// downwards (or from the newest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageQuery {
    /// What to select.
    pub filter: MessageFilter,
    /// Start after (forward) or before (backward) the entry with this hash.
    pub cursor: Option<MessageHash>,
    /// Walk direction.
    pub forward: bool,
    /// Largest number of entries to return (at least 1).
    pub page_size: usize,
    /// Whether to load the messages, not only their keys.
    pub include_data: bool,
}

/// One entry of a result page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEntry {
    /// The message hash.
    pub hash: MessageHash,
    /// The sort timestamp.
    pub timestamp: Timestamp,
    /// The pubsub topic the message was received on.
    pub pubsub_topic: String,
    /// The message, when the query asked for data.
    pub message: Option<WakuMessage>,
}

/// A page of results, always in forward (oldest-first) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryPage {
    /// The entries, oldest first whatever the query direction.
    pub entries: Vec<PageEntry>,
    /// Set only when more entries match beyond this page: the hash of the
    /// last entry walked (the newest for forward queries, the oldest for
    /// backward ones), to be sent as the next query's cursor.
    pub next_cursor: Option<MessageHash>,
}

impl QueryPage {
    /// Builds a page from up to `page_size + 1` rows read in walk order:
    /// the extra row only tells that more entries match.
    pub fn from_walk(mut rows: Vec<PageEntry>, page_size: usize, forward: bool) -> Self {
        let more = rows.len() > page_size;
        rows.truncate(page_size);
        let next_cursor = if more {
            rows.last().map(|e| e.hash)
        } else {
            None
        };
        if !forward {
            rows.reverse();
        }
        Self {
            entries: rows,
            next_cursor,
        }
    }
}

/// Persistent storage of Waku messages, keyed by message hash.
///
/// Every backend (SQLite, PostgreSQL, memory) passes the same test suite
/// (`tests/backend_*.rs`). Methods return boxed futures so that a node can
/// hold any backend as `Arc<dyn MessageStore>` chosen at run time; no method
/// blocks the calling thread on I/O.
pub trait MessageStore: Send + Sync + 'static {
    /// Stores `messages` (each at most once per hash). Returns, in the same
    /// order, whether each message was new (`false`: already stored).
    /// When the future resolves `Ok`, the messages are durable: they survive
    /// a crash of the process.
    fn put(&self, messages: Vec<StoredMessage>) -> StoreFuture<'_, Vec<bool>>;

    /// One page of the entries matching `query`.
    ///
    /// Fails with [`StoreError::UnknownCursor`] when the cursor is not the
    /// hash of a stored message.
    fn query(&self, query: MessageQuery) -> StoreFuture<'_, QueryPage>;

    /// Number of stored messages.
    fn count(&self) -> StoreFuture<'_, u64>;

    /// Bytes the stored messages take, as the backend measures them (used
    /// by the size retention policy).
    fn size_bytes(&self) -> StoreFuture<'_, u64>;

    /// Deletes every message whose timestamp is before `time` (exclusive);
    /// returns how many were deleted.
    fn delete_older_than(&self, time: Timestamp) -> StoreFuture<'_, u64>;

    /// Deletes the `n` oldest messages (by timestamp, then hash); returns how
    /// many were deleted.
    fn delete_oldest(&self, n: u64) -> StoreFuture<'_, u64>;
}

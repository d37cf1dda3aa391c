//! Store v3 queries: the limits, the client's query builder, and the
//! server-side validation that turns a wire request into a backend query.

use waku_core::{MessageHash, Timestamp};

use crate::message_store::{MessageFilter, MessageQuery};
use crate::proto::StoreQueryRequest;

/// Page size applied when a request sets no (or a zero) `pagination_limit`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Largest page served; larger `pagination_limit`s are lowered to it.
pub const MAX_PAGE_SIZE: usize = 100;
/// Most content topics one query may name.
pub const MAX_CONTENT_TOPICS: usize = 10;
/// Most message hashes one lookup query may name.
pub const MAX_HASHES_PER_QUERY: usize = 1000;

/// Why a request is refused with status 400; the text becomes
/// `status_desc` after `"BAD_REQUEST: "`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRequest {
    /// Content filter criteria and message hashes in one request.
    #[error(
        "a query filters either by content (content_topics, time_start, time_end) or by message_hashes, not both"
    )]
    MixedQuery,
    /// Too many content topics.
    #[error("{0} content topics, at most {MAX_CONTENT_TOPICS} are allowed")]
    TooManyContentTopics(usize),
    /// Too many message hashes.
    #[error("{0} message hashes, at most {MAX_HASHES_PER_QUERY} are allowed")]
    TooManyHashes(usize),
    /// A message hash is not 32 bytes.
    #[error("message hash #{index} is {len} bytes, not 32")]
    BadHash {
        /// Position in `message_hashes`.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// The cursor is not 32 bytes.
    #[error("invalid cursor: {0} bytes, not 32")]
    BadCursorLength(usize),
    /// The cursor is not the hash of a stored message ("cursor not found",
    /// nwaku's words, which its REST clients look for).
    #[error("cursor not found: no stored message has hash {0}")]
    UnknownCursor(MessageHash),
}

/// The effective page size for a requested `pagination_limit`.
pub fn page_size(limit: Option<u64>) -> usize {
    match limit {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(MAX_PAGE_SIZE),
    }
}

/// Checks a v3 request against the rules of 13/WAKU2-STORE and turns it
/// into a backend query.
///
/// A hash lookup may carry `pubsub_topic` (js-waku always sends it); the
/// topic then further restricts the lookup, as in nwaku. A content query
/// may give `pubsub_topic` without `content_topics` (every content topic
/// of that pubsub topic) or the reverse (those content topics on every
/// pubsub topic): nwaku answers both, where the RFC would refuse them
/// (STORE-012's deviation).
pub(crate) fn validate_request(req: &StoreQueryRequest) -> Result<MessageQuery, BadRequest> {
    let has_content =
        !req.content_topics.is_empty() || req.time_start.is_some() || req.time_end.is_some();
    if !req.message_hashes.is_empty() && has_content {
        return Err(BadRequest::MixedQuery);
    }
    if req.content_topics.len() > MAX_CONTENT_TOPICS {
        return Err(BadRequest::TooManyContentTopics(req.content_topics.len()));
    }
    if req.message_hashes.len() > MAX_HASHES_PER_QUERY {
        return Err(BadRequest::TooManyHashes(req.message_hashes.len()));
    }
    let hashes = req
        .message_hashes
        .iter()
        .enumerate()
        .map(|(index, h)| {
            MessageHash::from_slice(h).ok_or(BadRequest::BadHash {
                index,
                len: h.len(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cursor = req
        .pagination_cursor
        .as_ref()
        .map(|c| MessageHash::from_slice(c).ok_or(BadRequest::BadCursorLength(c.len())))
        .transpose()?;
    let mut content_topics = req.content_topics.clone();
    content_topics.sort();
    content_topics.dedup();
    Ok(MessageQuery {
        filter: MessageFilter {
            pubsub_topic: req.pubsub_topic.clone(),
            content_topics,
            time_start: req.time_start,
            // The wire's end is inclusive, as nwaku reads it (STORE-015's
            // deviation); the backends' filter end is exclusive.
            time_end: req.time_end.map(|e| e.saturating_add(1)),
            hashes,
        },
        cursor,
        forward: req.pagination_forward,
        page_size: page_size(req.pagination_limit),
        include_data: req.include_data,
    })
}

/// A store query as a client builds it, for
/// [`Behaviour::send_query`](crate::Behaviour::send_query) or
/// [`answer_query`](crate::answer_query).
///
/// ```
/// use waku_store::StoreQuery;
///
/// let q = StoreQuery::content("/waku/2/rs/1/4", ["/app/1/chat/proto"])
///     .with_time_range(Some(1_700_000_000_000_000_000), None)
///     .forward()
///     .with_limit(50);
/// assert_eq!(q.limit, Some(50));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreQuery {
    /// Ask for messages, not only hashes.
    pub include_data: bool,
    /// Content filter: pubsub topic (with `content_topics`).
    pub pubsub_topic: Option<String>,
    /// Content filter: content topics (with `pubsub_topic`).
    pub content_topics: Vec<String>,
    /// Inclusive start of the time range, in nanoseconds.
    pub time_start: Option<Timestamp>,
    /// Inclusive end of the time range, in nanoseconds (as nwaku reads
    /// it).
    pub time_end: Option<Timestamp>,
    /// Hash lookup: the hashes.
    pub message_hashes: Vec<MessageHash>,
    /// Exclusive cursor from a previous response.
    pub cursor: Option<MessageHash>,
    /// Walk forward (oldest first) rather than backward.
    pub forward: bool,
    /// Page size wanted.
    pub limit: Option<u64>,
}

impl Default for StoreQuery {
    fn default() -> Self {
        Self {
            include_data: true,
            pubsub_topic: None,
            content_topics: Vec::new(),
            time_start: None,
            time_end: None,
            message_hashes: Vec::new(),
            cursor: None,
            forward: false,
            limit: None,
        }
    }
}

impl StoreQuery {
    /// Every stored message (with data, backward, default page size).
    pub fn all() -> Self {
        Self::default()
    }

    /// Messages on `pubsub_topic` with one of `content_topics`.
    pub fn content<I, S>(pubsub_topic: impl Into<String>, content_topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            pubsub_topic: Some(pubsub_topic.into()),
            content_topics: content_topics.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// A lookup of these hashes.
    pub fn hashes(hashes: impl IntoIterator<Item = MessageHash>) -> Self {
        Self {
            message_hashes: hashes.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Sets whether messages (not only hashes) are returned.
    pub fn with_data(mut self, include_data: bool) -> Self {
        self.include_data = include_data;
        self
    }

    /// Sets the time range, both ends inclusive.
    pub fn with_time_range(mut self, start: Option<Timestamp>, end: Option<Timestamp>) -> Self {
        self.time_start = start;
        self.time_end = end;
        self
    }

    /// Walks forward (oldest first).
    pub fn forward(mut self) -> Self {
        self.forward = true;
        self
    }

    /// Walks backward (newest first; pages still come oldest-first).
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    /// Sets the page size wanted.
    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets (or clears) the cursor.
    pub fn with_cursor(mut self, cursor: Option<MessageHash>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The wire request with `request_id`.
    pub(crate) fn to_request(&self, request_id: impl Into<String>) -> StoreQueryRequest {
        StoreQueryRequest {
            request_id: request_id.into(),
            include_data: self.include_data,
            pubsub_topic: self.pubsub_topic.clone(),
            content_topics: self.content_topics.clone(),
            time_start: self.time_start,
            time_end: self.time_end,
            message_hashes: self.message_hashes.iter().map(|h| h.0.to_vec()).collect(),
            pagination_cursor: self.cursor.map(|c| c.0.to_vec()),
            pagination_forward: self.forward,
            pagination_limit: self.limit,
        }
    }
}

//! The legacy protocol's query, cursor and page as a client uses them, and
//! their wire forms (`HistoryQuery`, `Index`, `HistoryResponse`).

use waku_core::{Timestamp, WakuMessage};

use super::convert::index_digest;
use crate::proto::v2beta4::history_response::Error as HistoryError;
use crate::proto::v2beta4::paging_info::Direction;
use crate::proto::v2beta4::{ContentFilter, HistoryQuery, HistoryResponse, Index, PagingInfo};
use crate::response::ResponseError;

/// Where the next page starts: the legacy `Index` of the last message of
/// a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cursor {
    /// sha256(content_topic || payload) of the message.
    pub digest: Vec<u8>,
    /// When the store received it (we repeat the sender time).
    pub receiver_time: Timestamp,
    /// The message's timestamp.
    pub sender_time: Timestamp,
    /// The pubsub topic it was stored under.
    pub pubsub_topic: String,
}

impl Cursor {
    /// A cursor from its four parts (as nwaku's REST API takes them).
    pub fn new(
        pubsub_topic: impl Into<String>,
        sender_time: Timestamp,
        receiver_time: Timestamp,
        digest: Vec<u8>,
    ) -> Self {
        Self {
            digest,
            receiver_time,
            sender_time,
            pubsub_topic: pubsub_topic.into(),
        }
    }

    /// The cursor of `message` stored under `pubsub_topic`.
    pub fn of(pubsub_topic: &str, message: &WakuMessage) -> Self {
        let time = message.timestamp_or_zero();
        Self::new(pubsub_topic, time, time, index_digest(message).to_vec())
    }
}

impl From<Cursor> for Index {
    fn from(c: Cursor) -> Self {
        Index {
            digest: Some(c.digest),
            receiver_time: Some(c.receiver_time),
            sender_time: Some(c.sender_time),
            pubsub_topic: Some(c.pubsub_topic),
        }
    }
}

impl From<Index> for Cursor {
    fn from(i: Index) -> Self {
        Self {
            digest: i.digest.unwrap_or_default(),
            receiver_time: i.receiver_time.unwrap_or_default(),
            sender_time: i.sender_time.unwrap_or_default(),
            pubsub_topic: i.pubsub_topic.unwrap_or_default(),
        }
    }
}

/// A legacy history query.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Query {
    /// Only messages of this pubsub topic.
    pub pubsub_topic: Option<String>,
    /// Only messages of these content topics (none: every one).
    pub content_topics: Vec<String>,
    /// Inclusive start of the time range, in nanoseconds.
    pub start_time: Option<Timestamp>,
    /// Inclusive end of the time range, in nanoseconds.
    pub end_time: Option<Timestamp>,
    /// Continue after this cursor.
    pub cursor: Option<Cursor>,
    /// Page size wanted (the service applies its default and maximum).
    pub page_size: Option<u64>,
    /// Oldest first (`true`) or newest first.
    pub forward: bool,
}

impl Default for Query {
    /// Every message, newest first, the service's default page size.
    fn default() -> Self {
        Self {
            pubsub_topic: None,
            content_topics: Vec::new(),
            start_time: None,
            end_time: None,
            cursor: None,
            page_size: None,
            forward: false,
        }
    }
}

impl Query {
    /// Messages of `content_topics` on `pubsub_topic`, newest first.
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

    /// Sets the time range (both ends inclusive).
    pub fn with_time_range(mut self, start: Option<Timestamp>, end: Option<Timestamp>) -> Self {
        self.start_time = start;
        self.end_time = end;
        self
    }

    /// Sets the page size wanted.
    pub fn with_page_size(mut self, page_size: u64) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Oldest first.
    pub fn forward(mut self) -> Self {
        self.forward = true;
        self
    }

    /// Continue after `cursor`.
    pub fn with_cursor(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

impl From<&Query> for HistoryQuery {
    fn from(q: &Query) -> Self {
        let direction = if q.forward {
            Direction::Forward
        } else {
            Direction::Backward
        };
        HistoryQuery {
            pubsub_topic: q.pubsub_topic.clone(),
            content_filters: q
                .content_topics
                .iter()
                .map(|t| ContentFilter {
                    content_topic: t.clone(),
                })
                .collect(),
            paging_info: Some(PagingInfo {
                page_size: q.page_size,
                cursor: q.cursor.clone().map(Into::into),
                direction: Some(direction as i32),
            }),
            start_time: q.start_time,
            end_time: q.end_time,
        }
    }
}

/// A successful legacy answer: one page of messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Page {
    /// The messages, in the order asked for.
    pub messages: Vec<WakuMessage>,
    /// Set when more messages match: where the next page starts.
    pub cursor: Option<Cursor>,
}

impl Page {
    /// A page of `messages`, continued at `cursor` when set.
    pub fn new(messages: Vec<WakuMessage>, cursor: Option<Cursor>) -> Self {
        Self { messages, cursor }
    }
}

impl TryFrom<HistoryResponse> for Page {
    type Error = ResponseError;

    /// A response whose `error` is not `NONE` is that code as
    /// [`ResponseError::Status`]; a malformed message is
    /// [`ResponseError::BadMessage`].
    fn try_from(r: HistoryResponse) -> Result<Self, ResponseError> {
        match r.error.unwrap_or_default() {
            0 => {}
            code => {
                return Err(ResponseError::Status {
                    code: u32::try_from(code).unwrap_or_default(),
                    desc: HistoryError::try_from(code)
                        .map(|e| e.as_str_name().to_owned())
                        .unwrap_or_default(),
                });
            }
        }
        let messages = r
            .messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                WakuMessage::try_from(m).map_err(|e| ResponseError::BadMessage(i, e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            messages,
            cursor: r.paging_info.and_then(|p| p.cursor).map(Into::into),
        })
    }
}

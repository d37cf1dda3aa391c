//! Store v3 responses: status codes, building the wire response on the
//! server, and the client's checked view of a response.

use waku_core::{MessageHash, WakuMessage};

use crate::message_store::QueryPage;
use crate::proto::{StoreQueryResponse, WakuMessageKeyValue};

/// Status codes a store service answers with.
pub mod status {
    /// The query succeeded.
    pub const OK: u32 = 200;
    /// The request breaks a rule of the protocol (see `status_desc`).
    pub const BAD_REQUEST: u32 = 400;
    /// The service's rate limit is exhausted; retry later.
    pub const TOO_MANY_REQUESTS: u32 = 429;
    /// The storage backend failed or the service is overloaded.
    pub const SERVICE_UNAVAILABLE: u32 = 503;

    /// The conventional name of a status code, used at the start of
    /// `status_desc`.
    pub fn name(code: u32) -> &'static str {
        match code {
            OK => "OK",
            BAD_REQUEST => "BAD_REQUEST",
            TOO_MANY_REQUESTS => "TOO_MANY_REQUESTS",
            SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
            _ => "UNKNOWN",
        }
    }
}

/// The success response for `request_id` carrying `page`.
pub fn page_response(request_id: String, page: QueryPage) -> StoreQueryResponse {
    StoreQueryResponse {
        request_id,
        status_code: Some(status::OK),
        status_desc: Some(status::name(status::OK).to_owned()),
        messages: page
            .entries
            .into_iter()
            .map(|e| {
                let (message, pubsub_topic) = match e.message {
                    Some(m) => (Some(m.into()), Some(e.pubsub_topic)),
                    None => (None, None),
                };
                WakuMessageKeyValue {
                    message_hash: Some(e.hash.0.to_vec()),
                    message,
                    pubsub_topic,
                }
            })
            .collect(),
        pagination_cursor: page.next_cursor.map(|c| c.0.to_vec()),
    }
}

/// An error response: `code` with `"NAME: detail"` as description.
pub fn error_response(request_id: String, code: u32, detail: &str) -> StoreQueryResponse {
    StoreQueryResponse {
        request_id,
        status_code: Some(code),
        status_desc: Some(format!("{}: {detail}", status::name(code))),
        messages: Vec::new(),
        pagination_cursor: None,
    }
}

/// Why a response is not acceptable to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// `status_code` is missing.
    #[error("response without status_code")]
    MissingStatus,
    /// The service answered with an error status.
    #[error("store service answered {code}: {desc}")]
    Status {
        /// The status code.
        code: u32,
        /// The description, empty when absent.
        desc: String,
    },
    /// An entry has no hash or a hash of the wrong length.
    #[error("entry #{0} has no valid 32-byte message_hash")]
    BadHash(usize),
    /// An entry has only one of `message` and `pubsub_topic`.
    #[error("entry #{0} has only one of message and pubsub_topic")]
    HalfValue(usize),
    /// An entry's message is malformed.
    #[error("entry #{0} carries a malformed message: {1}")]
    BadMessage(usize, String),
    /// The cursor is not 32 bytes.
    #[error("pagination_cursor is not 32 bytes")]
    BadCursor,
}

/// One entry of a [`StoreResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseEntry {
    /// The message hash.
    pub hash: MessageHash,
    /// The message and its pubsub topic, when the query asked for data.
    pub value: Option<(String, WakuMessage)>,
}

/// A successful (2xx) response, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreResponse {
    /// The request id echoed by the service.
    pub request_id: String,
    /// The status code (2xx).
    pub status_code: u32,
    /// The status description, when given.
    pub status_desc: Option<String>,
    /// The entries, oldest first.
    pub entries: Vec<ResponseEntry>,
    /// Set when more entries match: the cursor for the next page.
    pub cursor: Option<MessageHash>,
}

impl TryFrom<StoreQueryResponse> for StoreResponse {
    type Error = ResponseError;

    fn try_from(r: StoreQueryResponse) -> Result<Self, ResponseError> {
        let code = r.status_code.ok_or(ResponseError::MissingStatus)?;
        if !(200..300).contains(&code) {
            return Err(ResponseError::Status {
                code,
                desc: r.status_desc.unwrap_or_default(),
            });
        }
        let entries = r
            .messages
            .into_iter()
            .enumerate()
            .map(|(i, kv)| {
                let hash = kv
                    .message_hash
                    .as_deref()
                    .and_then(MessageHash::from_slice)
                    .ok_or(ResponseError::BadHash(i))?;
                let value = match (kv.message, kv.pubsub_topic) {
                    (Some(m), Some(t)) => Some((
                        t,
                        WakuMessage::try_from(m)
                            .map_err(|e| ResponseError::BadMessage(i, e.to_string()))?,
                    )),
                    (None, None) => None,
                    _ => return Err(ResponseError::HalfValue(i)),
                };
                Ok(ResponseEntry { hash, value })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let cursor = r
            .pagination_cursor
            .map(|c| MessageHash::from_slice(&c).ok_or(ResponseError::BadCursor))
            .transpose()?;
        Ok(Self {
            request_id: r.request_id,
            status_code: code,
            status_desc: r.status_desc,
            entries,
            cursor,
        })
    }
}

impl StoreResponse {
    /// The messages of the entries that carry one, oldest first.
    pub fn messages(&self) -> impl Iterator<Item = &WakuMessage> {
        self.entries
            .iter()
            .filter_map(|e| e.value.as_ref().map(|(_, m)| m))
    }

    /// The hashes of all entries, oldest first.
    pub fn hashes(&self) -> Vec<MessageHash> {
        self.entries.iter().map(|e| e.hash).collect()
    }
}

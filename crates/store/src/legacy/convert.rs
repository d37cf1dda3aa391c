//! Answering a legacy `HistoryQuery` from a [`MessageStore`].

use sha2::{Digest, Sha256};
use waku_core::{MessageHash, WakuMessage};

use super::types::{Cursor, Page, Query};
use crate::message_store::{MessageFilter, MessageQuery, MessageStore, StoreError};
use crate::proto::v2beta4::history_response::Error as HistoryError;
use crate::proto::v2beta4::paging_info::Direction;
use crate::proto::v2beta4::{HistoryQuery, HistoryResponse, HistoryRpc, Index, PagingInfo};
use crate::query::{MAX_CONTENT_TOPICS, page_size};
use crate::response::ResponseError;

/// The legacy `Index.digest` of a message: sha256(content_topic || payload).
pub(crate) fn index_digest(message: &WakuMessage) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(message.content_topic.as_bytes());
    h.update(&message.payload);
    h.finalize().into()
}

/// The legacy `Index` of `message` received on `pubsub_topic`. We keep no
/// separate receive time: `receiver_time` repeats the sender time.
fn index_of(pubsub_topic: &str, message: &WakuMessage) -> Index {
    Cursor::of(pubsub_topic, message).into()
}

fn error_response(error: HistoryError) -> HistoryResponse {
    HistoryResponse {
        messages: Vec::new(),
        paging_info: None,
        error: Some(error as i32),
    }
}

/// The store entry an `Index` cursor names: same pubsub topic (when the
/// cursor has one), same timestamp, same digest.
async fn resolve_cursor(
    store: &dyn MessageStore,
    index: &Index,
) -> Result<Option<MessageHash>, StoreError> {
    let Some(time) = index.sender_time else {
        return Ok(None);
    };
    let Some(digest) = index.digest.as_deref() else {
        return Ok(None);
    };
    let mut query = MessageQuery {
        filter: MessageFilter {
            pubsub_topic: index.pubsub_topic.clone().filter(|t| !t.is_empty()),
            time_start: Some(time),
            time_end: Some(time.saturating_add(1)),
            ..Default::default()
        },
        cursor: None,
        forward: true,
        page_size: 100,
        include_data: true,
    };
    loop {
        let page = store.query(query.clone()).await?;
        for e in &page.entries {
            if e.message
                .as_ref()
                .is_some_and(|m| index_digest(m)[..] == *digest)
            {
                return Ok(Some(e.hash));
            }
        }
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return Ok(None),
        }
    }
}

async fn answer(store: &dyn MessageStore, query: HistoryQuery) -> HistoryResponse {
    if query.content_filters.len() > MAX_CONTENT_TOPICS {
        return error_response(HistoryError::InvalidCursor);
    }
    let paging = query.paging_info.unwrap_or_default();
    let direction = paging.direction.unwrap_or(Direction::Backward as i32);
    let forward = direction == Direction::Forward as i32;
    let cursor = match &paging.cursor {
        None => None,
        Some(index) => match resolve_cursor(store, index).await {
            Ok(Some(hash)) => Some(hash),
            Ok(None) => return error_response(HistoryError::InvalidCursor),
            Err(e) => {
                tracing::warn!(error = %e, "legacy store cursor lookup failed");
                return error_response(HistoryError::ServiceUnavailable);
            }
        },
    };
    let mut content_topics: Vec<String> = query
        .content_filters
        .into_iter()
        .map(|f| f.content_topic)
        .collect();
    content_topics.sort();
    content_topics.dedup();
    let page_size = page_size(paging.page_size);
    let q = MessageQuery {
        filter: MessageFilter {
            pubsub_topic: query.pubsub_topic.filter(|t| !t.is_empty()),
            content_topics,
            time_start: query.start_time,
            // Inclusive end, as nwaku's legacy archive.
            time_end: query.end_time.map(|e| e.saturating_add(1)),
            hashes: Vec::new(),
        },
        cursor,
        forward,
        page_size,
        include_data: true,
    };
    let page = match store.query(q).await {
        Ok(page) => page,
        Err(StoreError::UnknownCursor(_)) => return error_response(HistoryError::InvalidCursor),
        Err(e) => {
            tracing::warn!(error = %e, "legacy store query failed");
            return error_response(HistoryError::ServiceUnavailable);
        }
    };
    let cursor_index = page.next_cursor.and_then(|c| {
        page.entries
            .iter()
            .find(|e| e.hash == c)
            .and_then(|e| e.message.as_ref().map(|m| index_of(&e.pubsub_topic, m)))
    });
    let messages: Vec<_> = page
        .entries
        .into_iter()
        .filter_map(|e| e.message.map(Into::into))
        .collect();
    HistoryResponse {
        paging_info: Some(PagingInfo {
            page_size: Some(messages.len() as u64),
            cursor: cursor_index,
            direction: Some(direction),
        }),
        messages,
        error: Some(HistoryError::None as i32),
    }
}

/// The `HistoryRPC` answering `rpc` from `store` (request id echoed; a
/// request without a query is answered as an empty query).
pub(crate) async fn answer_history_query(store: &dyn MessageStore, rpc: HistoryRpc) -> HistoryRpc {
    let response = answer(store, rpc.query.unwrap_or_default()).await;
    HistoryRpc {
        request_id: rpc.request_id,
        query: None,
        response: Some(response),
    }
}

/// A legacy response carrying only `error`, for `request_id`.
pub(crate) fn error_rpc(request_id: String, error: HistoryError) -> HistoryRpc {
    HistoryRpc {
        request_id,
        query: None,
        response: Some(error_response(error)),
    }
}

/// The page `store` answers to `query`, without libp2p (as a service would
/// answer it): the messages, or the legacy error code as
/// [`ResponseError::Status`] (an unknown cursor is `INVALID_CURSOR`).
pub async fn answer_query(store: &dyn MessageStore, query: &Query) -> Result<Page, ResponseError> {
    Page::try_from(answer(store, query.into()).await)
}

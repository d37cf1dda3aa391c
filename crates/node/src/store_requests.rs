//! Store queries this node sends for its REST API, and their bookkeeping:
//! v3 queries, legacy queries, and v3 queries answered through the legacy
//! protocol when the store node serves only that (go-waku v0.10.3 does).
//!
//! A v3 query becomes a legacy `HistoryQuery` (hash lookups have no legacy
//! form and are refused); the legacy answer becomes a v3 response whose
//! message hashes are computed on the query's pubsub topic. A legacy cursor
//! is an `Index`, not a hash: the v3 cursor we hand out is the hash of the
//! page's last message, remembered with its `Index` (the last
//! [`REMEMBERED_CURSORS`]) so that the next page can be asked for.

use std::collections::{HashMap, VecDeque};

use libp2p::PeerId;
use libp2p::request_response::OutboundRequestId;
use tokio::sync::oneshot;
use waku_core::{MessageHash, WakuMessage, message_hash};
use waku_store::proto::StoreQueryRequest;
use waku_store::proto::v2beta4::paging_info::Direction;
use waku_store::proto::v2beta4::{ContentFilter, HistoryQuery, HistoryResponse, Index, PagingInfo};
use waku_store::{ResponseEntry, StoreResponse};

use crate::handle::RequestError;

/// Legacy cursors remembered for v3 queries answered through legacy.
pub(crate) const REMEMBERED_CURSORS: usize = 1024;

/// Where a v3 query's answer goes.
pub(crate) type V3Reply = oneshot::Sender<Result<StoreResponse, RequestError>>;
/// Where a legacy query's answer goes.
pub(crate) type LegacyReply = oneshot::Sender<Result<HistoryResponse, RequestError>>;

/// A v3 query in flight, kept whole so it can be asked again over legacy.
pub(crate) struct PendingV3 {
    pub(crate) peer_id: PeerId,
    pub(crate) request: StoreQueryRequest,
    pub(crate) reply: V3Reply,
}

/// What a legacy query in flight answers.
pub(crate) enum PendingLegacy {
    /// A legacy query (REST `/store/v1/messages`).
    Legacy(LegacyReply),
    /// A v3 query asked over legacy: the answer is turned back into v3.
    ForV3 {
        request: StoreQueryRequest,
        reply: V3Reply,
    },
}

/// Store queries in flight, and the legacy cursors handed out as hashes.
#[derive(Default)]
pub(crate) struct StoreRequests {
    pub(crate) v3: HashMap<OutboundRequestId, PendingV3>,
    pub(crate) legacy: HashMap<OutboundRequestId, PendingLegacy>,
    cursors: HashMap<MessageHash, Index>,
    cursor_order: VecDeque<MessageHash>,
}

impl StoreRequests {
    fn remember(&mut self, hash: MessageHash, index: Index) {
        if self.cursors.insert(hash, index).is_none() {
            self.cursor_order.push_back(hash);
        }
        while self.cursor_order.len() > REMEMBERED_CURSORS {
            if let Some(old) = self.cursor_order.pop_front() {
                self.cursors.remove(&old);
            }
        }
    }

    /// The legacy form of a v3 `request`.
    pub(crate) fn history_query_for(
        &self,
        request: &StoreQueryRequest,
    ) -> Result<HistoryQuery, RequestError> {
        if !request.message_hashes.is_empty() {
            return Err(RequestError::Store(
                "the store node serves only the legacy store, which cannot look up message hashes"
                    .into(),
            ));
        }
        let cursor = match request.pagination_cursor.as_deref() {
            None => None,
            Some(bytes) => {
                let known = MessageHash::from_slice(bytes).and_then(|h| self.cursors.get(&h));
                match known {
                    Some(index) => Some(index.clone()),
                    None => {
                        return Err(RequestError::Store(
                            "cursor not found: legacy store pages continue only from a cursor this node handed out"
                                .into(),
                        ));
                    }
                }
            }
        };
        let direction = if request.pagination_forward {
            Direction::Forward
        } else {
            Direction::Backward
        };
        Ok(HistoryQuery {
            pubsub_topic: request.pubsub_topic.clone(),
            content_filters: request
                .content_topics
                .iter()
                .map(|t| ContentFilter {
                    content_topic: t.clone(),
                })
                .collect(),
            paging_info: Some(PagingInfo {
                page_size: request.pagination_limit,
                cursor,
                direction: Some(direction as i32),
            }),
            start_time: request.time_start,
            end_time: request.time_end,
        })
    }

    /// The v3 form of the legacy answer `response` to `request`.
    pub(crate) fn store_response_from_legacy(
        &mut self,
        request: &StoreQueryRequest,
        response: HistoryResponse,
    ) -> StoreResponse {
        let topic = request.pubsub_topic.clone().unwrap_or_default();
        let messages: Vec<WakuMessage> = response
            .messages
            .into_iter()
            .filter_map(|m| WakuMessage::try_from(m).ok())
            .collect();
        let entries: Vec<ResponseEntry> = messages
            .into_iter()
            .map(|m| ResponseEntry {
                hash: message_hash(&topic, &m),
                value: request.include_data.then(|| (topic.clone(), m)),
            })
            .collect();
        let next = response.paging_info.and_then(|p| p.cursor);
        let cursor = match (next, entries.last()) {
            (Some(index), Some(last)) => {
                self.remember(last.hash, index);
                Some(last.hash)
            }
            _ => None,
        };
        StoreResponse {
            request_id: request.request_id.clone(),
            status_code: 200,
            status_desc: Some("OK".into()),
            entries,
            cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> StoreQueryRequest {
        StoreQueryRequest {
            request_id: "r".into(),
            include_data: true,
            pubsub_topic: Some("/waku/2/rs/42/0".into()),
            content_topics: vec!["/app/1/chat/proto".into()],
            time_start: Some(1),
            time_end: Some(2),
            pagination_forward: false,
            pagination_limit: Some(2),
            ..StoreQueryRequest::default()
        }
    }

    #[test]
    fn a_v3_query_and_its_pages_go_through_legacy() {
        let mut requests = StoreRequests::default();
        let query = requests.history_query_for(&request()).unwrap();
        assert_eq!(query.pubsub_topic.as_deref(), Some("/waku/2/rs/42/0"));
        assert_eq!(query.content_filters[0].content_topic, "/app/1/chat/proto");
        assert_eq!((query.start_time, query.end_time), (Some(1), Some(2)));
        let paging = query.paging_info.unwrap();
        assert_eq!(paging.page_size, Some(2));
        assert_eq!(paging.direction, Some(Direction::Backward as i32));
        assert_eq!(paging.cursor, None);

        let a = WakuMessage::new(b"a".to_vec(), "/app/1/chat/proto");
        let index = Index {
            digest: Some(vec![7; 32]),
            ..Index::default()
        };
        let answer = HistoryResponse {
            messages: vec![a.clone().into()],
            paging_info: Some(PagingInfo {
                cursor: Some(index.clone()),
                ..PagingInfo::default()
            }),
            error: Some(0),
        };
        let page = requests.store_response_from_legacy(&request(), answer);
        let hash = message_hash("/waku/2/rs/42/0", &a);
        assert_eq!(page.entries[0].hash, hash);
        assert_eq!(
            page.entries[0].value,
            Some(("/waku/2/rs/42/0".to_owned(), a))
        );
        assert_eq!(page.cursor, Some(hash));
        // The next page continues from the remembered Index.
        let mut next = request();
        next.pagination_cursor = Some(hash.as_bytes().to_vec());
        let query = requests.history_query_for(&next).unwrap();
        assert_eq!(query.paging_info.unwrap().cursor, Some(index));
        // An unknown cursor and hash lookups have no legacy form.
        next.pagination_cursor = Some(vec![1; 32]);
        assert!(requests.history_query_for(&next).is_err());
        let mut lookup = request();
        lookup.message_hashes = vec![vec![1; 32]];
        assert!(requests.history_query_for(&lookup).is_err());
    }

    #[test]
    fn remembered_cursors_are_bounded() {
        let mut requests = StoreRequests::default();
        for i in 0..(REMEMBERED_CURSORS + 10) {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
            requests.remember(MessageHash(bytes), Index::default());
        }
        assert_eq!(requests.cursors.len(), REMEMBERED_CURSORS);
        assert_eq!(requests.cursor_order.len(), REMEMBERED_CURSORS);
    }
}

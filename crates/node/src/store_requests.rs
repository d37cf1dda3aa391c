//! Store queries this node sends for its REST API, and their bookkeeping:
//! v3 queries, legacy queries, and v3 queries answered through the legacy
//! protocol when the store node serves only that (go-waku v0.10.3 does).
//!
//! A v3 query becomes a legacy query (hash lookups have no legacy
//! form and are refused); the legacy answer becomes a v3 response whose
//! message hashes are computed on the query's pubsub topic. A legacy cursor
//! is an `Index` ([`Cursor`]), not a hash: the v3 cursor we hand out is the hash of the
//! page's last message, remembered with its cursor (the last
//! [`REMEMBERED_CURSORS`]) so that the next page can be asked for.

use std::collections::{HashMap, VecDeque};

use libp2p::PeerId;
use libp2p::request_response::OutboundRequestId;
use tokio::sync::oneshot;
use waku_core::{MessageHash, message_hash};
use waku_store::legacy::{Cursor, Page, Query};
use waku_store::{ResponseEntry, StoreQuery, StoreResponse};

use crate::handle::{RequestError, StoreFailure};

/// Legacy cursors remembered for v3 queries answered through legacy.
pub(crate) const REMEMBERED_CURSORS: usize = 1024;

/// Where a v3 query's answer goes.
pub(crate) type V3Reply = oneshot::Sender<Result<StoreResponse, RequestError>>;
/// Where a legacy query's answer goes.
pub(crate) type LegacyReply = oneshot::Sender<Result<Page, RequestError>>;

/// A v3 query in flight, kept whole so it can be asked again over legacy.
pub(crate) struct PendingV3 {
    pub(crate) peer_id: PeerId,
    pub(crate) query: StoreQuery,
    pub(crate) reply: V3Reply,
}

/// What a legacy query in flight answers.
pub(crate) enum PendingLegacy {
    /// A legacy query (REST `/store/v1/messages`).
    Legacy(LegacyReply),
    /// A v3 query asked over legacy: the answer is turned back into v3.
    ForV3 { query: StoreQuery, reply: V3Reply },
}

/// Store queries in flight, and the legacy cursors handed out as hashes.
#[derive(Default)]
pub(crate) struct StoreRequests {
    pub(crate) v3: HashMap<OutboundRequestId, PendingV3>,
    pub(crate) legacy: HashMap<OutboundRequestId, PendingLegacy>,
    cursors: HashMap<MessageHash, Cursor>,
    cursor_order: VecDeque<MessageHash>,
}

impl StoreRequests {
    fn remember(&mut self, hash: MessageHash, cursor: Cursor) {
        if self.cursors.insert(hash, cursor).is_none() {
            self.cursor_order.push_back(hash);
        }
        while self.cursor_order.len() > REMEMBERED_CURSORS {
            if let Some(old) = self.cursor_order.pop_front() {
                self.cursors.remove(&old);
            }
        }
    }

    /// The legacy form of a v3 `query`.
    pub(crate) fn legacy_query_for(&self, query: &StoreQuery) -> Result<Query, RequestError> {
        if !query.message_hashes.is_empty() {
            return Err(StoreFailure::NoLegacyHashLookup.into());
        }
        let cursor = match &query.cursor {
            None => None,
            Some(hash) => match self.cursors.get(hash) {
                Some(cursor) => Some(cursor.clone()),
                None => return Err(StoreFailure::UnknownLegacyCursor.into()),
            },
        };
        let mut legacy = Query::default()
            .with_time_range(query.time_start, query.time_end)
            .with_cursor(cursor);
        legacy.pubsub_topic = query.pubsub_topic.clone();
        legacy.content_topics = query.content_topics.clone();
        legacy.page_size = query.limit;
        legacy.forward = query.forward;
        Ok(legacy)
    }

    /// The v3 form of the legacy answer `page` to `query`.
    pub(crate) fn store_response_from_legacy(
        &mut self,
        query: &StoreQuery,
        page: Page,
    ) -> StoreResponse {
        let topic = query.pubsub_topic.clone().unwrap_or_default();
        let entries: Vec<ResponseEntry> = page
            .messages
            .into_iter()
            .map(|m| ResponseEntry {
                hash: message_hash(&topic, &m),
                value: query.include_data.then(|| (topic.clone(), m)),
            })
            .collect();
        let cursor = match (page.cursor, entries.last()) {
            (Some(next), Some(last)) => {
                self.remember(last.hash, next);
                Some(last.hash)
            }
            _ => None,
        };
        StoreResponse {
            request_id: waku_core::new_request_id(),
            status_code: 200,
            status_desc: Some("OK".into()),
            entries,
            cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use waku_core::WakuMessage;

    use super::*;

    fn query() -> StoreQuery {
        StoreQuery::content("/waku/2/rs/42/0", ["/app/1/chat/proto"])
            .with_time_range(Some(1), Some(2))
            .backward()
            .with_limit(2)
    }

    #[test]
    fn a_v3_query_and_its_pages_go_through_legacy() {
        let mut requests = StoreRequests::default();
        let legacy = requests.legacy_query_for(&query()).unwrap();
        assert_eq!(legacy.pubsub_topic.as_deref(), Some("/waku/2/rs/42/0"));
        assert_eq!(legacy.content_topics, ["/app/1/chat/proto"]);
        assert_eq!((legacy.start_time, legacy.end_time), (Some(1), Some(2)));
        assert_eq!(legacy.page_size, Some(2));
        assert!(!legacy.forward);
        assert_eq!(legacy.cursor, None);

        let a = WakuMessage::new(b"a".to_vec(), "/app/1/chat/proto");
        let next = Cursor::new("/waku/2/rs/42/0", 5, 5, vec![7; 32]);
        let answer = Page::new(vec![a.clone()], Some(next.clone()));
        let page = requests.store_response_from_legacy(&query(), answer);
        let hash = message_hash("/waku/2/rs/42/0", &a);
        assert_eq!(page.entries[0].hash, hash);
        assert_eq!(
            page.entries[0].value,
            Some(("/waku/2/rs/42/0".to_owned(), a))
        );
        assert_eq!(page.cursor, Some(hash));
        // The next page continues from the remembered cursor.
        let legacy = requests
            .legacy_query_for(&query().with_cursor(Some(hash)))
            .unwrap();
        assert_eq!(legacy.cursor, Some(next));
        // An unknown cursor and hash lookups have no legacy form.
        assert!(
            requests
                .legacy_query_for(&query().with_cursor(Some(MessageHash([1; 32]))))
                .is_err()
        );
        assert!(
            requests
                .legacy_query_for(&StoreQuery::hashes([MessageHash([1; 32])]))
                .is_err()
        );
    }

    #[test]
    fn remembered_cursors_are_bounded() {
        let mut requests = StoreRequests::default();
        for i in 0..(REMEMBERED_CURSORS + 10) {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
            requests.remember(MessageHash(bytes), Cursor::default());
        }
        assert_eq!(requests.cursors.len(), REMEMBERED_CURSORS);
        assert_eq!(requests.cursor_order.len(), REMEMBERED_CURSORS);
    }
}

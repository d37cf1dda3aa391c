//! The legacy [`Behaviour`]: [`QueryService`] on
//! `/vac/waku/store/2.0.0-beta4` ([`LegacyStoreCodec`]).

use std::sync::Arc;

use libp2p::request_response::OutboundRequestId;
use libp2p::{PeerId, StreamProtocol};

use super::convert::{answer_history_query, error_rpc};
use super::types::{Page, Query};
use crate::codec::{LEGACY_PROTOCOL, LegacyStoreCodec};
use crate::event::QueryError;
use crate::message_store::MessageStore;
use crate::proto::v2beta4::HistoryRpc;
use crate::proto::v2beta4::history_response::Error as HistoryError;
use crate::query_service::{QueryService, StoreFlavour};
use crate::response::ResponseError;
use waku_core::new_request_id;

/// What the [`Behaviour`] reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A query we sent finished. A response whose `error` is not `NONE` is
    /// reported as [`QueryError::Response`] with that code.
    QueryResult {
        /// The peer asked.
        peer_id: PeerId,
        /// The id `send_query` returned.
        request_id: OutboundRequestId,
        /// The page or why there is none.
        result: Result<Page, QueryError>,
    },
    /// We answered a peer's query with this legacy error code (0 = none).
    Served {
        /// The peer.
        peer_id: PeerId,
        /// The `error` field we answered.
        error: i32,
    },
}

/// The legacy store behaviour: service ([`Behaviour::new`]) and
/// client ([`Behaviour::send_query`]), with the same
/// [`Config`](crate::Config) as v3.
pub type Behaviour = QueryService<LegacyStoreCodec>;

impl QueryService<LegacyStoreCodec> {
    /// Sends `query` to `peer` with a fresh request id.
    pub fn send_query(&mut self, peer: &PeerId, query: &Query) -> OutboundRequestId {
        let request_id = new_request_id();
        let rpc = HistoryRpc {
            request_id: request_id.clone(),
            query: Some(query.into()),
            response: None,
        };
        self.send_with_id(peer, request_id, rpc)
    }
}

/// Legacy: `HistoryRPC` both ways, the legacy error enum
/// (`TOO_MANY_REQUESTS` rate limited, `SERVICE_UNAVAILABLE` overloaded).
impl StoreFlavour for LegacyStoreCodec {
    type Query = HistoryRpc;
    type Event = Event;

    const PROTOCOL: StreamProtocol = LEGACY_PROTOCOL;
    const NAME: &'static str = "legacy store";

    async fn answer(store: Arc<dyn MessageStore>, rpc: HistoryRpc) -> HistoryRpc {
        answer_history_query(store.as_ref(), rpc).await
    }

    fn rate_limited(rpc: HistoryRpc) -> HistoryRpc {
        error_rpc(rpc.request_id, HistoryError::TooManyRequests)
    }

    fn overloaded(rpc: HistoryRpc) -> HistoryRpc {
        error_rpc(rpc.request_id, HistoryError::ServiceUnavailable)
    }

    /// An empty `HistoryRPC` (a zero-length frame): the legacy protocol has
    /// no error code for a bad request, and this is what nwaku answers.
    fn undecodable(_reason: &str) -> HistoryRpc {
        HistoryRpc::default()
    }

    fn served(peer_id: PeerId, rpc: &HistoryRpc) -> Event {
        Event::Served {
            peer_id,
            error: rpc
                .response
                .as_ref()
                .and_then(|r| r.error)
                .unwrap_or_default(),
        }
    }

    fn query_result(
        peer_id: PeerId,
        request_id: OutboundRequestId,
        outcome: Result<HistoryRpc, QueryError>,
    ) -> Event {
        Event::QueryResult {
            peer_id,
            request_id,
            result: outcome.and_then(history_response),
        }
    }

    fn response_request_id(rpc: &HistoryRpc) -> &str {
        &rpc.request_id
    }
}

/// The page `rpc` carries if its `error` is `NONE`; otherwise that code as
/// [`ResponseError::Status`].
fn history_response(rpc: HistoryRpc) -> Result<Page, QueryError> {
    let response = rpc.response.ok_or(ResponseError::MissingStatus)?;
    Ok(Page::try_from(response)?)
}

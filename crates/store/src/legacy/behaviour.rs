//! The legacy [`LegacyBehaviour`]: [`QueryService`] on
//! `/vac/waku/store/2.0.0-beta4` ([`LegacyStoreCodec`]).

use std::sync::Arc;

use libp2p::request_response::OutboundRequestId;
use libp2p::{PeerId, StreamProtocol};

use super::convert::{answer_history_query, error_rpc};
use crate::codec::{LEGACY_PROTOCOL, LegacyStoreCodec};
use crate::event::QueryError;
use crate::message_store::MessageStore;
use crate::proto::v2beta4::history_response::Error as HistoryError;
use crate::proto::v2beta4::{HistoryQuery, HistoryResponse, HistoryRpc};
use crate::query::new_request_id;
use crate::query_service::{QueryService, StoreFlavour};
use crate::response::ResponseError;

/// What the [`LegacyBehaviour`] reports.
#[derive(Debug)]
pub enum LegacyEvent {
    /// A query we sent finished. A response whose `error` is not `NONE` is
    /// reported as [`QueryError::Response`] with that code.
    QueryResult {
        /// The peer asked.
        peer_id: PeerId,
        /// The id `send_query` returned.
        request_id: OutboundRequestId,
        /// The response or why there is none.
        result: Result<HistoryResponse, QueryError>,
    },
    /// We answered a peer's query with this legacy error code (0 = none).
    Served {
        /// The peer.
        peer_id: PeerId,
        /// The `error` field we answered.
        error: i32,
    },
}

/// The legacy store behaviour: service ([`LegacyBehaviour::new`]) and
/// client ([`LegacyBehaviour::send_query`]), with the same
/// [`Config`](crate::Config) as v3.
pub type LegacyBehaviour = QueryService<LegacyStoreCodec>;

impl QueryService<LegacyStoreCodec> {
    /// Sends `query` to `peer` with a fresh request id.
    pub fn send_query(&mut self, peer: &PeerId, query: HistoryQuery) -> OutboundRequestId {
        let request_id = new_request_id();
        let rpc = HistoryRpc {
            request_id: request_id.clone(),
            query: Some(query),
            response: None,
        };
        self.send_with_id(peer, request_id, rpc)
    }
}

/// Legacy: `HistoryRPC` both ways, the legacy error enum
/// (`TOO_MANY_REQUESTS` rate limited, `SERVICE_UNAVAILABLE` overloaded).
impl StoreFlavour for LegacyStoreCodec {
    type Query = HistoryRpc;
    type Event = LegacyEvent;

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

    fn served(peer_id: PeerId, rpc: &HistoryRpc) -> LegacyEvent {
        LegacyEvent::Served {
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
    ) -> LegacyEvent {
        LegacyEvent::QueryResult {
            peer_id,
            request_id,
            result: outcome.and_then(history_response),
        }
    }

    fn response_request_id(rpc: &HistoryRpc) -> &str {
        &rpc.request_id
    }
}

/// The response `rpc` carries if its `error` is `NONE`; otherwise that code
/// as [`ResponseError::Status`].
fn history_response(rpc: HistoryRpc) -> Result<HistoryResponse, QueryError> {
    let response = rpc.response.ok_or(ResponseError::MissingStatus)?;
    match response.error.unwrap_or_default() {
        0 => Ok(response),
        code => Err(ResponseError::Status {
            code: u32::try_from(code).unwrap_or_default(),
            desc: HistoryError::try_from(code)
                .map(|e| e.as_str_name().to_owned())
                .unwrap_or_default(),
        }
        .into()),
    }
}

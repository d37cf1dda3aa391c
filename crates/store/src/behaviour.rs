//! The v3 [`Behaviour`]: [`QueryService`] on `/vac/waku/store-query/3.0.0`
//! ([`StoreCodec`]), serving from a [`MessageStore`] and sending queries to
//! other store nodes.

use std::sync::Arc;

use libp2p::request_response::OutboundRequestId;
use libp2p::{PeerId, StreamProtocol};

use crate::codec::{PROTOCOL, StoreCodec};
use crate::event::{Event, QueryError};
use crate::message_store::MessageStore;
use crate::proto::{StoreQueryRequest, StoreQueryResponse};
use crate::query::StoreQuery;
use crate::query_service::{QueryService, StoreFlavour};
use crate::response::{StoreResponse, error_response, status};
use crate::service::answer_request;

/// The 13/WAKU2-STORE v3 behaviour.
///
/// - As a service ([`Behaviour::new`]): answers every query from the
///   [`MessageStore`]; pages come oldest-first, `request_id` is echoed and
///   `status_code` always set. A peer beyond its
///   [`Config::rate_limit`](crate::Config::rate_limit) (one token bucket per
///   peer) is answered 429; beyond
///   [`Config::max_pending_queries`](crate::Config::max_pending_queries)
///   concurrent queries it answers 503. Backend calls run as futures polled
///   by the behaviour: the swarm task never waits on disk.
/// - As a client (either constructor): [`Behaviour::send_query`] sends a
///   query; its outcome arrives as [`Event::QueryResult`].
///
/// Inbound streams that carry no request (js-waku opens some ahead of time
/// and closes them unused) are dropped quietly after
/// [`Config::request_timeout`](crate::Config::request_timeout).
pub type Behaviour = QueryService<StoreCodec>;

impl QueryService<StoreCodec> {
    /// Sends `query` to `peer` with a fresh request id: 10 random bytes in
    /// hex, the form nwaku's store client and REST API use.
    pub fn send_query(&mut self, peer: &PeerId, query: &StoreQuery) -> OutboundRequestId {
        let request_id = hex::encode(rand::random::<[u8; 10]>());
        self.send_with_id(peer, request_id.clone(), query.to_request(request_id))
    }
}

/// v3: status codes (429 rate limited, 503 overloaded) and checked
/// [`StoreResponse`]s.
impl StoreFlavour for StoreCodec {
    type Query = StoreQueryRequest;
    type Event = Event;

    const PROTOCOL: StreamProtocol = PROTOCOL;
    const NAME: &'static str = "store";

    async fn answer(
        store: Arc<dyn MessageStore>,
        request: StoreQueryRequest,
    ) -> StoreQueryResponse {
        answer_request(store.as_ref(), request).await
    }

    fn rate_limited(request: StoreQueryRequest) -> StoreQueryResponse {
        error_response(
            request.request_id,
            status::TOO_MANY_REQUESTS,
            "the service's query rate limit is exhausted, retry later",
        )
    }

    fn overloaded(request: StoreQueryRequest) -> StoreQueryResponse {
        error_response(
            request.request_id,
            status::SERVICE_UNAVAILABLE,
            "too many queries in progress, retry later",
        )
    }

    /// 400 with nwaku's "decoding rpc failed: ..." and no request id (the
    /// frame's own could not be read), as nwaku answers.
    fn undecodable(reason: &str) -> StoreQueryResponse {
        StoreQueryResponse {
            status_code: Some(status::BAD_REQUEST),
            status_desc: Some(format!("decoding rpc failed: {reason}")),
            ..StoreQueryResponse::default()
        }
    }

    fn served(peer_id: PeerId, response: &StoreQueryResponse) -> Event {
        Event::Served {
            peer_id,
            status_code: response.status_code.unwrap_or_default(),
        }
    }

    fn query_result(
        peer_id: PeerId,
        request_id: OutboundRequestId,
        outcome: Result<StoreQueryResponse, QueryError>,
    ) -> Event {
        Event::QueryResult {
            peer_id,
            request_id,
            result: outcome.and_then(|r| StoreResponse::try_from(r).map_err(QueryError::from)),
        }
    }

    fn response_request_id(response: &StoreQueryResponse) -> &str {
        &response.request_id
    }
}

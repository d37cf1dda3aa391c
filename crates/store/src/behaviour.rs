//! The v3 `NetworkBehaviour`: serves `/vac/waku/store-query/3.0.0` from a
//! [`MessageStore`] and sends queries to other store nodes.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use libp2p::PeerId;
use libp2p::request_response::{
    self, Message, OutboundRequestId, ProtocolSupport, ResponseChannel,
};
use libp2p::swarm::{NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use waku_core::rate_limit::PeerRateLimiter;

use crate::codec::{PROTOCOL, StoreCodec};
use crate::config::Config;
use crate::delegate::delegate_to_inner;
use crate::event::{Event, QueryError};
use crate::message_store::MessageStore;
use crate::proto::{StoreQueryRequest, StoreQueryResponse};
use crate::query::{StoreQuery, new_request_id};
use crate::response::{StoreResponse, error_response, status};
use crate::service::answer_query;

type Inner = request_response::Behaviour<StoreCodec>;
type Answer = (
    PeerId,
    ResponseChannel<StoreQueryResponse>,
    StoreQueryResponse,
);

/// The 13/WAKU2-STORE v3 behaviour.
///
/// - As a service ([`Behaviour::new`]): answers every query from the
///   [`MessageStore`]; pages come oldest-first, `request_id` is echoed and
///   `status_code` always set. A peer beyond its [`Config::rate_limit`]
///   (one token bucket per peer) is answered 429; beyond
///   [`Config::max_pending_queries`] concurrent queries it answers 503.
///   Backend calls run as futures polled by the behaviour: the swarm task
///   never waits on disk.
/// - As a client (either constructor): [`Behaviour::send_query`] sends a
///   query; its outcome arrives as [`Event::QueryResult`].
///
/// Inbound streams that carry no request (js-waku opens some ahead of time
/// and closes them unused) are dropped quietly after
/// [`Config::request_timeout`].
pub struct Behaviour {
    inner: Inner,
    store: Option<Arc<dyn MessageStore>>,
    config: Config,
    /// One token bucket per requesting peer ([`Config::rate_limit`]).
    limiter: PeerRateLimiter<PeerId>,
    answering: FuturesUnordered<BoxFuture<'static, Answer>>,
    sent: HashMap<OutboundRequestId, String>,
    events: VecDeque<Event>,
}

impl Behaviour {
    /// A store service answering from `store`, able to query others too.
    pub fn new(store: Arc<dyn MessageStore>, config: Config) -> Self {
        Self::build(Some(store), config, ProtocolSupport::Full)
    }

    /// A client only: does not announce or serve the protocol.
    pub fn client(config: Config) -> Self {
        Self::build(None, config, ProtocolSupport::Outbound)
    }

    fn build(
        store: Option<Arc<dyn MessageStore>>,
        config: Config,
        support: ProtocolSupport,
    ) -> Self {
        let rr = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(config.max_concurrent_streams);
        Self {
            inner: Inner::with_codec(StoreCodec::default(), [(PROTOCOL, support)], rr),
            store,
            limiter: PeerRateLimiter::new(config.rate_limit),
            config,
            answering: FuturesUnordered::new(),
            sent: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store served, if this is a service.
    pub fn store(&self) -> Option<&Arc<dyn MessageStore>> {
        self.store.as_ref()
    }

    /// Sends `query` to `peer` with a fresh request id.
    pub fn send_query(&mut self, peer: &PeerId, query: &StoreQuery) -> OutboundRequestId {
        self.send_request(peer, query.to_request(new_request_id()))
    }

    /// Sends a wire request as given (for clients that set their own
    /// request ids).
    pub fn send_request(&mut self, peer: &PeerId, request: StoreQueryRequest) -> OutboundRequestId {
        let request_id = request.request_id.clone();
        let id = self.inner.send_request(peer, request);
        self.sent.insert(id, request_id);
        id
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        request: StoreQueryRequest,
        channel: ResponseChannel<StoreQueryResponse>,
    ) {
        let Some(store) = self.store.clone() else {
            return;
        };
        if !self.limiter.try_acquire(&peer, Instant::now()) {
            let response = error_response(
                request.request_id,
                status::TOO_MANY_REQUESTS,
                "the service's query rate limit is exhausted, retry later",
            );
            self.respond(peer, channel, response);
            return;
        }
        if self.answering.len() >= self.config.max_pending_queries {
            let response = error_response(
                request.request_id,
                status::SERVICE_UNAVAILABLE,
                "too many queries in progress, retry later",
            );
            self.respond(peer, channel, response);
            return;
        }
        self.answering.push(Box::pin(async move {
            let response = answer_query(store.as_ref(), request).await;
            (peer, channel, response)
        }));
    }

    fn respond(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<StoreQueryResponse>,
        response: StoreQueryResponse,
    ) {
        let status_code = response.status_code.unwrap_or_default();
        if self.inner.send_response(channel, response).is_err() {
            tracing::debug!(%peer, "store query dropped before we answered");
            return;
        }
        self.events.push_back(Event::Served {
            peer_id: peer,
            status_code,
        });
    }

    fn on_inner_event(
        &mut self,
        event: request_response::Event<StoreQueryRequest, StoreQueryResponse>,
    ) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_request(peer, request, channel),
            request_response::Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let sent = self.sent.remove(&request_id).unwrap_or_default();
                let result = if response.request_id != sent {
                    Err(QueryError::WrongRequestId {
                        sent,
                        got: response.request_id,
                    })
                } else {
                    StoreResponse::try_from(response).map_err(QueryError::from)
                };
                self.events.push_back(Event::QueryResult {
                    peer_id: peer,
                    request_id,
                    result,
                });
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.sent.remove(&request_id);
                self.events.push_back(Event::QueryResult {
                    peer_id: peer,
                    request_id,
                    result: Err(error.into()),
                });
            }
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(%peer, %request_id, %error, "inbound store query failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = THandler<Inner>;
    type ToSwarm = Event;

    delegate_to_inner!();

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Poll::Ready(ToSwarm::GenerateEvent(event));
            }
            if let Poll::Ready(Some((peer, channel, response))) = self.answering.poll_next_unpin(cx)
            {
                self.respond(peer, channel, response);
                continue;
            }
            waku_core::poll_inner_step!(self, cx);
        }
    }
}

//! [`QueryService`]: the one `NetworkBehaviour` behind both store protocols,
//! generic over a [`StoreFlavour`]: the codec of v3 or of legacy, with
//! what differs between the two.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use libp2p::request_response::{
    self, Message, OutboundRequestId, ProtocolSupport, ResponseChannel,
};
use libp2p::swarm::{FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use libp2p::{PeerId, StreamProtocol};
use waku_core::rate_limit::PeerRateLimiter;

use crate::codec::Inbound;
use crate::config::Config;
use crate::event::QueryError;
use crate::message_store::MessageStore;

/// A store protocol as [`QueryService`] serves it: its codec (the wire
/// types, [`StoreCodec`](crate::StoreCodec) or
/// [`LegacyStoreCodec`](crate::LegacyStoreCodec)) plus what differs between
/// the protocols: answers, refusals, response checks and events.
pub trait StoreFlavour:
    request_response::Codec<Protocol = StreamProtocol, Request = Inbound<Self::Query>>
    + Default
    + Clone
    + Send
    + 'static
{
    /// The protocol's decoded request.
    type Query: Send + 'static;
    /// What the behaviour reports to the swarm.
    type Event: Send + 'static;

    /// The protocol id served and dialled.
    const PROTOCOL: StreamProtocol;
    /// The protocol's name in log lines ("store", "legacy store").
    const NAME: &'static str;

    /// The answer to `request` from `store`.
    fn answer(
        store: Arc<dyn MessageStore>,
        request: Self::Query,
    ) -> impl Future<Output = Self::Response> + Send + 'static;
    /// The answer to a peer beyond its [`Config::rate_limit`].
    fn rate_limited(request: Self::Query) -> Self::Response;
    /// The answer beyond [`Config::max_pending_queries`].
    fn overloaded(request: Self::Query) -> Self::Response;
    /// The answer to a frame that did not decode; `reason` says why.
    fn undecodable(reason: &str) -> Self::Response;
    /// The event for `response`, sent to `peer_id`'s query (it carries the
    /// response's status).
    fn served(peer_id: PeerId, response: &Self::Response) -> Self::Event;
    /// The event for a query of ours that finished: `outcome` is the
    /// response, its request id already matched to ours, or why there is
    /// none; the flavour checks the response into the event's result.
    fn query_result(
        peer_id: PeerId,
        request_id: OutboundRequestId,
        outcome: Result<Self::Response, QueryError>,
    ) -> Self::Event;
    /// The request id `response` echoes.
    fn response_request_id(response: &Self::Response) -> &str;
}

type Answer<F> = (
    PeerId,
    ResponseChannel<<F as request_response::Codec>::Response>,
    <F as request_response::Codec>::Response,
);

/// A store behaviour, service and client, for the protocol `F` describes
/// (used as [`Behaviour`](crate::Behaviour) and
/// [`LegacyBehaviour`](crate::LegacyBehaviour)).
///
/// - As a service ([`QueryService::new`]): answers every query from the
///   [`MessageStore`]. A peer beyond its [`Config::rate_limit`] (one token
///   bucket per peer) is refused with [`StoreFlavour::rate_limited`];
///   beyond [`Config::max_pending_queries`] concurrent queries with
///   [`StoreFlavour::overloaded`]. Backend calls run as futures polled by
///   the behaviour: the swarm task never waits on disk.
/// - As a client (either constructor): a query sent with the flavour's
///   `send_query` arrives as [`StoreFlavour::query_result`].
///
/// Inbound streams that carry no request (js-waku opens some ahead of time
/// and closes them unused) are dropped quietly after
/// [`Config::request_timeout`].
pub struct QueryService<F: StoreFlavour> {
    inner: request_response::Behaviour<F>,
    store: Option<Arc<dyn MessageStore>>,
    config: Config,
    /// One token bucket per requesting peer ([`Config::rate_limit`]).
    limiter: PeerRateLimiter<PeerId>,
    answering: FuturesUnordered<BoxFuture<'static, Answer<F>>>,
    sent: HashMap<OutboundRequestId, String>,
    events: VecDeque<F::Event>,
}

impl<F: StoreFlavour> QueryService<F> {
    /// A service answering from `store`, able to query others too.
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
            inner: request_response::Behaviour::with_codec(
                F::default(),
                [(F::PROTOCOL, support)],
                rr,
            ),
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

    /// Sends `request`, whose request id is `request_id`.
    pub(crate) fn send_with_id(
        &mut self,
        peer: &PeerId,
        request_id: String,
        request: F::Query,
    ) -> OutboundRequestId {
        let id = self.inner.send_request(peer, Inbound::Query(request));
        self.sent.insert(id, request_id);
        id
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        request: F::Request,
        channel: ResponseChannel<F::Response>,
    ) {
        let Some(store) = self.store.clone() else {
            return;
        };
        // Undecodable frames count against the peer's rate limit too, so
        // garbage cannot be sent faster than queries.
        let limited = !self.limiter.try_acquire(&peer, Instant::now());
        let request = match request {
            Inbound::Query(request) => request,
            Inbound::Undecodable(reason) => {
                tracing::debug!(%peer, %reason, "undecodable {} query", F::NAME);
                self.respond(peer, channel, F::undecodable(&reason));
                return;
            }
        };
        if limited {
            self.respond(peer, channel, F::rate_limited(request));
            return;
        }
        if self.answering.len() >= self.config.max_pending_queries {
            self.respond(peer, channel, F::overloaded(request));
            return;
        }
        let answer = F::answer(store, request);
        self.answering.push(Box::pin(async move {
            let response = answer.await;
            (peer, channel, response)
        }));
    }

    fn respond(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<F::Response>,
        response: F::Response,
    ) {
        let served = F::served(peer, &response);
        if self.inner.send_response(channel, response).is_err() {
            tracing::debug!(%peer, "{} query dropped before we answered", F::NAME);
            return;
        }
        self.events.push_back(served);
    }

    fn on_response(&mut self, peer: PeerId, request_id: OutboundRequestId, response: F::Response) {
        let sent = self.sent.remove(&request_id).unwrap_or_default();
        let got = F::response_request_id(&response);
        let outcome = if got != sent {
            Err(QueryError::WrongRequestId {
                sent,
                got: got.to_owned(),
            })
        } else {
            Ok(response)
        };
        self.events
            .push_back(F::query_result(peer, request_id, outcome));
    }

    fn on_inner_event(&mut self, event: request_response::Event<F::Request, F::Response>) {
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
            } => self.on_response(peer, request_id, response),
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.sent.remove(&request_id);
                self.events
                    .push_back(F::query_result(peer, request_id, Err(error.into())));
            }
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(%peer, %request_id, %error, "inbound {} query failed", F::NAME);
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

impl<F: StoreFlavour> NetworkBehaviour for QueryService<F> {
    type ConnectionHandler = THandler<request_response::Behaviour<F>>;
    type ToSwarm = F::Event;

    waku_core::forward_connection_setup!();

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<F::Event, THandlerInEvent<Self>>> {
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

//! The legacy `NetworkBehaviour` on `/vac/waku/store/2.0.0-beta4`.

use std::collections::VecDeque;
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

use super::convert::{answer_history_query, error_rpc};
use crate::codec::{LEGACY_PROTOCOL, LegacyStoreCodec};
use crate::config::Config;
use crate::delegate::delegate_to_inner;
use crate::event::QueryError;
use crate::message_store::MessageStore;
use crate::proto::v2beta4::history_response::Error as HistoryError;
use crate::proto::v2beta4::{HistoryQuery, HistoryResponse, HistoryRpc};
use crate::query::new_request_id;
use crate::response::ResponseError;

type Inner = request_response::Behaviour<LegacyStoreCodec>;
type Answer = (PeerId, ResponseChannel<HistoryRpc>, HistoryRpc);

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
/// client ([`LegacyBehaviour::send_query`]), with the same [`Config`] as v3.
pub struct LegacyBehaviour {
    inner: Inner,
    store: Option<Arc<dyn MessageStore>>,
    config: Config,
    /// One token bucket per requesting peer ([`Config::rate_limit`]).
    limiter: PeerRateLimiter<PeerId>,
    answering: FuturesUnordered<BoxFuture<'static, Answer>>,
    sent: std::collections::HashMap<OutboundRequestId, String>,
    events: VecDeque<LegacyEvent>,
}

impl LegacyBehaviour {
    /// A legacy service answering from `store`.
    pub fn new(store: Arc<dyn MessageStore>, config: Config) -> Self {
        Self::build(Some(store), config, ProtocolSupport::Full)
    }

    /// A legacy client only.
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
            inner: Inner::with_codec(
                LegacyStoreCodec::default(),
                [(LEGACY_PROTOCOL, support)],
                rr,
            ),
            store,
            limiter: PeerRateLimiter::new(config.rate_limit),
            config,
            answering: FuturesUnordered::new(),
            sent: Default::default(),
            events: VecDeque::new(),
        }
    }

    /// Sends `query` to `peer` with a fresh request id.
    pub fn send_query(&mut self, peer: &PeerId, query: HistoryQuery) -> OutboundRequestId {
        let request_id = new_request_id();
        let rpc = HistoryRpc {
            request_id: request_id.clone(),
            query: Some(query),
            response: None,
        };
        let id = self.inner.send_request(peer, rpc);
        self.sent.insert(id, request_id);
        id
    }

    fn on_request(&mut self, peer: PeerId, rpc: HistoryRpc, channel: ResponseChannel<HistoryRpc>) {
        let Some(store) = self.store.clone() else {
            return;
        };
        if !self.limiter.try_acquire(&peer, Instant::now()) {
            self.respond(
                peer,
                channel,
                error_rpc(rpc.request_id, HistoryError::TooManyRequests),
            );
            return;
        }
        if self.answering.len() >= self.config.max_pending_queries {
            self.respond(
                peer,
                channel,
                error_rpc(rpc.request_id, HistoryError::ServiceUnavailable),
            );
            return;
        }
        self.answering.push(Box::pin(async move {
            let response = answer_history_query(store.as_ref(), rpc).await;
            (peer, channel, response)
        }));
    }

    fn respond(&mut self, peer: PeerId, channel: ResponseChannel<HistoryRpc>, rpc: HistoryRpc) {
        let error = rpc
            .response
            .as_ref()
            .and_then(|r| r.error)
            .unwrap_or_default();
        if self.inner.send_response(channel, rpc).is_err() {
            tracing::debug!(%peer, "legacy store query dropped before we answered");
            return;
        }
        self.events.push_back(LegacyEvent::Served {
            peer_id: peer,
            error,
        });
    }

    fn on_response(&mut self, peer: PeerId, request_id: OutboundRequestId, rpc: HistoryRpc) {
        let sent = self.sent.remove(&request_id).unwrap_or_default();
        let result = if rpc.request_id != sent {
            Err(QueryError::WrongRequestId {
                sent,
                got: rpc.request_id,
            })
        } else {
            match rpc.response {
                None => Err(ResponseError::MissingStatus.into()),
                Some(r) => match r.error.unwrap_or_default() {
                    0 => Ok(r),
                    code => Err(ResponseError::Status {
                        code: u32::try_from(code).unwrap_or_default(),
                        desc: HistoryError::try_from(code)
                            .map(|e| e.as_str_name().to_owned())
                            .unwrap_or_default(),
                    }
                    .into()),
                },
            }
        };
        self.events.push_back(LegacyEvent::QueryResult {
            peer_id: peer,
            request_id,
            result,
        });
    }

    fn on_inner_event(&mut self, event: request_response::Event<HistoryRpc, HistoryRpc>) {
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
                self.events.push_back(LegacyEvent::QueryResult {
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
                tracing::debug!(%peer, %request_id, %error, "inbound legacy store query failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

impl NetworkBehaviour for LegacyBehaviour {
    type ConnectionHandler = THandler<Inner>;
    type ToSwarm = LegacyEvent;

    delegate_to_inner!();

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<LegacyEvent, THandlerInEvent<Self>>> {
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

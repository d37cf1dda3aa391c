//! The peer-exchange service `NetworkBehaviour`.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::{self, Message, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use waku_core::{PeerRateLimiter, forward_connection_setup};
use waku_enr::WakuEnr;

use super::cache::EnrCache;
use super::config::Config;
use crate::peer_exchange::StatusCode;
use crate::peer_exchange::codec::{InboundRequest, PROTOCOL, ServiceCodec};
use crate::peer_exchange::proto::{PeerExchangeResponse, PeerExchangeRpc, PeerInfo};

type Inner = request_response::Behaviour<ServiceCodec>;
type InnerEvent = request_response::Event<InboundRequest, PeerExchangeRpc>;

/// What the peer-exchange service reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A request was answered with 200 and `sent` ENRs.
    Answered {
        /// The requester.
        peer: PeerId,
        /// How many it asked for.
        requested: u64,
        /// How many it got.
        sent: usize,
    },
    /// A request was answered with an error status.
    Refused {
        /// The requester.
        peer: PeerId,
        /// The status answered.
        status: StatusCode,
        /// The description answered, if any.
        description: Option<String>,
    },
}

/// The peer-exchange service `NetworkBehaviour`.
///
/// Answers each request with at most `num_peers` ENRs (and at most
/// [`Config::max_peers_per_response`]) drawn at random from its cache,
/// never the requester's own record. A request over the per-peer rate
/// limit gets 429, an unreadable one 400; an empty cache gives a 200 with
/// no peers, as nwaku answers. Every answer ends the stream.
pub struct Behaviour {
    inner: Inner,
    config: Config,
    cache: EnrCache,
    limiter: PeerRateLimiter<PeerId>,
    events: VecDeque<Event>,
}

impl Behaviour {
    /// A service with `config` and an empty cache.
    pub fn new(config: Config) -> Self {
        let rr_config = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(config.max_concurrent_streams);
        Self {
            inner: Inner::with_codec(
                ServiceCodec,
                [(PROTOCOL, ProtocolSupport::Inbound)],
                rr_config,
            ),
            cache: EnrCache::new(config.cache_size, config.record_ttl),
            limiter: PeerRateLimiter::new(config.rate_limit),
            config,
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Adds (or renews) a record to hand out, typically one found by
    /// discv5 or DNS discovery. The spec wants these from random sampling,
    /// not the node's own connected peers. Returns `false` when a newer
    /// record of the same node is already cached.
    pub fn add_record(&mut self, enr: WakuEnr) -> bool {
        self.cache.insert(enr, Instant::now())
    }

    /// Removes the record of node `node_id`; returns whether one was cached.
    pub fn remove_record(&mut self, node_id: &[u8; 32]) -> bool {
        self.cache.remove(node_id)
    }

    /// The cache.
    pub fn cache(&self) -> &EnrCache {
        &self.cache
    }

    fn respond(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<PeerExchangeRpc>,
        response: PeerExchangeResponse,
    ) {
        let rpc = PeerExchangeRpc {
            query: None,
            response: Some(response),
        };
        if self.inner.send_response(channel, rpc).is_err() {
            tracing::debug!(%peer, "peer-exchange requester gone before the answer");
        }
    }

    fn refuse(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<PeerExchangeRpc>,
        status: StatusCode,
        description: Option<String>,
    ) {
        tracing::debug!(%peer, %status, ?description, "peer-exchange request refused");
        self.respond(
            peer,
            channel,
            PeerExchangeResponse {
                peer_infos: Vec::new(),
                status_code: Some(status.0),
                status_desc: description.clone(),
            },
        );
        self.events.push_back(Event::Refused {
            peer,
            status,
            description,
        });
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        request: InboundRequest,
        channel: ResponseChannel<PeerExchangeRpc>,
    ) {
        let now = Instant::now();
        if !self.limiter.try_acquire(&peer, now) {
            // nwaku sends no description with 429.
            return self.refuse(peer, channel, StatusCode::TOO_MANY_REQUESTS, None);
        }
        let num_peers = match request {
            InboundRequest::Query { num_peers } => num_peers,
            InboundRequest::Malformed(reason) => {
                return self.refuse(peer, channel, StatusCode::BAD_REQUEST, Some(reason));
            }
        };
        let wanted = usize::try_from(num_peers)
            .unwrap_or(usize::MAX)
            .min(self.config.max_peers_per_response);
        let peer_infos: Vec<PeerInfo> = self
            .cache
            .sample(wanted, now, Some(&peer))
            .into_iter()
            .map(|enr| PeerInfo { enr })
            .collect();
        let sent = peer_infos.len();
        tracing::debug!(%peer, requested = num_peers, sent, "peer-exchange request answered");
        self.respond(
            peer,
            channel,
            PeerExchangeResponse {
                peer_infos,
                status_code: Some(StatusCode::SUCCESS.0),
                status_desc: None,
            },
        );
        self.events.push_back(Event::Answered {
            peer,
            requested: num_peers,
            sent,
        });
    }

    fn on_inner_event(&mut self, event: InnerEvent) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_request(peer, request, channel),
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound peer-exchange request failed");
            }
            request_response::Event::Message {
                message: Message::Response { .. },
                ..
            }
            | request_response::Event::OutboundFailure { .. }
            | request_response::Event::ResponseSent { .. } => {}
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = THandler<Inner>;
    type ToSwarm = Event;

    forward_connection_setup!();

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Poll::Ready(ToSwarm::GenerateEvent(event));
            }
            waku_core::poll_inner_step!(self, cx);
        }
    }
}

//! The lightpush service: answers `/vac/waku/lightpush/3.0.0` and the legacy
//! `/vac/waku/lightpush/2.0.0-beta1`, handing admitted messages to the node.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::task::{Context, Poll};
use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::{
    self, InboundFailure, InboundRequestId, Message, ProtocolSupport, ResponseChannel,
};
use libp2p::swarm::{FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use waku_core::WakuMessage;
use waku_core::now_nanos;
use waku_core::proto::message::v1 as pb;

use crate::codec::{InboundRequest, OutboundResponse, REQUEST_OVERHEAD, ServiceCodec, Version};
use crate::config::ServiceConfig;
use crate::proto::{LightPushResponse, PushResponse, PushRpc};
use crate::validate::{Refusal, admit};
use crate::{PublishFailure, StatusCode};
use waku_core::PeerRateLimiter;
use waku_core::forward_connection_setup;

type Inner = request_response::Behaviour<ServiceCodec>;
type InnerEvent = request_response::Event<InboundRequest, OutboundResponse>;

/// Request id put in answers to requests whose own id is unknown (the frame
/// could not be decoded), as nwaku does.
pub const UNKNOWN_REQUEST_ID: &str = "N/A";

/// Identifies one publish the service asked the node for; give it back to
/// [`Behaviour::publish_result`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublishId(u64);

impl fmt::Display for PublishId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "publish#{}", self.0)
    }
}

/// What the lightpush service reports to the node.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A request passed every check: publish `message` on `pubsub_topic`
    /// (through relay) and report the outcome with
    /// [`Behaviour::publish_result`]. Until then the client waits; after
    /// [`ServiceConfig::request_timeout`] the request is dropped
    /// ([`Event::Abandoned`]).
    PublishRequest {
        /// Pass it to [`Behaviour::publish_result`].
        id: PublishId,
        /// The client.
        peer: PeerId,
        /// The protocol the client used.
        version: Version,
        /// Where to publish: as requested, or derived from the content
        /// topic.
        pubsub_topic: String,
        /// The message, as received.
        message: Box<WakuMessage>,
    },
    /// A request was answered with an error without reaching the node.
    Refused {
        /// The client.
        peer: PeerId,
        /// The protocol the client used.
        version: Version,
        /// The client's request id ([`UNKNOWN_REQUEST_ID`] if unreadable).
        request_id: String,
        /// The code answered (v2 answers carry only "failed" and the text).
        status: StatusCode,
        /// The description answered.
        description: String,
    },
    /// A publish request died before the node answered it: the stream timed
    /// out or the connection closed. A later `publish_result` for it returns
    /// `false`.
    Abandoned {
        /// The publish.
        id: PublishId,
        /// The client.
        peer: PeerId,
    },
}

/// A request handed to the node, waiting for its outcome.
#[derive(Debug)]
struct Pending {
    channel: ResponseChannel<OutboundResponse>,
    peer: PeerId,
    version: Version,
    request_id: String,
    inbound: InboundRequestId,
}

/// The lightpush service `NetworkBehaviour`.
///
/// Every request is checked in this order and answered with the first
/// failing check's code: per-peer rate (429), frame size (413), decoding
/// (400), message presence (400), message size (413), `meta` (420), pubsub
/// topic present or derivable (400), served (421), timestamp (420), room
/// for another pending publish (503). A request passing all of them becomes
/// [`Event::PublishRequest`]; the node publishes and calls
/// [`Behaviour::publish_result`], which answers 200 with `relay_peer_count`
/// or the failure's code. Every answer closes the stream.
pub struct Behaviour {
    inner: Inner,
    config: ServiceConfig,
    limiter: PeerRateLimiter<PeerId>,
    pending: HashMap<PublishId, Pending>,
    by_inbound: HashMap<InboundRequestId, PublishId>,
    next_id: u64,
    events: VecDeque<Event>,
}

impl Behaviour {
    /// A service with `config`.
    pub fn new(config: ServiceConfig) -> Self {
        let mut protocols = vec![(Version::V3.protocol(), ProtocolSupport::Inbound)];
        if config.serve_legacy {
            protocols.push((Version::V2.protocol(), ProtocolSupport::Inbound));
        }
        let codec = ServiceCodec {
            max_request_size: config
                .validator
                .max_message_size
                .saturating_add(REQUEST_OVERHEAD),
        };
        let rr_config = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(config.max_concurrent_streams);
        Self {
            inner: Inner::with_codec(codec, protocols, rr_config),
            limiter: PeerRateLimiter::new(config.rate_limit),
            config,
            pending: HashMap::new(),
            by_inbound: HashMap::new(),
            next_id: 0,
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// Publish requests handed to the node and not answered yet.
    pub fn pending_publishes(&self) -> usize {
        self.pending.len()
    }

    /// Answers the publish `id`: `Ok(relay_peer_count)` sends 200 with that
    /// count, `Err(failure)` sends the failure's code
    /// ([`PublishFailure::status`]) and text. Returns `false` when `id` is
    /// unknown: already answered or abandoned.
    pub fn publish_result(&mut self, id: PublishId, result: Result<u32, PublishFailure>) -> bool {
        let Some(pending) = self.pending.remove(&id) else {
            return false;
        };
        self.by_inbound.remove(&pending.inbound);
        let (status, description, count) = match result {
            Ok(count) => (StatusCode::SUCCESS, None, Some(count)),
            Err(failure) => (
                failure.status(),
                Some(failure.description(pending.version)),
                None,
            ),
        };
        tracing::debug!(peer = %pending.peer, %id, %status, "lightpush answered");
        let response = build_response(
            pending.version,
            pending.request_id,
            status,
            description,
            count,
        );
        if self.inner.send_response(pending.channel, response).is_err() {
            tracing::debug!(peer = %pending.peer, %id, "lightpush client gone before the answer");
        }
        true
    }

    fn refuse(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<OutboundResponse>,
        version: Version,
        request_id: String,
        refusal: Refusal,
    ) {
        tracing::debug!(%peer, status = %refusal.status, reason = %refusal.description, "lightpush request refused");
        let response = build_response(
            version,
            request_id.clone(),
            refusal.status,
            Some(refusal.description.clone()),
            None,
        );
        if self.inner.send_response(channel, response).is_err() {
            tracing::debug!(%peer, "lightpush client gone before the answer");
        }
        self.events.push_back(Event::Refused {
            peer,
            version,
            request_id,
            status: refusal.status,
            description: refusal.description,
        });
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        inbound: InboundRequestId,
        request: InboundRequest,
        channel: ResponseChannel<OutboundResponse>,
    ) {
        let (version, request_id, parsed) = split_request(request);
        if !self.limiter.try_acquire(&peer, Instant::now()) {
            let refusal = Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Request rejected due to too many requests",
            );
            return self.refuse(peer, channel, version, request_id, refusal);
        }
        let (pubsub_topic, message) = match parsed {
            Ok(parts) => parts,
            Err(refusal) => return self.refuse(peer, channel, version, request_id, refusal),
        };
        let admitted = match admit(&self.config, pubsub_topic, message, now_nanos()) {
            Ok(admitted) => admitted,
            Err(refusal) => return self.refuse(peer, channel, version, request_id, refusal),
        };
        if self.pending.len() >= self.config.max_pending_publishes {
            let refusal = Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service unavailable: too many requests in progress",
            );
            return self.refuse(peer, channel, version, request_id, refusal);
        }
        let id = PublishId(self.next_id);
        self.next_id += 1;
        self.pending.insert(
            id,
            Pending {
                channel,
                peer,
                version,
                request_id,
                inbound,
            },
        );
        self.by_inbound.insert(inbound, id);
        self.events.push_back(Event::PublishRequest {
            id,
            peer,
            version,
            pubsub_topic: admitted.pubsub_topic,
            message: Box::new(admitted.message),
        });
    }

    fn on_inbound_failure(
        &mut self,
        peer: PeerId,
        inbound: InboundRequestId,
        error: InboundFailure,
    ) {
        tracing::debug!(%peer, %error, "lightpush request failed");
        if let Some(id) = self.by_inbound.remove(&inbound) {
            self.pending.remove(&id);
            self.events.push_back(Event::Abandoned { id, peer });
        }
    }

    fn on_inner_event(&mut self, event: InnerEvent) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request_id,
                        request,
                        channel,
                    },
                ..
            } => self.on_request(peer, request_id, request, channel),
            request_response::Event::Message {
                message: Message::Response { .. },
                ..
            }
            | request_response::Event::OutboundFailure { .. } => {}
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => self.on_inbound_failure(peer, request_id, error),
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}

/// The parts of a decoded request, or why it cannot be handled.
type Parsed = Result<(Option<String>, Option<pb::WakuMessage>), Refusal>;

/// The version, the request id and the parts of a request.
fn split_request(request: InboundRequest) -> (Version, String, Parsed) {
    match request {
        InboundRequest::V3(r) => (Version::V3, r.request_id, Ok((r.pubsub_topic, r.message))),
        InboundRequest::V2(rpc) => {
            let parts = match rpc.request {
                Some(r) => Ok((Some(r.pubsub_topic).filter(|t| !t.is_empty()), r.message)),
                None => Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "PushRPC carries no request",
                )),
            };
            (Version::V2, rpc.request_id, parts)
        }
        InboundRequest::Malformed { version, reason } => (
            version,
            UNKNOWN_REQUEST_ID.to_owned(),
            Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("decode_rpc_failure: {reason}"),
            )),
        ),
        InboundRequest::Oversized { version, size, max } => (
            version,
            UNKNOWN_REQUEST_ID.to_owned(),
            Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("message size exceeds maximum: request of {size} bytes, limit {max}"),
            )),
        ),
    }
}

/// The legacy `info` of a rate-limited push, as nwaku writes it.
pub const LEGACY_TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";

/// The answer in the form of `version`.
fn build_response(
    version: Version,
    request_id: String,
    status: StatusCode,
    description: Option<String>,
    relay_peer_count: Option<u32>,
) -> OutboundResponse {
    match version {
        Version::V3 => OutboundResponse::V3(LightPushResponse {
            request_id,
            status_code: status.0,
            status_desc: description,
            relay_peer_count,
        }),
        // Legacy clients tell a rate limit only by its text: nwaku's words
        // ("TOO_MANY_REQUESTS"), and "OK" on success, as nwaku answers.
        Version::V2 => OutboundResponse::V2(Box::new(PushRpc {
            request_id,
            request: None,
            response: Some(PushResponse {
                is_success: status.is_success(),
                info: match status {
                    StatusCode::TOO_MANY_REQUESTS => Some(LEGACY_TOO_MANY_REQUESTS.to_owned()),
                    s if s.is_success() => Some(description.unwrap_or_else(|| "OK".to_owned())),
                    _ => description,
                },
            }),
        })),
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

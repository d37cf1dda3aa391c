//! The lightpush client: asks a service node to publish messages.

use std::collections::{HashMap, VecDeque};
use std::task::{Context, Poll};
use waku_core::new_request_id;

use libp2p::PeerId;
use libp2p::request_response::{
    self, Message, OutboundFailure, OutboundRequestId, ProtocolSupport,
};
use libp2p::swarm::{FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use waku_core::WakuMessage;

use crate::StatusCode;
use crate::codec::{ClientCodec, InboundResponse, OutboundPush, Version};
use crate::config::{ClientConfig, ClientProtocols};
use waku_core::forward_connection_setup;

type Inner = request_response::Behaviour<ClientCodec>;
type InnerEvent = request_response::Event<OutboundPush, InboundResponse>;

/// What the lightpush client reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The service published the message.
    Pushed {
        /// The service node.
        peer: PeerId,
        /// What [`Behaviour::push`] returned.
        request: OutboundRequestId,
        /// The protocol used.
        version: Version,
        /// How many relay peers got it (v3 only; a v3 service may report 0,
        /// which nwaku's client counts as "no peers to relay").
        relay_peer_count: Option<u32>,
        /// What the service said with it (v3 `status_desc`, legacy `info`,
        /// usually "OK"), if anything.
        description: Option<String>,
    },
    /// The service answered with an error.
    Refused {
        /// The service node.
        peer: PeerId,
        /// What [`Behaviour::push`] returned.
        request: OutboundRequestId,
        /// The protocol used.
        version: Version,
        /// The code. v2 answers only success or failure: there it is
        /// `None`, except 429 when the text says the service's rate limit
        /// refused the push (nwaku's "TOO_MANY_REQUESTS", go-waku's
        /// "exceeds the rate limit").
        status: Option<StatusCode>,
        /// The service's explanation.
        description: Option<String>,
    },
    /// No answer: the stream failed, timed out, or the service does not
    /// speak lightpush.
    Failed {
        /// The service node.
        peer: PeerId,
        /// What [`Behaviour::push`] returned.
        request: OutboundRequestId,
        /// Why.
        error: OutboundFailure,
    },
}

/// Whether a legacy refusal's `info` is a rate limit: nwaku writes
/// "TOO_MANY_REQUESTS", go-waku v0.10.3 "exceeds the rate limit".
fn legacy_rate_limited(info: Option<&str>) -> bool {
    info.is_some_and(|info| {
        info == crate::service::LEGACY_TOO_MANY_REQUESTS || info.contains("exceeds the rate limit")
    })
}

/// The lightpush client `NetworkBehaviour`.
///
/// [`Behaviour::push`] sends a message to a service node; the outcome arrives
/// as one [`Event`]. With [`ClientProtocols::V3ThenLegacy`] (the
/// default) a service lacking v3 gets the legacy v2 form.
pub struct Behaviour {
    inner: Inner,
    in_flight: HashMap<OutboundRequestId, String>,
    events: VecDeque<Event>,
}

impl Behaviour {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Self {
        let protocols = match config.protocols {
            ClientProtocols::V3ThenLegacy => vec![Version::V3, Version::V2],
            ClientProtocols::V3Only => vec![Version::V3],
            ClientProtocols::LegacyOnly => vec![Version::V2],
        };
        let rr_config = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(config.max_concurrent_streams);
        Self {
            inner: Inner::with_codec(
                ClientCodec,
                protocols
                    .into_iter()
                    .map(|v| (v.protocol(), ProtocolSupport::Outbound)),
                rr_config,
            ),
            in_flight: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Asks `peer` to publish `message` on `pubsub_topic`, or, with `None`,
    /// on the shard the service derives from the content topic (v3 only: a
    /// legacy service needs a topic and the push then fails).
    ///
    /// If `peer` is not connected the swarm dials it with the addresses it
    /// knows.
    pub fn push(
        &mut self,
        peer: &PeerId,
        pubsub_topic: Option<String>,
        message: WakuMessage,
    ) -> OutboundRequestId {
        let request_id = new_request_id();
        let id = self.inner.send_request(
            peer,
            OutboundPush {
                request_id: request_id.clone(),
                pubsub_topic,
                message,
            },
        );
        self.in_flight.insert(id, request_id);
        id
    }

    /// Pushes not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn on_inner_event(&mut self, event: InnerEvent) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let sent = self.in_flight.remove(&request_id);
                if sent.as_deref() != Some(response.request_id.as_str()) {
                    // nwaku answers "N/A" when it refuses before reading.
                    tracing::debug!(%peer, ours = ?sent, theirs = %response.request_id, "lightpush response with another request id");
                }
                let event = if response.is_success {
                    Event::Pushed {
                        peer,
                        request: request_id,
                        version: response.version,
                        relay_peer_count: response.relay_peer_count,
                        description: response.description,
                    }
                } else {
                    let status = response.status_code.map(StatusCode).or_else(|| {
                        legacy_rate_limited(response.description.as_deref())
                            .then_some(StatusCode::TOO_MANY_REQUESTS)
                    });
                    Event::Refused {
                        peer,
                        request: request_id,
                        version: response.version,
                        status,
                        description: response.description,
                    }
                };
                self.events.push_back(event);
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.in_flight.remove(&request_id);
                self.events.push_back(Event::Failed {
                    peer,
                    request: request_id,
                    error,
                });
            }
            request_response::Event::Message {
                message: Message::Request { .. },
                ..
            }
            | request_response::Event::InboundFailure { .. }
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

//! The filter client: subscribes at service nodes and receives their pushes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::task::{Context, Poll};
use waku_core::new_request_id;

use libp2p::PeerId;
use libp2p::request_response::{
    self, Message, OutboundFailure, OutboundRequestId, ProtocolSupport,
};
use libp2p::swarm::{FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use waku_core::{MessageError, WakuMessage};

use crate::codec::{
    InboundPush, PUSH_OVERHEAD, PUSH_PROTOCOL, PushRecvCodec, SUBSCRIBE_PROTOCOL,
    SubscribeClientCodec,
};
use crate::config::ClientConfig;
use crate::keep_alive::KeepAlive;
use crate::proto::{FilterSubscribeRequest, MessagePush};
use crate::{RequestKind, StatusCode};
use waku_core::forward_connection_setup;

/// The two request-response protocols of the client.
#[derive(libp2p::swarm::NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub struct Inner {
    subscribe: request_response::Behaviour<SubscribeClientCodec>,
    push: request_response::Behaviour<PushRecvCodec>,
    keep_alive: KeepAlive,
}

/// Why a filter request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The service answered with a code outside 2xx.
    #[error("refused with {status}: {}", description.as_deref().unwrap_or(""))]
    Refused {
        /// The code.
        status: StatusCode,
        /// The service's explanation.
        description: Option<String>,
    },
    /// No answer: the stream failed, timed out, or the peer does not serve
    /// filter.
    #[error("request failed: {0}")]
    Failed(OutboundFailure),
}

/// Why a push was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushDropReason {
    /// The frame is not a `MessagePush`.
    Malformed(String),
    /// No pubsub topic (js-waku drops these too).
    NoPubsubTopic,
    /// No message, or an invalid one.
    BadMessage(String),
    /// We hold no subscription at that peer matching the message.
    NotSubscribed {
        /// The pubsub topic pushed.
        pubsub_topic: String,
        /// The content topic pushed.
        content_topic: String,
    },
}

/// What the filter client reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The answer to a request of ours.
    Response {
        /// The service node.
        peer: PeerId,
        /// What the request method returned.
        request: OutboundRequestId,
        /// The request type.
        kind: RequestKind,
        /// `Ok` for a 2xx answer.
        result: Result<(), FilterError>,
    },
    /// A service node pushed a message matching our subscription there.
    Message {
        /// The service node.
        peer: PeerId,
        /// The pubsub topic it was received on.
        pubsub_topic: String,
        /// The message.
        message: Box<WakuMessage>,
    },
    /// A push was dropped.
    PushDropped {
        /// The service node.
        peer: PeerId,
        /// Why.
        reason: PushDropReason,
    },
}

/// A request waiting for its answer.
#[derive(Debug)]
struct Pending {
    kind: RequestKind,
    /// Criteria this SUBSCRIBE added locally (taken back if it fails).
    added: Vec<(String, String)>,
}

/// Our criteria at one service node: pubsub topic -> content topics.
type Criteria = HashMap<String, HashSet<String>>;

/// The filter client `NetworkBehaviour`.
///
/// [`Behaviour::subscribe`], [`Behaviour::unsubscribe`],
/// [`Behaviour::unsubscribe_all`] and [`Behaviour::ping`] send one request each
/// and return its id; the answer arrives as [`Event::Response`].
/// Pushes arrive as [`Event::Message`] when they match criteria we
/// subscribed at that service node (counted from the moment the SUBSCRIBE
/// is sent; taken back if it fails); other pushes are dropped with
/// [`Event::PushDropped`]. The service pushes over the connection we
/// opened, so the client needs no listening address.
pub struct Behaviour {
    inner: Inner,
    criteria: HashMap<PeerId, Criteria>,
    pending: HashMap<OutboundRequestId, Pending>,
    events: VecDeque<Event>,
}

impl Behaviour {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Self {
        let subscribe = request_response::Behaviour::with_codec(
            SubscribeClientCodec,
            [(SUBSCRIBE_PROTOCOL, ProtocolSupport::Outbound)],
            request_response::Config::default().with_request_timeout(config.request_timeout),
        );
        let push = request_response::Behaviour::with_codec(
            PushRecvCodec {
                max_frame: config.max_message_size.saturating_add(PUSH_OVERHEAD),
            },
            [(PUSH_PROTOCOL, ProtocolSupport::Inbound)],
            request_response::Config::default()
                .with_request_timeout(config.request_timeout)
                .with_max_concurrent_streams(config.max_concurrent_pushes),
        );
        Self {
            inner: Inner {
                subscribe,
                push,
                keep_alive: KeepAlive::default(),
            },
            criteria: HashMap::new(),
            pending: HashMap::new(),
            events: VecDeque::new(),
        }
    }

    fn send(
        &mut self,
        peer: &PeerId,
        kind: RequestKind,
        pubsub_topic: Option<String>,
        content_topics: Vec<String>,
        added: Vec<(String, String)>,
    ) -> OutboundRequestId {
        let request = FilterSubscribeRequest {
            request_id: new_request_id(),
            filter_subscribe_type: kind.wire() as i32,
            pubsub_topic,
            content_topics,
        };
        let id = self.inner.subscribe.send_request(peer, request);
        self.pending.insert(id, Pending { kind, added });
        id
    }

    /// Asks `peer` to push messages on `pubsub_topic` with any of
    /// `content_topics` (sending the same criteria again refreshes them).
    pub fn subscribe<I, S>(
        &mut self,
        peer: &PeerId,
        pubsub_topic: impl Into<String>,
        content_topics: I,
    ) -> OutboundRequestId
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let pubsub_topic = pubsub_topic.into();
        let content_topics: Vec<String> = content_topics.into_iter().map(Into::into).collect();
        let ours = self
            .criteria
            .entry(*peer)
            .or_default()
            .entry(pubsub_topic.clone())
            .or_default();
        let added = content_topics
            .iter()
            .filter(|c| ours.insert((*c).clone()))
            .map(|c| (pubsub_topic.clone(), c.clone()))
            .collect();
        let id = self.send(
            peer,
            RequestKind::Subscribe,
            Some(pubsub_topic),
            content_topics,
            added,
        );
        self.sync_keep_alive(peer);
        id
    }

    /// Asks `peer` to stop pushing `content_topics` on `pubsub_topic`.
    /// Pushes for them are dropped from now on.
    pub fn unsubscribe<I, S>(
        &mut self,
        peer: &PeerId,
        pubsub_topic: impl Into<String>,
        content_topics: I,
    ) -> OutboundRequestId
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let pubsub_topic = pubsub_topic.into();
        let content_topics: Vec<String> = content_topics.into_iter().map(Into::into).collect();
        for c in &content_topics {
            self.forget(peer, &pubsub_topic, c);
        }
        let id = self.send(
            peer,
            RequestKind::Unsubscribe,
            Some(pubsub_topic),
            content_topics,
            Vec::new(),
        );
        self.sync_keep_alive(peer);
        id
    }

    /// Asks `peer` to drop all our subscriptions there. Pushes from it are
    /// dropped from now on.
    pub fn unsubscribe_all(&mut self, peer: &PeerId) -> OutboundRequestId {
        self.criteria.remove(peer);
        let id = self.send(
            peer,
            RequestKind::UnsubscribeAll,
            None,
            Vec::new(),
            Vec::new(),
        );
        self.sync_keep_alive(peer);
        id
    }

    /// Asks `peer` whether it still holds a subscription for us (and so
    /// refreshes it). A 404 answer also clears our local record for `peer`.
    pub fn ping(&mut self, peer: &PeerId) -> OutboundRequestId {
        // Sent like js-waku: an empty pubsub topic, no content topics.
        self.send(
            peer,
            RequestKind::Ping,
            Some(String::new()),
            Vec::new(),
            Vec::new(),
        )
    }

    /// Whether pushes of `content_topic` on `pubsub_topic` from `peer` are
    /// accepted.
    pub fn is_subscribed(&self, peer: &PeerId, pubsub_topic: &str, content_topic: &str) -> bool {
        self.criteria
            .get(peer)
            .and_then(|c| c.get(pubsub_topic))
            .is_some_and(|c| c.contains(content_topic))
    }

    /// Service nodes where we hold criteria.
    pub fn service_peers(&self) -> impl Iterator<Item = &PeerId> {
        self.criteria.keys()
    }

    /// Drops empty criteria of `peer` and keeps our connections to it open
    /// exactly while criteria remain (a request in flight keeps them open
    /// by itself).
    fn sync_keep_alive(&mut self, peer: &PeerId) {
        if let Some(by_pubsub) = self.criteria.get_mut(peer) {
            by_pubsub.retain(|_, contents| !contents.is_empty());
            if by_pubsub.is_empty() {
                self.criteria.remove(peer);
            }
        }
        let keep = self.criteria.contains_key(peer);
        self.inner.keep_alive.set(*peer, keep);
    }

    fn forget(&mut self, peer: &PeerId, pubsub_topic: &str, content_topic: &str) {
        if let Some(by_pubsub) = self.criteria.get_mut(peer) {
            if let Some(contents) = by_pubsub.get_mut(pubsub_topic) {
                contents.remove(content_topic);
                if contents.is_empty() {
                    by_pubsub.remove(pubsub_topic);
                }
            }
            if by_pubsub.is_empty() {
                self.criteria.remove(peer);
            }
        }
    }

    fn on_answer(
        &mut self,
        peer: PeerId,
        request: OutboundRequestId,
        result: Result<(), FilterError>,
    ) {
        let Some(pending) = self.pending.remove(&request) else {
            return;
        };
        if result.is_err() {
            for (p, c) in &pending.added {
                self.forget(&peer, p, c);
            }
        }
        if pending.kind == RequestKind::Ping
            && matches!(&result, Err(FilterError::Refused { status, .. }) if *status == StatusCode::NOT_FOUND)
        {
            self.criteria.remove(&peer);
        }
        self.sync_keep_alive(&peer);
        self.events.push_back(Event::Response {
            peer,
            request,
            kind: pending.kind,
            result,
        });
    }

    fn on_push(&mut self, peer: PeerId, push: InboundPush) {
        let event = match check_push(push) {
            Err(reason) => Event::PushDropped { peer, reason },
            Ok((pubsub_topic, message)) => {
                if self.is_subscribed(&peer, &pubsub_topic, &message.content_topic) {
                    Event::Message {
                        peer,
                        pubsub_topic,
                        message: Box::new(message),
                    }
                } else {
                    Event::PushDropped {
                        peer,
                        reason: PushDropReason::NotSubscribed {
                            pubsub_topic,
                            content_topic: message.content_topic,
                        },
                    }
                }
            }
        };
        if let Event::PushDropped { peer, reason } = &event {
            tracing::debug!(%peer, ?reason, "filter push dropped");
        }
        self.events.push_back(event);
    }

    fn on_inner_event(&mut self, event: InnerEvent) {
        match event {
            InnerEvent::Subscribe(request_response::Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            }) => {
                let status = StatusCode(response.status_code);
                let result = if status.is_success() {
                    Ok(())
                } else {
                    Err(FilterError::Refused {
                        status,
                        description: response.status_desc,
                    })
                };
                self.on_answer(peer, request_id, result);
            }
            InnerEvent::Subscribe(request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            }) => self.on_answer(peer, request_id, Err(FilterError::Failed(error))),
            InnerEvent::Subscribe(_) => {}
            InnerEvent::Push(request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            }) => {
                // Nothing is written back; this only closes the stream.
                let _ = self.inner.push.send_response(channel, ());
                self.on_push(peer, request);
            }
            InnerEvent::Push(_) => {}
            InnerEvent::KeepAlive(never) => match never {},
        }
    }
}

/// The pubsub topic and message of a push, or why it is unusable.
fn check_push(push: InboundPush) -> Result<(String, WakuMessage), PushDropReason> {
    let MessagePush {
        waku_message,
        pubsub_topic,
    } = match push {
        InboundPush::Push(p) => *p,
        InboundPush::Malformed(why) => return Err(PushDropReason::Malformed(why)),
    };
    let pubsub_topic = pubsub_topic
        .filter(|t| !t.is_empty())
        .ok_or(PushDropReason::NoPubsubTopic)?;
    let wire = waku_message.ok_or_else(|| PushDropReason::BadMessage("no message".into()))?;
    let message = WakuMessage::try_from(wire)
        .map_err(|e: MessageError| PushDropReason::BadMessage(e.to_string()))?;
    Ok((pubsub_topic, message))
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

//! The filter service: keeps subscriptions made over
//! `/vac/waku/filter-subscribe/2.0.0-beta1` and pushes matching messages
//! over `/vac/waku/filter-push/2.0.0-beta1`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p::PeerId;
use libp2p::request_response::{
    self, Message, OutboundFailure, OutboundRequestId, ProtocolSupport, ResponseChannel,
};
use libp2p::swarm::{FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, ToSwarm};
use waku_core::codec::encode_frame;
use waku_core::rate_limit::PeerRateLimiter;
use waku_core::{WakuMessage, message_hash};

use crate::codec::{
    InboundSubscribe, PUSH_PROTOCOL, PushSendCodec, SUBSCRIBE_PROTOCOL, SubscribeServiceCodec,
};
use crate::config::ServiceConfig;
use crate::keep_alive::KeepAlive;
use crate::proto::{FilterSubscribeRequest, FilterSubscribeResponse, MessagePush};
use crate::service::recent::{self, RecentPushes};
use crate::subscriptions::Subscriptions;
use crate::{RequestKind, StatusCode};
use waku_core::forward_connection_setup;

/// Request id put in answers to requests that could not be decoded, as
/// nwaku does.
pub const UNKNOWN_REQUEST_ID: &str = "N/A";

/// nwaku's cause for a 404: a ping, UNSUBSCRIBE or UNSUBSCRIBE_ALL from a
/// peer without a live subscription.
const NO_SUBSCRIPTIONS: &str = "peer has no subscriptions";

/// Shortest and longest pause between two sweeps for expired subscriptions
/// and unreachable subscribers.
const MIN_SWEEP: Duration = Duration::from_millis(100);
const MAX_SWEEP: Duration = Duration::from_secs(30);

/// The two request-response protocols of the service.
#[derive(libp2p::swarm::NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub struct Inner {
    subscribe: request_response::Behaviour<SubscribeServiceCodec>,
    push: request_response::Behaviour<PushSendCodec>,
    keep_alive: KeepAlive,
}

/// Why the service removed a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemovalReason {
    /// It did not refresh its subscription within
    /// [`ServiceConfig::subscription_timeout`].
    Expired,
    /// Pushes to it kept failing for [`ServiceConfig::unreachable_timeout`].
    Unreachable,
}

/// What the filter service reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A subscribe-protocol request was answered.
    Request {
        /// The client.
        peer: PeerId,
        /// Its request id ([`UNKNOWN_REQUEST_ID`] if undecodable).
        request_id: String,
        /// The request type (`None`: undecodable or unknown type).
        kind: Option<RequestKind>,
        /// The code answered.
        status: StatusCode,
    },
    /// A subscriber and all its criteria were removed.
    SubscriberRemoved {
        /// The subscriber.
        peer: PeerId,
        /// Why.
        reason: RemovalReason,
    },
    /// A push could not be delivered.
    PushFailed {
        /// The subscriber.
        peer: PeerId,
        /// Why.
        reason: PushFailure,
    },
    /// Every push of one message given to [`Behaviour::push`] has ended
    /// (written, failed or timed out): what nwaku times as handling a
    /// message. Not reported for a message without subscribers, nor for a
    /// duplicate that was not pushed.
    MessageHandled {
        /// The subscribers it was pushed (or failed to be pushed) to.
        subscribers: usize,
        /// From the call to [`Behaviour::push`] to the end of the last push.
        elapsed: Duration,
    },
}

/// The pushes of one message still in flight.
#[derive(Debug)]
struct PushRound {
    started: Instant,
    subscribers: usize,
    pending: usize,
}

/// Why a push was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushFailure {
    /// The subscriber is not connected, and dialling it back failed less
    /// than [`REDIAL_BACKOFF`] ago: not dialled again yet.
    #[error("subscriber not connected (dialling it back failed {0:?} ago)")]
    NotConnected(Duration),
    /// The dial back or the push stream failed.
    #[error(transparent)]
    Stream(#[from] OutboundFailure),
}

/// After a failed dial back to a subscriber, pushes to it fail at once for
/// this long instead of dialling again for every message.
pub const REDIAL_BACKOFF: Duration = Duration::from_secs(10);

/// The filter service `NetworkBehaviour`.
///
/// Answers the four subscribe-protocol requests (see [`RequestKind`]) with
/// the request id and a [`StatusCode`], enforcing the limits of
/// [`ServiceConfig`]. The node feeds it every message relay delivers with
/// [`Behaviour::push`], which pushes to each live subscriber whose criteria
/// match, over the connection the subscriber opened, or dialling it back
/// when that connection is gone. Subscribers that stop refreshing, or whose
/// pushes keep failing, are removed.
pub struct Behaviour {
    inner: Inner,
    config: ServiceConfig,
    subscriptions: Subscriptions,
    limiter: PeerRateLimiter<PeerId>,
    /// Established connections per peer.
    connected: HashMap<PeerId, usize>,
    /// Pushes in flight, with the round (one message) they belong to.
    pushes: HashMap<OutboundRequestId, (PeerId, u64)>,
    /// The messages whose pushes are in flight, by round number.
    rounds: HashMap<u64, PushRound>,
    /// The next round number.
    next_round: u64,
    /// Subscribers whose pushes fail, since the first failure after the
    /// last success.
    failing: HashMap<PeerId, Instant>,
    /// When dialling a subscriber back last failed.
    dial_failed: HashMap<PeerId, Instant>,
    /// Hashes of the messages pushed within
    /// [`ServiceConfig::duplicate_window`].
    recent: RecentPushes,
    events: VecDeque<Event>,
    sweep: Option<tokio::time::Interval>,
}

/// Why a request was refused: the code and nwaku's cause.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    cause: String,
}

impl Refusal {
    fn new(status: StatusCode, cause: impl Into<String>) -> Self {
        Self {
            status,
            cause: cause.into(),
        }
    }

    fn bad_request(cause: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, cause)
    }

    fn not_found(cause: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, cause)
    }

    /// The `status_desc` nwaku writes: `"KIND: cause"`, the kind being the
    /// code's name (`"NOT_FOUND: peer has no subscriptions"`).
    fn description(&self) -> String {
        match self.status.name() {
            Some(kind) => format!("{kind}: {}", self.cause),
            None => self.cause.clone(),
        }
    }
}

type Answer = Result<(), Refusal>;

impl Behaviour {
    /// A service with `config`.
    pub fn new(config: ServiceConfig) -> Self {
        let subscribe = request_response::Behaviour::with_codec(
            SubscribeServiceCodec,
            [(SUBSCRIBE_PROTOCOL, ProtocolSupport::Inbound)],
            request_response::Config::default()
                .with_request_timeout(config.request_timeout)
                .with_max_concurrent_streams(config.max_concurrent_streams),
        );
        let push = request_response::Behaviour::with_codec(
            PushSendCodec,
            [(PUSH_PROTOCOL, ProtocolSupport::Outbound)],
            request_response::Config::default()
                .with_request_timeout(config.push_timeout)
                .with_max_concurrent_streams(config.max_concurrent_pushes),
        );
        Self {
            inner: Inner {
                subscribe,
                push,
                keep_alive: KeepAlive::default(),
            },
            subscriptions: Subscriptions::new(
                config.max_peers,
                config.max_criteria_per_peer,
                config.subscription_timeout,
            ),
            limiter: PeerRateLimiter::new(config.rate_limit),
            recent: RecentPushes::new(config.duplicate_window, recent::CAPACITY),
            config,
            connected: HashMap::new(),
            pushes: HashMap::new(),
            rounds: HashMap::new(),
            next_round: 0,
            failing: HashMap::new(),
            dial_failed: HashMap::new(),
            events: VecDeque::new(),
            sweep: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// Number of subscribers held (expired ones until the next sweep).
    pub fn subscriber_count(&self) -> usize {
        self.subscriptions.peer_count()
    }

    /// Whether `peer` holds a live subscription.
    pub fn is_subscribed(&self, peer: &PeerId) -> bool {
        self.subscriptions.is_subscribed(peer, Instant::now())
    }

    /// Every live subscriber with its criteria as (pubsub topic, content
    /// topic) pairs, sorted, for an operator's view.
    pub fn subscribers(&self) -> Vec<(PeerId, Vec<(String, String)>)> {
        let mut all: Vec<(PeerId, Vec<(String, String)>)> = self
            .subscriptions
            .live_peers(Instant::now())
            .into_iter()
            .map(|peer| {
                let mut criteria = self.subscriptions.criteria_of(&peer);
                criteria.sort();
                (peer, criteria)
            })
            .collect();
        all.sort_by_key(|(peer, _)| peer.to_bytes());
        all
    }

    /// The criteria of `peer` as (pubsub topic, content topic) pairs.
    pub fn criteria_of(&self, peer: &PeerId) -> Vec<(String, String)> {
        self.subscriptions.criteria_of(peer)
    }

    /// Pushes a message received on `pubsub_topic` to every live subscriber
    /// whose criteria match it; returns how many pushes were started.
    ///
    /// A subscriber that is no longer connected is dialled back at the
    /// addresses the swarm knows for it (identify's, or added with
    /// `Swarm::add_peer_address`), as go-waku does; one that cannot be
    /// dialled (js-waku does not listen) fails the push, and is not dialled
    /// again for [`REDIAL_BACKOFF`]. The message is encoded once for all
    /// subscribers.
    ///
    /// As in nwaku, a message is pushed once: if one with the same
    /// deterministic hash (`waku_core::message_hash`) had subscribers and
    /// was given to `push` less than [`ServiceConfig::duplicate_window`]
    /// ago, it is skipped (0 pushes), and the window starts afresh for it.
    pub fn push(&mut self, pubsub_topic: &str, message: &WakuMessage) -> usize {
        let now = Instant::now();
        let peers = self
            .subscriptions
            .matching(pubsub_topic, &message.content_topic, now);
        if peers.is_empty() {
            return 0;
        }
        if self.recent.is_enabled() {
            let hash = message_hash(pubsub_topic, message);
            if self.recent.seen_again(hash, now) {
                tracing::debug!(
                    %hash,
                    pubsub_topic,
                    content_topic = %message.content_topic,
                    subscribers = peers.len(),
                    "duplicate message found, not pushing it"
                );
                return 0;
            }
        }
        let frame = Bytes::from(encode_frame(&MessagePush {
            waku_message: Some(message.clone().into()),
            pubsub_topic: Some(pubsub_topic.to_owned()),
        }));
        let mut started = 0;
        let round = self.next_round;
        self.next_round = self.next_round.wrapping_add(1);
        let subscribers = peers.len();
        for peer in peers {
            let recent_dial_failure = self
                .dial_failed
                .get(&peer)
                .map(|at| now.saturating_duration_since(*at))
                .filter(|ago| *ago < REDIAL_BACKOFF);
            match recent_dial_failure {
                Some(ago) if !self.connected.contains_key(&peer) => {
                    self.events.push_back(Event::PushFailed {
                        peer,
                        reason: PushFailure::NotConnected(ago),
                    });
                    self.push_failed(peer, now);
                }
                _ => {
                    // Over the connection the subscriber opened, or a new
                    // one request-response dials.
                    let id = self.inner.push.send_request(&peer, frame.clone());
                    self.pushes.insert(id, (peer, round));
                    started += 1;
                }
            }
        }
        if started == 0 {
            self.events.push_back(Event::MessageHandled {
                subscribers,
                elapsed: now.elapsed(),
            });
        } else {
            self.rounds.insert(
                round,
                PushRound {
                    started: now,
                    subscribers,
                    pending: started,
                },
            );
        }
        started
    }

    /// A push of `request_id` ended; reports its message handled when it
    /// was the last one.
    fn push_ended(&mut self, request_id: &OutboundRequestId) {
        let Some((_, round)) = self.pushes.remove(request_id) else {
            return;
        };
        let Some(state) = self.rounds.get_mut(&round) else {
            return;
        };
        state.pending = state.pending.saturating_sub(1);
        if state.pending == 0
            && let Some(done) = self.rounds.remove(&round)
        {
            self.events.push_back(Event::MessageHandled {
                subscribers: done.subscribers,
                elapsed: done.started.elapsed(),
            });
        }
    }

    /// Notes a failed push; removes the subscriber once its pushes have been
    /// failing for [`ServiceConfig::unreachable_timeout`].
    fn push_failed(&mut self, peer: PeerId, now: Instant) {
        let since = *self.failing.entry(peer).or_insert(now);
        if now.saturating_duration_since(since) >= self.config.unreachable_timeout {
            self.remove(peer, RemovalReason::Unreachable);
        }
    }

    fn remove(&mut self, peer: PeerId, reason: RemovalReason) {
        self.failing.remove(&peer);
        self.dial_failed.remove(&peer);
        self.inner.keep_alive.set(peer, false);
        if self.subscriptions.remove_peer(&peer) || reason == RemovalReason::Expired {
            tracing::debug!(%peer, ?reason, "filter subscriber removed");
            self.events
                .push_back(Event::SubscriberRemoved { peer, reason });
        }
    }

    /// The pubsub topic and the de-duplicated content topics of a request,
    /// or why they are not valid criteria.
    fn criteria(
        &self,
        request: &FilterSubscribeRequest,
    ) -> Result<(String, HashSet<String>), Refusal> {
        let pubsub_topic = request
            .pubsub_topic
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| Refusal::bad_request("a pubsub topic is required"))?;
        if request.content_topics.is_empty() {
            return Err(Refusal::bad_request(
                "at least one content topic is required",
            ));
        }
        let max = self.config.max_content_topics_per_request;
        if request.content_topics.len() > max {
            return Err(Refusal::bad_request(format!(
                "exceeds maximum content topics: {max}"
            )));
        }
        if request.content_topics.iter().any(|t| t.trim().is_empty()) {
            return Err(Refusal::bad_request("content topics must not be empty"));
        }
        Ok((
            pubsub_topic.to_owned(),
            request.content_topics.iter().cloned().collect(),
        ))
    }

    fn handle(
        &mut self,
        peer: PeerId,
        kind: RequestKind,
        request: &FilterSubscribeRequest,
        now: Instant,
    ) -> Answer {
        match kind {
            RequestKind::Ping => self
                .subscriptions
                .refresh(&peer, now)
                .then_some(())
                .ok_or_else(|| Refusal::not_found(NO_SUBSCRIPTIONS)),
            RequestKind::Subscribe => {
                let (pubsub, contents) = self.criteria(request)?;
                self.subscriptions
                    .subscribe(peer, &pubsub, &contents, now)
                    .map_err(|full| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, full.to_string()))
            }
            RequestKind::Unsubscribe => {
                let (pubsub, contents) = self.criteria(request)?;
                if !self.subscriptions.is_subscribed(&peer, now) {
                    Err(Refusal::not_found(NO_SUBSCRIPTIONS))
                } else if self
                    .subscriptions
                    .unsubscribe(&peer, &pubsub, &contents, now)
                {
                    Ok(())
                } else {
                    // nwaku's words for criteria the peer does not hold,
                    // which the upstream interop suite checks.
                    Err(Refusal::not_found(NO_SUBSCRIPTIONS))
                }
            }
            RequestKind::UnsubscribeAll => {
                if self.subscriptions.is_subscribed(&peer, now) {
                    self.subscriptions.remove_peer(&peer);
                    Ok(())
                } else {
                    Err(Refusal::not_found(NO_SUBSCRIPTIONS))
                }
            }
        }
    }

    fn on_subscribe_request(
        &mut self,
        peer: PeerId,
        request: InboundSubscribe,
        channel: ResponseChannel<FilterSubscribeResponse>,
    ) {
        let now = Instant::now();
        // Any request shows the peer is alive.
        self.failing.remove(&peer);
        let (request_id, kind, answer) = match request {
            InboundSubscribe::Malformed(reason) => (
                UNKNOWN_REQUEST_ID.to_owned(),
                None,
                Err(Refusal::bad_request(format!(
                    "undecodable request: {reason}"
                ))),
            ),
            InboundSubscribe::Request(r) => {
                let kind = RequestKind::from_wire(r.filter_subscribe_type);
                let answer = if !self.limiter.try_acquire(&peer, now) {
                    Err(Refusal::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "filter request rejected: rate limit exceeded",
                    ))
                } else {
                    match kind {
                        Some(kind) => self.handle(peer, kind, &r, now),
                        None => Err(Refusal::bad_request(format!(
                            "unknown request type {}",
                            r.filter_subscribe_type
                        ))),
                    }
                };
                (r.request_id, kind, answer)
            }
        };
        // A live subscriber's connection stays open: pushes only go over it.
        let subscribed = self.subscriptions.is_subscribed(&peer, now);
        self.inner.keep_alive.set(peer, subscribed);
        let (status, desc) = match answer {
            Ok(()) => (StatusCode::OK, "OK".to_owned()),
            Err(refusal) => (refusal.status, refusal.description()),
        };
        tracing::debug!(%peer, ?kind, %status, %desc, "filter request answered");
        let response = FilterSubscribeResponse {
            request_id: request_id.clone(),
            status_code: status.0,
            status_desc: Some(desc),
        };
        if self
            .inner
            .subscribe
            .send_response(channel, response)
            .is_err()
        {
            tracing::debug!(%peer, "filter client gone before the answer");
        }
        self.events.push_back(Event::Request {
            peer,
            request_id,
            kind,
            status,
        });
    }

    fn on_inner_event(&mut self, event: InnerEvent) {
        match event {
            InnerEvent::Subscribe(request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            }) => self.on_subscribe_request(peer, request, channel),
            InnerEvent::Subscribe(request_response::Event::InboundFailure {
                peer, error, ..
            }) => {
                // Includes UNSUBSCRIBE requests whose sender (js-waku) does
                // not wait for the answer.
                tracing::debug!(%peer, %error, "filter request stream failed");
            }
            InnerEvent::Subscribe(_) => {}
            InnerEvent::Push(request_response::Event::Message {
                peer,
                message: Message::Response { request_id, .. },
                ..
            }) => {
                self.push_ended(&request_id);
                self.failing.remove(&peer);
            }
            InnerEvent::Push(request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            }) => {
                self.push_ended(&request_id);
                let now = Instant::now();
                if matches!(error, OutboundFailure::DialFailure) {
                    self.dial_failed.insert(peer, now);
                }
                tracing::debug!(%peer, %error, "filter push failed");
                self.events.push_back(Event::PushFailed {
                    peer,
                    reason: PushFailure::Stream(error),
                });
                self.push_failed(peer, now);
            }
            InnerEvent::Push(_) => {}
            InnerEvent::KeepAlive(never) => match never {},
        }
    }

    /// Runs [`Self::sweep_now`] every quarter of the shorter of the two
    /// timeouts (at least every 30 s, at most every 100 ms).
    fn poll_sweep(&mut self, cx: &mut Context<'_>) {
        if self.sweep.is_none() {
            if tokio::runtime::Handle::try_current().is_err() {
                return;
            }
            let shortest = self
                .config
                .subscription_timeout
                .min(self.config.unreachable_timeout);
            let period = (shortest / 4).clamp(MIN_SWEEP, MAX_SWEEP);
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            self.sweep = Some(interval);
        }
        // Poll until pending, so that the timer wakes us for the next tick.
        while self
            .sweep
            .as_mut()
            .is_some_and(|i| i.poll_tick(cx).is_ready())
        {
            self.sweep_now(Instant::now());
        }
    }

    /// Removes expired subscriptions and subscribers unreachable for too
    /// long.
    fn sweep_now(&mut self, now: Instant) {
        for peer in self.subscriptions.expire(now) {
            self.remove(peer, RemovalReason::Expired);
        }
        let limit = self.config.unreachable_timeout;
        let gone: Vec<PeerId> = self
            .failing
            .iter()
            .filter(|(_, since)| now.saturating_duration_since(**since) >= limit)
            .map(|(p, _)| *p)
            .collect();
        for peer in gone {
            self.remove(peer, RemovalReason::Unreachable);
        }
        self.limiter.prune(now);
        self.recent.prune(now);
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = THandler<Inner>;
    type ToSwarm = Event;

    forward_connection_setup!();

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event);
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                *self.connected.entry(e.peer_id).or_default() += 1;
                self.dial_failed.remove(&e.peer_id);
            }
            FromSwarm::ConnectionClosed(c) => {
                if c.remaining_established == 0 {
                    self.connected.remove(&c.peer_id);
                } else {
                    self.connected.insert(c.peer_id, c.remaining_established);
                }
            }
            _ => {}
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        self.poll_sweep(cx);
        loop {
            if let Some(event) = self.events.pop_front() {
                return Poll::Ready(ToSwarm::GenerateEvent(event));
            }
            waku_core::poll_inner_step!(self, cx);
        }
    }
}

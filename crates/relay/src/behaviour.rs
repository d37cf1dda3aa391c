//! [`Behaviour`]: the gossipsub behaviour wrapped with Waku's validation pipeline.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use libp2p::PeerId;
use libp2p::gossipsub::{
    self, IdentTopic, MessageAcceptance, MessageAuthenticity, MessageId, TopicHash,
    TopicScoreParams,
};
use libp2p::swarm::{CloseConnection, FromSwarm, NetworkBehaviour, THandlerInEvent, ToSwarm};
#[cfg(feature = "metrics")]
use prometheus_client::registry::Registry;
use prost::Message as _;
use waku_core::proto::message::v1 as pb;
use waku_core::{
    MessageHash, MessageValidator, Timestamp, ValidationError, WakuMessage, message_hash, now_nanos,
};

use crate::config::{Config, ConfigError};
use crate::counts::ValidationCounts;
#[cfg(feature = "metrics")]
use crate::metrics::Metrics;
use crate::slow_peers::SlowPeers;
use crate::topic::PubsubTopicName;
use crate::validation::{
    MessageContext, ShardValidator, ValidatorScope, Validators, Verdict, reason,
};

/// What the relay reports to the swarm.
// `Message` dominates the traffic, so boxing it would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A message passed validation: it has been forwarded and is delivered
    /// here, once per message id (duplicates arriving over other paths are
    /// dropped by gossipsub's seen cache).
    Message {
        /// The pubsub topic it arrived on.
        pubsub_topic: String,
        /// The message.
        message: WakuMessage,
        /// Its deterministic hash on `pubsub_topic`.
        hash: MessageHash,
        /// The peer that forwarded it to us (not necessarily its author:
        /// relay messages carry no author).
        source: PeerId,
    },
    /// A peer joined a pubsub topic.
    Subscribed {
        /// The peer.
        peer: PeerId,
        /// The topic.
        pubsub_topic: String,
    },
    /// A peer left a pubsub topic.
    Unsubscribed {
        /// The peer.
        peer: PeerId,
        /// The topic.
        pubsub_topic: String,
    },
    /// A connected peer does not speak `/vac/waku/relay/2.0.0`.
    RelayNotSupported {
        /// The peer.
        peer: PeerId,
    },
    /// A peer's send queue overflowed in so many heartbeats in a row
    /// ([`GossipsubParams::drop_slow_peer_after`](crate::GossipsubParams::drop_slow_peer_after))
    /// that all its connections are being closed: whoever keeps the peer
    /// should dial it again.
    SlowPeerDropped {
        /// The peer.
        peer: PeerId,
    },
    /// A peer does not read our messages fast enough (its send queues are
    /// full, messages to it are being dropped).
    SlowPeer {
        /// The peer.
        peer: PeerId,
    },
    /// With peer exchange on ([`crate::Config::with_peer_exchange`]): a peer
    /// pruned us from `pubsub_topic` and named other peers; those whose
    /// signed peer record verified are here with the addresses it signs
    /// (peers named without a valid record are left out, as nwaku does).
    PeerExchange {
        /// The peer that pruned us.
        from: PeerId,
        /// The topic.
        pubsub_topic: String,
        /// The peers and their signed addresses.
        peers: Vec<(PeerId, Vec<libp2p::Multiaddr>)>,
    },
}

/// Why a message was not published.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishError {
    /// The message is too large or its timestamp is outside the window.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A validator (or a structural rule) rejects the message; peers applying
    /// the same rule would penalise us for it.
    #[error("message rejected: {0}")]
    Rejected(&'static str),
    /// A validator ignores the message (for example the shard's rate limit
    /// is used up).
    #[error("message ignored: {0}")]
    Ignored(&'static str),
    /// No connected peer is subscribed to the topic (or all are below the
    /// publish score threshold).
    #[error("no peers subscribed to {0}")]
    NoPeers(String),
    /// The same message (same encoded bytes) was published or seen recently.
    #[error("duplicate message")]
    Duplicate,
    /// The send queues of every recipient are full.
    #[error("send queues of all {0} recipients are full")]
    QueuesFull(usize),
    /// Any other gossipsub failure.
    #[error("gossipsub: {0}")]
    Gossipsub(String),
}

impl PublishError {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            PublishError::Invalid(ValidationError::TooLarge { .. }) => reason::TOO_LARGE,
            PublishError::Invalid(ValidationError::TimestampOutOfWindow { .. }) => {
                reason::TIMESTAMP_OUT_OF_WINDOW
            }
            PublishError::Invalid(_) => "invalid",
            PublishError::Rejected(r) | PublishError::Ignored(r) => r,
            PublishError::NoPeers(_) => "no_peers",
            PublishError::Duplicate => "duplicate",
            PublishError::QueuesFull(_) => "queues_full",
            PublishError::Gossipsub(_) => "gossipsub",
        }
    }
}

/// Why a subscription failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("cannot subscribe to {topic}: {cause}")]
pub struct SubscribeError {
    /// The topic.
    pub topic: String,
    /// gossipsub's explanation.
    pub cause: String,
}

/// Waku relay (11/WAKU2-RELAY): gossipsub on `/vac/waku/relay/2.0.0` with
/// StrictNoSign messages, SHA-256 message ids and the validation pipeline of
/// [`crate::validation`].
///
/// A `NetworkBehaviour`: put it in a swarm (alone or in a derived
/// behaviour) and read [`Event`]s from it.
pub struct Behaviour {
    inner: gossipsub::Behaviour,
    limits: MessageValidator,
    validators: Validators,
    topic_params: Option<TopicScoreParams>,
    counts: ValidationCounts,
    #[cfg(feature = "metrics")]
    metrics: Metrics,
    slow_peers: SlowPeers,
    to_close: VecDeque<PeerId>,
    /// gossipsub's `mesh_n_low`: below it a topic's mesh is "low".
    #[cfg(feature = "metrics")]
    mesh_n_low: usize,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behaviour")
            .field("limits", &self.limits)
            .field("validators", &self.validators)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Behaviour {
    /// A relay with `config`.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        let inner = Self::new_gossipsub(&config)?;
        Self::build(config, inner)
    }

    /// A relay with `config` whose metrics (its own and gossipsub's, under
    /// `libp2p_gossipsub_*`) are registered in `registry`.
    #[cfg(feature = "metrics")]
    pub fn new_with_metrics(config: Config, registry: &mut Registry) -> Result<Self, ConfigError> {
        let inner = Self::new_gossipsub(&config)?.with_metrics(
            registry.sub_registry_with_prefix("libp2p_gossipsub"),
            gossipsub::MetricsConfig::default(),
        );
        let relay = Self::build(config, inner)?;
        relay.metrics.register(registry);
        Ok(relay)
    }

    fn new_gossipsub(config: &Config) -> Result<gossipsub::Behaviour, ConfigError> {
        gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config.gossipsub_config()?)
            .map_err(|e| ConfigError::Gossipsub(e.to_owned()))
    }

    fn build(config: Config, mut inner: gossipsub::Behaviour) -> Result<Self, ConfigError> {
        let mut topic_params = None;
        if let Some(scoring) = &config.scoring {
            scoring
                .topic_params
                .validate()
                .map_err(|e| ConfigError::Scoring(e.to_owned()))?;
            inner
                .with_peer_score(scoring.params.clone(), scoring.thresholds.clone())
                .map_err(ConfigError::Scoring)?;
            topic_params = Some(scoring.topic_params.clone());
        }
        Ok(Self {
            inner,
            slow_peers: SlowPeers::new(
                config.gossipsub.drop_slow_peer_after,
                config.gossipsub.heartbeat_interval,
            ),
            to_close: VecDeque::new(),
            #[cfg(feature = "metrics")]
            mesh_n_low: config.gossipsub.mesh_n_low,
            limits: config.message_validator(),
            validators: config.validators,
            topic_params,
            counts: ValidationCounts::default(),
            #[cfg(feature = "metrics")]
            metrics: Metrics::default(),
        })
    }

    /// Joins a pubsub topic (a [`waku_sharding::RelayShard`] or a topic
    /// string). Returns `Ok(false)` if already subscribed.
    pub fn subscribe<T: PubsubTopicName + ?Sized>(
        &mut self,
        topic: &T,
    ) -> Result<bool, SubscribeError> {
        let topic = IdentTopic::new(topic.topic_name().into_owned());
        if let Some(params) = &self.topic_params
            && self.inner.get_topic_params(&topic).is_none()
        {
            self.inner
                .set_topic_params(topic.clone(), params.clone())
                .map_err(|e| SubscribeError {
                    topic: topic.to_string(),
                    cause: e.to_owned(),
                })?;
        }
        let joined = self.inner.subscribe(&topic).map_err(|e| SubscribeError {
            topic: topic.to_string(),
            cause: format!("{e:?}"),
        })?;
        #[cfg(feature = "metrics")]
        if joined {
            self.metrics.subscribed();
        }
        Ok(joined)
    }

    /// Leaves a pubsub topic. Returns `false` if not subscribed.
    pub fn unsubscribe<T: PubsubTopicName + ?Sized>(&mut self, topic: &T) -> bool {
        let left = self
            .inner
            .unsubscribe(&IdentTopic::new(topic.topic_name().into_owned()));
        #[cfg(feature = "metrics")]
        if left {
            self.metrics.unsubscribed();
        }
        left
    }

    /// Whether this node is subscribed to `topic`.
    pub fn is_subscribed<T: PubsubTopicName + ?Sized>(&self, topic: &T) -> bool {
        let name = topic.topic_name();
        self.inner.topics().any(|t| t.as_str() == name)
    }

    /// The pubsub topics this node is subscribed to.
    pub fn subscriptions(&self) -> Vec<String> {
        self.inner.topics().map(|t| t.as_str().to_owned()).collect()
    }

    /// Validates and publishes `message` on `topic`; returns its
    /// deterministic hash.
    ///
    /// The message goes through the same checks as a received one (size,
    /// timestamp window, the validators in scope), because peers running
    /// them would otherwise penalise this node. A message this node
    /// publishes is not delivered back to it as a [`Event::Message`].
    pub fn publish<T: PubsubTopicName + ?Sized>(
        &mut self,
        topic: &T,
        message: WakuMessage,
    ) -> Result<MessageHash, PublishError> {
        let topic = topic.topic_name();
        let result = self.publish_inner(&topic, &message);
        #[cfg(feature = "metrics")]
        match &result {
            Ok(_) => self.metrics.published(&topic),
            Err(e) => {
                self.metrics.publish_failed(e.label());
                if matches!(e, PublishError::NoPeers(_)) {
                    self.metrics.publish_without_peers();
                }
            }
        }
        result
    }

    fn publish_inner(
        &mut self,
        topic: &str,
        message: &WakuMessage,
    ) -> Result<MessageHash, PublishError> {
        let data = message.encode_to_vec();
        self.limits.check_size(data.len())?;
        self.limits.check_meta(message)?;
        let now = now_nanos();
        self.limits.check_timestamp(message, now)?;
        let hash = message_hash(topic, message);
        match self.run_validators(topic, message, &hash, data.len(), None, now) {
            Verdict::Accept => {}
            Verdict::Reject(r) => return Err(PublishError::Rejected(r)),
            Verdict::Ignore(r) => return Err(PublishError::Ignored(r)),
        }
        self.inner
            .publish(TopicHash::from_raw(topic), data)
            .map_err(|e| match e {
                gossipsub::PublishError::NoPeersSubscribedToTopic => {
                    PublishError::NoPeers(topic.to_owned())
                }
                gossipsub::PublishError::Duplicate => PublishError::Duplicate,
                gossipsub::PublishError::AllQueuesFull(n) => PublishError::QueuesFull(n),
                other => PublishError::Gossipsub(other.to_string()),
            })?;
        Ok(hash)
    }

    /// Number of connected peers subscribed to `topic` (the peers a
    /// publication on it is sent to, score permitting).
    pub fn relay_peers<T: PubsubTopicName + ?Sized>(&self, topic: &T) -> usize {
        let name = topic.topic_name();
        self.inner
            .all_peers()
            .filter(|(_, topics)| topics.iter().any(|t| t.as_str() == name))
            .count()
    }

    /// The peers in this node's mesh for `topic` (empty when not subscribed).
    pub fn mesh_peers<T: PubsubTopicName + ?Sized>(&self, topic: &T) -> Vec<PeerId> {
        let hash = TopicHash::from_raw(topic.topic_name().into_owned());
        self.inner.mesh_peers(&hash).copied().collect()
    }

    /// The gossipsub score of a peer (`None` when scoring is disabled).
    pub fn peer_score(&self, peer: &PeerId) -> Option<f64> {
        self.inner.peer_score(peer)
    }

    /// Adds a validator at run time (see [`Config::with_validator`]).
    pub fn add_validator(&mut self, scope: ValidatorScope, validator: Box<dyn ShardValidator>) {
        self.validators.push(scope, validator);
    }

    /// Validation outcomes of received messages so far.
    pub fn validation_counts(&self) -> &ValidationCounts {
        &self.counts
    }

    /// The Prometheus metrics (register them with [`Metrics::register`]
    /// unless the relay was built with [`Self::new_with_metrics`]).
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The mesh figures over the topics this node is subscribed to.
    #[cfg(feature = "metrics")]
    pub fn topic_health(&self) -> crate::metrics::TopicHealth {
        let mut health = crate::metrics::TopicHealth::default();
        let peers: Vec<Vec<&TopicHash>> = self.inner.all_peers().map(|(_, t)| t).collect();
        for topic in self.inner.topics() {
            let mesh = self.inner.mesh_peers(topic).count();
            health.mesh_peers += mesh;
            health.topic_peers += peers.iter().filter(|t| t.contains(&topic)).count();
            if mesh >= self.mesh_n_low {
                health.healthy_peers_topics += 1;
            } else if mesh > 0 {
                health.low_peers_topics += 1;
            }
        }
        health
    }

    /// Sets the mesh gauges of [`Self::metrics`] from [`Self::topic_health`]
    /// (the caller does it periodically, as nim-libp2p does each heartbeat).
    #[cfg(feature = "metrics")]
    pub fn refresh_metrics(&self) {
        self.metrics.set_topic_health(&self.topic_health());
    }

    /// Always keeps a mesh link to `peer` and sends it every message
    /// (gossipsub explicit peering).
    pub fn add_explicit_peer(&mut self, peer: &PeerId) {
        self.inner.add_explicit_peer(peer);
    }

    /// Ignores every message from `peer`.
    pub fn blacklist_peer(&mut self, peer: &PeerId) {
        self.inner.blacklist_peer(peer);
    }

    /// Keeps `peer`'s signed peer record (a libp2p signed envelope, as
    /// identify carries it) to send with its id in peer exchange; `None`
    /// forgets it. Only kept while the peer is connected.
    pub fn set_signed_peer_record(
        &mut self,
        peer: PeerId,
        record: Option<&libp2p::core::SignedEnvelope>,
    ) {
        self.inner
            .set_signed_peer_record(peer, record.map(|r| r.clone().into_protobuf_encoding()));
    }

    /// The wrapped gossipsub behaviour, read-only (mesh, peers, scores).
    pub fn gossipsub(&self) -> &gossipsub::Behaviour {
        &self.inner
    }

    /// Runs the validators in scope (step 4 of the pipeline).
    fn run_validators(
        &mut self,
        topic: &str,
        message: &WakuMessage,
        hash: &MessageHash,
        encoded_len: usize,
        source: Option<&PeerId>,
        now: Timestamp,
    ) -> Verdict {
        if message.content_topic.is_empty() {
            return Verdict::Reject(reason::MISSING_CONTENT_TOPIC);
        }
        let ctx = MessageContext {
            pubsub_topic: topic,
            shard: topic.parse().ok(),
            message,
            hash,
            encoded_len,
            source,
            now,
        };
        self.validators.run(&ctx)
    }

    /// The whole pipeline for received pubsub `data`.
    fn validate_received(
        &mut self,
        topic: &str,
        data: Vec<u8>,
        source: &PeerId,
    ) -> Result<(WakuMessage, MessageHash), Verdict> {
        let encoded_len = data.len();
        if encoded_len > self.limits.max_message_size {
            return Err(Verdict::Reject(reason::TOO_LARGE));
        }
        let message = pb::WakuMessage::decode(Bytes::from(data))
            .ok()
            .and_then(|wire| WakuMessage::try_from(wire).ok())
            .ok_or(Verdict::Reject(reason::UNDECODABLE))?;
        let now = now_nanos();
        if self.limits.check_timestamp(&message, now).is_err() {
            return Err(Verdict::Reject(reason::TIMESTAMP_OUT_OF_WINDOW));
        }
        let hash = message_hash(topic, &message);
        match self.run_validators(topic, &message, &hash, encoded_len, Some(source), now) {
            Verdict::Accept => Ok((message, hash)),
            other => Err(other),
        }
    }

    fn on_message(
        &mut self,
        propagation_source: PeerId,
        message_id: MessageId,
        message: gossipsub::Message,
    ) -> Option<Event> {
        let topic = message.topic.into_string();
        #[cfg(feature = "metrics")]
        self.metrics.received();
        let outcome = self.validate_received(&topic, message.data, &propagation_source);
        let verdict = match &outcome {
            Ok(_) => Verdict::Accept,
            Err(v) => *v,
        };
        let acceptance = match verdict {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Reject(_) => MessageAcceptance::Reject,
            Verdict::Ignore(_) => MessageAcceptance::Ignore,
        };
        self.inner
            .report_message_validation_result(&message_id, &propagation_source, acceptance);
        self.counts.record(&verdict);
        #[cfg(feature = "metrics")]
        self.metrics.validated(&verdict);
        match outcome {
            Ok((message, hash)) => Some(Event::Message {
                pubsub_topic: topic,
                message,
                hash,
                source: propagation_source,
            }),
            Err(verdict) => {
                tracing::debug!(
                    %topic,
                    peer = %propagation_source,
                    outcome = verdict.outcome().as_str(),
                    reason = verdict.reason(),
                    "relay message not accepted"
                );
                None
            }
        }
    }

    fn on_gossipsub_event(&mut self, event: gossipsub::Event) -> Option<Event> {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => self.on_message(propagation_source, message_id, message),
            gossipsub::Event::Subscribed { peer_id, topic, .. } => Some(Event::Subscribed {
                peer: peer_id,
                pubsub_topic: topic.into_string(),
            }),
            gossipsub::Event::Unsubscribed { peer_id, topic } => Some(Event::Unsubscribed {
                peer: peer_id,
                pubsub_topic: topic.into_string(),
            }),
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                Some(Event::RelayNotSupported { peer: peer_id })
            }
            gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            } => {
                if self.slow_peers.report(peer_id, Instant::now()) {
                    tracing::warn!(peer = %peer_id, ?failed_messages, "relay peer's send queue keeps overflowing: disconnecting it");
                    self.to_close.push_back(peer_id);
                    #[cfg(feature = "metrics")]
                    self.metrics.slow_peer_disconnected();
                    Some(Event::SlowPeerDropped { peer: peer_id })
                } else {
                    tracing::debug!(peer = %peer_id, ?failed_messages, "relay peer is slow");
                    Some(Event::SlowPeer { peer: peer_id })
                }
            }
            gossipsub::Event::PeerExchange {
                peer_id,
                topic,
                peers,
            } => {
                let named = peers.len();
                let with_record = peers.iter().filter(|(_, r)| r.is_some()).count();
                let peers: Vec<(PeerId, Vec<libp2p::Multiaddr>)> = peers
                    .into_iter()
                    .filter_map(|(peer, record)| verified_addresses(peer, record?.as_slice()))
                    .collect();
                tracing::debug!(from = %peer_id, %topic, named, with_record, verified = peers.len(), "relay peer exchange");
                Some(Event::PeerExchange {
                    from: peer_id,
                    pubsub_topic: topic.into_string(),
                    peers,
                })
            }
            // Partial messages (an optional gossipsub extension) are not used.
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = <gossipsub::Behaviour as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = Event;

    waku_core::forward_connection_setup!();

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ConnectionClosed(closed) = &event
            && closed.remaining_established == 0
        {
            self.slow_peers.forget(&closed.peer_id);
        }
        self.inner.on_swarm_event(event);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        if let Some(peer_id) = self.to_close.pop_front() {
            return Poll::Ready(ToSwarm::CloseConnection {
                peer_id,
                connection: CloseConnection::All,
            });
        }
        loop {
            match self.inner.poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(ToSwarm::GenerateEvent(event)) => {
                    if let Some(event) = self.on_gossipsub_event(event) {
                        return Poll::Ready(ToSwarm::GenerateEvent(event));
                    }
                }
                Poll::Ready(action) => {
                    return Poll::Ready(
                        action.map_out(|_| unreachable!("GenerateEvent is handled above")),
                    );
                }
            }
        }
    }
}

/// The addresses `record` (a signed envelope holding a libp2p peer record,
/// in the standard or rust-libp2p's legacy format) signs for `peer`, if it
/// decodes, its signature holds and it is `peer`'s.
fn verified_addresses(peer: PeerId, record: &[u8]) -> Option<(PeerId, Vec<libp2p::Multiaddr>)> {
    use libp2p::core::{PeerRecord, SignedEnvelope};
    let envelope = SignedEnvelope::from_protobuf_encoding(record).ok()?;
    // The standard format (go-libp2p, nim-libp2p, our patched identify),
    // then rust-libp2p's legacy one.
    let record = PeerRecord::from_signed_envelope_interop(envelope.clone())
        .or_else(|_| PeerRecord::from_signed_envelope(envelope))
        .ok()?;
    (record.peer_id() == peer).then(|| (peer, record.addresses().to_vec()))
}

//! The runner's libp2p side: one connection to the target, identify to
//! learn what it serves, raw request/response streams on each protocol the
//! checks exercise, a gossipsub peer on the relay protocol, and the answers
//! to what the target opens towards us (its metadata request, filter
//! pushes).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, Swarm, SwarmBuilder, gossipsub, identify, identity, ping,
};
use prost::Message;
use tokio::time::Instant;
use waku_metadata::proto::{WakuMetadataRequest, WakuMetadataResponse};

use crate::options::{Options, OptionsError};
use crate::transport::{self, TransportError};
use crate::wire::{Answer, END_WAIT, Inbound, Outbound, RawCodec, StreamEnd};

/// The protocols the runner opens streams on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// `/vac/waku/metadata/1.0.0`.
    Metadata,
    /// `/vac/waku/lightpush/3.0.0`.
    Lightpush,
    /// `/vac/waku/lightpush/2.0.0-beta1` (legacy).
    LightpushV2,
    /// `/vac/waku/store-query/3.0.0`.
    Store,
    /// `/vac/waku/filter-subscribe/2.0.0-beta1`.
    FilterSubscribe,
    /// `/vac/waku/peer-exchange/2.0.0-alpha1`.
    PeerExchange,
    /// `/vac/waku/store/2.0.0-beta4` (legacy).
    StoreV2,
}

impl Proto {
    /// The libp2p protocol id.
    pub fn id(self) -> &'static str {
        match self {
            Proto::Metadata => waku_core::protocol_id::METADATA,
            Proto::Lightpush => waku_core::protocol_id::LIGHTPUSH_V3,
            Proto::LightpushV2 => waku_core::protocol_id::LIGHTPUSH_V2,
            Proto::Store => waku_core::protocol_id::STORE_QUERY_V3,
            Proto::FilterSubscribe => waku_core::protocol_id::FILTER_SUBSCRIBE_V2,
            Proto::PeerExchange => waku_core::protocol_id::PEER_EXCHANGE,
            Proto::StoreV2 => waku_core::protocol_id::STORE_V2,
        }
    }
}

type Raw = request_response::Behaviour<RawCodec>;

/// How [`Session::request`] errors start when the target kept the stream
/// open without answering (as opposed to refusing or resetting it).
pub const NO_ANSWER: &str = "no answer within";

/// The runner's behaviour: identify, a gossipsub peer on the relay
/// protocol, and one raw request/response behaviour per protocol (a
/// request/response behaviour negotiates the first of its protocols the
/// peer knows, so each gets its own).
#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct Behaviour {
    identify: identify::Behaviour,
    /// Answers the target's keepalive pings: go-waku drops a peer that does
    /// not answer `/ipfs/ping/1.0.0` (every 10 s), cutting the requests in
    /// flight.
    ping: ping::Behaviour,
    relay: gossipsub::Behaviour,
    metadata: Raw,
    lightpush: Raw,
    lightpush_v2: Raw,
    store: Raw,
    filter: Raw,
    push: Raw,
    peer_exchange: Raw,
    store_v2: Raw,
}

/// Why the session could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The options are unusable.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// The transport could not be built.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The target could not be reached.
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// The address dialled.
        addr: Multiaddr,
        /// What went wrong.
        reason: String,
    },
    /// The gossipsub peer could not be configured.
    #[error("gossipsub: {0}")]
    Gossipsub(String),
    /// The target did not answer identify.
    #[error("{0} did not answer identify in time")]
    Identify(PeerId),
}

/// What the target told identify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetInfo {
    /// The protocols it serves.
    pub protocols: Vec<String>,
    /// Its agent version.
    pub agent_version: String,
}

/// A connection to the target and the streams on it.
pub struct Session {
    swarm: Swarm<Behaviour>,
    target: PeerId,
    addr: Multiaddr,
    timeout: Duration,
    connected: bool,
    info: Option<TargetInfo>,
    answers: HashMap<(Proto, OutboundRequestId), Result<Answer, String>>,
    pushes: VecDeque<Inbound>,
    target_metadata: Option<WakuMetadataRequest>,
    /// How the target's metadata request is answered.
    metadata_answer: MetadataAnswer,
    cluster: Option<u32>,
    shards: Vec<u32>,
    disconnects: usize,
    target_topics: HashSet<String>,
    relayed: VecDeque<gossipsub::Message>,
    /// When a request was last sent, per protocol.
    last_sent: HashMap<Proto, Instant>,
    /// The protocols the target rate limited: their requests are spaced
    /// [`RATE_LIMIT_INTERVAL`] apart from then on.
    paced: HashSet<Proto>,
}

/// How far apart requests on a protocol the target rate limited are sent
/// (a little over the one request a second nwaku and go-waku allow a peer by
/// default).
pub const RATE_LIMIT_INTERVAL: Duration = Duration::from_millis(1100);

/// How many relayed messages the session keeps unread.
const MAX_RELAYED: usize = 1024;

/// The largest gossipsub frame the runner sends or takes (room for the
/// oversize messages the relay checks publish).
const MAX_GOSSIP_FRAME: usize = 1024 * 1024;

/// How the runner answers the metadata request the target sends it on
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetadataAnswer {
    /// With the run's cluster and shards, in both shard fields.
    #[default]
    Ours,
    /// With an answer carrying no cluster id and no shards.
    WithoutCluster,
    /// With no answer: the stream is closed unanswered.
    Unanswered,
}

/// How the runner's gossipsub peer publishes and what it takes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RelayPeer {
    /// As a Waku relay peer: publishes without `from`, `seqno`,
    /// `signature` or `key`; takes in messages with or without them
    /// (checked when present, then handed to us).
    #[default]
    Waku,
    /// Publishes every message signed, with `from`, `seqno`, `signature`
    /// and `key`, as plain libp2p gossipsub does (what RELAY-012 has a
    /// Waku node reject).
    Signing,
    /// Takes in whatever the target sends, author fields unchecked (so a
    /// forwarded copy whose signature no longer verifies still shows), and
    /// hands their data on without `from` and `seqno`.
    Unchecked,
}

/// A gossipsub peer as a Waku relay peer is configured: the relay
/// protocol id only, no signing, message id = SHA-256 of the data (unless
/// `peer` says otherwise). It validates permissively (author fields are
/// checked only when present, and then handed to us), so the fields the
/// target sends can be inspected.
fn relay_behaviour(
    key: &identity::Keypair,
    peer: RelayPeer,
) -> Result<gossipsub::Behaviour, SessionError> {
    use sha2::Digest;
    let config = gossipsub::ConfigBuilder::default()
        .protocol_id(waku_core::protocol_id::RELAY, gossipsub::Version::V1_1)
        .validation_mode(match peer {
            RelayPeer::Unchecked => gossipsub::ValidationMode::None,
            _ => gossipsub::ValidationMode::Permissive,
        })
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId(sha2::Sha256::digest(&m.data).to_vec())
        })
        .max_transmit_size(MAX_GOSSIP_FRAME)
        .build()
        .map_err(|e| SessionError::Gossipsub(e.to_string()))?;
    let authenticity = match peer {
        RelayPeer::Signing => gossipsub::MessageAuthenticity::Signed(key.clone()),
        _ => gossipsub::MessageAuthenticity::Anonymous,
    };
    gossipsub::Behaviour::new(authenticity, config)
        .map_err(|e| SessionError::Gossipsub(e.to_string()))
}

fn raw(protocol: &'static str, support: ProtocolSupport, timeout: Duration) -> Raw {
    Raw::with_codec(
        RawCodec,
        [(StreamProtocol::new(protocol), support)],
        request_response::Config::default().with_request_timeout(timeout + END_WAIT),
    )
}

impl Session {
    /// Connects to the target of `options` and waits for its identify.
    pub async fn connect(options: &Options) -> Result<Self, SessionError> {
        Self::connect_as(options, RelayPeer::Waku).await
    }

    /// [`Session::connect`], with a gossipsub peer publishing and taking
    /// in as `peer` says (another peer of the runner, watching what the
    /// target forwards or breaking the relay's rules).
    pub async fn connect_as(options: &Options, peer: RelayPeer) -> Result<Self, SessionError> {
        Self::connect_with(options, peer, MetadataAnswer::Ours).await
    }

    /// [`Session::connect`], answering the target's metadata request as
    /// `answer` says (a peer the target should drop on a cluster it
    /// enforces).
    pub async fn connect_answering(
        options: &Options,
        answer: MetadataAnswer,
    ) -> Result<Self, SessionError> {
        Self::connect_with(options, RelayPeer::Waku, answer).await
    }

    /// Connects as `peer`, answering metadata as `answer`.
    async fn connect_with(
        options: &Options,
        peer: RelayPeer,
        metadata_answer: MetadataAnswer,
    ) -> Result<Self, SessionError> {
        let target = options.peer_id()?;
        let key = identity::Keypair::generate_ed25519();
        let transport = transport::build(&key, options.muxer, &options.wss_trust)?;
        let timeout = options.timeout;
        let behaviour = Behaviour {
            identify: identify::Behaviour::new(
                identify::Config::new(waku_core::protocol_id::IDENTIFY.into(), key.public())
                    .with_agent_version(format!("waku-conformance/{}", env!("CARGO_PKG_VERSION"))),
            ),
            ping: ping::Behaviour::new(ping::Config::new()),
            relay: relay_behaviour(&key, peer)?,
            metadata: raw(
                waku_core::protocol_id::METADATA,
                ProtocolSupport::Full,
                timeout,
            ),
            lightpush: raw(
                waku_core::protocol_id::LIGHTPUSH_V3,
                ProtocolSupport::Outbound,
                timeout,
            ),
            lightpush_v2: raw(
                waku_core::protocol_id::LIGHTPUSH_V2,
                ProtocolSupport::Outbound,
                timeout,
            ),
            store: raw(
                waku_core::protocol_id::STORE_QUERY_V3,
                ProtocolSupport::Outbound,
                timeout,
            ),
            filter: raw(
                waku_core::protocol_id::FILTER_SUBSCRIBE_V2,
                ProtocolSupport::Outbound,
                timeout,
            ),
            push: raw(
                waku_core::protocol_id::FILTER_PUSH_V2,
                ProtocolSupport::Inbound,
                timeout,
            ),
            peer_exchange: raw(
                waku_core::protocol_id::PEER_EXCHANGE,
                ProtocolSupport::Outbound,
                timeout,
            ),
            store_v2: raw(
                waku_core::protocol_id::STORE_V2,
                ProtocolSupport::Outbound,
                timeout,
            ),
        };
        let swarm = SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_other_transport(|_| transport)
            .map_err(|e| SessionError::Connect {
                addr: options.target.clone(),
                reason: e.to_string(),
            })?
            .with_behaviour(|_| behaviour)
            .map_err(|e| SessionError::Connect {
                addr: options.target.clone(),
                reason: e.to_string(),
            })?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        let mut session = Self {
            swarm,
            target,
            addr: options.target.clone(),
            timeout,
            connected: false,
            info: None,
            answers: HashMap::new(),
            pushes: VecDeque::new(),
            target_metadata: None,
            metadata_answer,
            cluster: options.cluster,
            shards: options.shards.clone(),
            disconnects: 0,
            target_topics: HashSet::new(),
            relayed: VecDeque::new(),
            last_sent: HashMap::new(),
            paced: HashSet::new(),
        };
        session
            .ensure_connected()
            .await
            .map_err(|reason| SessionError::Connect {
                addr: options.target.clone(),
                reason,
            })?;
        let deadline = Instant::now() + timeout;
        while session.info.is_none() {
            if !session.poll_until(deadline).await {
                return Err(SessionError::Identify(target));
            }
        }
        Ok(session)
    }

    /// What the target told identify.
    pub fn info(&self) -> TargetInfo {
        self.info.clone().unwrap_or_default()
    }

    /// Whether identify listed `protocol`.
    pub fn serves(&self, protocol: &str) -> bool {
        self.info
            .as_ref()
            .is_some_and(|i| i.protocols.iter().any(|p| p == protocol))
    }

    /// The metadata request the target sent us, if any.
    pub fn target_metadata(&self) -> Option<&WakuMetadataRequest> {
        self.target_metadata.as_ref()
    }

    /// How often the target closed our connection so far.
    pub fn disconnects(&self) -> usize {
        self.disconnects
    }

    /// Sets the cluster and shards the runner claims in metadata answers.
    pub fn set_network(&mut self, cluster: u32, shards: Vec<u32>) {
        self.cluster = Some(cluster);
        self.shards = shards;
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Lets the connection run for `duration` (answering what the target
    /// sends meanwhile).
    pub async fn settle(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while self.poll_until(deadline).await {}
    }

    /// Opens a stream on `proto`, writes `bytes`, closes the write side and
    /// reads what comes back. `Err` says why nothing usable came back
    /// (the stream was refused or reset, the connection dropped, time ran
    /// out).
    ///
    /// On a protocol marked with [`Session::pace`], waits until
    /// [`RATE_LIMIT_INTERVAL`] has passed since the previous request on it.
    pub async fn request(&mut self, proto: Proto, bytes: Vec<u8>) -> Result<Answer, String> {
        self.ready_to_send(proto).await?;
        let target = self.target;
        let id = self
            .raw_of(proto)
            .send_request(&target, Outbound::Bytes(bytes));
        let deadline = Instant::now() + self.timeout + END_WAIT + Duration::from_secs(1);
        loop {
            if let Some(answer) = self.answers.remove(&(proto, id)) {
                return answer;
            }
            if !self.poll_until(deadline).await {
                return Err(format!("{NO_ANSWER} {:?}", self.timeout));
            }
        }
    }

    /// Marks `proto` as rate limited by the target: from now on its
    /// requests are sent at most one per [`RATE_LIMIT_INTERVAL`]. A target
    /// limiting a peer's requests (go-waku's filter: one a second) then
    /// answers each of them, not a 429 for every other one.
    pub fn pace(&mut self, proto: Proto) {
        self.paced.insert(proto);
    }

    /// Joins `pubsub_topic` as a relay peer of the target.
    pub fn relay_subscribe(&mut self, pubsub_topic: &str) -> Result<(), String> {
        let topic = gossipsub::IdentTopic::new(pubsub_topic);
        self.swarm
            .behaviour_mut()
            .relay
            .subscribe(&topic)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Waits up to `wait` until the target has announced (over gossipsub)
    /// that it relays `pubsub_topic`.
    pub async fn target_relays(&mut self, pubsub_topic: &str, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            if self.target_topics.contains(pubsub_topic) {
                return true;
            }
            if !self.poll_until(deadline).await {
                return false;
            }
        }
    }

    /// Publishes `data` on `pubsub_topic` as a relay peer (flooded to the
    /// target); the message id.
    pub fn relay_publish(&mut self, pubsub_topic: &str, data: Vec<u8>) -> Result<Vec<u8>, String> {
        let topic = gossipsub::IdentTopic::new(pubsub_topic);
        self.swarm
            .behaviour_mut()
            .relay
            .publish(topic, data)
            .map(|id| id.0)
            .map_err(|e| e.to_string())
    }

    /// Waits up to `wait` for a relay message from the target; the oldest
    /// unread one first.
    pub async fn next_relayed(&mut self, wait: Duration) -> Option<gossipsub::Message> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(message) = self.relayed.pop_front() {
                return Some(message);
            }
            if !self.poll_until(deadline).await {
                return None;
            }
        }
    }

    /// Waits up to `wait` for a filter push; the oldest unread one first.
    pub async fn next_push(&mut self, wait: Duration) -> Option<Inbound> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(push) = self.pushes.pop_front() {
                return Some(push);
            }
            if !self.poll_until(deadline).await {
                return None;
            }
        }
    }

    /// Dials the target unless connected.
    async fn ensure_connected(&mut self) -> Result<(), String> {
        if self.connected {
            return Ok(());
        }
        self.swarm
            .dial(self.addr.clone())
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + self.timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.swarm.select_next_some()).await {
                Err(_) => return Err(format!("no connection within {:?}", self.timeout)),
                Ok(SwarmEvent::OutgoingConnectionError {
                    peer_id: Some(p),
                    error,
                    ..
                }) if p == self.target => return Err(error.to_string()),
                Ok(event) => self.handle(event),
            }
            if self.connected {
                return Ok(());
            }
        }
    }

    /// Handles one swarm event; `false` once `deadline` passed.
    async fn poll_until(&mut self, deadline: Instant) -> bool {
        match tokio::time::timeout_at(deadline, self.swarm.select_next_some()).await {
            Ok(event) => {
                self.handle(event);
                true
            }
            Err(_) => false,
        }
    }

    fn handle(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == self.target => {
                self.connected = true;
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } if peer_id == self.target => {
                self.connected = false;
                self.disconnects += 1;
            }
            SwarmEvent::Behaviour(event) => self.behaviour_event(event),
            _ => {}
        }
    }

    fn behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })
                if peer_id == self.target =>
            {
                self.info = Some(TargetInfo {
                    protocols: info.protocols.iter().map(|p| p.to_string()).collect(),
                    agent_version: info.agent_version,
                });
            }
            BehaviourEvent::Relay(gossipsub::Event::Subscribed { peer_id, topic })
                if peer_id == self.target =>
            {
                self.target_topics.insert(topic.into_string());
            }
            BehaviourEvent::Relay(gossipsub::Event::Unsubscribed { peer_id, topic })
                if peer_id == self.target =>
            {
                self.target_topics.remove(topic.as_str());
            }
            BehaviourEvent::Relay(gossipsub::Event::Message {
                propagation_source,
                message,
                ..
            }) if propagation_source == self.target => {
                // A node on a live network relays its whole shard to us:
                // keep only the latest messages.
                if self.relayed.len() == MAX_RELAYED {
                    self.relayed.pop_front();
                }
                self.relayed.push_back(message);
            }
            BehaviourEvent::Metadata(event) => self.rr_event(Proto::Metadata, event),
            BehaviourEvent::Lightpush(event) => self.rr_event(Proto::Lightpush, event),
            BehaviourEvent::LightpushV2(event) => self.rr_event(Proto::LightpushV2, event),
            BehaviourEvent::Store(event) => self.rr_event(Proto::Store, event),
            BehaviourEvent::Filter(event) => self.rr_event(Proto::FilterSubscribe, event),
            BehaviourEvent::PeerExchange(event) => self.rr_event(Proto::PeerExchange, event),
            BehaviourEvent::StoreV2(event) => self.rr_event(Proto::StoreV2, event),
            BehaviourEvent::Push(request_response::Event::Message {
                message:
                    request_response::Message::Request {
                        request: Outbound::Received(push),
                        channel,
                        ..
                    },
                ..
            }) => {
                self.pushes.push_back(push);
                // Nothing is written back on a push stream.
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .push
                    .send_response(channel, Answer::Closed);
            }
            _ => {}
        }
    }

    fn rr_event(&mut self, proto: Proto, event: request_response::Event<Outbound, Answer>) {
        match event {
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                self.answers.insert((proto, request_id), Ok(response));
            }
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                // A stream the target keeps open without answering is a
                // hang, not a refusal: say so in the words checks look for.
                let text = match error {
                    request_response::OutboundFailure::Timeout => {
                        format!("{NO_ANSWER} {:?}", self.timeout)
                    }
                    other => format!("stream failed: {other}"),
                };
                self.answers.insert((proto, request_id), Err(text));
            }
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request: Outbound::Received(Inbound(body)),
                        channel,
                        ..
                    },
                ..
            } if proto == Proto::Metadata && peer == self.target => {
                let asked = WakuMetadataRequest::decode(body.as_slice()).ok();
                let cluster = self
                    .cluster
                    .or(asked.as_ref().and_then(|r| r.cluster_id))
                    .unwrap_or(0);
                let shards = if self.shards.is_empty() {
                    asked
                        .as_ref()
                        .map(|r| {
                            if r.shards_packed.is_empty() {
                                r.shards.clone()
                            } else {
                                r.shards_packed.clone()
                            }
                        })
                        .unwrap_or_default()
                } else {
                    self.shards.clone()
                };
                if self.target_metadata.is_none() {
                    self.target_metadata = asked;
                }
                let answer = match self.metadata_answer {
                    MetadataAnswer::Ours => WakuMetadataResponse {
                        cluster_id: Some(cluster),
                        shards: shards.clone(),
                        shards_packed: shards,
                    },
                    MetadataAnswer::WithoutCluster => WakuMetadataResponse::default(),
                    // Dropping the channel closes the stream unanswered.
                    MetadataAnswer::Unanswered => return,
                };
                let _ = self.swarm.behaviour_mut().metadata.send_response(
                    channel,
                    Answer::Frame {
                        body: answer.encode_to_vec(),
                        end: StreamEnd::Closed,
                    },
                );
            }
            _ => {}
        }
    }
}

/// A stream of [`Session::open_idle`]: open and silent until this is
/// dropped, then dropped too.
#[derive(Debug)]
pub struct IdleStream(crate::wire::Hold);

impl Drop for IdleStream {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl Session {
    /// Before a request on `proto`: the pause a paced protocol needs
    /// ([`Session::pace`]), then the connection (redialled if it dropped);
    /// the request counts as sent now.
    async fn ready_to_send(&mut self, proto: Proto) -> Result<(), String> {
        if self.paced.contains(&proto)
            && let Some(last) = self.last_sent.get(&proto)
        {
            let next = *last + RATE_LIMIT_INTERVAL;
            while self.poll_until(next).await {}
        }
        self.ensure_connected().await?;
        self.last_sent.insert(proto, Instant::now());
        Ok(())
    }

    /// The raw request/response behaviour of `proto`.
    fn raw_of(&mut self, proto: Proto) -> &mut Raw {
        let behaviour = self.swarm.behaviour_mut();
        match proto {
            Proto::Metadata => &mut behaviour.metadata,
            Proto::Lightpush => &mut behaviour.lightpush,
            Proto::LightpushV2 => &mut behaviour.lightpush_v2,
            Proto::Store => &mut behaviour.store,
            Proto::FilterSubscribe => &mut behaviour.filter,
            Proto::PeerExchange => &mut behaviour.peer_exchange,
            Proto::StoreV2 => &mut behaviour.store_v2,
        }
    }

    /// Opens a stream on `proto` and writes nothing on it: it stays open
    /// and silent (as the streams js-waku opens ahead of time) until the
    /// returned [`IdleStream`] is dropped. The stream is opened by the
    /// next polls of the session (a request, [`Session::settle`]).
    pub async fn open_idle(&mut self, proto: Proto) -> Result<IdleStream, String> {
        self.ensure_connected().await?;
        let hold = crate::wire::Hold::default();
        let target = self.target;
        self.raw_of(proto)
            .send_request(&target, Outbound::Idle(hold.clone()));
        Ok(IdleStream(hold))
    }

    /// Opens a stream on `proto`, writes `bytes`, closes the write side and
    /// drops the stream without reading the answer (as js-waku sends a
    /// filter UNSUBSCRIBE). `Ok` once the bytes are written; paced like
    /// [`Session::request`].
    pub async fn fire(&mut self, proto: Proto, bytes: Vec<u8>) -> Result<(), String> {
        self.ready_to_send(proto).await?;
        let target = self.target;
        let id = self
            .raw_of(proto)
            .send_request(&target, Outbound::Fire(bytes));
        let deadline = Instant::now() + self.timeout + Duration::from_secs(1);
        loop {
            match self.answers.remove(&(proto, id)) {
                Some(Err(e)) if e.contains(crate::wire::FIRED) => return Ok(()),
                Some(Err(e)) => return Err(e),
                Some(Ok(_)) => return Ok(()),
                None => {}
            }
            if !self.poll_until(deadline).await {
                return Err(format!("{NO_ANSWER} {:?}", self.timeout));
            }
        }
    }
}

//! [`NodeHandle`]: how code outside the event loop (the binary, the REST
//! API, tests) talks to a running node.

use std::sync::Arc;

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot};
use waku_core::{MessageHash, WakuMessage};
use waku_enr::WakuEnr;
use waku_relay::PublishError;

/// How long the node's filter client waits for the service node (nwaku's
/// 5 s); its own timeout answers 503 and takes the request's criteria back.
pub const FILTER_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Capacity of the received-message broadcast; slower readers miss the oldest.
pub(crate) const MESSAGE_BUFFER: usize = 1024;

/// A message relay delivered to this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The pubsub topic (shard) it arrived on.
    pub pubsub_topic: String,
    /// The message.
    pub message: WakuMessage,
    /// Its deterministic hash.
    pub hash: MessageHash,
}

/// Why a request to the node failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The node has stopped.
    #[error("the node has stopped")]
    Stopped,
    /// Relay is disabled on this node.
    #[error("relay is not enabled on this node")]
    RelayDisabled,
    /// Publishing failed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// Subscribing failed.
    #[error(transparent)]
    Subscribe(#[from] waku_relay::SubscribeError),
    /// The address to connect to does not name the peer.
    #[error("{0} does not end with /p2p/<peer id>")]
    NoPeerId(Multiaddr),
    /// Dialling failed.
    #[error("cannot dial: {0}")]
    Dial(Arc<libp2p::swarm::DialError>),
    /// No store peer is configured or given.
    #[error("No suitable service peer & no discovery method")]
    NoPeer,
    /// A remote store query failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

impl From<libp2p::swarm::DialError> for RequestError {
    fn from(e: libp2p::swarm::DialError) -> Self {
        Self::Dial(Arc::new(e))
    }
}

/// Why a store query sent to a store node failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreFailure {
    /// The store node refused, or the query got no acceptable answer.
    #[error(transparent)]
    Query(Arc<waku_store::QueryError>),
    /// The store node serves only the legacy store, which has no hash
    /// lookups.
    #[error("the store node serves only the legacy store, which cannot look up message hashes")]
    NoLegacyHashLookup,
    /// A v3 cursor this node did not hand out for a legacy store node.
    #[error(
        "cursor not found: legacy store pages continue only from a cursor this node handed out"
    )]
    UnknownLegacyCursor,
    /// The store node serves only the legacy store and this node has no
    /// legacy client.
    #[error("the store node does not serve store v3")]
    NoV3,
}

impl From<waku_store::QueryError> for StoreFailure {
    fn from(e: waku_store::QueryError) -> Self {
        Self::Query(Arc::new(e))
    }
}

/// A request carried to the event loop, with the channel for its answer.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        pubsub_topic: String,
        message: Box<WakuMessage>,
        reply: oneshot::Sender<Result<MessageHash, RequestError>>,
    },
    Subscribe {
        pubsub_topic: String,
        reply: oneshot::Sender<Result<bool, RequestError>>,
    },
    Unsubscribe {
        pubsub_topic: String,
        reply: oneshot::Sender<Result<bool, RequestError>>,
    },
    RelayPeers {
        pubsub_topic: String,
        reply: oneshot::Sender<Result<usize, RequestError>>,
    },
    ConnectedPeers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    Subscriptions {
        reply: oneshot::Sender<Vec<String>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    Connect {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<PeerId, RequestError>>,
    },
    StoreQuery {
        peer: Option<(PeerId, Multiaddr)>,
        query: Box<waku_store::StoreQuery>,
        reply: oneshot::Sender<Result<waku_store::StoreResponse, RequestError>>,
    },
    LegacyStoreQuery {
        peer: Option<(PeerId, Multiaddr)>,
        query: Box<waku_store::legacy::Query>,
        reply: oneshot::Sender<Result<waku_store::legacy::Page, RequestError>>,
    },
    Lightpush {
        pubsub_topic: Option<String>,
        message: Box<WakuMessage>,
        reply: oneshot::Sender<Result<LightpushOk, LightpushError>>,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), RequestError>>,
    },
    Filter {
        request: FilterRequest,
        reply: oneshot::Sender<Result<(), FilterFailure>>,
    },
    FilterSubscribers {
        reply: oneshot::Sender<Option<Vec<FilterSubscriber>>>,
    },
    ShardPeers {
        set: PeerSet,
        shard: Option<u16>,
        reply: oneshot::Sender<Result<Vec<ShardPeers>, RequestError>>,
    },
    ServicePeers {
        reply: oneshot::Sender<ServicePeersKnown>,
    },
    CurrentEnr {
        reply: oneshot::Sender<WakuEnr>,
    },
}

/// Which client protocols have a service peer to ask: configured
/// (`--storenode`, `--filternode`, `--lightpushnode`) or known from the peer
/// book.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServicePeersKnown {
    /// A store (v3) service peer.
    pub store: bool,
    /// A legacy store service peer.
    pub legacy_store: bool,
    /// A filter service peer.
    pub filter: bool,
    /// A lightpush (v3) service peer.
    pub lightpush: bool,
    /// A legacy lightpush service peer.
    pub legacy_lightpush: bool,
}

/// Which relay peers of a shard [`NodeHandle::shard_peers`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerSet {
    /// Connected peers subscribed to the shard (nwaku's relay peers).
    Relay,
    /// The peers in this node's gossipsub mesh for the shard.
    Mesh,
}

/// A relay peer and its gossipsub score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPeer {
    /// What the node knows about the peer.
    pub info: PeerInfo,
    /// Its gossipsub score (`None` when scoring is disabled).
    pub score: Option<f64>,
}

/// The relay peers of one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardPeers {
    /// The shard index (within the topic's cluster).
    pub shard: u16,
    /// The peers, with their scores.
    pub peers: Vec<ScoredPeer>,
}

/// A light client subscribed to this node's filter service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSubscriber {
    /// The client.
    pub peer_id: PeerId,
    /// Its criteria as (pubsub topic, content topic) pairs.
    pub criteria: Vec<(String, String)>,
}

/// A filter client request towards `--filternode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterRequest {
    /// Subscribe (or refresh) content topics; without a pubsub topic each
    /// content topic goes to its autoshard.
    Subscribe {
        /// The pubsub topic, if given.
        pubsub_topic: Option<String>,
        /// The content topics.
        content_topics: Vec<String>,
    },
    /// Unsubscribe content topics (same topic rules as `Subscribe`).
    Unsubscribe {
        /// The pubsub topic, if given.
        pubsub_topic: Option<String>,
        /// The content topics.
        content_topics: Vec<String>,
    },
    /// Drop every subscription we hold at the service node.
    UnsubscribeAll,
    /// Ask whether the service node still holds a subscription of ours.
    Ping,
}

/// Why a filter request did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FilterFailureKind {
    /// The service node refused with this status (400, 404, 429 or 503).
    Refused(waku_filter::StatusCode),
    /// The service answered something unexpected, or the stream broke.
    Failed,
    /// The request is malformed (found before sending it).
    BadRequest,
    /// No filter service node is configured, or the client is not running.
    NoServiceNode,
    /// The service node did not answer in time.
    TimedOut,
    /// The service node could not be dialled.
    Unreachable,
}

/// A filter request that did not succeed: why, and in what words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct FilterFailure {
    /// Why.
    pub kind: FilterFailureKind,
    /// What went wrong, for the caller.
    pub description: String,
}

impl FilterFailure {
    /// A failure of `kind` described by `description`.
    pub fn new(kind: FilterFailureKind, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
        }
    }
}

/// A lightpush that succeeded: what the service said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightpushOk {
    /// How many relay peers got the message: our own count, or a v3
    /// service's; `None` when a legacy service answered (it reports none).
    pub relay_peer_count: Option<u32>,
    /// The service's words with it (a legacy service's `info`), if any.
    pub description: Option<String>,
}

/// A lightpush that did not succeed: the lightpush status (ours, or the
/// service node's) and description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {description}")]
pub struct LightpushError {
    /// Lightpush v3 status (400, 413, 420, 421, 429, 500, 503, 504, 505).
    pub status: waku_lightpush::StatusCode,
    /// What went wrong.
    pub description: String,
}

impl LightpushError {
    /// A failure with `status` described by `description`.
    pub fn new(status: waku_lightpush::StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
        }
    }
}

/// Where the node learnt of a peer, in nwaku's terms (`origin` in the
/// admin API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PeerOrigin {
    /// It connected to us, or we were asked to dial it.
    #[default]
    UnknownOrigin,
    /// discv5.
    Discv5,
    /// `--staticnode`.
    Static,
    /// Peer exchange (34/WAKU2-PEER-EXCHANGE, or gossipsub's).
    PeerExchange,
    /// A DNS tree (`--dns-discovery-url`).
    Dns,
}

impl PeerOrigin {
    /// nwaku's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownOrigin => "UnknownOrigin",
            Self::Discv5 => "Discv5",
            Self::Static => "Static",
            Self::PeerExchange => "PeerExchange",
            Self::Dns => "Dns",
        }
    }
}

/// A peer's connection state, in nwaku's terms (`connected` in the admin
/// API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Connectedness {
    /// Known (discovered), never connected.
    #[default]
    NotConnected,
    /// Our last dial of it failed.
    CannotConnect,
    /// It was connected and is not now.
    CanConnect,
    /// A connection is open.
    Connected,
}

impl Connectedness {
    /// nwaku's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotConnected => "NotConnected",
            Self::CannotConnect => "CannotConnect",
            Self::CanConnect => "CanConnect",
            Self::Connected => "Connected",
        }
    }
}

/// What the node knows about a peer (from connections, identify and metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer.
    pub peer_id: PeerId,
    /// Its known addresses.
    pub addrs: Vec<Multiaddr>,
    /// Protocols it reported over identify.
    pub protocols: Vec<String>,
    /// Shards it reported over metadata.
    pub shards: Vec<u16>,
    /// Its identify agent string.
    pub agent: String,
    /// Whether a connection is open.
    pub connected: bool,
    /// Whether it is a configured static node.
    pub is_static: bool,
    /// Where we learnt of it.
    pub origin: PeerOrigin,
    /// Its connection state.
    pub connectedness: Connectedness,
}

/// A cloneable handle to a running node.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    pub(crate) peer_id: PeerId,
    pub(crate) listen_addrs: Vec<Multiaddr>,
    pub(crate) enr: WakuEnr,
    pub(crate) rest_addr: Option<std::net::SocketAddr>,
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) messages: broadcast::Sender<ReceivedMessage>,
    pub(crate) filter_pushes: broadcast::Sender<ReceivedMessage>,
}

impl NodeHandle {
    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Full listen addresses, each ending in `/p2p/<peer id>`.
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.listen_addrs
    }

    /// The address the REST API listens on, when it runs.
    pub fn rest_addr(&self) -> Option<std::net::SocketAddr> {
        self.rest_addr
    }

    /// The node's signed ENR.
    pub fn enr(&self) -> &WakuEnr {
        &self.enr
    }

    /// Messages relay delivers from now on.
    pub fn messages(&self) -> broadcast::Receiver<ReceivedMessage> {
        self.messages.subscribe()
    }

    /// Messages `--filternode` pushes to us from now on (the hash is
    /// computed here).
    pub fn filter_pushes(&self) -> broadcast::Receiver<ReceivedMessage> {
        self.filter_pushes.subscribe()
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, RequestError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(make(reply))
            .await
            .map_err(|_| RequestError::Stopped)?;
        answer.await.map_err(|_| RequestError::Stopped)
    }

    /// Publishes `message` on `pubsub_topic`; returns its hash.
    pub async fn publish(
        &self,
        pubsub_topic: impl Into<String>,
        message: WakuMessage,
    ) -> Result<MessageHash, RequestError> {
        let pubsub_topic = pubsub_topic.into();
        self.ask(|reply| Command::Publish {
            pubsub_topic,
            message: Box::new(message),
            reply,
        })
        .await?
    }

    /// Subscribes relay to `pubsub_topic`; `false` when already subscribed.
    pub async fn subscribe(&self, pubsub_topic: impl Into<String>) -> Result<bool, RequestError> {
        let pubsub_topic = pubsub_topic.into();
        self.ask(|reply| Command::Subscribe {
            pubsub_topic,
            reply,
        })
        .await?
    }

    /// Unsubscribes relay from `pubsub_topic`; `false` when not subscribed.
    pub async fn unsubscribe(&self, pubsub_topic: impl Into<String>) -> Result<bool, RequestError> {
        let pubsub_topic = pubsub_topic.into();
        self.ask(|reply| Command::Unsubscribe {
            pubsub_topic,
            reply,
        })
        .await?
    }

    /// Connected peers subscribed to `pubsub_topic`.
    pub async fn relay_peers(
        &self,
        pubsub_topic: impl Into<String>,
    ) -> Result<usize, RequestError> {
        let pubsub_topic = pubsub_topic.into();
        self.ask(|reply| Command::RelayPeers {
            pubsub_topic,
            reply,
        })
        .await?
    }

    /// Peers with at least one open connection.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, RequestError> {
        self.ask(|reply| Command::ConnectedPeers { reply }).await
    }

    /// Pubsub topics relay is subscribed to (empty without relay).
    pub async fn subscriptions(&self) -> Result<Vec<String>, RequestError> {
        self.ask(|reply| Command::Subscriptions { reply }).await
    }

    /// Every peer the node has seen.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, RequestError> {
        self.ask(|reply| Command::Peers { reply }).await
    }

    /// Dials `addr` (which must end in `/p2p/<peer id>`) and waits until the
    /// connection is up or has failed.
    pub async fn connect(&self, addr: Multiaddr) -> Result<PeerId, RequestError> {
        self.ask(|reply| Command::Connect { addr, reply }).await?
    }

    /// Lightpushes `message`: through our own relay when this node runs the
    /// lightpush service, else through `--lightpushnode`. Returns what the
    /// service reported.
    pub async fn lightpush(
        &self,
        pubsub_topic: Option<String>,
        message: WakuMessage,
    ) -> Result<LightpushOk, LightpushError> {
        let unavailable = |_| {
            LightpushError::new(
                waku_lightpush::StatusCode::SERVICE_UNAVAILABLE,
                "the node has stopped",
            )
        };
        self.ask(|reply| Command::Lightpush {
            pubsub_topic,
            message: Box::new(message),
            reply,
        })
        .await
        .map_err(unavailable)?
    }

    /// Sends a legacy store query to `peer` (or the configured
    /// `--storenode`).
    pub async fn legacy_store_query(
        &self,
        peer: Option<(PeerId, Multiaddr)>,
        query: waku_store::legacy::Query,
    ) -> Result<waku_store::legacy::Page, RequestError> {
        self.ask(|reply| Command::LegacyStoreQuery {
            peer,
            query: Box::new(query),
            reply,
        })
        .await?
    }

    /// Sends a store query to `peer` (or the configured `--storenode`); a
    /// store node that serves only the legacy store is asked over legacy.
    pub async fn store_query(
        &self,
        peer: Option<(PeerId, Multiaddr)>,
        query: waku_store::StoreQuery,
    ) -> Result<waku_store::StoreResponse, RequestError> {
        self.ask(|reply| Command::StoreQuery {
            peer,
            query: Box::new(query),
            reply,
        })
        .await?
    }

    /// Sends a filter request to `--filternode` and waits for its answer
    /// (for all shards, when autosharding splits it).
    pub async fn filter(&self, request: FilterRequest) -> Result<(), FilterFailure> {
        self.ask(|reply| Command::Filter { request, reply })
            .await
            .map_err(|e| FilterFailure::new(FilterFailureKind::NoServiceNode, e.to_string()))?
    }

    /// The filter service's live subscribers; `None` when this node does
    /// not serve filter.
    pub async fn filter_subscribers(&self) -> Result<Option<Vec<FilterSubscriber>>, RequestError> {
        self.ask(|reply| Command::FilterSubscribers { reply }).await
    }

    /// The node's ENR as it is now: discv5's record, which
    /// `--discv5-enr-auto-update` may have moved to the address peers see
    /// (with a higher `seq`), else the one built at start.
    pub async fn current_enr(&self) -> Result<WakuEnr, RequestError> {
        self.ask(|reply| Command::CurrentEnr { reply }).await
    }

    /// Which client protocols have a service peer to ask (what `/health`
    /// reports for the clients).
    pub async fn service_peers_known(&self) -> Result<ServicePeersKnown, RequestError> {
        self.ask(|reply| Command::ServicePeers { reply }).await
    }

    /// The relay (or mesh) peers of each shard relay is subscribed to, or
    /// of `shard` of our cluster only, with their gossipsub scores.
    pub async fn shard_peers(
        &self,
        set: PeerSet,
        shard: Option<u16>,
    ) -> Result<Vec<ShardPeers>, RequestError> {
        self.ask(|reply| Command::ShardPeers { set, shard, reply })
            .await?
    }

    /// Dials `addr` (the connection is reported by the node's events).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), RequestError> {
        self.ask(|reply| Command::Dial { addr, reply }).await?
    }
}

//! The node's event loop: listening, relay, static peers, commands from
//! [`NodeHandle`]s, and shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::OutboundRequestId;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{debug, info, warn};
use waku_core::WakuMessage;
use waku_metadata::{
    Behaviour as Metadata, Config as MetadataConfig, Event as MetadataEvent, ShardSet,
};

use waku_sharding::RelayShard;

use crate::behaviour::{NodeBehaviour, NodeEvent, Protocols};
use crate::config::NodeConfig;
use crate::filter_requests::{FilterReply, FilterRequests, split_by_shard};
use crate::handle::{
    Command, FilterFailure, FilterRequest, LightpushError, LightpushOk, MESSAGE_BUFFER, NodeHandle,
    PeerInfo, PeerSet, ReceivedMessage, RequestError, ScoredPeer, ShardPeers,
};
use crate::metrics::NodeMetrics;
use crate::store_requests::{PendingLegacy, PendingV3, StoreRequests};
use crate::transport::{self, TransportError};
use prometheus_client::registry::Registry;

/// How often disconnected static peers are dialled again.
const STATICNODE_REDIAL: Duration = Duration::from_secs(10);

/// How soon a static node that disconnected is dialled again (then every
/// [`STATICNODE_REDIAL`] while it stays away).
const STATICNODE_REDIAL_AFTER_LOSS: Duration = Duration::from_secs(1);

/// How long an idle connection stays open (Waku peers keep connections).
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3600);

/// Relayed messages queued for the archive before new ones are dropped.
const ARCHIVE_QUEUE: usize = 10_000;

/// How often the archived-messages gauge is recounted from the store (only
/// with a metrics server; nwaku recounts every 30 minutes).
const ARCHIVE_RECOUNT: Duration = Duration::from_secs(600);

/// Messages written to the archive in one batch at most.
const ARCHIVE_BATCH: usize = 256;

/// A database URL with its password hidden, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Commands queued from handles before senders wait.
const COMMAND_BUFFER: usize = 256;

/// Why the node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The transport stack could not be built.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The relay configuration is unusable.
    #[error("relay: {0}")]
    Relay(String),
    /// The swarm could not be built.
    #[error("libp2p: {0}")]
    Swarm(String),
    /// A listener could not be opened.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// The node's ENR could not be built.
    #[error("ENR: {0}")]
    Enr(#[from] crate::enr::EnrBuildError),
    /// The message store could not be opened.
    #[error("store: {0}")]
    Store(String),
    /// Installing a signal handler failed.
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
}

/// A started node: listeners open, static peers dialled. Drive it with
/// [`Node::run`] and talk to it through [`Node::handle`].
pub struct Node {
    swarm: Swarm<NodeBehaviour>,
    config: NodeConfig,
    handle: NodeHandle,
    commands: mpsc::Receiver<Command>,
    /// The shards metadata announces: those relay is subscribed to.
    announced_shards: ShardSet,
    /// What we know of each peer.
    peers: HashMap<PeerId, PeerInfo>,
    /// `connect` requests waiting for their connection, by peer.
    pending_connects: HashMap<PeerId, Vec<oneshot::Sender<Result<PeerId, RequestError>>>>,
    /// Background tasks (REST, metrics) stopped with the node.
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// nwaku-named node metrics (updated even without a metrics server).
    node_metrics: NodeMetrics,
    /// rust-libp2p's swarm metrics, when the metrics server runs.
    libp2p_metrics: Option<libp2p::metrics::Metrics>,
    /// Relayed messages on their way to the archive, with `--store`.
    archive_tx: Option<mpsc::Sender<(String, WakuMessage)>>,
    /// The message store, with `--store` (the REST API queries it directly).
    store: Option<Arc<dyn waku_store::MessageStore>>,
    /// The pubsub topics the lightpush service accepts (relay's subscriptions).
    served_topics: Option<waku_lightpush::ServedTopics>,
    /// A static node disconnected: dial it again soon.
    static_node_lost: bool,
    /// Remote lightpushes waiting for their answer.
    pending_lightpushes:
        HashMap<OutboundRequestId, oneshot::Sender<Result<LightpushOk, LightpushError>>>,
    /// Filter requests to `--filternode` waiting for their answers.
    filter_requests: FilterRequests<OutboundRequestId>,
    /// Remote store queries (v3 and legacy) waiting for their answer.
    store_requests: StoreRequests,
}

/// Logs, for each protocol this node runs, the line nwaku logs when it
/// mounts it (operators' tooling greps for them).
fn log_mounted(config: &NodeConfig) {
    let mut lines = vec![
        "Created WakuMetadata protocol",
        "mounting libp2p ping protocol",
    ];
    if config.relay {
        lines.push("mounting relay protocol");
    }
    if let Some(store) = &config.store {
        lines.push("mounting waku store protocol");
        if store.legacy {
            lines.push("mounting waku legacy store protocol");
        }
    }
    if config.storenode.is_some() {
        lines.push("mounting legacy store client");
    }
    if config.filter.is_some() {
        lines.push("mounting filter protocol");
    }
    if config.filternode.is_some() {
        lines.push("mounting filter client");
    }
    if config.lightpush {
        lines.extend(["mounting light push", "mounting legacy light push"]);
    }
    if config.lightpushnode.is_some() {
        lines.extend([
            "mounting light push client",
            "mounting legacy light push client",
        ]);
    }
    for line in lines {
        info!("{line}");
    }
}

fn build_relay(
    config: &NodeConfig,
    registry: Option<&mut Registry>,
) -> Result<Option<waku_relay::Behaviour>, NodeError> {
    if !config.relay {
        return Ok(None);
    }
    let mut relay_config =
        waku_relay::Config::default().with_max_message_size(config.max_message_size);
    for protected in &config.protected_shards {
        let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(&protected.public_key)
            .map_err(|e| NodeError::Relay(format!("protected shard key: {e}")))?;
        if !config.shards.contains(&protected.shard.shard) {
            warn!(
                shard = %protected.shard,
                "--protected-shard names a shard this node does not subscribe to: it only checks messages it relays"
            );
        }
        relay_config = relay_config.with_protected_shard(protected.shard, key);
    }
    let relay = match registry {
        Some(registry) => waku_relay::Behaviour::new_with_metrics(relay_config, registry),
        None => waku_relay::Behaviour::new(relay_config),
    };
    let mut relay = relay.map_err(|e| NodeError::Relay(e.to_string()))?;
    for shard in &config.shards {
        let shard = RelayShard::new(config.cluster_id, *shard);
        relay
            .subscribe(&shard)
            .map_err(|e| NodeError::Relay(e.to_string()))?;
    }
    Ok(Some(relay))
}

impl Node {
    /// Builds the swarm, opens the listeners and waits until each reports its
    /// address (logging it as a full multiaddr), then dials the static peers.
    pub async fn start(config: NodeConfig) -> Result<Self, NodeError> {
        let tls = transport::load_tls(config.wss.as_ref(), &config.wss_trust)?;
        let transport = transport::build(&config.keypair, tls)?;
        let mut registry = config.metrics.map(|_| Registry::default());
        let node_metrics = NodeMetrics::default();
        let libp2p_metrics = registry.as_mut().map(|r| {
            node_metrics.register(r);
            libp2p::metrics::Metrics::new(r)
        });
        let relay = build_relay(&config, registry.as_mut())?;
        let announced_shards = ShardSet::new();
        if relay.is_some() {
            announced_shards
                .replace(config.shards.iter().copied())
                .map_err(|e| NodeError::Relay(e.to_string()))?;
        }
        let metadata = Metadata::new(
            MetadataConfig::new(config.cluster_id).with_shards(announced_shards.clone()),
        );
        let (store, archive) = match &config.store {
            Some(settings) => {
                let store = waku_store::open_store_with_max_connections(
                    &settings.db_url,
                    settings.max_db_connections,
                )
                .await
                .map_err(|e| NodeError::Store(e.to_string()))?;
                info!(url = %redact(&settings.db_url), "store: archiving relayed messages");
                (Some(store.clone()), Some(waku_store::Archive::new(store)))
            }
            None => (None, None),
        };
        let store_behaviour = match (&store, &config.storenode) {
            (Some(db), _) => Some(waku_store::Behaviour::new(
                db.clone(),
                store_config(&config),
            )),
            (None, Some(_)) => Some(waku_store::Behaviour::client(store_config(&config))),
            (None, None) => None,
        };
        let legacy_store = match (&store, &config.store) {
            (Some(db), Some(settings)) if settings.legacy => Some(
                waku_store::legacy::Behaviour::new(db.clone(), legacy_store_config(&config)),
            ),
            // A client for store nodes that serve only legacy (go-waku).
            _ if config.storenode.is_some() => Some(waku_store::legacy::Behaviour::client(
                legacy_store_config(&config),
            )),
            _ => None,
        };
        let served_topics = config.lightpush.then(|| {
            waku_lightpush::ServedTopics::only(
                config
                    .shards
                    .iter()
                    .map(|s| RelayShard::new(config.cluster_id, *s).to_string()),
            )
        });
        let lightpush = served_topics.as_ref().map(|served| {
            waku_lightpush::service::Behaviour::new(lightpush_config(&config, served.clone()))
        });
        let filter = config
            .filter
            .map(|f| waku_filter::service::Behaviour::new(filter_config(&config, f)));
        let behaviour = NodeBehaviour::new(
            &config.keypair,
            Protocols {
                relay,
                metadata,
                store: store_behaviour,
                legacy_store,
                filter,
                filter_client: config.filternode.as_ref().map(|_| {
                    waku_filter::client::Behaviour::new(
                        waku_filter::client::Config::default()
                            .with_max_message_size(config.max_message_size)
                            .with_request_timeout(crate::rest::FILTER_REQUEST_TIMEOUT),
                    )
                }),
                lightpush,
                lightpush_client:
                    config.lightpushnode.as_ref().map(|_| {
                        waku_lightpush::client::Behaviour::new(
                            waku_lightpush::client::Config::default(),
                        )
                    }),
            },
        );
        let mut swarm = SwarmBuilder::with_existing_identity(config.keypair.clone())
            .with_tokio()
            .with_other_transport(|_| transport)
            .map_err(|e| NodeError::Swarm(e.to_string()))?
            .with_behaviour(|_| behaviour)
            .map_err(|e| NodeError::Swarm(e.to_string()))?
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
            .build();

        let listen_addrs = open_listeners(&mut swarm, &config).await?;
        let enr = crate::enr::build(&config, &listen_addrs)?;
        info!("ENR {}", enr.encode());
        let (command_tx, commands) = mpsc::channel(COMMAND_BUFFER);
        let (messages, _) = broadcast::channel(MESSAGE_BUFFER);
        let (filter_pushes, _) = broadcast::channel(MESSAGE_BUFFER);
        let handle = NodeHandle {
            peer_id: *swarm.local_peer_id(),
            listen_addrs,
            enr,
            rest_addr: None,
            commands: command_tx,
            messages,
            filter_pushes,
        };
        let mut node = Self {
            swarm,
            config,
            handle,
            commands,
            announced_shards,
            peers: HashMap::new(),
            pending_connects: HashMap::new(),
            tasks: Vec::new(),
            node_metrics,
            libp2p_metrics,
            archive_tx: None,
            served_topics,
            store,
            store_requests: StoreRequests::default(),
            static_node_lost: false,
            pending_lightpushes: HashMap::new(),
            filter_requests: FilterRequests::default(),
        };
        if let Some(archive) = archive {
            node.start_archive(archive);
        }
        if let (Some(addr), Some(registry)) = (node.config.metrics, registry) {
            let task =
                crate::metrics::serve(addr, registry)
                    .await
                    .map_err(|e| NodeError::Listen {
                        addr: Multiaddr::from(addr.ip()).with(Protocol::Tcp(addr.port())),
                        reason: format!("metrics server: {e}"),
                    })?;
            node.tasks.push(task);
        }
        node.start_rest().await?;
        node.dial_staticnodes();
        log_mounted(&node.config);
        // The line nwaku logs once it is ready; tooling waits for it.
        info!("Node setup complete");
        Ok(node)
    }

    /// Spawns the archive writer (batched ingestion of relayed messages) and
    /// the retention task.
    fn start_archive(&mut self, archive: waku_store::Archive) {
        let (tx, mut rx) = mpsc::channel::<(String, WakuMessage)>(ARCHIVE_QUEUE);
        self.archive_tx = Some(tx);
        // With a metrics server, the archived-messages gauge follows inserts
        // and is recounted from the database now and then, so retention's
        // deletions show. Both happen in this one task, so they never
        // interleave.
        let gauge = self
            .config
            .metrics
            .map(|_| (self.node_metrics.archived(), self.store.clone()));
        self.tasks.push(tokio::spawn(async move {
            let mut recount = tokio::time::interval(ARCHIVE_RECOUNT);
            loop {
                let first = tokio::select! {
                    next = rx.recv() => match next {
                        Some(first) => first,
                        None => break,
                    },
                    _ = recount.tick(), if gauge.is_some() => {
                        if let Some((archived, Some(store))) = &gauge {
                            match store.count().await {
                                Ok(n) => {
                                    archived.set(i64::try_from(n).unwrap_or(i64::MAX));
                                }
                                Err(e) => warn!(%e, "cannot count archived messages"),
                            }
                        }
                        continue;
                    }
                };
                let mut batch = vec![first];
                while batch.len() < ARCHIVE_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                for result in archive.handle_messages(batch).await {
                    match result {
                        Ok(waku_store::Ingested::Stored(_)) => {
                            if let Some((archived, _)) = &gauge {
                                archived.inc();
                            }
                        }
                        Ok(waku_store::Ingested::Duplicate(_)) => {}
                        Err(e) => debug!(%e, "not archived"),
                    }
                }
            }
        }));
        if let (Some(store), Some(settings)) = (&self.store, &self.config.store) {
            self.tasks.push(tokio::spawn(waku_store::run_retention(
                store.clone(),
                settings.retention,
                waku_store::DEFAULT_RETENTION_INTERVAL,
            )));
        }
    }

    /// Hands a relayed (or own) message to the archive, if any.
    fn archive(&self, pubsub_topic: &str, message: &WakuMessage) {
        if let Some(tx) = &self.archive_tx
            && tx
                .try_send((pubsub_topic.to_owned(), message.clone()))
                .is_err()
        {
            warn!("archive queue full: message not stored");
        }
    }

    /// Pushes a relayed (or own) message to matching filter subscribers.
    fn push_to_filter(&mut self, pubsub_topic: &str, message: &WakuMessage) {
        if let Some(filter) = self.swarm.behaviour_mut().filter.as_mut() {
            filter.push(pubsub_topic, message);
        }
    }

    /// Publishes a lightpush request through relay and answers the client.
    fn lightpush_publish(
        &mut self,
        id: waku_lightpush::service::PublishId,
        version: waku_lightpush::Version,
        pubsub_topic: String,
        message: WakuMessage,
    ) {
        let answer = self.relay_for_lightpush(pubsub_topic, message);
        self.node_metrics
            .lightpush_request(version, answer.as_ref().err().map(|f| f.status().0));
        if let Some(lightpush) = self.swarm.behaviour_mut().lightpush.as_mut() {
            lightpush.publish_result(id, answer);
        }
    }

    /// Relays a lightpushed message and delivers it locally; the relay peer
    /// count, or the lightpush failure.
    fn relay_for_lightpush(
        &mut self,
        pubsub_topic: String,
        message: WakuMessage,
    ) -> Result<u32, waku_lightpush::PublishFailure> {
        use waku_lightpush::PublishFailure;
        let copy = message.clone();
        let outcome = match self.relay() {
            Err(_) => Err(PublishFailure::ServiceUnavailable(
                "relay is not enabled".into(),
            )),
            Ok(relay) => match relay.publish(&pubsub_topic, message) {
                Ok(hash) => {
                    let peers = u32::try_from(relay.relay_peers(&pubsub_topic)).unwrap_or(u32::MAX);
                    Ok((hash, peers))
                }
                Err(e) => Err(lightpush_failure(&e)),
            },
        };
        let (hash, peers) = outcome?;
        debug!(%pubsub_topic, %hash, peers, "lightpush message relayed");
        let _ = self.handle.messages.send(ReceivedMessage {
            pubsub_topic: pubsub_topic.clone(),
            message: copy.clone(),
            hash,
        });
        self.archive(&pubsub_topic, &copy);
        self.push_to_filter(&pubsub_topic, &copy);
        if peers == 0 {
            Err(PublishFailure::NoPeers)
        } else {
            Ok(peers)
        }
    }

    /// Makes sure a connection to the service node `peer` is up or being
    /// set up at `addr`, without opening a second one while a dial is under
    /// way (requests to it wait for the connection).
    fn ensure_dialing(
        &mut self,
        peer: PeerId,
        addr: Multiaddr,
    ) -> Result<(), libp2p::swarm::DialError> {
        use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
        let opts = DialOpts::peer_id(peer)
            .addresses(vec![addr])
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) | Err(libp2p::swarm::DialError::DialPeerConditionFalse(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The REST lightpush: through our own relay when we serve lightpush,
    /// else through `--lightpushnode`.
    fn lightpush_command(
        &mut self,
        pubsub_topic: Option<String>,
        message: WakuMessage,
        reply: oneshot::Sender<Result<LightpushOk, LightpushError>>,
    ) {
        if self.swarm.behaviour().lightpush.is_enabled() {
            let topic = match pubsub_topic {
                Some(t) if !t.is_empty() => Ok(t),
                _ => match self.config.autosharding {
                    Some(net) => net
                        .autoshard(&message.content_topic)
                        .map(|s| s.to_string())
                        .map_err(|e| LightpushError {
                            code: 400,
                            description: format!("Autosharding error: {e}"),
                        }),
                    None => Err(LightpushError {
                        code: 420,
                        description:
                            "Pubsub topic must be specified when static sharding is enabled".into(),
                    }),
                },
            };
            let result = topic.and_then(|topic| {
                self.relay_for_lightpush(topic, message)
                    .map(|peers| LightpushOk {
                        relay_peer_count: Some(peers),
                        description: None,
                    })
                    .map_err(|f| LightpushError {
                        code: f.status().0,
                        description: f.to_string(),
                    })
            });
            self.node_metrics.lightpush_request(
                waku_lightpush::Version::V3,
                result.as_ref().err().map(|e| e.code),
            );
            let _ = reply.send(result);
            return;
        }
        let Some((peer, addr)) = self.config.lightpushnode.clone() else {
            let _ = reply.send(Err(LightpushError {
                code: 503,
                description: "No suitable service peer & no discovery method".into(),
            }));
            return;
        };
        if let Err(e) = self.ensure_dialing(peer, addr) {
            let _ = reply.send(Err(LightpushError {
                code: 503,
                description: e.to_string(),
            }));
            return;
        }
        if let Some(client) = self.swarm.behaviour_mut().lightpush_client.as_mut() {
            let id = client.push(&peer, pubsub_topic.filter(|t| !t.is_empty()), message);
            self.pending_lightpushes.insert(id, reply);
        }
    }

    /// Sends a filter request to `--filternode` (split by autoshard when it
    /// names no pubsub topic); `reply` gets the combined answer.
    fn filter_command(&mut self, request: FilterRequest, reply: FilterReply) {
        let Some((peer, addr)) = self.config.filternode.clone() else {
            let _ = reply.send(Err(FilterFailure {
                code: 503,
                description: "No suitable service peer & no discovery method".into(),
            }));
            return;
        };
        let autosharding = self.config.autosharding;
        let parts = match &request {
            FilterRequest::Subscribe {
                pubsub_topic,
                content_topics,
            }
            | FilterRequest::Unsubscribe {
                pubsub_topic,
                content_topics,
            } => match split_by_shard(pubsub_topic.clone(), content_topics.clone(), autosharding) {
                Ok(parts) => parts,
                Err(failure) => {
                    let _ = reply.send(Err(failure));
                    return;
                }
            },
            FilterRequest::UnsubscribeAll | FilterRequest::Ping => Vec::new(),
        };
        if let Err(e) = self.ensure_dialing(peer, addr) {
            let _ = reply.send(Err(FilterFailure {
                code: 504,
                description: format!("cannot dial the filter service node: {e}"),
            }));
            return;
        }
        let Some(client) = self.swarm.behaviour_mut().filter_client.as_mut() else {
            let _ = reply.send(Err(FilterFailure {
                code: 503,
                description: "the filter client is not running".into(),
            }));
            return;
        };
        let ids = match request {
            FilterRequest::Subscribe { .. } => parts
                .into_iter()
                .map(|(topic, contents)| client.subscribe(&peer, topic, contents))
                .collect(),
            FilterRequest::Unsubscribe { .. } => parts
                .into_iter()
                .map(|(topic, contents)| client.unsubscribe(&peer, topic, contents))
                .collect(),
            FilterRequest::UnsubscribeAll => vec![client.unsubscribe_all(&peer)],
            FilterRequest::Ping => vec![client.ping(&peer)],
        };
        self.filter_requests.start(ids, reply);
    }

    async fn start_rest(&mut self) -> Result<(), NodeError> {
        let Some(addr) = self.config.rest else {
            return Ok(());
        };
        let listener = crate::rest::bind(addr)
            .await
            .map_err(|e| NodeError::Listen {
                addr: Multiaddr::from(addr.ip()).with(Protocol::Tcp(addr.port())),
                reason: format!("REST API: {e}"),
            })?;
        self.handle.rest_addr = listener.local_addr().ok();
        let config = &self.config;
        let settings = crate::rest::RestSettings {
            admin: config.rest_admin,
            cache_capacity: config.rest_relay_cache_capacity,
            autosharding: config.autosharding,
            relay: config.relay,
            pubsub_topics: config
                .shards
                .iter()
                .map(|s| RelayShard::new(config.cluster_id, *s).to_string())
                .collect(),
            content_topics: config.content_topics.clone(),
            store: self.store.clone(),
            storenode: config.storenode.as_ref().map(|(_, addr)| addr.clone()),
            lightpush: config.lightpush || config.lightpushnode.is_some(),
            mounted: crate::rest::Mounted {
                lightpush: config.lightpush,
                filter: config.filter.is_some(),
                store: config.store.is_some(),
                legacy_store: config.store.as_ref().is_some_and(|s| s.legacy),
                lightpush_client: config.lightpushnode.is_some(),
                filter_client: config.filternode.is_some(),
                store_client: config.store.is_some() || config.storenode.is_some(),
            },
            log_control: config.log_control.clone(),
        };
        self.tasks
            .extend(crate::rest::serve(listener, self.handle.clone(), settings));
        Ok(())
    }

    /// A handle to this node, usable from other tasks.
    pub fn handle(&self) -> NodeHandle {
        self.handle.clone()
    }

    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.handle.peer_id
    }

    /// Full listen addresses, each ending in `/p2p/<peer id>`.
    pub fn listen_addrs(&self) -> &[Multiaddr] {
        &self.handle.listen_addrs
    }

    fn dial_staticnodes(&mut self) {
        for (peer, addr) in &self.config.staticnodes {
            if self.swarm.is_connected(peer) {
                continue;
            }
            if let Err(err) = self.swarm.dial(addr.clone()) {
                warn!(%addr, %err, "cannot dial static node");
            }
        }
    }

    /// Runs until SIGINT or SIGTERM.
    pub async fn run_until_signal(self) -> Result<(), NodeError> {
        let stop = shutdown_signal()?;
        self.run(stop).await;
        Ok(())
    }

    /// Runs until `shutdown` completes, then closes every connection.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut redial = tokio::time::interval(STATICNODE_REDIAL);
        redial.tick().await;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = redial.tick() => self.dial_staticnodes(),
                Some(command) = self.commands.recv() => self.execute(command),
                event = self.swarm.select_next_some() => self.handle_event(event),
            }
            if std::mem::take(&mut self.static_node_lost) {
                redial.reset_after(STATICNODE_REDIAL_AFTER_LOSS);
            }
        }
        for task in &self.tasks {
            task.abort();
        }
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in connected {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        info!("stopped");
    }

    fn relay(&mut self) -> Result<&mut waku_relay::Behaviour, RequestError> {
        self.swarm
            .behaviour_mut()
            .relay
            .as_mut()
            .ok_or(RequestError::RelayDisabled)
    }

    fn execute(&mut self, command: Command) {
        // A requester that went away does not want the answer: ignore send errors.
        match command {
            Command::Publish {
                pubsub_topic,
                message,
                reply,
            } => {
                let copy = (*message).clone();
                let result = self
                    .relay()
                    .and_then(|r| r.publish(&pubsub_topic, *message).map_err(Into::into));
                // Our own messages reach local consumers too (nwaku's
                // triggerSelf): the REST cache, the archive and filter
                // subscribers, even when no relay peer took them.
                let local = match &result {
                    Ok(hash) => Some(*hash),
                    Err(RequestError::Publish(waku_relay::PublishError::NoPeers(_))) => {
                        Some(waku_core::message_hash(&pubsub_topic, &copy))
                    }
                    Err(_) => None,
                };
                if let Some(hash) = &local {
                    debug!(%pubsub_topic, %hash, "relay message published");
                    self.archive(&pubsub_topic, &copy);
                    self.push_to_filter(&pubsub_topic, &copy);
                    let _ = self.handle.messages.send(ReceivedMessage {
                        pubsub_topic,
                        message: copy,
                        hash: *hash,
                    });
                }
                let _ = reply.send(result);
            }
            Command::Subscribe {
                pubsub_topic,
                reply,
            } => {
                let result = self.relay().and_then(|r| {
                    r.subscribe(&pubsub_topic)
                        .map_err(|e| RequestError::Subscribe(e.to_string()))
                });
                if result.is_ok() {
                    self.announce(&pubsub_topic, true);
                }
                let _ = reply.send(result);
            }
            Command::Unsubscribe {
                pubsub_topic,
                reply,
            } => {
                let result = self.relay().map(|r| r.unsubscribe(&pubsub_topic));
                if result.is_ok() {
                    self.announce(&pubsub_topic, false);
                }
                let _ = reply.send(result);
            }
            Command::RelayPeers {
                pubsub_topic,
                reply,
            } => {
                let result = self.relay().map(|r| r.relay_peers(&pubsub_topic));
                let _ = reply.send(result);
            }
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Subscriptions { reply } => {
                let topics = self.relay().map(|r| r.subscriptions()).unwrap_or_default();
                let _ = reply.send(topics);
            }
            Command::Peers { reply } => {
                let peers = self.peers.keys().map(|p| self.peer_info(p)).collect();
                let _ = reply.send(peers);
            }
            Command::ShardPeers { set, shard, reply } => {
                let _ = reply.send(self.shard_peers(set, shard));
            }
            Command::Connect { addr, reply } => {
                let Some(Protocol::P2p(peer)) = addr.iter().last() else {
                    let _ = reply.send(Err(RequestError::Dial(format!(
                        "{addr} does not end with /p2p/<peer id>"
                    ))));
                    return;
                };
                if self.swarm.is_connected(&peer) {
                    let _ = reply.send(Ok(peer));
                    return;
                }
                match self.swarm.dial(addr) {
                    Ok(()) => self.pending_connects.entry(peer).or_default().push(reply),
                    Err(e) => {
                        let _ = reply.send(Err(RequestError::Dial(e.to_string())));
                    }
                }
            }
            Command::StoreQuery { peer, query, reply } => {
                let peer_id = match self.store_peer(peer) {
                    Ok(peer_id) => peer_id,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                };
                let pending = PendingV3 {
                    peer_id,
                    query: *query,
                    reply,
                };
                if self.serves_only_legacy_store(&peer_id) {
                    self.store_v3_over_legacy(pending);
                    return;
                }
                let Some(store) = self.swarm.behaviour_mut().store.as_mut() else {
                    let _ = pending.reply.send(Err(RequestError::NoPeer));
                    return;
                };
                let id = store.send_query(&peer_id, &pending.query);
                self.store_requests.v3.insert(id, pending);
            }
            Command::LegacyStoreQuery { peer, query, reply } => {
                let peer_id = match self.store_peer(peer) {
                    Ok(peer_id) => peer_id,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return;
                    }
                };
                let Some(legacy) = self.swarm.behaviour_mut().legacy_store.as_mut() else {
                    let _ = reply.send(Err(RequestError::NoPeer));
                    return;
                };
                let id = legacy.send_query(&peer_id, &query);
                self.store_requests
                    .legacy
                    .insert(id, PendingLegacy::Legacy(reply));
            }
            Command::Lightpush {
                pubsub_topic,
                message,
                reply,
            } => self.lightpush_command(pubsub_topic, *message, reply),
            Command::Filter { request, reply } => self.filter_command(request, reply),
            Command::FilterSubscribers { reply } => {
                let subscribers = self.swarm.behaviour().filter.as_ref().map(|f| {
                    f.subscribers()
                        .into_iter()
                        .map(|(peer_id, criteria)| crate::handle::FilterSubscriber {
                            peer_id,
                            criteria,
                        })
                        .collect()
                });
                let _ = reply.send(subscribers);
            }
            Command::Dial { addr, reply } => {
                let result = self
                    .swarm
                    .dial(addr)
                    .map_err(|e| RequestError::Dial(e.to_string()));
                let _ = reply.send(result);
            }
        }
    }

    /// What we know of `peer_id`, with the shards its metadata reported
    /// (a bare entry for a peer we have no record of).
    fn peer_info(&self, peer_id: &PeerId) -> PeerInfo {
        let mut info = self
            .peers
            .get(peer_id)
            .cloned()
            .unwrap_or_else(|| PeerInfo {
                peer_id: *peer_id,
                addrs: Vec::new(),
                protocols: Vec::new(),
                shards: Vec::new(),
                agent: String::new(),
                connected: self.swarm.is_connected(peer_id),
                is_static: false,
            });
        if let Some(meta) = self.swarm.behaviour().metadata.peer_metadata(peer_id) {
            info.shards = meta
                .shards
                .iter()
                .filter_map(|s| u16::try_from(*s).ok())
                .collect();
        }
        info
    }

    /// The relay or mesh peers, with their scores, of each shard relay is
    /// subscribed to (`shard` `None`) or of one shard of our cluster.
    fn shard_peers(
        &self,
        set: PeerSet,
        shard: Option<u16>,
    ) -> Result<Vec<ShardPeers>, RequestError> {
        let relay = self
            .swarm
            .behaviour()
            .relay
            .as_ref()
            .ok_or(RequestError::RelayDisabled)?;
        let shards: Vec<RelayShard> = match shard {
            Some(shard) => vec![RelayShard::new(self.config.cluster_id, shard)],
            None => relay
                .subscriptions()
                .iter()
                .filter_map(|t| t.parse().ok())
                .collect(),
        };
        Ok(shards
            .iter()
            .map(|shard| {
                let topic = shard.to_string();
                let peers: Vec<PeerId> = match set {
                    PeerSet::Mesh => relay.mesh_peers(&topic),
                    PeerSet::Relay => relay
                        .gossipsub()
                        .all_peers()
                        .filter(|(_, topics)| topics.iter().any(|t| t.as_str() == topic))
                        .map(|(p, _)| *p)
                        .collect(),
                };
                ShardPeers {
                    shard: shard.shard,
                    peers: peers
                        .iter()
                        .map(|p| ScoredPeer {
                            info: self.peer_info(p),
                            score: relay.peer_score(p),
                        })
                        .collect(),
                }
            })
            .collect())
    }

    /// Keeps the shards metadata announces equal to relay's subscriptions
    /// on our cluster.
    fn announce(&mut self, pubsub_topic: &str, subscribed: bool) {
        if let Some(served) = &self.served_topics {
            if subscribed {
                served.insert(pubsub_topic);
            } else {
                served.remove(pubsub_topic);
            }
        }
        let Ok(shard) = pubsub_topic.parse::<RelayShard>() else {
            return;
        };
        if shard.cluster != self.config.cluster_id {
            return;
        }
        if subscribed {
            let _ = self.announced_shards.insert(shard.shard);
        } else {
            self.announced_shards.remove(shard.shard);
        }
    }

    fn handle_event(&mut self, event: SwarmEvent<NodeEvent>) {
        if let Some(metrics) = &self.libp2p_metrics {
            libp2p::metrics::Recorder::record(metrics, &event);
        }
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                info!(peer = %peer_id, %addr, "connected");
                self.node_metrics.peers.set(count_peers(&self.swarm));
                let is_static = self.config.staticnodes.iter().any(|(p, _)| *p == peer_id);
                let info = self.peers.entry(peer_id).or_insert_with(|| PeerInfo {
                    peer_id,
                    addrs: Vec::new(),
                    protocols: Vec::new(),
                    shards: Vec::new(),
                    agent: String::new(),
                    connected: true,
                    is_static,
                });
                info.connected = true;
                if endpoint.is_dialer() && !info.addrs.contains(&addr) {
                    info.addrs.insert(0, addr);
                }
                for reply in self.pending_connects.remove(&peer_id).unwrap_or_default() {
                    let _ = reply.send(Ok(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                cause,
                ..
            } => {
                info!(peer = %peer_id, ?cause, "disconnected");
                self.node_metrics.peers.set(count_peers(&self.swarm));
                if let Some(info) = self.peers.get_mut(&peer_id) {
                    info.connected = false;
                }
                if self.config.staticnodes.iter().any(|(p, _)| *p == peer_id) {
                    self.static_node_lost = true;
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(?peer_id, %error, "dial failed");
                if let Some(peer) = peer_id {
                    for reply in self.pending_connects.remove(&peer).unwrap_or_default() {
                        let _ = reply.send(Err(RequestError::Dial(error.to_string())));
                    }
                }
            }
            SwarmEvent::Behaviour(NodeEvent::Identify(event)) => {
                if let libp2p::identify::Event::Received { peer_id, info, .. } = *event
                    && let Some(peer) = self.peers.get_mut(&peer_id)
                {
                    peer.protocols = info.protocols.iter().map(ToString::to_string).collect();
                    peer.agent = info.agent_version;
                    for addr in info.listen_addrs {
                        if !peer.addrs.contains(&addr) {
                            peer.addrs.push(addr);
                        }
                    }
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(
                    "Listening on {}",
                    address.with(Protocol::P2p(self.peer_id()))
                );
            }
            SwarmEvent::Behaviour(NodeEvent::Relay(event)) => {
                if let waku_relay::Event::Message {
                    pubsub_topic,
                    message,
                    hash,
                    ..
                } = *event
                {
                    debug!(%pubsub_topic, %hash, "relay message delivered");
                    self.archive(&pubsub_topic, &message);
                    self.push_to_filter(&pubsub_topic, &message);
                    self.node_metrics.relay_message();
                    // No receiver is fine: nobody is listening yet.
                    let _ = self.handle.messages.send(ReceivedMessage {
                        pubsub_topic,
                        message,
                        hash,
                    });
                }
            }
            SwarmEvent::Behaviour(NodeEvent::Metadata(event)) => match *event {
                MetadataEvent::Rejected { peer_id, reason } => {
                    info!(peer = %peer_id, %reason, "peer disconnected by metadata");
                }
                other => debug!(?other, "metadata"),
            },
            SwarmEvent::Behaviour(NodeEvent::Store(event)) => match *event {
                waku_store::Event::QueryResult {
                    request_id, result, ..
                } => {
                    if let Some(pending) = self.store_requests.v3.remove(&request_id) {
                        match result {
                            // The store node serves only the legacy store.
                            Err(waku_store::QueryError::UnsupportedProtocol)
                                if self.swarm.behaviour().legacy_store.is_enabled() =>
                            {
                                self.store_v3_over_legacy(pending);
                            }
                            other => {
                                let _ = pending
                                    .reply
                                    .send(other.map_err(|e| RequestError::Store(e.to_string())));
                            }
                        }
                    }
                }
                waku_store::Event::Served { status_code, .. } => {
                    self.node_metrics.store_query(false, status_code);
                }
                other => debug!(?other, "store"),
            },
            SwarmEvent::Behaviour(NodeEvent::LegacyStore(event)) => match *event {
                waku_store::legacy::Event::Served { error, .. } => {
                    self.node_metrics
                        .store_query(true, u32::try_from(error).unwrap_or(0));
                }
                waku_store::legacy::Event::QueryResult {
                    request_id, result, ..
                } => self.on_legacy_store_result(request_id, result),
                other => debug!(?other, "legacy store"),
            },
            SwarmEvent::Behaviour(NodeEvent::Filter(event)) => self.on_filter_service(*event),
            SwarmEvent::Behaviour(NodeEvent::Lightpush(event)) => {
                if let waku_lightpush::service::Event::PublishRequest {
                    id,
                    version,
                    pubsub_topic,
                    message,
                    ..
                } = *event
                {
                    self.lightpush_publish(id, version, pubsub_topic, *message);
                } else {
                    if let waku_lightpush::service::Event::Refused {
                        status, version, ..
                    } = &*event
                    {
                        self.node_metrics
                            .lightpush_request(*version, Some(status.0));
                    }
                    debug!(?event, "lightpush");
                }
            }
            SwarmEvent::Behaviour(NodeEvent::LightpushClient(event)) => {
                let (request, result) = match *event {
                    waku_lightpush::client::Event::Pushed {
                        request,
                        relay_peer_count,
                        description,
                        ..
                    } => (
                        request,
                        Ok(LightpushOk {
                            relay_peer_count,
                            description,
                        }),
                    ),
                    waku_lightpush::client::Event::Refused {
                        request,
                        status,
                        description,
                        ..
                    } => (
                        request,
                        Err(LightpushError {
                            code: status.map_or(500, |s| s.0),
                            description: description.unwrap_or_default(),
                        }),
                    ),
                    waku_lightpush::client::Event::Failed { request, error, .. } => (
                        request,
                        Err(LightpushError {
                            code: 503,
                            description: error.to_string(),
                        }),
                    ),
                    other => {
                        debug!(?other, "lightpush client");
                        return;
                    }
                };
                if let Some(reply) = self.pending_lightpushes.remove(&request) {
                    let _ = reply.send(result);
                }
            }
            SwarmEvent::Behaviour(NodeEvent::FilterClient(event)) => self.on_filter_client(*event),
            SwarmEvent::Behaviour(event) => debug!(?event, "behaviour event"),
            _ => {}
        }
    }
}

impl Node {
    /// The store node to ask: `peer` when given, else `--storenode`, with a
    /// connection to it up or being set up.
    fn store_peer(&mut self, peer: Option<(PeerId, Multiaddr)>) -> Result<PeerId, RequestError> {
        let (peer_id, addr) = peer
            .or_else(|| self.config.storenode.clone())
            .ok_or(RequestError::NoPeer)?;
        self.ensure_dialing(peer_id, addr)
            .map_err(|e| RequestError::Dial(e.to_string()))?;
        Ok(peer_id)
    }

    /// Whether identify told us `peer` serves the legacy store and not v3.
    fn serves_only_legacy_store(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|info| {
            let serves = |p: &str| info.protocols.iter().any(|q| q == p);
            serves(waku_core::protocol_id::STORE_V2)
                && !serves(waku_core::protocol_id::STORE_QUERY_V3)
        })
    }

    /// Asks a v3 query of a store node that serves only the legacy store.
    fn store_v3_over_legacy(&mut self, pending: PendingV3) {
        let query = match self.store_requests.legacy_query_for(&pending.query) {
            Ok(query) => query,
            Err(e) => {
                let _ = pending.reply.send(Err(e));
                return;
            }
        };
        let Some(legacy) = self.swarm.behaviour_mut().legacy_store.as_mut() else {
            let _ = pending.reply.send(Err(RequestError::Store(
                "the store node does not serve store v3".into(),
            )));
            return;
        };
        let peer_id = pending.peer_id;
        debug!(peer = %peer_id, "store node serves only legacy: asking over legacy");
        let id = legacy.send_query(&peer_id, &query);
        self.store_requests.legacy.insert(
            id,
            PendingLegacy::ForV3 {
                query: pending.query,
                reply: pending.reply,
            },
        );
    }

    /// Answers the legacy query `request_id`.
    fn on_legacy_store_result(
        &mut self,
        request_id: OutboundRequestId,
        result: Result<waku_store::legacy::Page, waku_store::QueryError>,
    ) {
        let Some(pending) = self.store_requests.legacy.remove(&request_id) else {
            return;
        };
        let result = result.map_err(|e| RequestError::Store(e.to_string()));
        match pending {
            PendingLegacy::Legacy(reply) => {
                let _ = reply.send(result);
            }
            PendingLegacy::ForV3 { query, reply } => {
                let _ = reply.send(
                    result.map(|page| self.store_requests.store_response_from_legacy(&query, page)),
                );
            }
        }
    }

    /// Counts what the filter service reports.
    fn on_filter_service(&mut self, event: waku_filter::service::Event) {
        let subscribers = self
            .swarm
            .behaviour()
            .filter
            .as_ref()
            .map_or(0, waku_filter::service::Behaviour::subscriber_count);
        match event {
            waku_filter::service::Event::Request { kind, .. } => {
                self.node_metrics.filter_request(kind, subscribers);
            }
            waku_filter::service::Event::SubscriberRemoved { peer, reason } => {
                debug!(%peer, ?reason, "filter subscriber removed");
                self.node_metrics.filter_subscribers(subscribers);
            }
            waku_filter::service::Event::PushFailed { peer, reason } => {
                debug!(%peer, %reason, "filter push failed");
                self.node_metrics
                    .filter_error(crate::metrics::FILTER_PUSH_FAILURE);
            }
            other => debug!(?other, "filter service"),
        }
    }

    /// Answers filter requests and hands pushed messages to the handles.
    fn on_filter_client(&mut self, event: waku_filter::client::Event) {
        match event {
            waku_filter::client::Event::Response {
                request, result, ..
            } => {
                let result = result.map_err(|e| crate::filter_requests::failure(&e));
                self.filter_requests.answer(&request, result);
            }
            waku_filter::client::Event::Message {
                pubsub_topic,
                message,
                ..
            } => {
                let hash = waku_core::message_hash(&pubsub_topic, &message);
                debug!(%pubsub_topic, %hash, "filter push received");
                let _ = self.handle.filter_pushes.send(ReceivedMessage {
                    pubsub_topic,
                    message: *message,
                    hash,
                });
            }
            waku_filter::client::Event::PushDropped { peer, reason } => {
                debug!(%peer, ?reason, "filter push dropped");
            }
            other => debug!(?other, "filter client"),
        }
    }
}

/// The lightpush answer for a relay publish failure.
fn lightpush_failure(e: &waku_relay::PublishError) -> waku_lightpush::PublishFailure {
    use waku_lightpush::PublishFailure;
    use waku_relay::PublishError;
    match e {
        PublishError::NoPeers(_) => PublishFailure::NoPeers,
        PublishError::Invalid(v) => PublishFailure::InvalidMessage(v.to_string()),
        PublishError::Rejected(r) => PublishFailure::InvalidMessage((*r).to_owned()),
        PublishError::Duplicate => {
            PublishFailure::InvalidMessage("Dropping already-seen message".into())
        }
        PublishError::Ignored(r) => PublishFailure::ServiceUnavailable((*r).to_owned()),
        PublishError::QueuesFull(_) => PublishFailure::ServiceUnavailable(e.to_string()),
        PublishError::Gossipsub(g) => PublishFailure::Internal(g.clone()),
        _ => PublishFailure::Internal(e.to_string()),
    }
}

/// Store v3 service/client settings: nwaku defaults plus the per-peer
/// `--rate-limit storev3:` (falling back to `store:`, then the global one).
fn store_config(config: &NodeConfig) -> waku_store::Config {
    store_config_for(config, "storev3")
}

/// Legacy store service settings: like [`store_config`] with
/// `--rate-limit storev2:`.
fn legacy_store_config(config: &NodeConfig) -> waku_store::Config {
    store_config_for(config, "storev2")
}

/// Store settings with the rate limit `--rate-limit` gives `protocol`.
fn store_config_for(config: &NodeConfig, protocol: &str) -> waku_store::Config {
    waku_store::Config::default().with_rate_limit(
        config
            .rate_limits
            .for_protocol(protocol)
            .unwrap_or(waku_core::RateLimit::UNLIMITED),
    )
}

/// Filter service settings from the flags.
fn filter_config(
    config: &NodeConfig,
    f: crate::config::FilterSettings,
) -> waku_filter::service::Config {
    waku_filter::service::Config::default()
        .with_max_peers(f.max_peers)
        .with_max_criteria_per_peer(f.max_criteria)
        .with_subscription_timeout(f.subscription_timeout)
        .with_rate_limit(
            config
                .rate_limits
                .for_protocol("filter")
                .unwrap_or(waku_filter::service::DEFAULT_RATE_LIMIT),
        )
}

/// Lightpush service settings: our size and timestamp limits, the topics
/// relay serves, autosharding when configured, `--rate-limit lightpush:`.
fn lightpush_config(
    config: &NodeConfig,
    served: waku_lightpush::ServedTopics,
) -> waku_lightpush::service::Config {
    let mut lightpush = waku_lightpush::service::Config::default()
        .with_validator(waku_core::MessageValidator {
            max_message_size: config.max_message_size,
            ..waku_core::MessageValidator::default()
        })
        .with_served_topics(served)
        .with_rate_limit(
            config
                .rate_limits
                .for_protocol("lightpush")
                .unwrap_or(waku_core::RateLimit::UNLIMITED),
        );
    if let Some(network) = config.autosharding {
        lightpush = lightpush.with_shard_mapper(Arc::new(waku_sharding::AutoSharding(network)));
    }
    lightpush
}

fn count_peers(swarm: &Swarm<NodeBehaviour>) -> i64 {
    i64::try_from(swarm.connected_peers().count()).unwrap_or(i64::MAX)
}

/// A future that completes on the first SIGINT or SIGTERM. The handlers are
/// installed when this is called, so a process that calls it before
/// [`Node::start`] also stops cleanly on a signal that arrives while starting.
pub fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, NodeError> {
    let mut sigint = signal(SignalKind::interrupt()).map_err(NodeError::Signal)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(NodeError::Signal)?;
    Ok(async move {
        tokio::select! {
            _ = sigint.recv() => info!("SIGINT received, stopping"),
            _ = sigterm.recv() => info!("SIGTERM received, stopping"),
        }
    })
}

/// Opens the TCP and WebSocket listeners and waits until each has reported
/// an address. A listener on an unspecified address (`0.0.0.0`) reports one
/// address per interface, so waiting is per listener, not per address:
/// counting addresses could stop after two TCP ones and miss the WebSocket
/// port. Addresses reported later are logged by the event loop.
async fn open_listeners(
    swarm: &mut Swarm<NodeBehaviour>,
    config: &NodeConfig,
) -> Result<Vec<Multiaddr>, NodeError> {
    let tcp = |port| Multiaddr::from(config.listen_address).with(Protocol::Tcp(port));
    let mut addrs = vec![tcp(config.tcp_port)];
    if let Some(port) = config.websocket_port {
        let scheme = if config.wss.is_some() {
            Protocol::Wss("/".into())
        } else {
            Protocol::Ws("/".into())
        };
        addrs.push(tcp(port).with(scheme));
    }
    let mut pending = HashMap::new();
    for addr in addrs {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NodeError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
        pending.insert(id, addr);
    }
    let local = *swarm.local_peer_id();
    let mut listen_addrs = Vec::new();
    while !pending.is_empty() {
        match swarm.select_next_some().await {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                let full = address.with(Protocol::P2p(local));
                info!("Listening on {full}");
                listen_addrs.push(full);
                pending.remove(&listener_id);
            }
            SwarmEvent::ListenerError { listener_id, error } => {
                return Err(NodeError::Listen {
                    addr: pending
                        .remove(&listener_id)
                        .unwrap_or_else(Multiaddr::empty),
                    reason: error.to_string(),
                });
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                addresses,
                reason,
            } => {
                return Err(NodeError::Listen {
                    addr: pending
                        .remove(&listener_id)
                        .or_else(|| addresses.into_iter().next())
                        .unwrap_or_else(Multiaddr::empty),
                    reason: format!("{reason:?}"),
                });
            }
            other => debug!(?other, "event while starting"),
        }
    }
    Ok(listen_addrs)
}

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
use waku_metadata::{Event as MetadataEvent, ShardSet};

use waku_sharding::RelayShard;

use crate::behaviour::{NodeBehaviour, NodeEvent};
use crate::compose::{self, Composed};
use crate::config::NodeConfig;
use crate::filter_requests::FilterRequests;
use crate::handle::{
    Command, LightpushError, LightpushOk, MESSAGE_BUFFER, NodeHandle, RequestError,
};
use crate::metrics::NodeMetrics;
use crate::network_metrics::{NetworkMetrics, NetworkSnapshot};
use crate::peers::PeerBook;
use crate::store_requests::StoreRequests;
use crate::transport::{self, TransportError};
use prometheus_client::registry::Registry;

/// How often disconnected static peers are dialled again.
const STATICNODE_REDIAL: Duration = Duration::from_secs(10);

/// Peers kept connected (static nodes and peers added through the admin
/// API) at most.
const MAX_KEPT_PEERS: usize = 1024;

/// How soon a static node that disconnected is dialled again (then every
/// [`STATICNODE_REDIAL`] while it stays away).
const STATICNODE_REDIAL_AFTER_LOSS: Duration = Duration::from_secs(1);

/// How long an idle connection stays open (Waku peers keep connections).
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3600);

/// How often the peer and process gauges are refreshed.
const METRICS_REFRESH: Duration = Duration::from_secs(5);

/// How often the archived-messages gauge is recounted from the store (only
/// with a metrics server; nwaku recounts every 30 minutes).
const ARCHIVE_RECOUNT: Duration = Duration::from_secs(600);

/// Commands queued from handles before senders wait.
const COMMAND_BUFFER: usize = 256;

/// Why the node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The transport stack could not be built.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The relay configuration is unusable.
    #[error("relay: {0}")]
    Relay(#[from] waku_relay::ConfigError),
    /// A `--protected-shard` key is not a secp256k1 public key.
    #[error("--protected-shard key: {0}")]
    ProtectedShardKey(#[source] k256::ecdsa::Error),
    /// Relay could not subscribe to a configured shard.
    #[error(transparent)]
    Subscribe(#[from] waku_relay::SubscribeError),
    /// A configured shard index is out of range.
    #[error("shards: {0}")]
    Shards(#[from] waku_sharding::PubsubTopicError),
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
    Store(#[from] waku_store::StoreError),
    /// The DNS resolver for `--dns-discovery-url` could not be built.
    #[error("DNS discovery: {0}")]
    DnsResolver(#[source] waku_discovery::dns::ResolveError),
    /// discv5 could not start.
    #[error("discv5: {0}")]
    Discovery(#[from] waku_discovery::discv5::Discv5Error),
    /// The `--peer-persistence` file could not be opened or read.
    #[error(transparent)]
    PeerStorage(#[from] crate::peer_persistence::PeerStorageError),
    /// Installing a signal handler failed.
    #[error("signal handler: {0}")]
    Signal(std::io::Error),
}

/// A started node: listeners open, static peers dialled. Drive it with
/// [`Node::run`] and talk to it through [`Node::handle`].
pub struct Node {
    pub(crate) swarm: Swarm<NodeBehaviour>,
    pub(crate) config: NodeConfig,
    pub(crate) handle: NodeHandle,
    pub(crate) commands: mpsc::Receiver<Command>,
    /// The shards metadata announces: those relay is subscribed to.
    pub(crate) announced_shards: ShardSet,
    /// What we know of each peer (bounded: see [`PeerBook`]).
    pub(crate) peers: PeerBook,
    /// `connect` requests waiting for their connection, by peer.
    pub(crate) pending_connects:
        HashMap<PeerId, Vec<oneshot::Sender<Result<PeerId, RequestError>>>>,
    /// Background tasks (REST, metrics) stopped with the node.
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
    /// nwaku-named node metrics (updated even without a metrics server).
    pub(crate) node_metrics: NodeMetrics,
    /// nwaku's peer, libp2p and process families.
    pub(crate) network_metrics: NetworkMetrics,
    /// rust-libp2p's swarm metrics, when the metrics server runs.
    pub(crate) libp2p_metrics: Option<libp2p::metrics::Metrics>,
    /// Writes relayed (and own) messages to the store, with `--store`.
    pub(crate) archive: Option<waku_store::ArchiveWriter>,
    /// The message store, with `--store` (the REST API queries it directly).
    pub(crate) store: Option<Arc<dyn waku_store::MessageStore>>,
    /// The pubsub topics the lightpush service accepts (relay's subscriptions).
    pub(crate) served_topics: Option<waku_lightpush::ServedTopics>,
    /// Peers kept connected: the static nodes, then peers added through
    /// `POST /admin/v1/peers` (at most [`MAX_KEPT_PEERS`]); dialled again
    /// when they drop or restart.
    pub(crate) kept_peers: Vec<(PeerId, Multiaddr)>,
    /// A kept peer disconnected: dial it again soon.
    pub(crate) static_node_lost: bool,
    /// Remote lightpushes waiting for their answer.
    pub(crate) pending_lightpushes:
        HashMap<OutboundRequestId, oneshot::Sender<Result<LightpushOk, LightpushError>>>,
    /// Our ENR as it is now (the one built at start, then rebuilt when
    /// relay joins or leaves a shard; discv5 keeps its own copy).
    pub(crate) local_enr: waku_enr::WakuEnr,
    /// The `--peer-persistence` file's writer.
    pub(crate) peer_storage: Option<crate::peer_persistence::PeerStorage>,
    /// The filter service peer chosen from the peer book (without
    /// `--filternode`).
    pub(crate) filter_service: Option<(PeerId, Multiaddr)>,
    /// Filter requests to `--filternode` waiting for their answers.
    pub(crate) filter_requests: FilterRequests<OutboundRequestId>,
    /// Remote store queries (v3 and legacy) waiting for their answer.
    pub(crate) store_requests: StoreRequests,
    /// discv5, with `--discv5-discovery`.
    pub(crate) discovery: Option<crate::discovery::Discovery>,
    /// Connected peers' IPs and discovery's dials (connection limits).
    pub(crate) connections: crate::peer_manager::ConnectionBook,
    /// Records the DNS trees yielded, until the walk is over.
    pub(crate) dns_found: Option<mpsc::Receiver<waku_enr::WakuEnr>>,
    /// The last peer-exchange request brought no peer: ask again soon.
    pub(crate) px_came_back_empty: bool,
}

impl Node {
    /// Builds the swarm, opens the listeners and waits until each reports its
    /// address (logging it as a full multiaddr), then dials the static peers.
    pub async fn start(mut config: NodeConfig) -> Result<Self, NodeError> {
        crate::discovery::pick_udp_port(&mut config);
        let tls = transport::load_tls(config.wss.as_ref(), &config.wss_trust)?;
        let transport = transport::build(&config.keypair, tls)?;
        let mut registry = config.metrics.map(|_| Registry::default());
        let node_metrics = NodeMetrics::default();
        let network_metrics = NetworkMetrics::default();
        let libp2p_metrics = registry.as_mut().map(|r| {
            node_metrics.register(r);
            network_metrics.register(r);
            libp2p::metrics::Metrics::new(r)
        });
        for (protocol, node) in [
            (waku_core::protocol_id::STORE_QUERY_V3, &config.storenode),
            (waku_core::protocol_id::STORE_V2, &config.storenode),
            (
                waku_core::protocol_id::FILTER_SUBSCRIBE_V2,
                &config.filternode,
            ),
            (waku_core::protocol_id::LIGHTPUSH_V3, &config.lightpushnode),
            (waku_core::protocol_id::LIGHTPUSH_V2, &config.lightpushnode),
        ] {
            if let Some((_, addr)) = node {
                network_metrics.service_peer(protocol, addr);
            }
        }
        let Composed {
            protocols,
            announced_shards,
            store,
            served_topics,
        } = compose::protocols(&config, registry.as_mut(), &node_metrics.timings).await?;
        let behaviour = NodeBehaviour::new(&config.keypair, protocols);
        let mut swarm = SwarmBuilder::with_existing_identity(config.keypair.clone())
            .with_tokio()
            .with_other_transport(|_| transport)
            .unwrap_or_else(|never| match never {})
            .with_behaviour(|_| behaviour)
            .unwrap_or_else(|never| match never {})
            .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
            .build();

        let listen_addrs = open_listeners(&mut swarm, &config).await?;
        let enr = crate::enr::build(&config, &listen_addrs)?;
        info!("ENR {}", enr.encode());
        let discovery = crate::discovery::start(&config, &enr).await?;
        let dns = crate::discovery::start_dns(&config)?;
        let (command_tx, commands) = mpsc::channel(COMMAND_BUFFER);
        let (messages, _) = broadcast::channel(MESSAGE_BUFFER);
        let (filter_pushes, _) = broadcast::channel(MESSAGE_BUFFER);
        let handle = NodeHandle {
            peer_id: *swarm.local_peer_id(),
            listen_addrs,
            enr: enr.clone(),
            rest_addr: None,
            commands: command_tx,
            messages,
            filter_pushes,
        };
        let config_staticnodes = config.staticnodes.clone();
        let peers = PeerBook::with_capacity(config.peer_store_capacity);
        let mut node = Self {
            swarm,
            config,
            handle,
            commands,
            announced_shards,
            peers,
            pending_connects: HashMap::new(),
            tasks: Vec::new(),
            node_metrics,
            network_metrics,
            libp2p_metrics,
            archive: None,
            served_topics,
            store,
            store_requests: StoreRequests::default(),
            kept_peers: config_staticnodes,
            discovery,
            px_came_back_empty: false,
            dns_found: None,
            connections: crate::peer_manager::ConnectionBook::default(),
            static_node_lost: false,
            pending_lightpushes: HashMap::new(),
            filter_requests: FilterRequests::default(),
            filter_service: None,
            peer_storage: None,
            local_enr: enr,
        };
        node.restore_peers()?;
        node.start_archive();
        if let Some(walk) = dns {
            node.tasks.push(walk.task);
            node.dns_found = Some(walk.found);
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
        node.dial_restored_peers();
        compose::log_mounted(&node.config);
        // The line nwaku logs once it is ready; tooling waits for it.
        info!("Node setup complete");
        Ok(node)
    }

    /// Starts the archive writer and the retention task, with `--store`.
    /// With a metrics server, the archived-messages gauge follows what the
    /// writer stores and is recounted from the database now and then, so
    /// retention's deletions show.
    fn start_archive(&mut self) {
        let (Some(store), Some(settings)) = (&self.store, &self.config.store) else {
            return;
        };
        let archived = self.node_metrics.archived();
        let counted = archived.clone();
        let timed = self
            .node_metrics
            .timings
            .archive_store(store.clone(), settings.legacy);
        self.archive = Some(waku_store::ArchiveWriter::spawn_with(
            waku_store::Archive::new(timed),
            waku_store::ArchiveWriter::DEFAULT_QUEUE,
            Box::new(move |result| {
                if matches!(result, Ok(waku_store::Ingested::Stored(_))) {
                    counted.inc();
                }
            }),
        ));
        if self.config.metrics.is_some() {
            let store = store.clone();
            self.tasks.push(tokio::spawn(async move {
                let mut recount = tokio::time::interval(ARCHIVE_RECOUNT);
                loop {
                    recount.tick().await;
                    match store.count().await {
                        Ok(n) => {
                            archived.set(i64::try_from(n).unwrap_or(i64::MAX));
                        }
                        Err(e) => warn!(%e, "cannot count archived messages"),
                    }
                }
            }));
        }
        self.tasks.push(tokio::spawn(waku_store::run_retention(
            store.clone(),
            settings.retention,
            waku_store::DEFAULT_RETENTION_INTERVAL,
        )));
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
            topic_shards: config.topic_shards.clone(),
            relay: config.relay,
            pubsub_topics: config
                .shards
                .iter()
                .map(|s| RelayShard::new(config.cluster_id, *s).to_string())
                .collect(),
            content_topics: config.content_topics.clone(),
            store: self.store.clone().map(|s| {
                let legacy = config.store.as_ref().is_some_and(|s| s.legacy);
                self.node_metrics.timings.archive_store(s, legacy)
            }),
            legacy_store: self
                .store
                .clone()
                .map(|s| self.node_metrics.timings.legacy_store(s)),
            request_metrics: self.node_metrics.rest_requests.clone(),
            storenode: config.storenode.as_ref().map(|(_, addr)| addr.clone()),
            mounted: crate::rest::Mounted {
                lightpush: config.lightpush,
                filter: config.filter.is_some(),
                store: config.store.is_some(),
                legacy_store: config.store.as_ref().is_some_and(|s| s.legacy),
                peer_exchange: config.peer_exchange,
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
        let lost: Vec<Multiaddr> = self
            .kept_peers
            .iter()
            .filter(|(peer, _)| !self.swarm.is_connected(peer))
            .map(|(_, addr)| addr.clone())
            .collect();
        for addr in lost {
            if let Err(err) = self.dial(on_a_new_port(addr.clone())) {
                warn!(%addr, %err, "cannot dial static node");
            }
        }
    }

    /// Sets the peer and process gauges from what the node knows now.
    fn refresh_network_metrics(&self) {
        let mut snapshot = NetworkSnapshot {
            known_peers: self.peers.len(),
            connected: self.peers.connected_protocols(),
            ..NetworkSnapshot::default()
        };
        let metadata = &self.swarm.behaviour().metadata;
        for peer in self.swarm.connected_peers() {
            if let Some(meta) = metadata.peer_metadata(peer) {
                for shard in meta.shards.iter().filter_map(|s| u16::try_from(*s).ok()) {
                    *snapshot.per_shard.entry(shard).or_default() += 1;
                }
            }
        }
        if let Some(relay) = self.swarm.behaviour().relay.as_ref() {
            snapshot.pubsub_peers = relay.gossipsub().all_peers().count();
            snapshot.pubsub_topics = relay.subscriptions().len();
            relay.refresh_metrics();
        }
        self.network_metrics.refresh(&snapshot);
    }

    /// Whether `peer` is a static node or a peer added through the admin API.
    /// Dials through the swarm and counts the attempt in
    /// `libp2p_total_dial_attempts_total` (the swarm reports `Dialing` only
    /// for the dials behaviours start, not for ours).
    pub(crate) fn dial(
        &mut self,
        opts: impl Into<libp2p::swarm::dial_opts::DialOpts>,
    ) -> Result<(), libp2p::swarm::DialError> {
        let result = self.swarm.dial(opts);
        if result.is_ok() {
            self.network_metrics.dial_attempt();
        }
        result
    }

    pub(crate) fn is_kept(&self, peer: &PeerId) -> bool {
        self.kept_peers.iter().any(|(p, _)| p == peer)
    }

    /// Keeps `peer` at `addr` connected from now on (a peer added through
    /// `POST /admin/v1/peers`), unless the list is full.
    fn keep(&mut self, peer: PeerId, addr: Multiaddr) {
        if self.is_kept(&peer) {
            return;
        }
        if self.kept_peers.len() >= MAX_KEPT_PEERS {
            warn!(%peer, "{MAX_KEPT_PEERS} peers are kept already: {peer} is not dialled again if it drops");
            return;
        }
        self.kept_peers.push((peer, addr));
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
        let mut metrics_refresh = tokio::time::interval(METRICS_REFRESH);
        let mut px_requests = tokio::time::interval(crate::discovery::PEER_EXCHANGE_INTERVAL);
        let mut relay_targets = tokio::time::interval(crate::relay_targets::RELAY_TARGETS_INTERVAL);
        relay_targets.tick().await;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = redial.tick() => self.dial_staticnodes(),
                _ = px_requests.tick() => self.request_peer_exchange(),
                _ = relay_targets.tick() => self.manage_relay_targets(),
                _ = metrics_refresh.tick() => self.refresh_network_metrics(),
                Some(command) = self.commands.recv() => self.execute(command),
                Some(enr) = crate::discovery::next_dns_record(&mut self.dns_found) => {
                    self.on_dns_record(enr);
                }
                Some(candidate) = crate::discovery::next_candidate(&mut self.discovery) => {
                    self.on_candidate(candidate);
                }
                event = self.swarm.select_next_some() => self.handle_event(event),
            }
            if std::mem::take(&mut self.static_node_lost) {
                redial.reset_after(STATICNODE_REDIAL_AFTER_LOSS);
            }
            if std::mem::take(&mut self.px_came_back_empty) {
                px_requests.reset_after(crate::discovery::PEER_EXCHANGE_RETRY);
            }
        }
        // Everything queued for the archive is written before we stop.
        if let Some(archive) = self.archive.take() {
            archive.shutdown().await;
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

    pub(crate) fn relay(&mut self) -> Result<&mut waku_relay::Behaviour, RequestError> {
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
                let result = self.publish_own(pubsub_topic, *message);
                let _ = reply.send(result);
            }
            Command::Subscribe {
                pubsub_topic,
                reply,
            } => {
                let result = self
                    .relay()
                    .and_then(|r| r.subscribe(&pubsub_topic).map_err(RequestError::from));
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
                let peers = self.peers.ids().map(|p| self.peer_info(p)).collect();
                let _ = reply.send(peers);
            }
            Command::ShardPeers { set, shard, reply } => {
                let _ = reply.send(self.shard_peers(set, shard));
            }
            Command::Connect { addr, reply } => {
                let Some(Protocol::P2p(peer)) = addr.iter().last() else {
                    let _ = reply.send(Err(RequestError::NoPeerId(addr)));
                    return;
                };
                // As nwaku, an added peer is dialled again when it drops.
                self.keep(peer, addr.clone());
                if self.swarm.is_connected(&peer) {
                    let _ = reply.send(Ok(peer));
                    return;
                }
                match self.dial(on_a_new_port(addr)) {
                    Ok(()) => self.pending_connects.entry(peer).or_default().push(reply),
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Command::StoreQuery { peer, query, reply } => self.store_query(peer, *query, reply),
            Command::LegacyStoreQuery { peer, query, reply } => {
                self.legacy_store_query(peer, *query, reply);
            }
            Command::Lightpush {
                pubsub_topic,
                message,
                reply,
            } => self.lightpush_command(pubsub_topic, *message, reply),
            Command::Filter { request, reply } => self.filter_command(request, reply),
            Command::CurrentEnr { reply } => {
                let enr = self
                    .discovery
                    .as_ref()
                    .and_then(|d| d.service.local_enr())
                    .unwrap_or_else(|| self.local_enr.clone());
                let _ = reply.send(enr);
            }
            Command::ServicePeers { reply } => {
                let _ = reply.send(self.service_peers_known());
            }
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
                let result = self.dial(on_a_new_port(addr)).map_err(RequestError::from);
                let _ = reply.send(result);
            }
        }
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
        let changed = if subscribed {
            self.announced_shards.insert(shard.shard).unwrap_or(false)
        } else {
            self.announced_shards.remove(shard.shard)
        };
        if changed {
            self.refresh_enr_shards();
        }
    }

    fn handle_event(&mut self, event: SwarmEvent<NodeEvent>) {
        if let Some(metrics) = &self.libp2p_metrics {
            libp2p::metrics::Recorder::record(metrics, &event);
        }
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                if endpoint.is_dialer() {
                    self.network_metrics.dial_outcome(true);
                }
                let addr = endpoint.get_remote_address().clone();
                info!(peer = %peer_id, %addr, "connected");
                self.node_metrics.peers.set(count_peers(&self.swarm));
                let is_static = self.is_kept(&peer_id);
                let dialled = endpoint.is_dialer().then_some(addr);
                if self.peers.connected(peer_id, dialled, is_static) {
                    self.network_metrics.peer_added();
                }
                for reply in self.pending_connects.remove(&peer_id).unwrap_or_default() {
                    let _ = reply.send(Ok(peer_id));
                }
                if num_established.get() == 1 {
                    self.admit(peer_id, endpoint.get_remote_address());
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
                self.connections.disconnected(&peer_id);
                self.peers.disconnected(peer_id, std::time::Instant::now());
                if self.is_kept(&peer_id) {
                    self.static_node_lost = true;
                }
            }
            SwarmEvent::Dialing { .. } => self.network_metrics.dial_attempt(),
            SwarmEvent::IncomingConnectionError { error, .. } => {
                if crate::transport::incoming_upgrade_failed(&error) {
                    self.network_metrics.failed_upgrade(false);
                }
                debug!(%error, "incoming connection failed");
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                self.network_metrics.dial_outcome(false);
                if crate::transport::dial_upgrade_failed(&error) {
                    self.network_metrics.failed_upgrade(true);
                }
                debug!(?peer_id, %error, "dial failed");
                if let Some(peer) = peer_id {
                    self.peers.dial_failed(&peer);
                    self.connections
                        .dial_failed(peer, std::time::Instant::now());
                    let error = std::sync::Arc::new(error);
                    for reply in self.pending_connects.remove(&peer).unwrap_or_default() {
                        let _ = reply.send(Err(RequestError::Dial(error.clone())));
                    }
                }
            }
            SwarmEvent::Behaviour(NodeEvent::Identify(event)) => {
                if let libp2p::identify::Event::Received { peer_id, info, .. } = *event {
                    if let Some(relay) = self.swarm.behaviour_mut().relay.as_mut() {
                        relay.set_signed_peer_record(peer_id, info.signed_peer_record.as_ref());
                    }
                    self.peers.identified(&peer_id, info);
                    self.check_slots(peer_id);
                    self.persist_peer(&peer_id);
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(
                    "Listening on {}",
                    address.with(Protocol::P2p(self.peer_id()))
                );
            }
            SwarmEvent::Behaviour(NodeEvent::Relay(event)) => match *event {
                waku_relay::Event::Message {
                    pubsub_topic,
                    message,
                    hash,
                    ..
                } => {
                    debug!(%pubsub_topic, %hash, "relay message delivered");
                    self.deliver_locally(pubsub_topic, message, hash);
                }
                waku_relay::Event::PeerExchange {
                    from,
                    pubsub_topic,
                    peers,
                } => self.on_relay_peer_exchange(from, &pubsub_topic, peers),
                _ => {}
            },
            SwarmEvent::Behaviour(NodeEvent::Metadata(event)) => match *event {
                MetadataEvent::Rejected { peer_id, reason } => {
                    info!(peer = %peer_id, %reason, "peer disconnected by metadata");
                }
                MetadataEvent::Received {
                    peer_id, metadata, ..
                } => {
                    if metadata.cluster_id == Some(u32::from(self.config.cluster_id)) {
                        let shards = metadata
                            .shards
                            .iter()
                            .filter_map(|s| u16::try_from(*s).ok())
                            .collect();
                        self.peers.remember_shards(&peer_id, shards);
                        self.persist_peer(&peer_id);
                    }
                }
                other => debug!(?other, "metadata"),
            },
            SwarmEvent::Behaviour(NodeEvent::Store(event)) => match *event {
                waku_store::Event::QueryResult {
                    request_id, result, ..
                } => self.on_store_result(request_id, result),
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
                self.on_lightpush_client(*event);
            }
            SwarmEvent::Behaviour(NodeEvent::FilterClient(event)) => self.on_filter_client(*event),
            SwarmEvent::Behaviour(NodeEvent::PeerExchange(event)) => {
                if let waku_discovery::peer_exchange::service::Event::Answered { sent, .. } = *event
                {
                    self.network_metrics.px_sent(sent);
                }
            }
            SwarmEvent::Behaviour(NodeEvent::PeerExchangeClient(event)) => {
                self.on_peer_exchange_client(*event);
            }
            SwarmEvent::Behaviour(event) => debug!(?event, "behaviour event"),
            _ => {}
        }
    }
}

impl Node {}

/// Dial options for `addr` from a new local port rather than the
/// listening one. Two nodes dialling each other at the same moment from
/// their listening ports (as both ends of a gossipsub peer exchange do)
/// would otherwise make a single TCP connection (a simultaneous open) on
/// which both act as dialer, and the security handshake fails (go-waku
/// logs "expected /tls/1.0.0 (or na). got: /noise"). Needs the
/// `/p2p/<peer id>` the address ends in; without it libp2p reuses the
/// port as before.
pub(crate) fn on_a_new_port(addr: Multiaddr) -> libp2p::swarm::dial_opts::DialOpts {
    use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => DialOpts::peer_id(peer)
            .addresses(vec![addr])
            .condition(PeerCondition::Always)
            .allocate_new_port()
            .build(),
        _ => addr.into(),
    }
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

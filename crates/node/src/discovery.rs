//! Discovery for the node: discv5 (`--discv5-discovery`), waku-discovery's
//! service started with the node's key and ENR, and peer exchange (the
//! service fed with what discv5 finds, the client asking
//! `--peer-exchange-node`); the peers found are dialled while the node has
//! room for more.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use waku_discovery::discv5::{Candidate, Config, Discv5Service, RecordFilter};
use waku_discovery::peer_exchange as px;
use waku_enr::WakuEnr;

use crate::config::NodeConfig;
use crate::node::{Node, NodeError};

/// Connections beyond which discovered peers are no longer dialled
/// (nwaku's `--max-connections` default).
pub(crate) const MAX_CONNECTIONS: usize = 50;

/// How often `--peer-exchange-node` is asked for peers (nwaku's loop).
pub(crate) const PEER_EXCHANGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// How soon `--peer-exchange-node` is asked again after an answer without
/// peers or a failure (its cache fills as its discv5 runs).
pub(crate) const PEER_EXCHANGE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// Peers asked of the peer-exchange node with relay on: gossipsub's mesh
/// degree, as nwaku asks.
const PX_PEERS_WITH_RELAY: u64 = 6;

/// Peers asked of the peer-exchange node without relay (nwaku's default).
const PX_PEERS: u64 = 5;

/// The running discovery and the candidates it finds.
pub(crate) struct Discovery {
    /// Kept so that discv5 runs as long as the node.
    pub(crate) service: Discv5Service,
    /// Peers found, waiting to be dialled.
    pub(crate) candidates: mpsc::Receiver<Candidate>,
}

/// Whether `ip` is reachable from the internet (not loopback, private,
/// link-local or unspecified): only then are discv5's per-subnet limits on.
fn is_public(ip: Ipv4Addr) -> bool {
    !(ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified())
}

/// A UDP port free right now on `ip` (for `--discv5-udp-port 0`).
fn free_udp_port(ip: IpAddr) -> Option<u16> {
    UdpSocket::bind((ip, 0))
        .ok()?
        .local_addr()
        .ok()
        .map(|a| a.port())
}

/// Replaces `--discv5-udp-port 0` by a port free right now, since the ENR
/// must name the real port.
pub(crate) fn pick_udp_port(config: &mut NodeConfig) {
    let ip = config.listen_address;
    if let Some(settings) = config.discv5.as_mut()
        && settings.udp_port == 0
        && let Some(port) = free_udp_port(ip)
    {
        settings.udp_port = port;
    }
}

/// Starts discv5 with `enr` (which carries the UDP port) when
/// `--discv5-discovery` is on. Records are kept when they are Waku nodes
/// of our cluster sharing one of our shards (any shard when relay is off).
pub(crate) async fn start(
    config: &NodeConfig,
    enr: &WakuEnr,
) -> Result<Option<Discovery>, NodeError> {
    let Some(settings) = &config.discv5 else {
        return Ok(None);
    };
    let key = crate::enr::signing_key(config)?;
    let port = settings.udp_port;
    let ip = if config.listen_address.is_unspecified() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        config.listen_address
    };
    let listen = SocketAddr::new(ip, port);
    let discv5_config = Config::new(listen, record_filter(config))
        .with_bootstrap(settings.bootstrap.iter().cloned())
        .with_enr_auto_update(settings.enr_auto_update)
        .with_ip_limit(enr.ip4().is_some_and(is_public));
    let (service, candidates) = Discv5Service::start(enr, &key, discv5_config)
        .await
        .map_err(NodeError::Discovery)?;
    Ok(Some(Discovery {
        service,
        candidates,
    }))
}

/// The next peer discv5 found; never resolves without discv5.
pub(crate) async fn next_candidate(discovery: &mut Option<Discovery>) -> Option<Candidate> {
    match discovery {
        Some(d) => d.candidates.recv().await,
        None => std::future::pending().await,
    }
}

impl Node {
    /// Dials a peer discv5 found, unless it is connected already or the
    /// node is at its connection limit; its record goes into the
    /// peer-exchange cache.
    pub(crate) fn on_candidate(&mut self, candidate: Candidate) {
        if let Some(px) = self.swarm.behaviour_mut().peer_exchange.as_mut() {
            px.add_record(candidate.enr.clone());
        }
        let table = self.discovery.as_ref().map_or(0, |d| d.service.table_len());
        debug!(peer = %candidate.peer_id, table, "discv5 candidate");
        self.dial_discovered(candidate.peer_id, candidate.addrs, "discv5");
    }

    /// Dials `peer` at `addrs` unless it is connected or the node is at its
    /// connection limit.
    fn dial_discovered(&mut self, peer: PeerId, addrs: Vec<Multiaddr>, source: &str) {
        if self.swarm.is_connected(&peer) || peer == *self.swarm.local_peer_id() {
            return;
        }
        if self.swarm.connected_peers().count() >= MAX_CONNECTIONS {
            debug!(%peer, source, "discovered peer not dialled: at the connection limit");
            return;
        }
        info!(%peer, ?addrs, "dialling a peer found through {source}");
        let opts = DialOpts::peer_id(peer).addresses(addrs).build();
        if let Err(e) = self.swarm.dial(opts) {
            debug!(%peer, %e, source, "discovered peer dial refused");
        }
    }

    /// Asks `--peer-exchange-node` for peers (at start, every
    /// [`PEER_EXCHANGE_INTERVAL`], and after [`PEER_EXCHANGE_RETRY`] when
    /// the last answer brought none): as many as gossipsub's mesh degree with
    /// relay on, else nwaku's 5.
    pub(crate) fn request_peer_exchange(&mut self) {
        let Some((peer, addr)) = self.config.peer_exchange_node.clone() else {
            return;
        };
        let wanted = if self.config.relay {
            PX_PEERS_WITH_RELAY
        } else {
            PX_PEERS
        };
        self.swarm.add_peer_address(peer, addr);
        if let Some(client) = self.swarm.behaviour_mut().peer_exchange_client.as_mut() {
            info!(%peer, amount = wanted, "Retrieving peer info via peer exchange protocol");
            client.request(&peer, wanted);
        }
    }

    /// Dials the peers a peer-exchange answer names that pass the same
    /// filter as discv5's records.
    pub(crate) fn on_peer_exchange_client(&mut self, event: px::client::Event) {
        match event {
            px::client::Event::Received {
                peer,
                enrs,
                skipped,
                ..
            } => {
                self.px_came_back_empty = enrs.is_empty();
                let filter = record_filter(&self.config);
                info!(
                    %peer,
                    validPeers = enrs.len(),
                    skipped = skipped.len(),
                    "Retrieved peer info via peer exchange protocol"
                );
                for enr in enrs {
                    if let Err(why) = filter.check(&enr) {
                        debug!(peer = %enr.peer_id(), %why, "peer-exchange record skipped");
                        continue;
                    }
                    self.dial_discovered(enr.peer_id(), enr.dial_addresses(), "peer exchange");
                }
            }
            px::client::Event::Failed { peer, error, .. } => {
                self.px_came_back_empty = true;
                warn!(%peer, %error, "failed to retrieve peer info via peer exchange protocol");
            }
            other => debug!(?other, "peer exchange client"),
        }
    }
}

/// Which discovered records the node dials: Waku nodes of our cluster with
/// one of the shards relay serves (any shard with relay off).
fn record_filter(config: &NodeConfig) -> RecordFilter {
    let filter = RecordFilter::new(config.cluster_id);
    if config.relay {
        filter.with_shards(config.shards.iter().copied())
    } else {
        filter
    }
}

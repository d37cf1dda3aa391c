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

/// How long to wait before walking the DNS trees again when a walk found
/// no record.
const DNS_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// Records found in DNS trees waiting to be used.
const DNS_BUFFER: usize = 1024;

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
    for invalid in &settings.invalid_bootstrap {
        warn!("--discv5-bootstrap-node {invalid}: ignoring invalid bootstrap address");
    }
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

/// DNS discovery under way: the walking task and the records it sends.
pub(crate) struct DnsWalk {
    /// Walks the trees (stopped with the node).
    pub(crate) task: tokio::task::JoinHandle<()>,
    /// The records that verified.
    pub(crate) found: mpsc::Receiver<WakuEnr>,
}

/// Walks `--dns-discovery-url`'s trees in the background (again every
/// minute until one record is found) and sends what verifies; `None`
/// without a URL.
pub(crate) fn start_dns(config: &NodeConfig) -> Result<Option<DnsWalk>, NodeError> {
    let Some(settings) = config.dns_discovery.clone() else {
        return Ok(None);
    };
    let resolver = waku_discovery::dns::HickoryResolver::with_name_servers(&settings.name_servers)
        .map_err(NodeError::DnsResolver)?;
    let (tx, rx) = mpsc::channel(DNS_BUFFER);
    let task = tokio::spawn(async move {
        let mut walker = waku_discovery::dns::Walker::new(resolver);
        loop {
            let mut found = 0;
            for url in &settings.urls {
                let outcome = walker.walk(url).await;
                for error in &outcome.errors {
                    warn!(%url, %error, "DNS discovery: part of the tree skipped");
                }
                info!(%url, records = outcome.enrs.len(), "DNS discovery: tree walked");
                found += outcome.enrs.len();
                for enr in outcome.enrs {
                    if tx.send(enr).await.is_err() {
                        return;
                    }
                }
            }
            if found > 0 {
                return;
            }
            tokio::time::sleep(DNS_RETRY).await;
        }
    });
    Ok(Some(DnsWalk { task, found: rx }))
}

/// The next record DNS discovery found; never resolves without it.
pub(crate) async fn next_dns_record(
    found: &mut Option<mpsc::Receiver<WakuEnr>>,
) -> Option<WakuEnr> {
    match found {
        Some(rx) => match rx.recv().await {
            Some(enr) => Some(enr),
            None => {
                // The walk is over: stop polling this branch.
                *found = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

impl Node {
    /// A record from a DNS tree: it bootstraps discv5 (as nwaku uses DNS
    /// trees) and is dialled when it passes the discovery filter.
    pub(crate) fn on_dns_record(&mut self, enr: WakuEnr) {
        if let Some(d) = &self.discovery {
            d.service.add_record(&enr);
        }
        if let Err(why) = record_filter(&self.config).check(&enr) {
            debug!(peer = %enr.peer_id(), %why, "DNS record not dialled");
            return;
        }
        self.dial_discovered(enr.peer_id(), enr.dial_addresses(), "DNS discovery");
    }

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
        if !self.wants_more_peers() {
            debug!(%peer, source, "discovered peer not dialled: enough peers");
            return;
        }
        let now = std::time::Instant::now();
        if !self.connections.may_dial(&peer, now) {
            debug!(%peer, source, "discovered peer not dialled now: backing off or dials busy");
            return;
        }
        self.connections.dialling(peer, now);
        info!(%peer, ?addrs, "dialling a peer found through {source}");
        let opts = DialOpts::peer_id(peer).addresses(addrs).build();
        if let Err(e) = self.dial(opts) {
            self.connections.dial_failed(peer, now);
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

//! discv5 for the node: waku-discovery's service started with the node's
//! key and ENR; its candidates are dialled and fed to peer exchange.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use tokio::sync::mpsc;
use tracing::{debug, warn};
use waku_discovery::discv5::{Candidate, Config, Discv5Service};
use waku_enr::WakuEnr;

use super::record_filter;
use crate::config::NodeConfig;
use crate::node::{Node, NodeError};

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
        self.on_discovered(&candidate.enr, crate::handle::PeerOrigin::Discv5);
    }
}

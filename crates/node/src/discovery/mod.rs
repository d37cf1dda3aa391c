//! Discovery for the node: discv5 (`--discv5-discovery`), peer exchange
//! (the service fed with what discv5 finds, the client asking
//! `--peer-exchange-node`) and DNS trees (`--dns-discovery-url`); the peers
//! any of them finds are dialled while the node has room for more.

mod discv5;
mod dns;
mod peer_exchange;

pub(crate) use discv5::{Discovery, next_candidate, pick_udp_port, start};
pub(crate) use dns::{next_dns_record, start_dns};
pub(crate) use peer_exchange::{PEER_EXCHANGE_INTERVAL, PEER_EXCHANGE_RETRY};

use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId};
use tracing::{debug, info};
use waku_discovery::discv5::RecordFilter;

use crate::config::NodeConfig;
use crate::node::Node;

impl Node {
    /// Dials `peer` at `addrs` unless it is connected or the node is at its
    /// connection limit.
    pub(crate) fn dial_discovered(&mut self, peer: PeerId, addrs: Vec<Multiaddr>, source: &str) {
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
}

/// Which discovered records the node dials: Waku nodes of our cluster with
/// one of the shards relay serves (any shard with relay off).
pub(crate) fn record_filter(config: &NodeConfig) -> RecordFilter {
    let filter = RecordFilter::new(config.cluster_id);
    if config.relay {
        filter.with_shards(config.shards.iter().copied())
    } else {
        filter
    }
}

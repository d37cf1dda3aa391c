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
use waku_enr::WakuEnr;

use crate::config::NodeConfig;
use crate::handle::PeerOrigin;
use crate::node::Node;

impl Node {
    /// Gossipsub peer exchange (`--relay-peer-exchange`): `from` pruned us
    /// from `pubsub_topic` and named `peers`, with the addresses their
    /// signed records carry. They join the peer book and are dialled while
    /// the node wants peers, as nwaku's peer manager takes them.
    pub(crate) fn on_relay_peer_exchange(
        &mut self,
        from: PeerId,
        pubsub_topic: &str,
        peers: Vec<(PeerId, Vec<Multiaddr>)>,
    ) {
        info!(src = %from, topic = pubsub_topic, numPeers = peers.len(), "adding exchanged peers");
        let now = std::time::Instant::now();
        for (peer, addrs) in peers {
            if peer == *self.swarm.local_peer_id() || addrs.is_empty() {
                continue;
            }
            self.peers.learned(peer, &addrs, now);
            if !self.swarm.is_connected(&peer) && self.wants_peer(&peer) {
                self.dial_known(peer, addrs, "relay peer exchange");
            }
        }
    }

    /// A peer discovery (`origin`) found: its record goes into the peer book (so the
    /// peer manager and service-peer selection know its shards and
    /// capabilities), and it is dialled unless it is connected or the node
    /// has enough peers ([`Node::wants_peer`]).
    pub(crate) fn on_discovered(&mut self, enr: &WakuEnr, origin: PeerOrigin) {
        let peer = enr.peer_id();
        if peer == *self.swarm.local_peer_id() {
            return;
        }
        let source = match origin {
            PeerOrigin::Discv5 => "discv5",
            PeerOrigin::Dns => "DNS discovery",
            _ => "peer exchange",
        };
        let now = std::time::Instant::now();
        self.peers.discovered(enr, origin, now);
        if self.swarm.is_connected(&peer) {
            return;
        }
        if !self.wants_peer(&peer) {
            debug!(%peer, source, "discovered peer not dialled: enough peers");
            return;
        }
        self.dial_known(peer, enr.dial_addresses(), source);
    }

    /// Dials `peer` at `addrs` unless a dial of it is under way or backed
    /// off, or too many dials are under way.
    pub(crate) fn dial_known(&mut self, peer: PeerId, addrs: Vec<Multiaddr>, source: &str) {
        let now = std::time::Instant::now();
        if !self.connections.may_dial(&peer, now) {
            debug!(%peer, source, "peer not dialled now: backing off or dials busy");
            return;
        }
        self.connections.dialling(peer, now);
        info!(%peer, ?addrs, "dialling a peer found through {source}");
        // From a new port: a peer learnt through peer exchange may be
        // dialling us at the same moment (see `node::on_a_new_port`).
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .allocate_new_port()
            .build();
        if let Err(e) = self.dial(opts) {
            self.connections.dial_failed(peer, now);
            debug!(%peer, %e, source, "peer dial refused");
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

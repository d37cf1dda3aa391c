//! Choosing the service peer the node's own store, filter and lightpush
//! clients ask when no `--storenode`, `--filternode` or `--lightpushnode`
//! is given: a known peer offering the protocol (identify, or its ENR's
//! `waku2` capabilities before identify), preferring, when the request
//! names a shard, one serving that shard (metadata, else its ENR's shards).
//! nwaku does not look at shards here; we only order by them.

use libp2p::{Multiaddr, PeerId};
use waku_sharding::RelayShard;

use crate::handle::ServicePeersKnown;
use crate::node::Node;

/// How well a peer's shards fit a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ShardFit {
    /// The peer serves the shard, or the request names none.
    Serves,
    /// The peer's shards are unknown (no metadata, no record, or an empty
    /// list, as a store node without relay announces).
    Unknown,
    /// The peer reported other shards. Still a candidate, as nwaku does not
    /// filter by shard at all: what a peer reported may be stale (a node
    /// that subscribed to a shard over REST after we connected).
    Other,
}

impl Node {
    /// The shards `peer` serves in our cluster: what its metadata reports
    /// while connected, else what it reported before (remembered, or read
    /// back from the `--peer-persistence` file), else the shards of its
    /// ENR; `None` when none is known (or the list is empty).
    pub(crate) fn peer_shards(&self, peer: &PeerId) -> Option<Vec<u16>> {
        let cluster = self.config.cluster_id;
        let from_metadata = self
            .swarm
            .behaviour()
            .metadata
            .peer_metadata(peer)
            .filter(|m| m.cluster_id == Some(u32::from(cluster)))
            .map(|m| {
                m.shards
                    .iter()
                    .filter_map(|s| u16::try_from(*s).ok())
                    .collect::<Vec<u16>>()
            });
        let remembered = || {
            self.peers
                .get(peer)
                .map(|info| info.shards.clone())
                .filter(|s| !s.is_empty())
        };
        let shards = from_metadata
            .filter(|s| !s.is_empty())
            .or_else(remembered)
            .or_else(|| {
                self.peers
                    .enr(peer)
                    .and_then(waku_enr::WakuEnr::shards)
                    .filter(|s| s.cluster == cluster)
                    .map(|s| s.shards.into_iter().collect())
            });
        shards.filter(|s| !s.is_empty())
    }

    /// The shard of our cluster `pubsub_topic` names, if it is a static
    /// shard topic of our cluster.
    pub(crate) fn shard_of(&self, pubsub_topic: Option<&str>) -> Option<u16> {
        pubsub_topic
            .and_then(|t| t.parse::<RelayShard>().ok())
            .filter(|s| s.cluster == self.config.cluster_id)
            .map(|s| s.shard)
    }

    /// A peer to ask for one of `protocols` (the first protocol first) about
    /// `shard`: peers known to serve the shard, then peers whose shards are
    /// unknown, then peers that reported other shards; connected peers
    /// before the others, which need an address to dial.
    pub(crate) fn select_service_peer(
        &self,
        protocols: &[&str],
        shard: Option<u16>,
    ) -> Option<(PeerId, Multiaddr)> {
        for protocol in protocols {
            let mut candidates: Vec<(ShardFit, bool, PeerId, Multiaddr)> = self
                .peers
                .infos()
                .filter(|info| info.connected || !info.addrs.is_empty())
                .filter(|info| self.peers.offers(&info.peer_id, protocol))
                .map(|info| {
                    let fit = match (shard, self.peer_shards(&info.peer_id)) {
                        (None, _) => ShardFit::Serves,
                        (Some(s), Some(served)) if served.contains(&s) => ShardFit::Serves,
                        (Some(_), Some(_)) => ShardFit::Other,
                        (Some(_), None) => ShardFit::Unknown,
                    };
                    let addr = info.addrs.first().cloned().unwrap_or_else(Multiaddr::empty);
                    (fit, !info.connected, info.peer_id, addr)
                })
                .collect();
            candidates.sort_by_key(|c| (c.0, c.1, c.2));
            if let Some((_, _, peer, addr)) = candidates.into_iter().next() {
                return Some((peer, addr));
            }
        }
        None
    }

    /// Which client protocols have a service peer: configured, or one
    /// [`Node::select_service_peer`] finds (any shard).
    pub(crate) fn service_peers_known(&self) -> ServicePeersKnown {
        use waku_core::protocol_id as id;
        let known = |configured: bool, protocol: &str| {
            configured || self.select_service_peer(&[protocol], None).is_some()
        };
        let c = &self.config;
        ServicePeersKnown {
            store: known(c.storenode.is_some(), id::STORE_QUERY_V3),
            legacy_store: known(c.storenode.is_some(), id::STORE_V2),
            filter: known(c.filternode.is_some(), id::FILTER_SUBSCRIBE_V2),
            lightpush: known(c.lightpushnode.is_some(), id::LIGHTPUSH_V3),
            legacy_lightpush: known(c.lightpushnode.is_some(), id::LIGHTPUSH_V2),
        }
    }

    /// Whether any discovery method runs (discv5, DNS trees, a peer-exchange
    /// node): picks nwaku's wording when no service peer is known.
    pub(crate) fn no_service_peer_text(&self) -> &'static str {
        let discovering = self.discovery.is_some()
            || self.config.dns_discovery.is_some()
            || self.config.peer_exchange_node.is_some();
        if discovering {
            "No suitable service peer & none discovered"
        } else {
            "No suitable service peer & no discovery method"
        }
    }
}

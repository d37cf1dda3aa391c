//! Per-shard relay targets, as nwaku's peer manager keeps them: the
//! outbound relay target is split evenly over the shards relay is
//! subscribed to (at least one peer each), and a shard below its share gets
//! peers dialled for it, from discovery as records arrive and from the peer
//! book every [`RELAY_TARGETS_INTERVAL`]. So a node subscribed to several
//! shards keeps every one of them meshed even when most peers it discovers
//! serve only one.

use std::time::Duration;

use libp2p::PeerId;
use rand::seq::SliceRandom;
use tracing::info;
use waku_sharding::RelayShard;

use crate::node::Node;

/// How often the shards' relay targets are checked (nwaku's connectivity
/// loop runs every 30 s; ours is shorter so a shard recovers sooner).
pub(crate) const RELAY_TARGETS_INTERVAL: Duration = Duration::from_secs(15);

/// One subscribed shard's outbound relay peers against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShardTarget {
    /// The shard.
    pub(crate) shard: u16,
    /// Outbound peers serving it, connected or being dialled.
    pub(crate) outbound: usize,
    /// Its share of the outbound relay target.
    pub(crate) target: usize,
}

impl ShardTarget {
    /// Whether the shard needs more outbound peers.
    pub(crate) fn is_short(&self) -> bool {
        self.outbound < self.target
    }
}

/// Each shard's share of `out_relay_target` over `shards` shards (at least
/// one peer each).
pub(crate) fn per_shard_target(out_relay_target: usize, shards: usize) -> usize {
    (out_relay_target / shards.max(1)).max(1)
}

impl Node {
    /// The shards of our cluster relay is subscribed to.
    fn subscribed_shards(&self) -> Vec<u16> {
        let cluster = self.config.cluster_id;
        self.swarm
            .behaviour()
            .relay
            .as_ref()
            .map(|relay| {
                relay
                    .subscriptions()
                    .iter()
                    .filter_map(|t| t.parse::<RelayShard>().ok())
                    .filter(|s| s.cluster == cluster)
                    .map(|s| s.shard)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Peers we dialled that are connected or still being dialled.
    fn outbound_peers(&self) -> Vec<PeerId> {
        let mut peers: Vec<PeerId> = self
            .swarm
            .connected_peers()
            .filter(|p| self.peers.is_outbound(p))
            .copied()
            .collect();
        for peer in self.connections.dialling_peers() {
            if !peers.contains(peer) {
                peers.push(*peer);
            }
        }
        peers
    }

    /// Every subscribed shard with its outbound peers and target.
    pub(crate) fn shard_targets(&self) -> Vec<ShardTarget> {
        let shards = self.subscribed_shards();
        let target = per_shard_target(self.config.peer_limits.out_relay_target, shards.len());
        let outbound: Vec<Option<Vec<u16>>> = self
            .outbound_peers()
            .iter()
            .map(|p| self.peer_shards(p))
            .collect();
        shards
            .into_iter()
            .map(|shard| ShardTarget {
                shard,
                outbound: outbound
                    .iter()
                    .filter(|s| s.as_ref().is_some_and(|s| s.contains(&shard)))
                    .count(),
                target,
            })
            .collect()
    }

    /// Whether discovery should dial `peer`: the node is below
    /// `--max-connections` and either below its outbound relay target
    /// (dials under way count), or `peer` serves a subscribed shard that is
    /// below its share.
    pub(crate) fn wants_peer(&self, peer: &PeerId) -> bool {
        let limits = self.config.peer_limits;
        if self.swarm.connected_peers().count() >= limits.max_connections {
            return false;
        }
        if self.outbound_peers().len() < limits.out_relay_target.max(1) {
            return true;
        }
        let Some(served) = self.peer_shards(peer) else {
            return false;
        };
        self.shard_targets()
            .iter()
            .any(|t| t.is_short() && served.contains(&t.shard))
    }

    /// Dials, for each subscribed shard below its target, known peers that
    /// serve it and are not connected (random ones, as nwaku), and logs each
    /// shard's state as nwaku's "Sharded Peer Management" line.
    pub(crate) fn manage_relay_targets(&mut self) {
        if self.swarm.connected_peers().count() >= self.config.peer_limits.max_connections {
            return;
        }
        for target in self.shard_targets() {
            let mut connectable: Vec<(PeerId, Vec<libp2p::Multiaddr>)> = self
                .peers
                .infos()
                .filter(|info| !info.connected && !info.addrs.is_empty())
                .filter(|info| {
                    self.peer_shards(&info.peer_id)
                        .is_some_and(|s| s.contains(&target.shard))
                })
                .map(|info| (info.peer_id, info.addrs.clone()))
                .collect();
            info!(
                shard = target.shard,
                connectable = connectable.len(),
                relayOutboundTarget = format!("{}/{}", target.outbound, target.target),
                "Sharded Peer Management"
            );
            if !target.is_short() {
                continue;
            }
            connectable.shuffle(&mut rand::thread_rng());
            for (peer, addrs) in connectable
                .into_iter()
                .take(target.target - target.outbound)
            {
                self.dial_known(peer, addrs, "the peer book");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbound_target_is_shared_by_the_shards_with_one_peer_at_least() {
        assert_eq!(per_shard_target(10, 1), 10);
        assert_eq!(per_shard_target(10, 2), 5);
        assert_eq!(per_shard_target(10, 8), 1);
        assert_eq!(per_shard_target(10, 16), 1);
        assert_eq!(per_shard_target(0, 0), 1);
        let short = ShardTarget {
            shard: 1,
            outbound: 0,
            target: 1,
        };
        assert!(short.is_short());
        assert!(
            !ShardTarget {
                outbound: 1,
                ..short
            }
            .is_short()
        );
    }
}

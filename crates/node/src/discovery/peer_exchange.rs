//! Peer exchange for the node: asking `--peer-exchange-node` for peers and
//! dialling those that pass the discovery filter (the service side is fed
//! by discv5, see `discv5.rs`).

use tracing::{debug, info, warn};
use waku_discovery::peer_exchange as px;

use super::record_filter;
use crate::node::Node;

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

impl Node {
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
                let unknown = enrs
                    .iter()
                    .filter(|e| self.peers.get(&e.peer_id()).is_none())
                    .count();
                self.network_metrics.px_received(enrs.len(), unknown);
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
                    self.on_discovered(&enr, crate::handle::PeerOrigin::PeerExchange);
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

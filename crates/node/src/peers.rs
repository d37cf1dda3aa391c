//! What the node knows about its peers ([`PeerBook`], bounded under
//! churn) and the admin views built from it and from relay.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId};
use waku_enr::{Capability, WakuEnr};
use waku_sharding::RelayShard;

use crate::handle::{
    Connectedness, PeerInfo, PeerOrigin, PeerSet, RequestError, ScoredPeer, ShardPeers,
};
use crate::node::Node;

/// How long a disconnected peer (not a static node) is remembered.
pub(crate) const FORGET_AFTER: Duration = Duration::from_secs(30 * 60);
/// Most disconnected peers remembered at once by default
/// (`--peer-store-capacity` changes it); the longest gone go first.
pub(crate) const MAX_DISCONNECTED: usize = 1024;

/// One peer's record and since when it is disconnected.
#[derive(Debug)]
struct Entry {
    info: PeerInfo,
    gone_since: Option<Instant>,
    /// Whether we dialled the peer (its latest connection).
    outbound: bool,
    /// The newest record discovery brought for the peer.
    enr: Option<WakuEnr>,
}

impl Entry {
    fn new(info: PeerInfo, gone_since: Option<Instant>) -> Self {
        Self {
            info,
            gone_since,
            outbound: false,
            enr: None,
        }
    }
}

/// A record of `peer`, learnt from `origin`, with nothing known yet.
fn blank(peer: PeerId, origin: PeerOrigin) -> PeerInfo {
    PeerInfo {
        peer_id: peer,
        addrs: Vec::new(),
        protocols: Vec::new(),
        shards: Vec::new(),
        agent: String::new(),
        connected: false,
        is_static: false,
        origin,
        connectedness: Connectedness::NotConnected,
    }
}

/// Every connected peer, and disconnected ones for a while: a peer that
/// left is forgotten after [`FORGET_AFTER`], or sooner when more than the
/// capacity ([`MAX_DISCONNECTED`] by default) have left; static nodes are
/// never forgotten.
#[derive(Debug)]
pub(crate) struct PeerBook {
    peers: HashMap<PeerId, Entry>,
    capacity: usize,
}

impl Default for PeerBook {
    fn default() -> Self {
        Self::with_capacity(MAX_DISCONNECTED)
    }
}

impl PeerBook {
    /// A book remembering at most `capacity` disconnected peers.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            peers: HashMap::new(),
            capacity,
        }
    }

    /// `peer` is connected; `dialled` is the address we reached it at.
    /// Whether the peer is new to the book.
    pub(crate) fn connected(
        &mut self,
        peer: PeerId,
        dialled: Option<Multiaddr>,
        is_static: bool,
    ) -> bool {
        let new = !self.peers.contains_key(&peer);
        let entry = self
            .peers
            .entry(peer)
            .or_insert_with(|| Entry::new(blank(peer, PeerOrigin::UnknownOrigin), None));
        if is_static {
            entry.info.is_static = true;
            entry.info.origin = PeerOrigin::Static;
        }
        entry.info.connected = true;
        entry.info.connectedness = Connectedness::Connected;
        entry.gone_since = None;
        entry.outbound = dialled.is_some();
        if let Some(addr) = dialled
            && !entry.info.addrs.contains(&addr)
        {
            entry.info.addrs.insert(0, addr);
        }
        new
    }

    /// `peer`'s last connection closed at `now`; old records are pruned.
    pub(crate) fn disconnected(&mut self, peer: PeerId, now: Instant) {
        if let Some(entry) = self.peers.get_mut(&peer) {
            entry.info.connected = false;
            entry.info.connectedness = Connectedness::CanConnect;
            entry.gone_since = Some(now);
        }
        self.prune(now);
    }

    /// Our dial of `peer` failed: unless a connection is open, it is
    /// marked as one we cannot connect to.
    pub(crate) fn dial_failed(&mut self, peer: &PeerId) {
        if let Some(entry) = self.peers.get_mut(peer)
            && !entry.info.connected
        {
            entry.info.connectedness = Connectedness::CannotConnect;
        }
    }

    /// Discovery (`origin`: discv5, peer exchange, DNS) found `enr` at
    /// `now`: a peer new to the book is kept as a disconnected peer with
    /// the record's addresses (so the peer manager can dial it later); a
    /// known one gets the newer record and any new address.
    pub(crate) fn discovered(&mut self, enr: &WakuEnr, origin: PeerOrigin, now: Instant) {
        let entry = self.learn(enr.peer_id(), &enr.dial_addresses(), origin, now);
        if entry.enr.as_ref().is_none_or(|old| old.seq() <= enr.seq()) {
            entry.enr = Some(enr.clone());
        }
        self.prune(now);
    }

    /// Gossipsub peer exchange named `peer` at `addrs` (from its signed
    /// record) at `now`: kept as [`PeerBook::discovered`] keeps a record.
    pub(crate) fn learned(&mut self, peer: PeerId, addrs: &[Multiaddr], now: Instant) {
        self.learn(peer, addrs, PeerOrigin::PeerExchange, now);
        self.prune(now);
    }

    /// The entry of `peer` (a new disconnected one from `origin` if
    /// unknown) with any of `addrs` it lacked.
    fn learn(
        &mut self,
        peer: PeerId,
        addrs: &[Multiaddr],
        origin: PeerOrigin,
        now: Instant,
    ) -> &mut Entry {
        let entry = self
            .peers
            .entry(peer)
            .or_insert_with(|| Entry::new(blank(peer, origin), Some(now)));
        for addr in addrs {
            if !entry.info.addrs.contains(addr) {
                entry.info.addrs.push(addr.clone());
            }
        }
        entry
    }

    /// A peer read back from the `--peer-persistence` file at `now`: known
    /// again, disconnected, with its addresses, protocols, shards and record.
    pub(crate) fn restore(&mut self, stored: crate::peer_persistence::StoredPeer, now: Instant) {
        let peer = stored.peer_id;
        self.peers.entry(peer).or_insert_with(|| {
            let mut entry = Entry::new(
                PeerInfo {
                    addrs: stored.addrs,
                    protocols: stored.protocols,
                    shards: stored.shards,
                    connectedness: Connectedness::CanConnect,
                    ..blank(peer, PeerOrigin::UnknownOrigin)
                },
                Some(now),
            );
            entry.enr = stored.enr;
            entry
        });
        self.prune(now);
    }

    /// Remembers the shards `peer`'s metadata reported (used once it has
    /// disconnected).
    pub(crate) fn remember_shards(&mut self, peer: &PeerId, shards: Vec<u16>) {
        if let Some(entry) = self.peers.get_mut(peer) {
            entry.info.shards = shards;
        }
    }

    /// What the `--peer-persistence` file keeps of `peer`.
    pub(crate) fn stored(&self, peer: &PeerId) -> Option<crate::peer_persistence::StoredPeer> {
        self.peers
            .get(peer)
            .map(|e| crate::peer_persistence::StoredPeer {
                peer_id: *peer,
                addrs: e.info.addrs.clone(),
                protocols: e.info.protocols.clone(),
                shards: e.info.shards.clone(),
                enr: e.enr.clone(),
            })
    }

    /// The record discovery brought for `peer`, if any.
    pub(crate) fn enr(&self, peer: &PeerId) -> Option<&WakuEnr> {
        self.peers.get(peer).and_then(|e| e.enr.as_ref())
    }

    /// Whether `peer` offers `protocol`: identify listed it, or (before
    /// identify) its record's `waku2` field has the matching capability.
    pub(crate) fn offers(&self, peer: &PeerId, protocol: &str) -> bool {
        let Some(entry) = self.peers.get(peer) else {
            return false;
        };
        if !entry.info.protocols.is_empty() {
            return entry.info.protocols.iter().any(|p| p == protocol);
        }
        capability_of(protocol)
            .is_some_and(|c| entry.enr.as_ref().is_some_and(|enr| enr.supports(c)))
    }

    /// Every record, connected or not.
    pub(crate) fn infos(&self) -> impl Iterator<Item = &PeerInfo> {
        self.peers.values().map(|e| &e.info)
    }

    /// What identify told us about `peer`.
    pub(crate) fn identified(&mut self, peer: &PeerId, info: libp2p::identify::Info) {
        let Some(entry) = self.peers.get_mut(peer) else {
            return;
        };
        entry.info.protocols = info.protocols.iter().map(ToString::to_string).collect();
        entry.info.agent = info.agent_version;
        for addr in info.listen_addrs {
            if !entry.info.addrs.contains(&addr) {
                entry.info.addrs.push(addr);
            }
        }
    }

    /// The record of `peer`, if any.
    pub(crate) fn get(&self, peer: &PeerId) -> Option<&PeerInfo> {
        self.peers.get(peer).map(|e| &e.info)
    }

    /// Whether we dialled `peer` (its latest connection).
    pub(crate) fn is_outbound(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|e| e.outbound)
    }

    /// How many peers have a record.
    pub(crate) fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether we dialled each connected peer, and the protocols it
    /// reported over identify.
    pub(crate) fn connected_protocols(&self) -> Vec<(bool, Vec<String>)> {
        self.peers
            .values()
            .filter(|e| e.info.connected)
            .map(|e| (e.outbound, e.info.protocols.clone()))
            .collect()
    }

    /// Every peer with a record.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &PeerId> {
        self.peers.keys()
    }

    /// Forgets peers gone for longer than [`FORGET_AFTER`], then the
    /// longest gone beyond the capacity; never static nodes.
    fn prune(&mut self, now: Instant) {
        self.peers.retain(|_, e| {
            e.info.is_static
                || e.gone_since
                    .is_none_or(|since| now.saturating_duration_since(since) < FORGET_AFTER)
        });
        let mut gone: Vec<(Instant, PeerId)> = self
            .peers
            .iter()
            .filter(|(_, e)| !e.info.is_static)
            .filter_map(|(p, e)| e.gone_since.map(|t| (t, *p)))
            .collect();
        if gone.len() > self.capacity {
            gone.sort();
            for (_, peer) in &gone[..gone.len() - self.capacity] {
                self.peers.remove(peer);
            }
        }
    }
}

/// The `waku2` capability that announces `protocol`.
fn capability_of(protocol: &str) -> Option<Capability> {
    use waku_core::protocol_id as id;
    match protocol {
        id::STORE_QUERY_V3 | id::STORE_V2 => Some(Capability::Store),
        id::FILTER_SUBSCRIBE_V2 => Some(Capability::Filter),
        id::LIGHTPUSH_V3 | id::LIGHTPUSH_V2 => Some(Capability::Lightpush),
        waku_relay::RELAY_PROTOCOL_ID => Some(Capability::Relay),
        _ => None,
    }
}

impl Node {
    /// What we know of `peer_id`, with the shards its metadata reported
    /// (a bare entry for a peer we have no record of).
    pub(crate) fn peer_info(&self, peer_id: &PeerId) -> PeerInfo {
        let mut info = self.peers.get(peer_id).cloned().unwrap_or_else(|| {
            let connected = self.swarm.is_connected(peer_id);
            PeerInfo {
                connected,
                connectedness: if connected {
                    Connectedness::Connected
                } else {
                    Connectedness::NotConnected
                },
                ..blank(*peer_id, PeerOrigin::UnknownOrigin)
            }
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
    pub(crate) fn shard_peers(
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn departed_peers_are_forgotten_and_bounded_but_static_ones_stay() {
        let mut book = PeerBook::default();
        let start = Instant::now();
        let fixed = PeerId::random();
        book.connected(fixed, None, true);
        book.disconnected(fixed, start);
        let early = PeerId::random();
        book.connected(early, None, false);
        book.disconnected(early, start);
        // Churn: many peers come and go.
        for i in 0..(MAX_DISCONNECTED + 10) {
            let peer = PeerId::random();
            book.connected(peer, None, false);
            book.disconnected(peer, start + Duration::from_millis(i as u64 + 1));
        }
        let stay = PeerId::random();
        book.connected(stay, None, false);
        assert_eq!(book.ids().count(), MAX_DISCONNECTED + 2);
        assert!(book.get(&early).is_none(), "the longest gone went first");
        assert!(book.get(&fixed).is_some());
        // Later, every departed non-static peer is forgotten.
        let later = start + FORGET_AFTER + Duration::from_secs(10);
        book.disconnected(PeerId::random(), later);
        assert_eq!(book.ids().count(), 2);
        assert!(book.get(&stay).is_some_and(|p| p.connected));
        assert!(book.get(&fixed).is_some_and(|p| !p.connected));
    }

    #[test]
    fn the_capacity_bounds_the_departed_peers_kept() {
        let mut book = PeerBook::with_capacity(3);
        let start = Instant::now();
        let peers: Vec<PeerId> = (0..5).map(|_| PeerId::random()).collect();
        for (i, p) in peers.iter().enumerate() {
            book.connected(*p, None, false);
            book.disconnected(*p, start + Duration::from_millis(i as u64));
        }
        assert_eq!(book.ids().count(), 3);
        assert!(book.get(&peers[0]).is_none() && book.get(&peers[1]).is_none());
        assert!(book.get(&peers[4]).is_some());
    }

    #[test]
    fn connectedness_and_origin_follow_nwakus_states() {
        let mut book = PeerBook::default();
        let now = Instant::now();
        let peer = PeerId::random();
        book.learned(peer, &["/ip4/10.0.0.1/tcp/1".parse().unwrap()], now);
        let state = |book: &PeerBook| {
            let info = book.get(&peer).unwrap();
            (info.origin, info.connectedness)
        };
        assert_eq!(
            state(&book),
            (PeerOrigin::PeerExchange, Connectedness::NotConnected)
        );
        book.dial_failed(&peer);
        assert_eq!(state(&book).1, Connectedness::CannotConnect);
        book.connected(peer, None, false);
        assert_eq!(
            state(&book),
            (PeerOrigin::PeerExchange, Connectedness::Connected)
        );
        book.dial_failed(&peer);
        assert_eq!(state(&book).1, Connectedness::Connected, "still connected");
        book.disconnected(peer, now);
        assert_eq!(state(&book).1, Connectedness::CanConnect);
        let fixed = PeerId::random();
        book.connected(fixed, None, true);
        assert_eq!(book.get(&fixed).unwrap().origin, PeerOrigin::Static);
    }
}

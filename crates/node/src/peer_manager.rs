//! Connection limits, as nwaku's peer manager applies them: at most
//! `--max-connections` peers, split between relay and service peers by
//! `--relay-service-ratio` (relay peers a third outbound, two thirds
//! inbound), at most `--ip-colocation-limit` peers behind one IP, failed
//! dials backed off, and discovered peers dialled a few at a time. Peers the
//! operator asked for (static nodes, `POST /admin/v1/peers`) are never
//! refused or pruned.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// nwaku's `--max-connections` default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 50;
/// nwaku's `--ip-colocation-limit` default.
pub const DEFAULT_COLOCATION_LIMIT: usize = 5;
/// How long a peer whose dial failed is not dialled again from discovery
/// (nwaku's initial backoff).
pub(crate) const DIAL_BACKOFF: Duration = Duration::from_secs(120);
/// Dials started by discovery that may be under way at once.
pub(crate) const MAX_PARALLEL_DIALS: usize = 10;
/// Most failed-dial records kept.
const MAX_BACKOFFS: usize = 4096;

/// The limits, from `--max-connections`, `--relay-service-ratio` (or
/// `--max-relay-peers`) and `--ip-colocation-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerLimits {
    /// Connected peers at most.
    pub max_connections: usize,
    /// Relay peers at most.
    pub max_relay_peers: usize,
    /// Service (non-relay) peers at most.
    pub max_service_peers: usize,
    /// Relay peers we dial ourselves, at most (a third of the relay peers).
    pub out_relay_target: usize,
    /// Relay peers that dialled us, at most (the other two thirds).
    pub in_relay_target: usize,
    /// Peers behind one IP at most; 0 is no limit.
    pub colocation_limit: usize,
}

/// Why a `--relay-service-ratio` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected relay:service as two whole numbers adding up to 100, e.g. 60:40")]
pub struct RatioError;

impl PeerLimits {
    /// The limits for `max_connections` split by `ratio` (`"60:40"`,
    /// relay:service), or with `max_relay_peers` relay peers when given.
    pub fn new(
        max_connections: usize,
        ratio: &str,
        max_relay_peers: Option<usize>,
        colocation_limit: usize,
    ) -> Result<Self, RatioError> {
        let (relay, service) = ratio.split_once(':').ok_or(RatioError)?;
        let relay: usize = relay.trim().parse().map_err(|_| RatioError)?;
        let service: usize = service.trim().parse().map_err(|_| RatioError)?;
        if relay + service != 100 {
            return Err(RatioError);
        }
        let max_relay_peers = max_relay_peers
            .unwrap_or(max_connections * relay / 100)
            .min(max_connections);
        let out_relay_target = max_relay_peers / 3;
        Ok(Self {
            max_connections,
            max_relay_peers,
            max_service_peers: max_connections - max_relay_peers,
            out_relay_target,
            in_relay_target: max_relay_peers - out_relay_target,
            colocation_limit,
        })
    }
}

impl Default for PeerLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_relay_peers: 30,
            max_service_peers: 20,
            out_relay_target: 10,
            in_relay_target: 20,
            colocation_limit: DEFAULT_COLOCATION_LIMIT,
        }
    }
}

/// The connected peers' addresses and the dials discovery started: what
/// the limits are checked against.
#[derive(Debug, Default)]
pub(crate) struct ConnectionBook {
    /// The remote IP of each connected peer.
    ips: HashMap<PeerId, IpAddr>,
    /// Peers whose dial from discovery failed, and when.
    failed: HashMap<PeerId, Instant>,
    /// Discovery dials under way.
    dialling: HashMap<PeerId, Instant>,
}

impl ConnectionBook {
    /// Records `peer` connected from `ip`.
    pub(crate) fn connected(&mut self, peer: PeerId, ip: Option<IpAddr>) {
        self.dialling.remove(&peer);
        self.failed.remove(&peer);
        if let Some(ip) = ip {
            self.ips.insert(peer, ip);
        }
    }

    /// Forgets `peer`'s address.
    pub(crate) fn disconnected(&mut self, peer: &PeerId) {
        self.ips.remove(peer);
    }

    /// How many other connected peers share `peer`'s IP. Loopback is not
    /// counted: every local process shares it (nwaku's tests run each node
    /// in its own container instead).
    pub(crate) fn colocated(&self, peer: &PeerId) -> usize {
        match self.ips.get(peer) {
            Some(ip) if !ip.is_loopback() => self
                .ips
                .iter()
                .filter(|(p, i)| *p != peer && *i == ip)
                .count(),
            _ => 0,
        }
    }

    /// Whether discovery may dial `peer` now: not backed off after a failed
    /// dial, not being dialled, and fewer than [`MAX_PARALLEL_DIALS`] under
    /// way.
    pub(crate) fn may_dial(&mut self, peer: &PeerId, now: Instant) -> bool {
        self.dialling
            .retain(|_, since| now.duration_since(*since) < DIAL_BACKOFF);
        if self.dialling.contains_key(peer) || self.dialling.len() >= MAX_PARALLEL_DIALS {
            return false;
        }
        self.failed
            .get(peer)
            .is_none_or(|at| now.duration_since(*at) >= DIAL_BACKOFF)
    }

    /// The peers discovery is dialling now.
    pub(crate) fn dialling_peers(&self) -> impl Iterator<Item = &PeerId> {
        self.dialling.keys()
    }

    /// A discovery dial of `peer` started.
    pub(crate) fn dialling(&mut self, peer: PeerId, now: Instant) {
        self.dialling.insert(peer, now);
    }

    /// A dial of `peer` failed: back off (only if discovery started it).
    pub(crate) fn dial_failed(&mut self, peer: PeerId, now: Instant) {
        if self.dialling.remove(&peer).is_none() {
            return;
        }
        if self.failed.len() >= MAX_BACKOFFS {
            self.failed
                .retain(|_, at| now.duration_since(*at) < DIAL_BACKOFF);
        }
        self.failed.insert(peer, now);
    }
}

/// The remote IP of a connection's address.
pub(crate) fn remote_ip(addr: &libp2p::Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        libp2p::multiaddr::Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

impl crate::node::Node {
    /// A first connection to `peer` from `addr` is up: it is closed again
    /// when the node is over `--max-connections` or `peer`'s IP already has
    /// `--ip-colocation-limit` peers, unless the operator asked for the peer.
    pub(crate) fn admit(&mut self, peer: PeerId, addr: &libp2p::Multiaddr) {
        self.connections.connected(peer, remote_ip(addr));
        if self.is_kept(&peer) {
            return;
        }
        let limits = self.config.peer_limits;
        let connected = self.swarm.connected_peers().count();
        if connected > limits.max_connections {
            tracing::info!(%peer, connected, max = limits.max_connections, "disconnecting peer: max connections reached");
            let _ = self.swarm.disconnect_peer_id(peer);
            return;
        }
        if limits.colocation_limit > 0
            && self.connections.colocated(&peer) >= limits.colocation_limit
        {
            tracing::info!(%peer, %addr, limit = limits.colocation_limit, "Pruning connection due to ip colocation");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    /// Identify told us what `peer` speaks: an inbound relay peer beyond the
    /// inbound relay slots, or a service peer beyond the service slots, is
    /// disconnected (never one the operator asked for).
    pub(crate) fn check_slots(&mut self, peer: PeerId) {
        if self.is_kept(&peer) {
            return;
        }
        let Some(info) = self.peers.get(&peer) else {
            return;
        };
        let relay_id = waku_relay::RELAY_PROTOCOL_ID;
        let is_relay = info.protocols.iter().any(|p| p == relay_id);
        let limits = self.config.peer_limits;
        let (mut inbound_relay, mut service) = (0, 0);
        for (outbound, protocols) in self.peers.connected_protocols() {
            if protocols.iter().any(|p| p == relay_id) {
                inbound_relay += usize::from(!outbound);
            } else if !protocols.is_empty() {
                service += 1;
            }
        }
        let inbound = !self.peers.is_outbound(&peer);
        if is_relay && inbound && inbound_relay > limits.in_relay_target {
            tracing::info!(%peer, inbound_relay, target = limits.in_relay_target, "disconnecting relay peer because reached max num in-relay peers");
            let _ = self.swarm.disconnect_peer_id(peer);
        } else if !is_relay && service > limits.max_service_peers {
            tracing::info!(%peer, service, max = limits.max_service_peers, "disconnecting service peer: max service peers reached");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_ratio_splits_connections_as_nwaku() {
        let limits = PeerLimits::new(50, "60:40", None, 5).unwrap();
        assert_eq!(limits, PeerLimits::default());
        let custom = PeerLimits::new(10, "50:50", None, 0).unwrap();
        assert_eq!(
            (
                custom.max_relay_peers,
                custom.max_service_peers,
                custom.out_relay_target,
                custom.in_relay_target
            ),
            (5, 5, 1, 4)
        );
        assert_eq!(
            PeerLimits::new(10, "60:40", Some(8), 5)
                .unwrap()
                .max_relay_peers,
            8
        );
        for bad in ["60", "60:50", "a:b", "-1:101"] {
            assert_eq!(PeerLimits::new(50, bad, None, 5), Err(RatioError), "{bad}");
        }
    }

    #[test]
    fn colocation_counts_other_peers_behind_the_same_public_ip() {
        let mut book = ConnectionBook::default();
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let peers: Vec<PeerId> = (0..3).map(|_| PeerId::random()).collect();
        for p in &peers {
            book.connected(*p, Some(ip));
        }
        assert_eq!(book.colocated(&peers[0]), 2);
        book.disconnected(&peers[1]);
        assert_eq!(book.colocated(&peers[0]), 1);
        let local = PeerId::random();
        let other_local = PeerId::random();
        book.connected(local, Some("127.0.0.1".parse().unwrap()));
        book.connected(other_local, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(book.colocated(&local), 0);
    }

    #[test]
    fn failed_dials_back_off_and_parallel_dials_are_capped() {
        let mut book = ConnectionBook::default();
        let t0 = Instant::now();
        let peer = PeerId::random();
        assert!(book.may_dial(&peer, t0));
        book.dialling(peer, t0);
        assert!(!book.may_dial(&peer, t0), "already being dialled");
        book.dial_failed(peer, t0);
        assert!(!book.may_dial(&peer, t0 + Duration::from_secs(60)));
        assert!(book.may_dial(&peer, t0 + DIAL_BACKOFF));
        for _ in 0..MAX_PARALLEL_DIALS {
            book.dialling(PeerId::random(), t0);
        }
        assert!(!book.may_dial(&PeerId::random(), t0));
        // A connection ends the dial and forgets the failure.
        book.connected(peer, None);
        assert!(!book.may_dial(&PeerId::random(), t0), "still 10 under way");
    }
}

//! The metadata `NetworkBehaviour`: serves our metadata, asks every new peer
//! for theirs, remembers the answers and enforces the cluster.

use std::collections::{HashMap, HashSet, VecDeque};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use libp2p::PeerId;
use libp2p::request_response::{
    self, InboundRequestId, Message, OutboundFailure, OutboundRequestId, ProtocolSupport,
};
use libp2p::swarm::behaviour::ConnectionEstablished;
use libp2p::swarm::{
    CloseConnection, ConnectionClosed, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    ToSwarm,
};
use waku_sharding::ShardId;

use crate::codec::{MetadataCodec, PROTOCOL};
use crate::event::{Event, Origin, QueryError, RejectReason};
use crate::proto::{WakuMetadataRequest, WakuMetadataResponse};
use crate::{Config, PeerMetadata, ShardSet};

type Inner = request_response::Behaviour<MetadataCodec>;
type InnerEvent = request_response::Event<WakuMetadataRequest, WakuMetadataResponse>;

/// Shortest and longest pause between two checks for expired metadata.
const MIN_SWEEP: Duration = Duration::from_millis(100);
const MAX_SWEEP: Duration = Duration::from_secs(60);

/// A peer's stored metadata and when it arrived.
#[derive(Debug)]
struct Entry {
    metadata: PeerMetadata,
    received_at: Instant,
}

/// The 66/WAKU2-METADATA behaviour.
///
/// - Answers every metadata request with our cluster id and the current
///   content of the [`ShardSet`].
/// - Sends a request (carrying our own metadata) on the first connection to
///   each peer, inbound or outbound; again after the peer fully disconnected
///   and came back, and when its metadata is older than
///   [`Config::metadata_ttl`].
/// - Stores what each peer reports, from its response or its own request
///   ([`Self::peer_metadata`]).
/// - With [`Config::enforce_cluster`], closes all connections to a peer that
///   reports no cluster id or another cluster, or whose metadata we could
///   not get at all: our request failed and the peer has not shown our
///   cluster in a request of its own during this connection
///   ([`Event::Rejected`]). Shards never cause a disconnection.
///
/// Inbound streams that stay silent are dropped after
/// [`Config::request_timeout`] and logged at debug level only.
pub struct Behaviour {
    inner: Inner,
    config: Config,
    /// Peers with at least one established connection.
    connected: HashSet<PeerId>,
    /// Our pending request to each peer.
    in_flight: HashMap<PeerId, OutboundRequestId>,
    /// Stored metadata.
    peers: HashMap<PeerId, Entry>,
    /// Peers being disconnected by enforcement (until fully disconnected).
    rejected: HashSet<PeerId>,
    /// Connected peers whose latest metadata (from a response or from their
    /// own request) showed our cluster.
    verified: HashSet<PeerId>,
    /// Inbound requests from peers that failed the cluster check: the peer
    /// is rejected once our response is out (so it learns our cluster).
    reject_after_response: HashMap<InboundRequestId, (PeerId, RejectReason)>,
    /// Events for the swarm.
    events: VecDeque<ToSwarm<Event, THandlerInEvent<Self>>>,
    /// Timer for the metadata expiry check, created on first poll inside a
    /// tokio runtime.
    sweep: Option<tokio::time::Interval>,
}

impl Behaviour {
    /// A behaviour with `config`.
    pub fn new(config: Config) -> Self {
        let rr_config = request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(config.max_concurrent_streams);
        Self {
            inner: Inner::with_codec(
                MetadataCodec,
                [(PROTOCOL, ProtocolSupport::Full)],
                rr_config,
            ),
            config,
            connected: HashSet::new(),
            in_flight: HashMap::new(),
            peers: HashMap::new(),
            rejected: HashSet::new(),
            verified: HashSet::new(),
            reject_after_response: HashMap::new(),
            events: VecDeque::new(),
            sweep: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The shard set we announce (a shared handle: updating it changes what
    /// later requests and responses carry).
    pub fn shards(&self) -> &ShardSet {
        &self.config.shards
    }

    /// Our own metadata as sent in requests: the shards in both field 2
    /// (unpacked, read by js-waku) and field 3 (packed, read by go-waku).
    pub(crate) fn local_request(&self) -> WakuMetadataRequest {
        let shards = self.local_shards();
        WakuMetadataRequest {
            cluster_id: Some(u32::from(self.config.cluster_id)),
            shards_packed: shards.clone(),
            shards,
        }
    }

    /// Our own metadata as sent in responses.
    pub(crate) fn local_response(&self) -> WakuMetadataResponse {
        let shards = self.local_shards();
        WakuMetadataResponse {
            cluster_id: Some(u32::from(self.config.cluster_id)),
            shards_packed: shards.clone(),
            shards,
        }
    }

    fn local_shards(&self) -> Vec<u32> {
        self.config
            .shards
            .snapshot()
            .into_iter()
            .map(u32::from)
            .collect()
    }

    /// The metadata `peer` last reported, if any. Kept after the peer
    /// disconnects until it is older than [`Config::metadata_ttl`].
    pub fn peer_metadata(&self, peer: &PeerId) -> Option<&PeerMetadata> {
        self.peers.get(peer).map(|e| &e.metadata)
    }

    /// Every peer with stored metadata.
    pub fn peers(&self) -> impl Iterator<Item = (&PeerId, &PeerMetadata)> {
        self.peers.iter().map(|(p, e)| (p, &e.metadata))
    }

    /// Connected peers that reported our cluster and `shard`: candidates for
    /// a store, filter or lightpush request on that shard.
    pub fn connected_peers_on_shard(&self, shard: ShardId) -> impl Iterator<Item = &PeerId> {
        let cluster = self.config.cluster_id;
        self.peers
            .iter()
            .filter(move |(p, e)| self.connected.contains(*p) && e.metadata.serves(cluster, shard))
            .map(|(p, _)| p)
    }

    /// Whether `peer` has an established connection.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.connected.contains(peer)
    }

    /// Asks `peer` for its metadata now, for instance after a service told
    /// us it does not serve a shard. Returns `false` (and does nothing) if
    /// the peer is not connected, is being rejected, or a request is already
    /// pending.
    pub fn refresh(&mut self, peer: &PeerId) -> bool {
        if !self.connected.contains(peer)
            || self.rejected.contains(peer)
            || self.in_flight.contains_key(peer)
        {
            return false;
        }
        self.send_request(*peer);
        true
    }

    fn send_request(&mut self, peer: PeerId) {
        let request = self.local_request();
        let id = self.inner.send_request(&peer, request);
        tracing::trace!(%peer, %id, "metadata request sent");
        self.in_flight.insert(peer, id);
    }

    /// Checks a peer's metadata against our cluster.
    fn check(&self, metadata: &PeerMetadata) -> Result<(), RejectReason> {
        match metadata.cluster_id {
            None => Err(RejectReason::NoClusterId),
            Some(theirs) if theirs != u32::from(self.config.cluster_id) => {
                Err(RejectReason::ClusterMismatch {
                    ours: self.config.cluster_id,
                    theirs,
                })
            }
            Some(_) => Ok(()),
        }
    }

    /// Closes every connection to `peer` (once), reporting `reason`.
    fn reject(&mut self, peer: PeerId, reason: RejectReason) {
        if !self.connected.contains(&peer) || !self.rejected.insert(peer) {
            return;
        }
        tracing::debug!(%peer, %reason, "disconnecting peer");
        self.events
            .push_back(ToSwarm::GenerateEvent(Event::Rejected {
                peer_id: peer,
                reason,
            }));
        self.events.push_back(ToSwarm::CloseConnection {
            peer_id: peer,
            connection: CloseConnection::All,
        });
    }

    /// Stores metadata, reports it, and returns the cluster check's verdict.
    fn store(
        &mut self,
        peer: PeerId,
        metadata: PeerMetadata,
        origin: Origin,
    ) -> Result<(), RejectReason> {
        let verdict = self.check(&metadata);
        if verdict.is_ok() && self.connected.contains(&peer) {
            self.verified.insert(peer);
        } else {
            self.verified.remove(&peer);
        }
        tracing::debug!(%peer, cluster = ?metadata.cluster_id, shards = ?metadata.shards, ?origin, "peer metadata");
        self.peers.insert(
            peer,
            Entry {
                metadata: metadata.clone(),
                received_at: Instant::now(),
            },
        );
        self.events
            .push_back(ToSwarm::GenerateEvent(Event::Received {
                peer_id: peer,
                metadata,
                origin,
            }));
        verdict
    }

    fn on_inner_event(&mut self, event: InnerEvent) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request_id,
                        request,
                        channel,
                    },
                ..
            } => {
                let verdict = self.store(peer, PeerMetadata::from(&request), Origin::Request);
                if self
                    .inner
                    .send_response(channel, self.local_response())
                    .is_err()
                {
                    tracing::debug!(%peer, "metadata request dropped before we answered");
                }
                if let Err(reason) = verdict
                    && self.config.enforce_cluster
                {
                    self.reject_after_response
                        .insert(request_id, (peer, reason));
                }
            }
            request_response::Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if self.in_flight.get(&peer) == Some(&request_id) {
                    self.in_flight.remove(&peer);
                }
                let verdict = self.store(peer, PeerMetadata::from(&response), Origin::Response);
                if let Err(reason) = verdict
                    && self.config.enforce_cluster
                {
                    self.reject(peer, reason);
                }
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => self.on_outbound_failure(peer, request_id, error),
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                // A request we read but could not answer (connection gone,
                // timeout). Streams that never carried a request, like the
                // idle ones js-waku opens ahead of time, do not even get
                // here: request-response drops them after the request
                // timeout and logs them at debug level.
                tracing::debug!(%peer, %request_id, %error, "inbound metadata request failed");
                self.after_response(request_id);
            }
            request_response::Event::ResponseSent {
                peer, request_id, ..
            } => {
                tracing::trace!(%peer, %request_id, "metadata response sent");
                self.after_response(request_id);
            }
        }
    }

    /// Carries out a rejection that waited for our response to go out.
    fn after_response(&mut self, request_id: InboundRequestId) {
        if let Some((peer, reason)) = self.reject_after_response.remove(&request_id) {
            self.reject(peer, reason);
        }
    }

    fn on_outbound_failure(
        &mut self,
        peer: PeerId,
        request_id: OutboundRequestId,
        error: OutboundFailure,
    ) {
        if self.in_flight.get(&peer) != Some(&request_id) {
            tracing::debug!(%peer, %request_id, %error, "stale metadata request failed");
            return;
        }
        self.in_flight.remove(&peer);
        let error = match error {
            OutboundFailure::Timeout => QueryError::Timeout,
            OutboundFailure::UnsupportedProtocols => QueryError::UnsupportedProtocol,
            OutboundFailure::Io(e) => QueryError::Stream(e),
            OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => {
                // The connection carrying the request went away. Ask again
                // on another one if the peer is still connected.
                if self.connected.contains(&peer) && !self.rejected.contains(&peer) {
                    tracing::debug!(%peer, "metadata request lost with its connection, asking again");
                    self.send_request(peer);
                }
                return;
            }
        };
        tracing::debug!(%peer, %error, "metadata request failed");
        if self.rejected.contains(&peer) {
            return;
        }
        // A peer that already showed our cluster in its own request is not
        // dropped because it does not answer ours.
        if self.config.enforce_cluster && !self.verified.contains(&peer) {
            self.reject(peer, RejectReason::QueryFailed(error));
        } else {
            self.events
                .push_back(ToSwarm::GenerateEvent(Event::QueryFailed {
                    peer_id: peer,
                    error,
                }));
        }
    }

    fn on_connection_established(&mut self, established: &ConnectionEstablished) {
        let peer = established.peer_id;
        self.connected.insert(peer);
        if established.other_established == 0 && !self.in_flight.contains_key(&peer) {
            self.send_request(peer);
        }
    }

    fn on_connection_closed(&mut self, closed: &ConnectionClosed) {
        if closed.remaining_established > 0 {
            return;
        }
        let peer = closed.peer_id;
        self.connected.remove(&peer);
        self.in_flight.remove(&peer);
        self.rejected.remove(&peer);
        self.verified.remove(&peer);
        self.reject_after_response.retain(|_, (p, _)| *p != peer);
    }

    /// Refreshes expired metadata of connected peers and forgets expired
    /// metadata of disconnected ones.
    fn poll_sweep(&mut self, cx: &mut Context<'_>) {
        if self.sweep.is_none() {
            // Without a tokio runtime there is no timer: metadata is then
            // never refreshed by age.
            if tokio::runtime::Handle::try_current().is_err() {
                return;
            }
            let period = (self.config.metadata_ttl / 4).clamp(MIN_SWEEP, MAX_SWEEP);
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            self.sweep = Some(interval);
        }
        // Poll until the interval is pending again, so its waker stays
        // registered and the next sweep happens on time.
        while let Some(interval) = self.sweep.as_mut()
            && interval.poll_tick(cx).is_ready()
        {
            self.sweep_expired();
        }
    }

    /// Asks connected peers with expired metadata again and forgets
    /// disconnected ones.
    fn sweep_expired(&mut self) {
        let now = Instant::now();
        let ttl = self.config.metadata_ttl;
        let expired: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, e)| now.saturating_duration_since(e.received_at) >= ttl)
            .map(|(p, _)| *p)
            .collect();
        for peer in expired {
            if self.connected.contains(&peer) {
                if !self.in_flight.contains_key(&peer) && !self.rejected.contains(&peer) {
                    tracing::debug!(%peer, "metadata expired, asking again");
                    self.send_request(peer);
                }
            } else {
                self.peers.remove(&peer);
            }
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = THandler<Inner>;
    type ToSwarm = Event;

    waku_core::forward_connection_setup!();

    fn on_swarm_event(&mut self, event: FromSwarm) {
        // The inner behaviour learns about the connection first, so that a
        // request sent below finds it.
        self.inner.on_swarm_event(event);
        match event {
            FromSwarm::ConnectionEstablished(established) => {
                self.on_connection_established(&established)
            }
            FromSwarm::ConnectionClosed(closed) => self.on_connection_closed(&closed),
            _ => {}
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        self.poll_sweep(cx);
        loop {
            if let Some(event) = self.events.pop_front() {
                return Poll::Ready(event);
            }
            waku_core::poll_inner_step!(self, cx);
        }
    }
}

//! nwaku's peer, libp2p and process metric families, under nwaku's names
//! and labels (the ones its Grafana dashboard queries): connected peers by
//! direction and protocol, per shard, service peers, the peer store's size,
//! dial counts, failed connection upgrades, the peers ever added to the
//! peer book, gossipsub peers and topics, the relayed message size
//! histogram, and the process's memory, file descriptors and start time.
//!
//! Gauges are refreshed from the node's state every few seconds
//! ([`crate::node`] calls [`NetworkMetrics::refresh`]); counters and the
//! histogram move with the events they count.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Label sets: `[(name, value)]`.
type Labels = Vec<(String, String)>;

/// nwaku's buckets of `waku_histogram_message_size`, in kB.
const MESSAGE_SIZE_BUCKETS_KB: [f64; 13] = [
    0.0, 1.0, 3.0, 5.0, 15.0, 50.0, 75.0, 100.0, 125.0, 150.0, 500.0, 700.0, 1000.0,
];

/// What the node knows at one moment, for [`NetworkMetrics::refresh`].
#[derive(Debug, Default)]
pub struct NetworkSnapshot {
    /// Peers with a record (connected or not).
    pub known_peers: usize,
    /// `(outbound, protocols)` of each connected peer.
    pub connected: Vec<(bool, Vec<String>)>,
    /// Connected peers per shard they reported over metadata.
    pub per_shard: BTreeMap<u16, usize>,
    /// Peers gossipsub knows.
    pub pubsub_peers: usize,
    /// Topics relay is subscribed to.
    pub pubsub_topics: usize,
}

/// The families; cheap to clone (clones share the values).
#[derive(Debug, Clone)]
pub struct NetworkMetrics {
    connected_peers: Family<Labels, Gauge>,
    peers_per_shard: Family<Labels, Gauge>,
    service_peers: Family<Labels, Gauge>,
    peer_store_size: Gauge,
    store_peers: Gauge,
    filter_peers: Gauge,
    lightpush_peers: Gauge,
    dial_attempts: Counter,
    successful_dials: Counter,
    failed_dials: Counter,
    pubsub_peers: Gauge,
    pubsub_topics: Gauge,
    unique_peers: Gauge,
    px_peers: Gauge,
    px_received: Gauge,
    px_received_unknown: Gauge,
    px_sent: Counter,
    dns_discovered: Gauge,
    failed_upgrades_incoming: Counter,
    failed_upgrades_outgoing: Counter,
    message_size: Histogram,
    resident_memory: Gauge,
    virtual_memory: Gauge,
    open_fds: Gauge,
    start_time: Gauge,
}

impl Default for NetworkMetrics {
    fn default() -> Self {
        Self {
            connected_peers: Family::default(),
            peers_per_shard: Family::default(),
            service_peers: Family::default(),
            peer_store_size: Gauge::default(),
            store_peers: Gauge::default(),
            filter_peers: Gauge::default(),
            lightpush_peers: Gauge::default(),
            dial_attempts: Counter::default(),
            successful_dials: Counter::default(),
            failed_dials: Counter::default(),
            pubsub_peers: Gauge::default(),
            pubsub_topics: Gauge::default(),
            unique_peers: Gauge::default(),
            px_peers: Gauge::default(),
            px_received: Gauge::default(),
            px_received_unknown: Gauge::default(),
            px_sent: Counter::default(),
            dns_discovered: Gauge::default(),
            failed_upgrades_incoming: Counter::default(),
            failed_upgrades_outgoing: Counter::default(),
            message_size: Histogram::new(MESSAGE_SIZE_BUCKETS_KB),
            resident_memory: Gauge::default(),
            virtual_memory: Gauge::default(),
            open_fds: Gauge::default(),
            start_time: Gauge::default(),
        }
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl NetworkMetrics {
    /// Adds the families to `registry` and notes the start time.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "waku_connected_peers",
            "Number of physical connections per direction and protocol",
            self.connected_peers.clone(),
        );
        registry.register(
            "waku_connected_peers_per_shard",
            "Number of connected peers per shard",
            self.peers_per_shard.clone(),
        );
        registry.register(
            "waku_service_peers",
            "Service peer protocol and multiaddress",
            self.service_peers.clone(),
        );
        registry.register(
            "waku_peer_store_size",
            "Number of peers in the peer store",
            self.peer_store_size.clone(),
        );
        registry.register(
            "waku_store_peers",
            "Number of known store peers",
            self.store_peers.clone(),
        );
        registry.register(
            "waku_filter_peers",
            "Number of known filter peers",
            self.filter_peers.clone(),
        );
        registry.register(
            "waku_lightpush_peers",
            "Number of known lightpush peers",
            self.lightpush_peers.clone(),
        );
        registry.register(
            "libp2p_total_dial_attempts",
            "Dial attempts",
            self.dial_attempts.clone(),
        );
        registry.register(
            "libp2p_successful_dials",
            "Dialed connections that were established",
            self.successful_dials.clone(),
        );
        registry.register(
            "libp2p_failed_dials",
            "Dials that failed",
            self.failed_dials.clone(),
        );
        registry.register(
            "libp2p_pubsub_peers",
            "Pubsub peers",
            self.pubsub_peers.clone(),
        );
        registry.register(
            "libp2p_pubsub_topics",
            "Pubsub subscribed topics",
            self.pubsub_topics.clone(),
        );
        registry.register(
            "waku_total_unique_peers",
            "total number of unique peers",
            self.unique_peers.clone(),
        );
        registry.register(
            "waku_px_peers",
            "number of connected peers supporting the peer exchange protocol",
            self.px_peers.clone(),
        );
        // nwaku's gauges named `_total` (peer exchange client).
        registry.register(
            "waku_px_peers_received_total",
            "number of ENRs received via peer exchange",
            self.px_received.clone(),
        );
        registry.register(
            "waku_px_peers_received_unknown",
            "number of previously unknown ENRs received via peer exchange",
            self.px_received_unknown.clone(),
        );
        registry.register(
            "waku_px_peers_sent",
            "number of ENRs sent to peer exchange requesters",
            self.px_sent.clone(),
        );
        registry.register(
            "waku_dnsdisc_discovered",
            "number of nodes discovered",
            self.dns_discovered.clone(),
        );
        registry.register(
            "libp2p_failed_upgrades_incoming",
            "Incoming connections whose security or multiplexer negotiation failed",
            self.failed_upgrades_incoming.clone(),
        );
        registry.register(
            "libp2p_failed_upgrades_outgoing",
            "Dialled connections whose security or multiplexer negotiation failed",
            self.failed_upgrades_outgoing.clone(),
        );
        registry.register(
            "waku_histogram_message_size",
            "Message size histogram in kB",
            self.message_size.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            self.resident_memory.clone(),
        );
        registry.register(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            self.virtual_memory.clone(),
        );
        registry.register(
            "process_open_fds",
            "Number of open file descriptors",
            self.open_fds.clone(),
        );
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds",
            self.start_time.clone(),
        );
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.start_time
            .set(i64::try_from(started).unwrap_or(i64::MAX));
        self.refresh_process();
    }

    /// A configured service peer (`--storenode`, `--filternode`,
    /// `--lightpushnode`): nwaku's gauge at 1, labelled with the protocol
    /// and (as nwaku does) the peer's address.
    pub fn service_peer(&self, protocol: &str, addr: &libp2p::Multiaddr) {
        // nwaku labels the peer with its address without `/p2p/<id>`.
        let mut plain = addr.clone();
        if matches!(
            plain.iter().last(),
            Some(libp2p::multiaddr::Protocol::P2p(_))
        ) {
            plain.pop();
        }
        self.service_peers
            .get_or_create(&vec![
                ("protocol".to_owned(), protocol.to_owned()),
                ("peerId".to_owned(), plain.to_string()),
            ])
            .set(1);
    }

    /// A dial started.
    pub fn dial_attempt(&self) {
        self.dial_attempts.inc();
    }

    /// A dial ended: established or failed.
    pub fn dial_outcome(&self, established: bool) {
        if established {
            self.successful_dials.inc();
        } else {
            self.failed_dials.inc();
        }
    }

    /// A peer entered the peer book (`waku_total_unique_peers`).
    pub fn peer_added(&self) {
        self.unique_peers.inc();
    }

    /// A connection failed during its upgrade (security or multiplexer
    /// negotiation, or the wrong peer answered): `outbound` when we dialled.
    pub fn failed_upgrade(&self, outbound: bool) {
        if outbound {
            self.failed_upgrades_outgoing.inc();
        } else {
            self.failed_upgrades_incoming.inc();
        }
    }

    /// A relayed or own message whose payload has `bytes` bytes; nwaku
    /// observes the payload size in kB of 1000 bytes.
    pub fn message_size(&self, bytes: usize) {
        // Sizes are far below 2^52: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let kb = bytes as f64 / 1000.0;
        self.message_size.observe(kb);
    }

    /// A peer-exchange answer brought `received` records, `unknown` of them
    /// of peers this node had no record of.
    pub fn px_received(&self, received: usize, unknown: usize) {
        self.px_received.inc_by(count(received));
        self.px_received_unknown.inc_by(count(unknown));
    }

    /// The peer-exchange service sent `sent` records.
    pub fn px_sent(&self, sent: usize) {
        self.px_sent.inc_by(u64::try_from(sent).unwrap_or(u64::MAX));
    }

    /// DNS discovery found a node.
    pub fn dns_discovered(&self) {
        self.dns_discovered.inc();
    }

    /// Sets the gauges from `snapshot` and the process's current figures.
    pub fn refresh(&self, snapshot: &NetworkSnapshot) {
        self.peer_store_size.set(count(snapshot.known_peers));
        self.pubsub_peers.set(count(snapshot.pubsub_peers));
        self.pubsub_topics.set(count(snapshot.pubsub_topics));
        let mut by_protocol: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (outbound, protocols) in &snapshot.connected {
            let direction = if *outbound { "Out" } else { "In" };
            for protocol in protocols {
                *by_protocol.entry((direction, protocol)).or_default() += 1;
            }
        }
        self.connected_peers.clear();
        for ((direction, protocol), n) in by_protocol {
            self.connected_peers
                .get_or_create(&vec![
                    ("direction".to_owned(), direction.to_owned()),
                    ("protocol".to_owned(), protocol.to_owned()),
                ])
                .set(count(n));
        }
        self.peers_per_shard.clear();
        for (shard, n) in &snapshot.per_shard {
            self.peers_per_shard
                .get_or_create(&vec![("shard".to_owned(), shard.to_string())])
                .set(count(*n));
        }
        let serving = |id: &str| {
            snapshot
                .connected
                .iter()
                .filter(|(_, protocols)| protocols.iter().any(|p| p == id))
                .count()
        };
        use waku_core::protocol_id;
        self.store_peers
            .set(count(serving(protocol_id::STORE_QUERY_V3)));
        self.filter_peers
            .set(count(serving(protocol_id::FILTER_SUBSCRIBE_V2)));
        self.lightpush_peers
            .set(count(serving(protocol_id::LIGHTPUSH_V3)));
        self.px_peers
            .set(count(serving(protocol_id::PEER_EXCHANGE)));
        self.refresh_process();
    }

    /// Resident and virtual memory and open descriptors, from `/proc/self`
    /// (left as they are where there is none).
    fn refresh_process(&self) {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            for (field, gauge) in [
                ("VmRSS:", &self.resident_memory),
                ("VmSize:", &self.virtual_memory),
            ] {
                if let Some(kb) = status
                    .lines()
                    .find_map(|l| l.strip_prefix(field))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
                {
                    gauge.set(kb.saturating_mul(1024));
                }
            }
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(count(fds.count()));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn encoded(metrics: &NetworkMetrics) -> String {
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn connected_peers_are_counted_by_direction_protocol_and_shard() {
        let metrics = NetworkMetrics::default();
        let relay = waku_core::protocol_id::RELAY.to_owned();
        let store = waku_core::protocol_id::STORE_QUERY_V3.to_owned();
        metrics.refresh(&NetworkSnapshot {
            known_peers: 4,
            connected: vec![
                (true, vec![relay.clone(), store.clone()]),
                (false, vec![relay.clone()]),
                (false, vec![relay.clone()]),
            ],
            per_shard: BTreeMap::from([(0, 3), (5, 1)]),
            pubsub_peers: 3,
            pubsub_topics: 2,
        });
        metrics.message_size(2048);
        let text = encoded(&metrics);
        for line in [
            format!("waku_connected_peers{{direction=\"Out\",protocol=\"{relay}\"}} 1"),
            format!("waku_connected_peers{{direction=\"In\",protocol=\"{relay}\"}} 2"),
            format!("waku_connected_peers{{direction=\"Out\",protocol=\"{store}\"}} 1"),
            "waku_connected_peers_per_shard{shard=\"5\"} 1".to_owned(),
            "waku_peer_store_size 4".to_owned(),
            "waku_store_peers 1".to_owned(),
            "libp2p_pubsub_peers 3".to_owned(),
            "libp2p_pubsub_topics 2".to_owned(),
            "waku_histogram_message_size_bucket{le=\"3.0\"} 1".to_owned(),
            "waku_histogram_message_size_bucket{le=\"1.0\"} 0".to_owned(),
        ] {
            assert!(text.contains(&line), "{line}\n{text}");
        }
        assert!(text.contains("process_start_time_seconds "), "{text}");
    }
}

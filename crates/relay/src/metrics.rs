//! The relay's Prometheus metrics ([`Metrics`], `metrics` feature).
//!
//! Exported names (prometheus-client adds the `_total` suffix):
//!
//! - `waku_relay_messages_validated_total{outcome, reason}`: every received
//!   message, by outcome (`accept`, `reject`, `ignore`) and reason label
//!   (see [`crate::reason`]);
//! - `waku_relay_messages_published_total{pubsub_topic}`: messages this node
//!   published;
//! - `waku_relay_publish_failures_total{reason}`: refused publications.
//!
//! Under nim-libp2p's names (the pubsub and gossipsub families nwaku
//! exposes, so its dashboards and the interop suite find them):
//!
//! - `libp2p_pubsub_validation_{success,failure,ignore}_total`: received
//!   messages accepted, rejected and ignored by the validation pipeline;
//! - `libp2p_gossipsub_received_total`: messages gossipsub handed to the
//!   relay for validation (first copies; duplicates never reach it);
//! - `libp2p_pubsub_subscriptions_total` and
//!   `libp2p_pubsub_unsubscriptions_total`: topics this node joined and
//!   left;
//! - `libp2p_gossipsub_failed_publish_total`: publications that found no
//!   peer;
//! - `libp2p_pubsub_disconnects_over_non_priority_queue_limit_total`: peers
//!   disconnected because their send queue kept overflowing;
//! - `libp2p_gossipsub_peers_per_topic_{mesh,fanout,gossipsub}{topic="other"}`,
//!   `libp2p_gossipsub_low_peers_topics`,
//!   `libp2p_gossipsub_healthy_peers_topics`: mesh figures set by
//!   [`Metrics::set_topic_health`];
//! - families rust-libp2p gives no way to observe, registered so they are
//!   there and always 0 (see [`Metrics::register`]).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::validation::{Outcome, Verdict};

type OutcomeLabels = [(&'static str, &'static str); 2];
type TopicLabels = [(&'static str, String); 1];
type ReasonLabels = [(&'static str, &'static str); 1];

/// The relay's Prometheus metrics. Cheap to clone (clones share the values);
/// call [`Self::register`] once to expose them.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    validated: Family<OutcomeLabels, Counter>,
    published: Family<TopicLabels, Counter>,
    publish_failures: Family<ReasonLabels, Counter>,
    nim: NimMetrics,
}

/// nim-libp2p's pubsub and gossipsub families.
#[derive(Debug, Clone, Default)]
struct NimMetrics {
    validation_success: Counter,
    validation_failure: Counter,
    validation_ignore: Counter,
    received: Counter,
    subscriptions: Counter,
    unsubscriptions: Counter,
    failed_publish: Counter,
    slow_peer_disconnects: Counter,
    peers_per_topic_mesh: Family<ReasonLabels, Gauge>,
    peers_per_topic_fanout: Family<ReasonLabels, Gauge>,
    peers_per_topic_gossipsub: Family<ReasonLabels, Gauge>,
    low_peers_topics: Gauge,
    healthy_peers_topics: Gauge,
}

/// nim-libp2p's label for the topics it was not told to track by name
/// (all of them, in nwaku): their figures are summed under it.
const OTHER_TOPIC: [(&str, &str); 1] = [("topic", "other")];

/// Counters nim-libp2p has and rust-libp2p's gossipsub 0.50 gives no way to
/// observe (its own metrics are private to the crate, and it reports no
/// event for these): registered so they are present, always 0. The reasons
/// are in docs/operators.md.
const UNOBSERVABLE_COUNTERS: [(&str, &str); 9] = [
    (
        "libp2p_pubsub_sig_verify_success",
        "Messages whose signature verified (StrictNoSign: none is verified)",
    ),
    (
        "libp2p_pubsub_sig_verify_failure",
        "Messages whose signature failed to verify (StrictNoSign: gossipsub drops signed messages itself)",
    ),
    (
        "libp2p_pubsub_broadcast_iwant",
        "IWANT messages sent (not observable in rust-libp2p gossipsub 0.50)",
    ),
    (
        "libp2p_pubsub_received_iwant",
        "IWANT messages received (not observable in rust-libp2p gossipsub 0.50)",
    ),
    (
        "libp2p_gossipsub_invalid_topic_subscription",
        "Peer subscriptions refused by the subscription filter (none is set: every topic is accepted)",
    ),
    (
        "libp2p_gossipsub_duplicate_during_validation",
        "Duplicates received while the first copy was being validated (not observable in rust-libp2p gossipsub 0.50)",
    ),
    (
        "libp2p_gossipsub_duplicate",
        "Duplicate messages received (not observable in rust-libp2p gossipsub 0.50)",
    ),
    (
        "libp2p_gossipsub_idontwant_saved_messages",
        "Messages not sent thanks to IDONTWANT (not observable in rust-libp2p gossipsub 0.50)",
    ),
    (
        "libp2p_gossipsub_imreceiving_saved_messages",
        "Messages not sent thanks to IMReceiving (an extension rust-libp2p does not implement)",
    ),
];

/// The mesh figures [`Metrics::set_topic_health`] exposes, over the topics
/// this node is subscribed to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopicHealth {
    /// Mesh peers, summed over the topics.
    pub mesh_peers: usize,
    /// Known peers subscribed to the topics, summed over them.
    pub topic_peers: usize,
    /// Topics with some mesh peers, but fewer than `mesh_n_low`.
    pub low_peers_topics: usize,
    /// Topics with at least `mesh_n_low` mesh peers.
    pub healthy_peers_topics: usize,
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Adds the metrics to `registry` (see the module documentation for names).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "waku_relay_messages_validated",
            "Relay messages received, by validation outcome and reason",
            self.validated.clone(),
        );
        registry.register(
            "waku_relay_messages_published",
            "Messages this node published, by pubsub topic",
            self.published.clone(),
        );
        registry.register(
            "waku_relay_publish_failures",
            "Publications refused, by reason",
            self.publish_failures.clone(),
        );
        self.register_nim(registry);
    }

    /// nim-libp2p's families; the label sets nwaku's start shows are there
    /// from the start, at 0.
    fn register_nim(&self, registry: &mut Registry) {
        let nim = &self.nim;
        for (name, help, counter) in [
            (
                "libp2p_pubsub_validation_success",
                "Received messages the validation pipeline accepted",
                &nim.validation_success,
            ),
            (
                "libp2p_pubsub_validation_failure",
                "Received messages the validation pipeline rejected",
                &nim.validation_failure,
            ),
            (
                "libp2p_pubsub_validation_ignore",
                "Received messages the validation pipeline ignored",
                &nim.validation_ignore,
            ),
            (
                "libp2p_gossipsub_received",
                "Messages received (first copies), before validation",
                &nim.received,
            ),
            (
                "libp2p_pubsub_subscriptions",
                "Topics this node subscribed to",
                &nim.subscriptions,
            ),
            (
                "libp2p_pubsub_unsubscriptions",
                "Topics this node unsubscribed from",
                &nim.unsubscriptions,
            ),
            (
                "libp2p_gossipsub_failed_publish",
                "Publications that found no peer to send to",
                &nim.failed_publish,
            ),
            (
                "libp2p_pubsub_disconnects_over_non_priority_queue_limit",
                "Peers disconnected because their send queue kept overflowing",
                &nim.slow_peer_disconnects,
            ),
        ] {
            registry.register(name, help, counter.clone());
        }
        for (name, help) in UNOBSERVABLE_COUNTERS {
            registry.register(name, help, Counter::<u64>::default());
        }
        registry.register(
            "libp2p_gossipsub_cache_window_size",
            "Message ids in the gossip windows (not observable in rust-libp2p gossipsub 0.50)",
            Gauge::<i64>::default(),
        );
        for (name, help, family) in [
            (
                "libp2p_gossipsub_peers_per_topic_mesh",
                "Mesh peers, summed over the subscribed topics",
                &nim.peers_per_topic_mesh,
            ),
            (
                "libp2p_gossipsub_peers_per_topic_fanout",
                "Fanout peers (not observable in rust-libp2p gossipsub 0.50)",
                &nim.peers_per_topic_fanout,
            ),
            (
                "libp2p_gossipsub_peers_per_topic_gossipsub",
                "Peers subscribed to the subscribed topics, summed over them",
                &nim.peers_per_topic_gossipsub,
            ),
        ] {
            drop(family.get_or_create(&OTHER_TOPIC));
            registry.register(name, help, family.clone());
        }
        registry.register(
            "libp2p_gossipsub_low_peers_topics",
            "Subscribed topics with some mesh peers but fewer than mesh_n_low",
            nim.low_peers_topics.clone(),
        );
        registry.register(
            "libp2p_gossipsub_healthy_peers_topics",
            "Subscribed topics with at least mesh_n_low mesh peers",
            nim.healthy_peers_topics.clone(),
        );
    }

    /// Sets the mesh gauges (nim-libp2p sets them each heartbeat; the node
    /// calls this every few seconds).
    pub fn set_topic_health(&self, health: &TopicHealth) {
        let nim = &self.nim;
        nim.peers_per_topic_mesh
            .get_or_create(&OTHER_TOPIC)
            .set(gauge_value(health.mesh_peers));
        nim.peers_per_topic_gossipsub
            .get_or_create(&OTHER_TOPIC)
            .set(gauge_value(health.topic_peers));
        nim.low_peers_topics
            .set(gauge_value(health.low_peers_topics));
        nim.healthy_peers_topics
            .set(gauge_value(health.healthy_peers_topics));
    }

    pub(crate) fn received(&self) {
        self.nim.received.inc();
    }

    pub(crate) fn validated(&self, verdict: &Verdict) {
        self.validated
            .get_or_create(&[
                ("outcome", verdict.outcome().as_str()),
                ("reason", verdict.reason()),
            ])
            .inc();
        match verdict.outcome() {
            Outcome::Accept => self.nim.validation_success.inc(),
            Outcome::Reject => self.nim.validation_failure.inc(),
            Outcome::Ignore => self.nim.validation_ignore.inc(),
        };
    }

    pub(crate) fn subscribed(&self) {
        self.nim.subscriptions.inc();
    }

    pub(crate) fn unsubscribed(&self) {
        self.nim.unsubscriptions.inc();
    }

    pub(crate) fn slow_peer_disconnected(&self) {
        self.nim.slow_peer_disconnects.inc();
    }

    pub(crate) fn published(&self, pubsub_topic: &str) {
        self.published
            .get_or_create(&[("pubsub_topic", pubsub_topic.to_owned())])
            .inc();
    }

    pub(crate) fn publish_failed(&self, reason: &'static str) {
        self.publish_failures
            .get_or_create(&[("reason", reason)])
            .inc();
    }

    /// A publication found no peer (nim-libp2p's failed publish).
    pub(crate) fn publish_without_peers(&self) {
        self.nim.failed_publish.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason;

    #[test]
    fn counts_and_exposition() {
        let metrics = Metrics::default();
        for v in [
            Verdict::Accept,
            Verdict::Reject(reason::UNDECODABLE),
            Verdict::Reject(reason::UNDECODABLE),
            Verdict::Ignore(reason::RATE_LIMITED),
        ] {
            metrics.validated(&v);
        }
        metrics.published("/waku/2/rs/1/0");

        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains(
            "waku_relay_messages_validated_total{outcome=\"reject\",reason=\"undecodable\"} 2"
        ));
        assert!(
            text.contains("waku_relay_messages_published_total{pubsub_topic=\"/waku/2/rs/1/0\"} 1")
        );
        for line in [
            "libp2p_pubsub_validation_success_total 1",
            "libp2p_pubsub_validation_failure_total 2",
            "libp2p_pubsub_validation_ignore_total 1",
            "libp2p_pubsub_broadcast_iwant_total 0",
            "libp2p_gossipsub_cache_window_size 0",
            "libp2p_gossipsub_peers_per_topic_fanout{topic=\"other\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }

    #[test]
    fn topic_health_is_summed_under_other() {
        let metrics = Metrics::default();
        metrics.set_topic_health(&TopicHealth {
            mesh_peers: 5,
            topic_peers: 9,
            low_peers_topics: 1,
            healthy_peers_topics: 1,
        });
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            "libp2p_gossipsub_peers_per_topic_mesh{topic=\"other\"} 5",
            "libp2p_gossipsub_peers_per_topic_gossipsub{topic=\"other\"} 9",
            "libp2p_gossipsub_low_peers_topics 1",
            "libp2p_gossipsub_healthy_peers_topics 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }
}

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

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::validation::Verdict;

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
    }

    pub(crate) fn validated(&self, verdict: &Verdict) {
        self.validated
            .get_or_create(&[
                ("outcome", verdict.outcome().as_str()),
                ("reason", verdict.reason()),
            ])
            .inc();
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
    }
}

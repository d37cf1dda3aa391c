//! Prometheus metrics: the registry, nwaku's node-level and service metrics
//! (`waku_version`, `libp2p_peers`, `waku_node_messages_total`, filter,
//! lightpush, store and archive counters), the relay's and rust-libp2p's
//! own, and the HTTP server exposing them at `/metrics` (plus `/health`, as
//! nwaku's metrics server answers it).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tracing::info;

/// Label sets: `[(name, value)]`.
type Labels = Vec<(String, String)>;

fn label(name: &str, value: impl Into<String>) -> Labels {
    vec![(name.to_owned(), value.into())]
}

/// nwaku's label of the filter error for a push that failed.
pub const FILTER_PUSH_FAILURE: &str = "push_timeout_failure";
/// nwaku's label of the filter error for an undecodable request.
pub const FILTER_DECODE_FAILURE: &str = "decode_rpc_failure";

/// Node-level metrics with nwaku's names.
#[derive(Debug, Clone, Default)]
pub struct NodeMetrics {
    /// `libp2p_peers`: connected peers.
    pub peers: Gauge,
    /// `waku_node_messages_total{type}`: messages received (`type="relay"`).
    pub messages: Family<Labels, Counter>,
    /// `waku_filter_requests_total{type}`: filter requests served, by
    /// nwaku's request type name (`SUBSCRIBE`, ...).
    pub filter_requests: Family<Labels, Counter>,
    /// `waku_filter_errors_total{type}`: failed pushes and undecodable
    /// requests.
    pub filter_errors: Family<Labels, Counter>,
    /// `waku_filter_subscriptions`: subscribed filter clients.
    pub filter_subscriptions: Gauge,
    /// `waku_lightpush_v3_messages_total{type="PushRequest"}`: lightpush
    /// requests handled (from peers and from the REST API).
    pub lightpush_messages: Family<Labels, Counter>,
    /// `waku_lightpush_v3_errors_total{type}`: refused or failed lightpush
    /// requests, by status code.
    pub lightpush_errors: Family<Labels, Counter>,
    /// `waku_lightpush_messages_total{type="PushRequest"}` and
    /// `waku_lightpush_errors_total{type}`: the same for legacy lightpush v2.
    pub legacy_lightpush_messages: Family<Labels, Counter>,
    /// See [`NodeMetrics::legacy_lightpush_messages`].
    pub legacy_lightpush_errors: Family<Labels, Counter>,
    /// `waku_store_queries_total`: store queries answered to peers (not
    /// those refused by the rate limit or for load).
    pub store_queries: Counter,
    /// `waku_legacy_store_queries_total`: the same for the legacy store.
    pub legacy_store_queries: Counter,
    /// `waku_archive_messages{type="stored"}`: messages in the archive.
    pub archive_messages: Family<Labels, Gauge>,
    /// The archive, store and filter timing histograms.
    pub timings: crate::service_metrics::ServiceTimings,
    /// `presto_server_missing_requests_count` and
    /// `presto_server_invalid_requests_count`: REST requests for no route,
    /// and with a path nwaku's server refuses (see [`RestRequestMetrics`]).
    pub rest_requests: RestRequestMetrics,
}

/// nwaku's REST server (nim-presto) counts, as gauges, the requests it
/// found no route for and those whose path it cannot split: more than 64
/// `/`-separated segments, its only structural check of a path. Requests
/// that are not HTTP at all never reach a handler, there as here, and are
/// not counted.
#[derive(Debug, Clone, Default)]
pub struct RestRequestMetrics {
    /// `presto_server_missing_requests_count`.
    pub missing: Gauge,
    /// `presto_server_invalid_requests_count`.
    pub invalid: Gauge,
}

/// nim-presto's limit on the segments of a path (the method counts as the
/// first one).
const MAX_PATH_SEGMENTS: usize = 64;

impl RestRequestMetrics {
    /// Counts a request for `path` that matched no route (or no method of
    /// its route): invalid when nim-presto could not split its path,
    /// missing otherwise.
    pub fn unrouted(&self, path: &str) {
        // nim-presto splits "METHOD/path" on '/': the method takes the
        // place of the empty segment before the path's leading '/'.
        let segments = path.strip_prefix('/').unwrap_or(path).split('/').count() + 1;
        if segments > MAX_PATH_SEGMENTS {
            self.invalid.inc();
        } else {
            self.missing.inc();
        }
    }
}

impl NodeMetrics {
    /// Registers the node metrics (and `waku_version`) in `registry`. The
    /// label sets nwaku's dashboards query are there from the start, at 0.
    pub fn register(&self, registry: &mut Registry) {
        for kind in [
            "SUBSCRIBE",
            "SUBSCRIBER_PING",
            "UNSUBSCRIBE",
            "UNSUBSCRIBE_ALL",
        ] {
            drop(self.filter_requests.get_or_create(&label("type", kind)));
        }
        drop(self.messages.get_or_create(&label("type", "relay")));
        for family in [&self.lightpush_messages, &self.legacy_lightpush_messages] {
            drop(family.get_or_create(&label("type", "PushRequest")));
        }
        let version: Family<Vec<(String, String)>, Gauge> = Family::default();
        version
            .get_or_create(&vec![("version".to_owned(), crate::VERSION.to_owned())])
            .set(1);
        registry.register("waku_version", "Version of the running node", version);
        registry.register("libp2p_peers", "Connected peers", self.peers.clone());
        registry.register(
            "waku_node_messages",
            "Messages received by the node, by protocol",
            self.messages.clone(),
        );
        registry.register(
            "waku_filter_requests",
            "number of filter subscribe requests received",
            self.filter_requests.clone(),
        );
        registry.register(
            "waku_filter_errors",
            "number of filter protocol errors",
            self.filter_errors.clone(),
        );
        registry.register(
            "waku_filter_subscriptions",
            "number of subscribed filter clients",
            self.filter_subscriptions.clone(),
        );
        registry.register(
            "waku_lightpush_v3_messages",
            "number of lightpush messages received",
            self.lightpush_messages.clone(),
        );
        registry.register(
            "waku_lightpush_v3_errors",
            "number of lightpush protocol errors",
            self.lightpush_errors.clone(),
        );
        registry.register(
            "waku_lightpush_messages",
            "number of lightpush messages received",
            self.legacy_lightpush_messages.clone(),
        );
        registry.register(
            "waku_lightpush_errors",
            "number of lightpush protocol errors",
            self.legacy_lightpush_errors.clone(),
        );
        registry.register(
            "waku_store_queries",
            "number of store queries received",
            self.store_queries.clone(),
        );
        registry.register(
            "waku_legacy_store_queries",
            "number of legacy store queries received",
            self.legacy_store_queries.clone(),
        );
        registry.register(
            "waku_archive_messages",
            "number of historical messages",
            self.archive_messages.clone(),
        );
        self.timings.register(registry);
        registry.register(
            "presto_server_missing_requests_count",
            "Number of HTTP(s) requests to unrecognized API endpoints",
            self.rest_requests.missing.clone(),
        );
        registry.register(
            "presto_server_invalid_requests_count",
            "Number of HTTP(s) requests invalid API endpoints",
            self.rest_requests.invalid.clone(),
        );
    }

    /// Counts a filter request: its type (`None`: undecodable or unknown)
    /// and the number of subscribers afterwards.
    pub fn filter_request(&self, kind: Option<waku_filter::RequestKind>, subscribers: usize) {
        use waku_filter::RequestKind;
        match kind {
            Some(kind) => {
                let name = match kind {
                    RequestKind::Ping => "SUBSCRIBER_PING",
                    RequestKind::Subscribe => "SUBSCRIBE",
                    RequestKind::Unsubscribe => "UNSUBSCRIBE",
                    RequestKind::UnsubscribeAll => "UNSUBSCRIBE_ALL",
                };
                self.filter_requests
                    .get_or_create(&label("type", name))
                    .inc();
            }
            None => self.filter_error(FILTER_DECODE_FAILURE),
        }
        self.filter_subscribers(subscribers);
    }

    /// Counts a filter error of nwaku's type `kind`.
    pub fn filter_error(&self, kind: &str) {
        self.filter_errors.get_or_create(&label("type", kind)).inc();
    }

    /// Sets the number of subscribed filter clients.
    pub fn filter_subscribers(&self, subscribers: usize) {
        self.filter_subscriptions
            .set(i64::try_from(subscribers).unwrap_or(i64::MAX));
    }

    /// Counts a lightpush request of `version` and, when it failed, its
    /// status code.
    pub fn lightpush_request(&self, version: waku_lightpush::Version, failure: Option<u32>) {
        let (messages, errors) = match version {
            waku_lightpush::Version::V3 => (&self.lightpush_messages, &self.lightpush_errors),
            waku_lightpush::Version::V2 => (
                &self.legacy_lightpush_messages,
                &self.legacy_lightpush_errors,
            ),
        };
        messages.get_or_create(&label("type", "PushRequest")).inc();
        if let Some(code) = failure {
            errors.get_or_create(&label("type", code.to_string())).inc();
        }
    }

    /// Counts a store query answered with `status` (v3 status or legacy
    /// error code), unless the rate limit (429) or load (503) refused it.
    pub fn store_query(&self, legacy: bool, status: u32) {
        if status == 429 || status == 503 {
            return;
        }
        if legacy {
            self.legacy_store_queries.inc();
        } else {
            self.store_queries.inc();
        }
    }

    /// The `waku_archive_messages{type="stored"}` gauge.
    pub fn archived(&self) -> Gauge {
        self.archive_messages
            .get_or_create(&label("type", "stored"))
            .clone()
    }

    /// Counts a message relay delivered.
    pub fn relay_message(&self) {
        self.messages.get_or_create(&label("type", "relay")).inc();
    }
}

async fn render(registry: Arc<Registry>) -> impl IntoResponse {
    let mut body = String::new();
    match encode(&mut body, &registry) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            e.to_string(),
        ),
    }
}

/// Binds the metrics listener and serves `/metrics` until the task is aborted.
pub async fn serve(
    addr: SocketAddr,
    registry: Registry,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = TcpListener::bind(addr).await?;
    info!(
        "Metrics server listening on http://{}",
        listener.local_addr()?
    );
    let registry = Arc::new(registry);
    let app = Router::new()
        .route("/metrics", get(move || render(registry.clone())))
        .route("/health", get(|| async { "OK" }));
    Ok(tokio::spawn(crate::http_server::serve(
        listener,
        app,
        crate::http_server::HttpLimits::default(),
        "metrics",
    )))
}

//! Prometheus metrics: the registry, a few of nwaku's node-level metrics
//! (`waku_version`, `libp2p_peers`, `waku_node_messages_total`), the relay's
//! and rust-libp2p's own, and the HTTP server exposing them at `/metrics`
//! (plus `/health`, as nwaku's metrics server answers it).

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
use tracing::{info, warn};

/// Node-level metrics with nwaku's names.
#[derive(Debug, Clone, Default)]
pub struct NodeMetrics {
    /// `libp2p_peers`: connected peers.
    pub peers: Gauge,
    /// `waku_node_messages_total{type}`: messages received (`type="relay"`).
    pub messages: Family<Vec<(String, String)>, Counter>,
}

impl NodeMetrics {
    /// Registers the node metrics (and `waku_version`) in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let version: Family<Vec<(String, String)>, Gauge> = Family::default();
        version
            .get_or_create(&vec![(
                "version".to_owned(),
                concat!("v", env!("CARGO_PKG_VERSION")).to_owned(),
            )])
            .set(1);
        registry.register("waku_version", "Version of the running node", version);
        registry.register("libp2p_peers", "Connected peers", self.peers.clone());
        registry.register(
            "waku_node_messages",
            "Messages received by the node, by protocol",
            self.messages.clone(),
        );
    }

    /// Counts a message relay delivered.
    pub fn relay_message(&self) {
        self.messages
            .get_or_create(&vec![("type".to_owned(), "relay".to_owned())])
            .inc();
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
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            warn!(%e, "metrics server stopped");
        }
    }))
}

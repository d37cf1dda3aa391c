//! nwaku's REST API (the subset this node serves): debug info, health,
//! admin peers, relay, store, lightpush and filter, with nwaku's paths,
//! JSON shapes and status codes.
//!
//! Topics in paths are percent-encoded (`/relay/v1/messages/%2Fwaku%2F2%2Frs%2F1%2F0`).

mod admin_peers;
mod cache;
mod filter;
mod json;
mod legacy_store;
mod lightpush;
mod relay;
mod status;
mod store;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::topic_shards::TopicShards;
use axum::Router;
use axum::routing::{delete, get, post};
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tracing::{info, warn};

pub use cache::{DEFAULT_CAPACITY, MessageCache};

use crate::NodeHandle;
use crate::handle::PeerSet;

/// Shared state of the REST handlers.
#[derive(Clone)]
pub(crate) struct RestState {
    pub(crate) node: NodeHandle,
    pub(crate) cache: Arc<Mutex<MessageCache>>,
    pub(crate) topic_shards: TopicShards,
    /// Whether `/admin` is served (`--rest-admin`).
    pub(crate) admin: bool,
    pub(crate) relay: bool,
    pub(crate) store: Option<std::sync::Arc<dyn waku_store::MessageStore>>,
    /// The same store, timed as the legacy archive, for legacy queries.
    pub(crate) legacy_store: Option<std::sync::Arc<dyn waku_store::MessageStore>>,
    /// What the filter service peer pushed, for `GET /filter/v2/messages`.
    pub(crate) filter_cache: Arc<Mutex<MessageCache>>,
    /// Which protocols run, for `/health`.
    pub(crate) mounted: Mounted,
    /// Changes the log level (`POST /admin/v1/log-level/{level}`).
    pub(crate) log_control: Option<crate::LogControl>,
}

/// The protocols this node runs besides relay, as `/health` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mounted {
    /// The lightpush service (v3 and legacy).
    pub lightpush: bool,
    /// The filter service.
    pub filter: bool,
    /// The store v3 service.
    pub store: bool,
    /// The legacy store service.
    pub legacy_store: bool,
    /// The peer-exchange service (`--peer-exchange`).
    pub peer_exchange: bool,
}

impl RestState {
    /// The cache, even if a handler panicked while holding it (every update
    /// leaves it consistent).
    pub(crate) fn cache(&self) -> std::sync::MutexGuard<'_, MessageCache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The filter cache, as [`RestState::cache`].
    pub(crate) fn filter_cache(&self) -> std::sync::MutexGuard<'_, MessageCache> {
        self.filter_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the REST server needs from the node's configuration.
#[derive(Clone)]
pub struct RestSettings {
    /// Serve `/admin`.
    pub admin: bool,
    /// Relay REST cache capacity.
    pub cache_capacity: usize,
    /// Which shard carries a content topic, for `/relay/v1/auto`.
    pub topic_shards: TopicShards,
    /// Whether relay runs (its routes are served only then).
    pub relay: bool,
    /// Pubsub topics registered in the cache at start.
    pub pubsub_topics: Vec<String>,
    /// Content topics registered in the cache at start.
    pub content_topics: Vec<String>,
    /// Our own archive, queried when a store query names no peer.
    pub store: Option<std::sync::Arc<dyn waku_store::MessageStore>>,
    /// The same archive for legacy store queries (its queries are timed
    /// as nwaku's legacy archive's).
    pub legacy_store: Option<std::sync::Arc<dyn waku_store::MessageStore>>,
    /// Counts the requests that match no route (nwaku's REST server's
    /// `presto_server_*_requests_count`).
    pub request_metrics: crate::metrics::RestRequestMetrics,
    /// The configured store peer.
    pub storenode: Option<libp2p::Multiaddr>,
    /// Which protocols run, for `/health`.
    pub mounted: Mounted,
    /// Changes the log level for `POST /admin/v1/log-level/{level}`.
    pub log_control: Option<crate::LogControl>,
}

fn router(state: RestState, admin: bool) -> Router {
    let mut app = Router::new()
        .route("/health", get(status::health))
        .route("/debug/v1/info", get(status::info))
        .route("/info", get(status::info))
        .route("/debug/v1/version", get(status::version))
        .route("/version", get(status::version))
        .route("/store/v3/messages", get(store::messages))
        .route("/store/v1/messages", get(legacy_store::messages));
    if admin {
        app = app
            .route(
                "/admin/v1/peers",
                get(status::admin_peers).post(status::admin_connect),
            )
            .route(
                "/admin/v1/peers/relay",
                status::admin_shard_peers(PeerSet::Relay),
            )
            .route(
                "/admin/v1/peers/relay/on/{shard}",
                status::admin_shard_peers_on(PeerSet::Relay),
            )
            .route(
                "/admin/v1/peers/mesh",
                status::admin_shard_peers(PeerSet::Mesh),
            )
            .route(
                "/admin/v1/peers/mesh/on/{shard}",
                status::admin_shard_peers_on(PeerSet::Mesh),
            )
            .route(
                "/admin/v1/filter/subscriptions",
                get(status::admin_filter_subscriptions),
            )
            .route("/admin/v1/peers/connected", get(admin_peers::connected))
            .route(
                "/admin/v1/peers/connected/on/{shard}",
                get(admin_peers::connected_on),
            )
            .route("/admin/v1/peers/service", get(admin_peers::service))
            .route("/admin/v1/peers/stats", get(admin_peers::stats))
            .route("/admin/v1/peer/{peer_id}", get(admin_peers::one))
            .route("/admin/v1/log-level/{level}", post(admin_peers::log_level));
    }
    if state.relay {
        app = app
            .route(
                "/relay/v1/subscriptions",
                post(relay::subscribe).delete(relay::unsubscribe),
            )
            .route(
                "/relay/v1/messages/{topic}",
                get(relay::get_messages).post(relay::post_message),
            )
            .route(
                "/relay/v1/auto/subscriptions",
                post(relay::auto_subscribe).delete(relay::auto_unsubscribe),
            )
            .route("/relay/v1/auto/messages", post(relay::auto_post_message))
            .route(
                "/relay/v1/auto/messages/{topic}",
                get(relay::auto_get_messages),
            );
    }
    // The lightpush and filter clients always run (as nwaku's), so their
    // routes are always served.
    app = app
        .route("/lightpush/v3/message", post(lightpush::v3))
        .route("/lightpush/v1/message", post(lightpush::v1))
        .route(
            "/filter/v2/subscriptions",
            post(filter::subscribe)
                .put(filter::subscribe)
                .delete(filter::unsubscribe),
        )
        .route(
            "/filter/v2/subscriptions/all",
            delete(filter::unsubscribe_all),
        )
        .route("/filter/v2/subscriptions/{request_id}", get(filter::ping))
        .route("/filter/v2/subscriptions/", get(filter::ping_without_id))
        .route("/filter/v2/messages/{content_topic}", get(filter::messages));
    app.route_layer(axum::middleware::map_response(mark_routed))
        .fallback(status::fallback)
        .layer(axum::middleware::map_response(
            status::oversized_body_as_400,
        ))
        .layer(axum::middleware::from_fn(access_log))
        .layer(axum::extract::DefaultBodyLimit::max(status::MAX_BODY_SIZE))
        .with_state(state)
}

/// Marks the responses of the routes (not the fallback's), for
/// [`count_unrouted`].
#[derive(Debug, Clone, Copy)]
struct Routed;

async fn mark_routed(mut response: axum::response::Response) -> axum::response::Response {
    response.extensions_mut().insert(Routed);
    response
}

/// Counts a request no route took (axum's fallback, or a route without
/// its method: nim-presto looks routes up by method and path) as nwaku's
/// REST server counts it.
async fn count_unrouted(
    metrics: crate::metrics::RestRequestMetrics,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let routed = response.extensions().get::<Routed>().is_some();
    if !routed || response.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        metrics.unrouted(&path);
    }
    response
}

/// One DEBUG line when a request arrives and one INFO line with its status
/// when it is answered, as operators of nwaku see its REST server log each
/// request (and its log-level tests count them).
async fn access_log(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    tracing::debug!(%method, %path, "Received REST request");
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis(),
        "REST request served"
    );
    response
}

/// Binds the REST listener; the server itself runs in [`serve`].
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    info!("REST API listening on http://{}", listener.local_addr()?);
    Ok(listener)
}

/// Serves the REST API on `listener` and feeds the relay cache from the
/// node's received messages, until the returned tasks are aborted.
pub fn serve(
    listener: TcpListener,
    node: NodeHandle,
    settings: RestSettings,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut cache = MessageCache::new(settings.cache_capacity);
    for topic in &settings.pubsub_topics {
        cache.add_pubsub_topic(topic);
    }
    for topic in &settings.content_topics {
        cache.add_content_topic(topic);
    }
    let state = RestState {
        node: node.clone(),
        cache: Arc::new(Mutex::new(cache)),
        topic_shards: settings.topic_shards.clone(),
        admin: settings.admin,
        relay: settings.relay,
        store: settings.store.clone(),
        legacy_store: settings.legacy_store.clone(),
        filter_cache: Arc::new(Mutex::new(MessageCache::new(DEFAULT_CAPACITY))),
        mounted: settings.mounted,
        log_control: settings.log_control.clone(),
    };
    let mut tasks = Vec::new();
    let mut pushes = node.filter_pushes();
    let filter_state = state.clone();
    tasks.push(tokio::spawn(async move {
        loop {
            match pushes.recv().await {
                Ok(m) => filter_state
                    .filter_cache()
                    .insert(&m.pubsub_topic, &m.message),
                Err(RecvError::Lagged(n)) => warn!(missed = n, "REST filter cache fell behind"),
                Err(RecvError::Closed) => break,
            }
        }
    }));
    let mut received = node.messages();
    let feeder_state = state.clone();
    let feeder = tokio::spawn(async move {
        loop {
            match received.recv().await {
                Ok(m) => feeder_state.cache().insert(&m.pubsub_topic, &m.message),
                Err(RecvError::Lagged(n)) => warn!(missed = n, "REST cache fell behind"),
                Err(RecvError::Closed) => break,
            }
        }
    });
    let request_metrics = settings.request_metrics.clone();
    let app =
        router(state, settings.admin).layer(axum::middleware::from_fn(move |request, next| {
            count_unrouted(request_metrics.clone(), request, next)
        }));
    let server = tokio::spawn(crate::http_server::serve(
        listener,
        app,
        crate::http_server::HttpLimits::default(),
        "REST",
    ));
    tasks.push(feeder);
    tasks.push(server);
    tasks
}

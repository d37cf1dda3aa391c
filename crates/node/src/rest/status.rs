//! `/health`, `/debug/v1/*`, `/admin/v1/peers` and unknown routes.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use serde_json::{Value, json};

use super::RestState;

/// How long a REST request may wait on the node.
pub(crate) const NODE_TIMEOUT: Duration = Duration::from_secs(5);

/// A `text/plain` response.
pub(crate) fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        body.into(),
    )
        .into_response()
}

/// `GET /debug/v1/info`.
pub(crate) async fn info(State(state): State<RestState>) -> Json<Value> {
    let addrs: Vec<String> = state
        .node
        .listen_addrs()
        .iter()
        .map(ToString::to_string)
        .collect();
    Json(json!({"listenAddresses": addrs, "enrUri": state.node.enr().encode()}))
}

/// `GET /debug/v1/version`.
pub(crate) async fn version() -> Response {
    text(StatusCode::OK, concat!("v", env!("CARGO_PKG_VERSION")))
}

/// `GET /health`: nwaku's report, one entry per protocol in nwaku's order.
pub(crate) async fn health(State(state): State<RestState>) -> Response {
    let relay = if !state.relay {
        json!({"Relay": "NOT_MOUNTED"})
    } else {
        let topics = state.node.subscriptions().await.unwrap_or_default();
        let mut peers = 0;
        for topic in topics {
            peers += state.node.relay_peers(topic).await.unwrap_or(0);
        }
        if peers > 0 {
            json!({"Relay": "READY"})
        } else {
            json!({"Relay": "NOT_READY", "desc": "No connected peers"})
        }
    };
    let not_mounted = [
        "Rln Relay",
        "Lightpush",
        "Legacy Lightpush",
        "Filter",
        "Store",
        "Legacy Store",
        "Peer Exchange",
        "Rendezvous",
        "Mix",
        "Lightpush Client",
        "Legacy Lightpush Client",
        "Store Client",
        "Legacy Store Client",
        "Filter Client",
    ];
    let mut protocols = vec![relay];
    protocols.extend(not_mounted.iter().map(|p| json!({ *p: "NOT_MOUNTED" })));
    Json(json!({"nodeHealth": "READY", "protocolsHealth": protocols})).into_response()
}

/// `GET /admin/v1/peers`.
pub(crate) async fn admin_peers(State(state): State<RestState>) -> Response {
    let Ok(peers) = state.node.peers().await else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the node has stopped");
    };
    let list: Vec<Value> = peers
        .iter()
        .map(|p| {
            let multiaddr = p
                .addrs
                .first()
                .map(|a| a.clone().with(Protocol::P2p(p.peer_id)).to_string())
                .unwrap_or_default();
            json!({
                "multiaddr": multiaddr,
                "protocols": p.protocols,
                "shards": p.shards,
                "connected": if p.connected { "Connected" } else { "CanConnect" },
                "agent": p.agent,
                "origin": if p.is_static { "Static" } else { "UnknownOrigin" },
            })
        })
        .collect();
    Json(Value::Array(list)).into_response()
}

/// `POST /admin/v1/peers`: connects to each multiaddr in turn, stopping at
/// the first failure.
pub(crate) async fn admin_connect(State(state): State<RestState>, body: String) -> Response {
    let addrs: Vec<String> = match serde_json::from_str(&body) {
        Ok(a) => a,
        Err(e) => {
            return text(
                StatusCode::BAD_REQUEST,
                format!("Failed to decode request: {e}"),
            );
        }
    };
    for (i, addr) in addrs.iter().enumerate() {
        let parsed: Multiaddr = match addr.parse() {
            Ok(a) => a,
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("Couldn't parse remote peer info: {e}"),
                );
            }
        };
        let connected = tokio::time::timeout(NODE_TIMEOUT * 2, state.node.connect(parsed)).await;
        if !matches!(connected, Ok(Ok(_))) {
            return text(
                StatusCode::BAD_REQUEST,
                format!("Failed to connect to peer at index: {i} - {addr}"),
            );
        }
    }
    text(StatusCode::OK, "OK")
}

/// Unknown paths and methods, as nwaku answers them.
pub(crate) async fn fallback() -> Response {
    text(
        StatusCode::BAD_REQUEST,
        "Bad request initiated. Invalid path or method used.",
    )
}

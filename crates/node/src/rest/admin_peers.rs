//! nwaku's admin views beyond `/admin/v1/peers`: connected peers (all, or
//! of one shard), service peers, one peer by id, the statistics
//! (`/admin/v1/peers/stats`), with nwaku's JSON shapes and texts; and
//! nwaku's run-time log level (`POST /admin/v1/log-level/{level}`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use libp2p::PeerId;
use serde_json::{Map, Value, json};
use waku_core::protocol_id;

use super::RestState;
use super::status::{text, waku_peer};
use crate::{Connectedness, PeerInfo, PeerSet, ShardPeers};

/// Protocols that make a peer a service peer, as nwaku lists them.
const SERVICE_PROTOCOLS: &[&str] = &[
    protocol_id::RELAY,
    protocol_id::FILTER_SUBSCRIBE_V2,
    protocol_id::STORE_QUERY_V3,
    protocol_id::STORE_V2,
    protocol_id::LIGHTPUSH_V2,
    protocol_id::LIGHTPUSH_V3,
    protocol_id::PEER_EXCHANGE,
    "/vac/waku/reconciliation/1.0.0",
    "/vac/waku/transfer/1.0.0",
];

/// Protocols counted in the statistics, in nwaku's order.
const COUNTED_PROTOCOLS: &[&str] = &[
    protocol_id::RELAY,
    protocol_id::FILTER_SUBSCRIBE_V2,
    protocol_id::FILTER_PUSH_V2,
    protocol_id::STORE_QUERY_V3,
    protocol_id::STORE_V2,
    protocol_id::LIGHTPUSH_V3,
    protocol_id::LIGHTPUSH_V2,
    protocol_id::PEER_EXCHANGE,
    "/vac/waku/reconciliation/1.0.0",
];

async fn peers(state: &RestState) -> Result<Vec<PeerInfo>, Response> {
    state
        .node
        .peers()
        .await
        .map_err(|_| text(StatusCode::SERVICE_UNAVAILABLE, "the node has stopped"))
}

fn list<'a>(peers: impl Iterator<Item = &'a PeerInfo>) -> Response {
    Json(Value::Array(peers.map(|p| waku_peer(p, None)).collect())).into_response()
}

fn speaks(p: &PeerInfo, protocol: &str) -> bool {
    p.protocols.iter().any(|q| q == protocol)
}

/// `GET /admin/v1/peers/connected`.
pub(crate) async fn connected(State(state): State<RestState>) -> Response {
    match peers(&state).await {
        Ok(all) => list(all.iter().filter(|p| p.connected)),
        Err(answer) => answer,
    }
}

/// `GET /admin/v1/peers/connected/on/{shardId}`.
pub(crate) async fn connected_on(
    State(state): State<RestState>,
    Path(shard): Path<String>,
) -> Response {
    let shard = match shard.parse::<u16>() {
        Ok(shard) => shard,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("Invalid shardId: {e}")),
    };
    match peers(&state).await {
        Ok(all) => list(
            all.iter()
                .filter(|p| p.connected && p.shards.contains(&shard)),
        ),
        Err(answer) => answer,
    }
}

/// `GET /admin/v1/peers/service`: peers that serve any Waku protocol.
pub(crate) async fn service(State(state): State<RestState>) -> Response {
    match peers(&state).await {
        Ok(all) => list(
            all.iter()
                .filter(|p| SERVICE_PROTOCOLS.iter().any(|s| speaks(p, s))),
        ),
        Err(answer) => answer,
    }
}

/// `GET /admin/v1/peer/{peerId}`.
pub(crate) async fn one(State(state): State<RestState>, Path(id): Path<String>) -> Response {
    let peer_id = match id.parse::<PeerId>() {
        Ok(peer_id) => peer_id,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("Invalid argument:{e}")),
    };
    match peers(&state).await {
        Ok(all) => match all.iter().find(|p| p.peer_id == peer_id) {
            Some(p) => Json(waku_peer(p, None)).into_response(),
            None => text(
                StatusCode::NOT_FOUND,
                format!("Peer with ID {id} not found"),
            ),
        },
        Err(answer) => answer,
    }
}

/// One section of the statistics: the peer count of each shard, then the
/// total as nwaku writes it (the number of shards listed).
fn per_shard(shards: &[ShardPeers], total: &str) -> Map<String, Value> {
    let mut section = Map::new();
    for s in shards {
        section.insert(s.shard.to_string(), json!(s.peers.len()));
    }
    section.insert(total.into(), json!(shards.len()));
    section
}

/// `GET /admin/v1/peers/stats`.
pub(crate) async fn stats(State(state): State<RestState>) -> Response {
    let all = match peers(&state).await {
        Ok(all) => all,
        Err(answer) => return answer,
    };
    let connected = all.iter().filter(|p| p.connected).count();
    let count = |state: Connectedness| all.iter().filter(|p| p.connectedness == state).count();
    // Without relay both shard sections are empty.
    let relay = state
        .node
        .shard_peers(PeerSet::Relay, None)
        .await
        .unwrap_or_default();
    let mesh = state
        .node
        .shard_peers(PeerSet::Mesh, None)
        .await
        .unwrap_or_default();
    let by_protocol: BTreeMap<&str, usize> = COUNTED_PROTOCOLS
        .iter()
        .map(|proto| (*proto, all.iter().filter(|p| speaks(p, proto)).count()))
        .collect();
    Json(json!({
        "Sum": {"Total peers": all.len()},
        "By Connectedness": {
            "Connected": connected,
            "NotConnected": count(Connectedness::NotConnected),
            "CannotConnect": count(Connectedness::CannotConnect),
            "CanConnect": count(Connectedness::CanConnect),
        },
        "Relay peers": per_shard(&relay, "Total relay peers"),
        "Mesh peers": per_shard(&mesh, "Total mesh peers"),
        "By Protocols": by_protocol,
    }))
    .into_response()
}

/// `POST /admin/v1/log-level/{level}`: nwaku's level names (TRACE, DEBUG,
/// INFO, NOTICE, WARN, ERROR, FATAL, any case), applied at once.
pub(crate) async fn log_level(
    State(state): State<RestState>,
    Path(level): Path<String>,
) -> Response {
    let Some(control) = &state.log_control else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Dynamic log level management is not available in this process",
        );
    };
    let Ok(directive) = crate::config::log_filter(level.trim()) else {
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid log-level: {level}. Please specify one of TRACE, DEBUG, INFO, NOTICE, WARN, ERROR or FATAL"
            ),
        );
    };
    match control.set(&directive) {
        Ok(()) => {
            tracing::warn!(%level, "log level changed by REST");
            text(StatusCode::OK, "")
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

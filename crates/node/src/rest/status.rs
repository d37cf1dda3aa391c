//! `/health`, `/debug/v1/*`, `/admin/v1/peers` (with the relay and mesh
//! views) and unknown routes.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use serde_json::{Value, json};

use super::RestState;
use crate::handle::{PeerInfo, PeerSet, RequestError, ShardPeers};

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
    let enr = match state.node.current_enr().await {
        Ok(enr) => enr,
        Err(_) => state.node.enr().clone(),
    };
    Json(json!({"listenAddresses": addrs, "enrUri": enr.encode()}))
}

/// `GET /debug/v1/version`.
pub(crate) async fn version() -> Response {
    text(StatusCode::OK, crate::VERSION)
}

/// One protocol's entry in `/health`: `{"<name>": "<state>"}`, with a
/// `desc` when it is not ready.
fn entry(name: &str, state: Option<Result<(), &str>>) -> Value {
    match state {
        None => json!({ name: "NOT_MOUNTED" }),
        Some(Ok(())) => json!({ name: "READY" }),
        Some(Err(desc)) => json!({ name: "NOT_READY", "desc": desc }),
    }
}

/// `GET /health`: nwaku's report, one entry per protocol in nwaku's order,
/// with nwaku's readiness rules: relay is ready with at least one relay
/// peer; the lightpush and filter services are ready when relay is; store
/// services are ready when mounted; the clients (always running, as
/// nwaku's) are ready once they have a service peer (configured or known
/// from the peer book) or our own service.
pub(crate) async fn health(State(state): State<RestState>) -> Response {
    let relay = if state.relay {
        let topics = state.node.subscriptions().await.unwrap_or_default();
        let mut peers = 0;
        for topic in topics {
            peers += state.node.relay_peers(topic).await.unwrap_or(0);
        }
        Some(if peers > 0 {
            Ok(())
        } else {
            Err("No connected peers")
        })
    } else {
        None
    };
    let relay_ready = matches!(relay, Some(Ok(())));
    let m = state.mounted;
    let with_relay = |mounted: bool, why: &'static str| {
        mounted.then_some(if relay_ready { Ok(()) } else { Err(why) })
    };
    let ready = |mounted: bool| mounted.then_some(Ok(()));
    // The clients always run, as nwaku's: ready once they have a service
    // peer (configured or known), or our own service.
    let known = state.node.service_peers_known().await.unwrap_or_default();
    let client = |ok: bool, why: &'static str| Some(if ok { Ok(()) } else { Err(why) });
    let self_push = m.lightpush && relay_ready;
    let no_lightpush_peer = "No Lightpush service peer available yet";
    let no_push_peers = "Node has no relay peers to fullfill push requests";
    let protocols = vec![
        entry("Relay", relay),
        entry("Rln Relay", None),
        entry("Lightpush", with_relay(m.lightpush, no_push_peers)),
        entry("Legacy Lightpush", with_relay(m.lightpush, no_push_peers)),
        entry(
            "Filter",
            with_relay(
                m.filter,
                "Relay is not ready, filter will not be able to sort out messages",
            ),
        ),
        entry("Store", ready(m.store)),
        entry("Legacy Store", ready(m.legacy_store)),
        entry("Peer Exchange", ready(m.peer_exchange)),
        entry("Rendezvous", None),
        entry("Mix", None),
        entry(
            "Lightpush Client",
            client(self_push || known.lightpush, no_lightpush_peer),
        ),
        entry(
            "Legacy Lightpush Client",
            client(self_push || known.legacy_lightpush, no_lightpush_peer),
        ),
        entry(
            "Store Client",
            client(
                m.store || known.store,
                "No Store service peer available yet, neither Store service set up for the node",
            ),
        ),
        entry(
            "Legacy Store Client",
            client(
                m.legacy_store || known.legacy_store,
                "No Legacy Store service peers are available yet, neither Store service set up for the node",
            ),
        ),
        entry(
            "Filter Client",
            client(known.filter, "No Filter service peer available yet"),
        ),
    ];
    Json(json!({"nodeHealth": "READY", "protocolsHealth": protocols})).into_response()
}

/// nwaku's `WakuPeer` JSON for `p`: multiaddr (first known address with
/// `/p2p/<id>`), protocols, shards, connectedness, agent, origin, and the
/// gossipsub `score` when there is one (nwaku omits it outside the relay
/// views).
pub(super) fn waku_peer(p: &PeerInfo, score: Option<f64>) -> Value {
    let multiaddr = p
        .addrs
        .first()
        .map(|a| {
            // A dialled address may already end with `/p2p/<id>`.
            let mut addr = a.clone();
            if matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
                addr.pop();
            }
            addr.with(Protocol::P2p(p.peer_id)).to_string()
        })
        .unwrap_or_default();
    let mut peer = json!({
        "multiaddr": multiaddr,
        "protocols": p.protocols,
        "shards": p.shards,
        "connected": p.connectedness.as_str(),
        "agent": p.agent,
        "origin": p.origin.as_str(),
    });
    if let (Some(score), Some(fields)) = (score, peer.as_object_mut()) {
        fields.insert("score".into(), json!(score));
    }
    peer
}

/// `GET /admin/v1/peers`.
pub(crate) async fn admin_peers(State(state): State<RestState>) -> Response {
    let Ok(peers) = state.node.peers().await else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the node has stopped");
    };
    let list: Vec<Value> = peers.iter().map(|p| waku_peer(p, None)).collect();
    Json(Value::Array(list)).into_response()
}

/// nwaku's `PeersOfShard` JSON: `{"shard", "peers": [WakuPeer with score]}`.
fn peers_of_shard(shard: &ShardPeers) -> Value {
    let peers: Vec<Value> = shard
        .peers
        .iter()
        .map(|p| waku_peer(&p.info, p.score))
        .collect();
    json!({"shard": shard.shard, "peers": peers})
}

/// The relay or mesh peers of every subscribed shard (`shard` `None`: a
/// list of `PeersOfShard`) or of one shard of our cluster (one
/// `PeersOfShard`), with nwaku's 503 when relay does not run.
async fn shard_peers(state: &RestState, set: PeerSet, shard: Option<u16>) -> Response {
    match state.node.shard_peers(set, shard).await {
        Ok(shards) => match (shard, shards.first()) {
            (Some(_), Some(one)) => Json(peers_of_shard(one)).into_response(),
            _ => Json(Value::Array(shards.iter().map(peers_of_shard).collect())).into_response(),
        },
        Err(RequestError::RelayDisabled) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Error: Relay Protocol is not mounted to the node",
        ),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// The `on/{shardId}` views: `segment` must be a 16-bit shard index, as
/// nwaku decodes it.
async fn shard_peers_on(state: &RestState, set: PeerSet, segment: &str) -> Response {
    match segment.parse::<u16>() {
        Ok(shard) => shard_peers(state, set, Some(shard)).await,
        Err(e) => text(StatusCode::BAD_REQUEST, format!("Invalid shardId: {e}")),
    }
}

/// `GET /admin/v1/peers/relay` ([`PeerSet::Relay`]: the connected peers
/// subscribed to each shard relay is subscribed to) and
/// `GET /admin/v1/peers/mesh` ([`PeerSet::Mesh`]: the gossipsub mesh of each
/// such shard), with their gossipsub scores.
pub(crate) fn admin_shard_peers(set: PeerSet) -> MethodRouter<RestState> {
    get(move |State(state): State<RestState>| async move { shard_peers(&state, set, None).await })
}

/// `GET /admin/v1/peers/relay/on/{shardId}` and
/// `GET /admin/v1/peers/mesh/on/{shardId}`: the same for one shard of our
/// cluster.
pub(crate) fn admin_shard_peers_on(set: PeerSet) -> MethodRouter<RestState> {
    get(
        move |State(state): State<RestState>, Path(shard): Path<String>| async move {
            shard_peers_on(&state, set, &shard).await
        },
    )
}

/// `GET /admin/v1/filter/subscriptions`: the filter service's subscribers
/// as `[{peerId, filterCriteria: [{pubsubTopic, contentTopic}]}]`.
pub(crate) async fn admin_filter_subscriptions(State(state): State<RestState>) -> Response {
    match state.node.filter_subscribers().await {
        Ok(Some(subscribers)) => {
            let list: Vec<Value> = subscribers
                .iter()
                .map(|s| {
                    let criteria: Vec<Value> = s
                        .criteria
                        .iter()
                        .map(|(p, c)| json!({"pubsubTopic": p, "contentTopic": c}))
                        .collect();
                    json!({"peerId": s.peer_id.to_string(), "filterCriteria": criteria})
                })
                .collect();
            Json(Value::Array(list)).into_response()
        }
        Ok(None) => text(
            StatusCode::BAD_REQUEST,
            "Error: Filter Protocol is not mounted to the node",
        ),
        Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// How long `POST /admin/v1/peers` waits for a new peer's relay
/// subscriptions once it is connected.
const RELAY_READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `POST /admin/v1/peers`: connects to each multiaddr in turn, stopping at
/// the first failure. With relay on, the answer waits (at most
/// [`RELAY_READY_TIMEOUT`]) until each new peer is known to relay one of our
/// shards or not to relay at all, so a message published right after the
/// answer reaches it: tooling adds a peer and publishes at once.
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
    let mut added = Vec::new();
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
        match connected {
            Ok(Ok(peer)) => added.push(peer),
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("Failed to connect to peer at index: {i} - {addr}"),
                );
            }
        }
    }
    if state.relay {
        let _ = tokio::time::timeout(RELAY_READY_TIMEOUT, relay_ready(&state, &added)).await;
    }
    text(StatusCode::OK, "OK")
}

/// Returns once every peer of `peers` relays one of our shards, has told
/// identify that it does not relay, or is gone.
async fn relay_ready(state: &RestState, peers: &[libp2p::PeerId]) {
    loop {
        let relaying: Vec<libp2p::PeerId> = state
            .node
            .shard_peers(PeerSet::Relay, None)
            .await
            .unwrap_or_default()
            .into_iter()
            .flat_map(|s| s.peers.into_iter().map(|p| p.info.peer_id))
            .collect();
        let known = state.node.peers().await.unwrap_or_default();
        let settled = |peer: &libp2p::PeerId| {
            relaying.contains(peer)
                || known.iter().find(|p| p.peer_id == *peer).is_none_or(|p| {
                    !p.connected
                        || (!p.protocols.is_empty()
                            && !p
                                .protocols
                                .iter()
                                .any(|x| x == waku_relay::RELAY_PROTOCOL_ID))
                })
        };
        if peers.iter().all(settled) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Unknown paths and methods, as nwaku answers them: the routes of a
/// feature that is off are "not available" (404, naming the flag), the rest
/// a bad request.
pub(crate) async fn fallback(State(state): State<RestState>, uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/admin/") && !state.admin {
        return text(
            StatusCode::NOT_FOUND,
            "/admin endpoints are not available. Please check your configuration: --rest-admin=true",
        );
    }
    if path.starts_with("/relay/") && !state.relay {
        return text(
            StatusCode::NOT_FOUND,
            "/relay endpoints are not available. Please check your configuration: --relay",
        );
    }
    text(
        StatusCode::BAD_REQUEST,
        "Bad request initiated. Invalid path or method used.",
    )
}

/// A request body over [`MAX_BODY_SIZE`] is answered as nwaku answers a
/// body it cannot read: 400, not axum's 413.
pub(crate) async fn oversized_body_as_400(response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return text(StatusCode::BAD_REQUEST, "Invalid content body");
    }
    response
}

/// nwaku's largest REST request body: 16 MiB.
pub(crate) const MAX_BODY_SIZE: usize = 16 * 1024 * 1024;

//! `POST /lightpush/v3/message` and the legacy `POST /lightpush/v1/message`:
//! push a message through our own relay (when this node serves lightpush)
//! or through `--lightpushnode`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::RestState;
use super::json::MessageIn;
use super::status::{NODE_TIMEOUT, text};
use waku_lightpush::StatusCode as LightpushStatus;

use crate::handle::{LightpushError, LightpushOk};

/// The request body of both versions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PushBody {
    pubsub_topic: Option<String>,
    message: MessageIn,
}

/// Parses the body, or the lightpush error for it.
fn parse(body: &str) -> Result<(Option<String>, waku_core::WakuMessage), LightpushError> {
    let bad = |description: String| LightpushError::new(LightpushStatus::BAD_REQUEST, description);
    let push: PushBody =
        serde_json::from_str(body).map_err(|e| bad(format!("Invalid push request! {e}")))?;
    let message = push
        .message
        .into_message()
        .map_err(|e| bad(format!("Invalid message! {e}")))?;
    Ok((push.pubsub_topic, message))
}

async fn push(state: &RestState, body: &str) -> Result<LightpushOk, LightpushError> {
    let (topic, message) = parse(body)?;
    tokio::time::timeout(NODE_TIMEOUT, state.node.lightpush(topic, message))
        .await
        .map_err(|_| {
            LightpushError::new(
                LightpushStatus::SERVICE_UNAVAILABLE,
                "Push request timed out",
            )
        })?
}

/// HTTP status for a lightpush status; 420 (no HTTP meaning) becomes 500, as in nwaku.
fn http_status(status: LightpushStatus) -> StatusCode {
    u16::try_from(status.0)
        .ok()
        .filter(|c| *c != 420)
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `POST /lightpush/v3/message`: `{"relayPeerCount": n}` or `{"statusDesc": ...}`.
///
/// After a legacy service answered (our client falls back to legacy when
/// the lightpush node lacks v3), there is no relay peer count to report:
/// the answer carries the service's own words as `statusDesc` instead of
/// an invented count.
pub(crate) async fn v3(State(state): State<RestState>, body: String) -> Response {
    match push(&state, &body).await {
        Ok(LightpushOk {
            relay_peer_count: Some(peers),
            ..
        }) => Json(json!({ "relayPeerCount": peers })).into_response(),
        Ok(LightpushOk {
            relay_peer_count: None,
            description,
        }) => Json(json!({ "statusDesc": description.unwrap_or_else(|| "OK".to_owned()) }))
            .into_response(),
        Err(e) => (
            http_status(e.status),
            Json(json!({ "statusDesc": e.description })),
        )
            .into_response(),
    }
}

/// `POST /lightpush/v1/message`: plain text answers.
pub(crate) async fn v1(State(state): State<RestState>, body: String) -> Response {
    match push(&state, &body).await {
        Ok(_) => text(StatusCode::OK, "OK"),
        Err(e) if e.status == LightpushStatus::TOO_MANY_REQUESTS => {
            text(StatusCode::TOO_MANY_REQUESTS, "Request rate limmit reached")
        }
        Err(e) if e.status == LightpushStatus::BAD_REQUEST => {
            text(StatusCode::BAD_REQUEST, e.description)
        }
        // nwaku's legacy words for a message that reached no relay peer
        // (nwaku publishes on a topic it does not serve, reaching nobody).
        Err(e)
            if e.status == LightpushStatus::NO_PEERS_TO_RELAY
                || e.status == LightpushStatus::UNSUPPORTED_PUBSUB_TOPIC =>
        {
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "Failed to request a message push: {}",
                    waku_lightpush::NOT_PUBLISHED_TO_ANY_PEER
                ),
            )
        }
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("Failed to request a message push: {}", e.description),
        ),
    }
}

//! `/relay/v1/*`: subscriptions, publishing and the message cache, for
//! static shards (pubsub topics) and autosharding (content topics).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use waku_relay::PublishError;
use waku_sharding::RelayShard;

use super::RestState;
use super::json::{MessageIn, MessageOut};
use super::status::{NODE_TIMEOUT, text};
use crate::RequestError;

/// A refused request: status and `text/plain` body.
type Refusal = (StatusCode, String);

fn refused((status, body): Refusal) -> Response {
    text(status, body)
}

fn decode_error(e: impl std::fmt::Display) -> Refusal {
    (
        StatusCode::BAD_REQUEST,
        format!("Invalid content body, could not decode: {e}"),
    )
}

fn parse_topics(body: &str) -> Result<Vec<String>, Refusal> {
    if body.trim().is_empty() {
        return Err((StatusCode::BAD_REQUEST, String::new()));
    }
    serde_json::from_str(body).map_err(decode_error)
}

fn parse_message(body: &str) -> Result<waku_core::WakuMessage, Refusal> {
    if body.trim().is_empty() {
        return Err((StatusCode::BAD_REQUEST, String::new()));
    }
    let message: MessageIn = serde_json::from_str(body).map_err(decode_error)?;
    message.into_message().map_err(|e| {
        if e.starts_with("Incorrect base64") {
            (StatusCode::BAD_REQUEST, e)
        } else {
            decode_error(e)
        }
    })
}

fn messages_json(messages: &[waku_core::WakuMessage]) -> Response {
    let out: Vec<MessageOut> = messages.iter().map(MessageOut::from).collect();
    Json(out).into_response()
}

/// `POST /relay/v1/subscriptions`: a JSON list of pubsub topics.
pub(crate) async fn subscribe(State(state): State<RestState>, body: String) -> Response {
    let topics = match parse_topics(&body) {
        Ok(t) => t,
        Err(r) => return refused(r),
    };
    let invalid: Vec<&String> = topics
        .iter()
        .filter(|t| t.parse::<RelayShard>().is_err())
        .collect();
    if !invalid.is_empty() {
        let list: Vec<String> = invalid.iter().map(|t| format!("\"{t}\"")).collect();
        return text(
            StatusCode::BAD_REQUEST,
            format!("Invalid pubsub topic(s): @[{}]", list.join(", ")),
        );
    }
    for topic in topics {
        if !state.cache().add_pubsub_topic(&topic) {
            continue;
        }
        if let Err(e) = state.node.subscribe(topic).await {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Subscribe failed:{e}"),
            );
        }
    }
    text(StatusCode::OK, "OK")
}

/// `DELETE /relay/v1/subscriptions`.
pub(crate) async fn unsubscribe(State(state): State<RestState>, body: String) -> Response {
    let topics = match parse_topics(&body) {
        Ok(t) => t,
        Err(r) => return refused(r),
    };
    for topic in topics {
        state.cache().remove_pubsub_topic(&topic);
        if let Err(e) = state.node.unsubscribe(topic).await {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Unsubscribe failed:{e}"),
            );
        }
    }
    text(StatusCode::OK, "OK")
}

/// `GET /relay/v1/messages/{pubsubTopic}`: drains the cached messages.
pub(crate) async fn get_messages(
    State(state): State<RestState>,
    Path(topic): Path<String>,
) -> Response {
    match state.cache().take_pubsub(&topic) {
        Some(messages) => messages_json(&messages),
        None => text(StatusCode::NOT_FOUND, ""),
    }
}

/// Maps a publish failure to nwaku's answer; `None` means "answer 200 OK"
/// (nwaku's pubsub route does not fail on a publish that reached no peer).
fn publish_failure(e: &RequestError) -> Option<Response> {
    let response = match e {
        RequestError::Publish(
            PublishError::Invalid(_) | PublishError::Rejected(_) | PublishError::Ignored(_),
        ) => text(StatusCode::BAD_REQUEST, format!("Failed to publish: {e}")),
        // No peers, a duplicate, full queues: nwaku answers OK (the message
        // still reached this node's archive, REST cache and filter).
        RequestError::Publish(_) => return None,
        other => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Failed to publish: {other}"),
        ),
    };
    Some(response)
}

async fn publish(state: &RestState, topic: String, message: waku_core::WakuMessage) -> Response {
    match tokio::time::timeout(NODE_TIMEOUT, state.node.publish(topic, message)).await {
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to publish: timedout",
        ),
        Ok(Ok(_)) => text(StatusCode::OK, "OK"),
        Ok(Err(e)) => publish_failure(&e).unwrap_or_else(|| text(StatusCode::OK, "OK")),
    }
}

/// `POST /relay/v1/messages/{pubsubTopic}`.
pub(crate) async fn post_message(
    State(state): State<RestState>,
    Path(topic): Path<String>,
    body: String,
) -> Response {
    let subscribed = state.node.subscriptions().await.unwrap_or_default();
    if !subscribed.contains(&topic) {
        return text(
            StatusCode::BAD_REQUEST,
            format!("Failed to publish: Node not subscribed to topic: {topic}"),
        );
    }
    match parse_message(&body) {
        Ok(message) => publish(&state, topic, message).await,
        Err(r) => refused(r),
    }
}

fn autoshard(state: &RestState, content_topic: &str) -> Result<RelayShard, String> {
    state
        .topic_shards
        .shard(content_topic)
        .map_err(|e| e.to_string())
}

/// `POST /relay/v1/auto/subscriptions`: a JSON list of content topics.
pub(crate) async fn auto_subscribe(State(state): State<RestState>, body: String) -> Response {
    let topics = match parse_topics(&body) {
        Ok(t) => t,
        Err(r) => return refused(r),
    };
    for topic in topics {
        let shard = match autoshard(&state, &topic) {
            Ok(s) => s,
            Err(e) => {
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("Subscribe failed:{e}"),
                );
            }
        };
        if !state.cache().add_content_topic(&topic) {
            continue;
        }
        if let Err(e) = state.node.subscribe(shard.to_string()).await {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Subscribe failed:{e}"),
            );
        }
    }
    text(StatusCode::OK, "OK")
}

/// `DELETE /relay/v1/auto/subscriptions`: forgets the content topics; the
/// shard stays subscribed while it is registered itself (static
/// subscription) or another registered content topic maps to it.
pub(crate) async fn auto_unsubscribe(State(state): State<RestState>, body: String) -> Response {
    let topics = match parse_topics(&body) {
        Ok(t) => t,
        Err(r) => return refused(r),
    };
    for topic in topics {
        state.cache().remove_content_topic(&topic);
        let Ok(shard) = autoshard(&state, &topic) else {
            continue;
        };
        let shard_topic = shard.to_string();
        if state.cache().has_pubsub_topic(&shard_topic) {
            continue;
        }
        if let Err(e) = state.node.unsubscribe(shard_topic).await {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Unsubscribe failed:{e}"),
            );
        }
    }
    text(StatusCode::OK, "OK")
}

/// `POST /relay/v1/auto/messages`: the shard comes from the content topic.
pub(crate) async fn auto_post_message(State(state): State<RestState>, body: String) -> Response {
    let message = match parse_message(&body) {
        Ok(m) => m,
        Err(r) => return refused(r),
    };
    let shard = match autoshard(&state, &message.content_topic) {
        Ok(s) => s,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("Failed to publish. {e}")),
    };
    publish(&state, shard.to_string(), message).await
}

/// `GET /relay/v1/auto/messages/{contentTopic}`: drains the cached messages.
pub(crate) async fn auto_get_messages(
    State(state): State<RestState>,
    Path(topic): Path<String>,
) -> Response {
    match state.cache().take_content(&topic) {
        Some(messages) => messages_json(&messages),
        None => text(StatusCode::NOT_FOUND, topic),
    }
}

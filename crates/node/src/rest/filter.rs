//! nwaku's filter REST API, served when the node has a `--filternode`:
//!
//! - `POST` and `PUT /filter/v2/subscriptions` subscribe (or refresh),
//!   `DELETE /filter/v2/subscriptions` unsubscribes, `DELETE
//!   /filter/v2/subscriptions/all` drops everything: body `{requestId,
//!   pubsubTopic?, contentFilters}`; without a pubsub topic the content
//!   topics are autosharded;
//! - `GET /filter/v2/subscriptions/{requestId}` pings the service node;
//! - `GET /filter/v2/messages/{contentTopic}` drains what the service node
//!   pushed on a subscribed content topic.
//!
//! Every subscription answer is `{requestId, statusDesc}` with the HTTP
//! status nwaku uses: 200 (`"OK"`), the service's 400/404/429/503, 500 for
//! another answer, 503 on timeout (5 s), 504 when the service node cannot
//! be dialled. A body that does not decode is a 400 with `requestId`
//! `"unknown"`.
//!
//! Content topics are registered in the filter cache only when the service
//! node accepted the subscription (nwaku registers them whatever the answer),
//! and forgotten as soon as the node's client forgets them: on any
//! unsubscribe, and when a ping is answered 404.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::RestState;
use super::json::MessageOut;
use super::status::text;
use crate::handle::{FilterFailure, FilterFailureKind, FilterRequest};

/// How long a REST filter request waits for the node: a little longer than
/// [`FILTER_REQUEST_TIMEOUT`](crate::handle::FILTER_REQUEST_TIMEOUT), so that the client's answer (even a timeout)
/// is the one the caller sees.
const REST_FILTER_TIMEOUT: Duration = Duration::from_secs(6);

/// The body of subscribe and unsubscribe requests.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubscriptionBody {
    request_id: String,
    pubsub_topic: Option<String>,
    content_filters: Vec<String>,
}

/// The body of unsubscribe-all.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestIdBody {
    request_id: String,
}

/// The HTTP status nwaku's REST API answers a filter failure with.
fn http_status(kind: FilterFailureKind) -> StatusCode {
    match kind {
        FilterFailureKind::Refused(status) => u16::try_from(status.0)
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        FilterFailureKind::BadRequest => StatusCode::BAD_REQUEST,
        FilterFailureKind::NoServiceNode | FilterFailureKind::TimedOut => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        FilterFailureKind::Unreachable => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `{requestId, statusDesc}` with the status of `result`.
fn answer(request_id: &str, result: Result<(), FilterFailure>) -> Response {
    let (status, description) = match result {
        Ok(()) => (StatusCode::OK, "OK".to_owned()),
        Err(f) => (http_status(f.kind), f.description),
    };
    (
        status,
        Json(json!({"requestId": request_id, "statusDesc": description})),
    )
        .into_response()
}

/// The 400 for a body that does not decode.
fn undecodable(error: &serde_json::Error) -> Response {
    answer(
        "unknown",
        Err(FilterFailure::new(
            FilterFailureKind::BadRequest,
            format!("Failed to decode request: {error}"),
        )),
    )
}

/// Sends `request` to the service node, within [`REST_FILTER_TIMEOUT`].
async fn send(state: &RestState, request: FilterRequest) -> Result<(), FilterFailure> {
    tokio::time::timeout(REST_FILTER_TIMEOUT, state.node.filter(request))
        .await
        .map_err(|_| {
            FilterFailure::new(
                FilterFailureKind::TimedOut,
                "Subscription request timed out",
            )
        })?
}

/// Subscribes (`subscribe`) or unsubscribes the body's content topics at
/// the service node, and registers or forgets them in the filter cache once
/// it agreed.
async fn change(state: RestState, body: &str, subscribe: bool) -> Response {
    let req: SubscriptionBody = match serde_json::from_str(body) {
        Ok(req) => req,
        Err(e) => return undecodable(&e),
    };
    let (pubsub_topic, content_topics) = (req.pubsub_topic, req.content_filters.clone());
    let request = if subscribe {
        FilterRequest::Subscribe {
            pubsub_topic,
            content_topics,
        }
    } else {
        FilterRequest::Unsubscribe {
            pubsub_topic,
            content_topics,
        }
    };
    let result = send(&state, request).await;
    // The client forgets criteria as soon as it sends UNSUBSCRIBE, whatever
    // the answer; it only keeps new criteria the service accepted.
    if result.is_ok() || !subscribe {
        let mut cache = state.filter_cache();
        for topic in &req.content_filters {
            if subscribe {
                cache.add_content_topic(topic);
            } else {
                cache.remove_content_topic(topic);
            }
        }
    }
    answer(&req.request_id, result)
}

/// `POST`/`PUT /filter/v2/subscriptions`.
pub(crate) async fn subscribe(State(state): State<RestState>, body: String) -> Response {
    change(state, &body, true).await
}

/// `DELETE /filter/v2/subscriptions`.
pub(crate) async fn unsubscribe(State(state): State<RestState>, body: String) -> Response {
    change(state, &body, false).await
}

/// `DELETE /filter/v2/subscriptions/all`.
pub(crate) async fn unsubscribe_all(State(state): State<RestState>, body: String) -> Response {
    let req: RequestIdBody = match serde_json::from_str(&body) {
        Ok(req) => req,
        Err(e) => return undecodable(&e),
    };
    let result = send(&state, FilterRequest::UnsubscribeAll).await;
    // The client has dropped its criteria, whatever the answer.
    state.filter_cache().clear();
    answer(&req.request_id, result)
}

/// `GET /filter/v2/subscriptions/{requestId}`: a SUBSCRIBER_PING.
pub(crate) async fn ping(
    State(state): State<RestState>,
    Path(request_id): Path<String>,
) -> Response {
    let result = send(&state, FilterRequest::Ping).await;
    // A 404 means the service forgot us; so did our client.
    if matches!(&result, Err(f) if f.kind == FilterFailureKind::Refused(waku_filter::StatusCode::NOT_FOUND))
    {
        state.filter_cache().clear();
    }
    answer(&request_id, result)
}

/// `GET /filter/v2/subscriptions/` (a ping without its request id): 400,
/// in the words the upstream interop suite expects.
pub(crate) async fn ping_without_id() -> Response {
    text(StatusCode::BAD_REQUEST, "bad request id")
}

/// `GET /filter/v2/messages/{contentTopic}`: the pushed messages since the
/// last call.
pub(crate) async fn messages(
    State(state): State<RestState>,
    Path(content_topic): Path<String>,
) -> Response {
    let taken = state.filter_cache().take_content(&content_topic);
    match taken {
        Some(messages) => {
            let out: Vec<MessageOut> = messages.iter().map(MessageOut::for_filter).collect();
            Json(out).into_response()
        }
        None => text(
            StatusCode::BAD_REQUEST,
            format!("Not subscribed to topic: {content_topic}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_get_nwaku_http_statuses() {
        use waku_filter::StatusCode as Filter;
        for code in [400, 404, 429, 503] {
            assert_eq!(
                http_status(FilterFailureKind::Refused(Filter(code))).as_u16(),
                u16::try_from(code).unwrap()
            );
        }
        assert_eq!(http_status(FilterFailureKind::Failed).as_u16(), 500);
        assert_eq!(http_status(FilterFailureKind::BadRequest).as_u16(), 400);
        assert_eq!(http_status(FilterFailureKind::NoServiceNode).as_u16(), 503);
        assert_eq!(http_status(FilterFailureKind::TimedOut).as_u16(), 503);
        assert_eq!(http_status(FilterFailureKind::Unreachable).as_u16(), 504);
    }
}

//! Answering a v3 query from a [`MessageStore`], independent of libp2p.

use crate::message_store::{MessageStore, StoreError};
use crate::proto::{StoreQueryRequest, StoreQueryResponse};
use crate::query::StoreQuery;
use crate::query::{BadRequest, validate_request};
use crate::response::{ResponseError, StoreResponse, error_response, page_response, status};

/// The response to `request` from `store`: 200 with a page, 400 for a
/// request that breaks a protocol rule (including an unknown cursor), 503
/// when the backend fails. `request_id` is always echoed and `status_code`
/// always set.
pub(crate) async fn answer_request(
    store: &dyn MessageStore,
    request: StoreQueryRequest,
) -> StoreQueryResponse {
    let query = match validate_request(&request) {
        Ok(q) => q,
        Err(e) => return error_response(request.request_id, status::BAD_REQUEST, &e.to_string()),
    };
    match store.query(query).await {
        Ok(page) => page_response(request.request_id, page),
        Err(StoreError::UnknownCursor(hash)) => error_response(
            request.request_id,
            status::BAD_REQUEST,
            &BadRequest::UnknownCursor(hash).to_string(),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "store query failed");
            error_response(
                request.request_id,
                status::SERVICE_UNAVAILABLE,
                "the message store failed to answer",
            )
        }
    }
}

/// The answer to `query` from `store`, without libp2p (as a service would
/// answer it, with `request_id` echoed): the page, or the error status
/// (400 for a broken rule or an unknown cursor, 503 when the backend fails)
/// as [`ResponseError`].
pub async fn answer_query(
    store: &dyn MessageStore,
    request_id: impl Into<String>,
    query: &StoreQuery,
) -> Result<StoreResponse, ResponseError> {
    StoreResponse::try_from(answer_request(store, query.to_request(request_id)).await)
}

//! `GET /store/v1/messages`: nwaku's legacy store route, answered from our
//! own archive (with `--store` and no `peerAddr`) or by a store node over
//! `/vac/waku/store/2.0.0-beta4` (go-waku serves only that one).
//!
//! Parameters as nwaku reads them: `peerAddr`, `pubsubTopic`,
//! `contentTopics` (comma separated), `startTime`/`endTime` (ns, values
//! ≤ 0 ignored), `pageSize` (20 by default, at most 100, 0 = default),
//! `ascending` (forward unless given and not "true"), and a cursor made of
//! `pubsubTopic`, `senderTime`, `storeTime` and `digest` (base64), used
//! only when all four are present.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use libp2p::{Multiaddr, PeerId};
use serde_json::{Map, Value, json};
use waku_store::ResponseError;
use waku_store::legacy::{Cursor, Page, Query};

use super::RestState;
use super::json::B64;
use super::status::text;
use super::store::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, many, message_json, parse_params, peer_param, percent_decode,
    remote, single,
};

/// The query, and the peer to ask if one is named; or the 400 text.
fn build_query(raw: Option<&str>) -> Result<(Query, Option<(PeerId, Multiaddr)>), String> {
    let params = parse_params(raw);
    let peer = peer_param(&params)?;
    let time = |name: &str| -> Result<Option<i64>, String> {
        single(&params, name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|e| format!("Problem parsing time [{e}]"))
            })
            .transpose()
            .map(|t| t.filter(|t| *t > 0))
    };
    let page_size = match single(&params, "pagesize") {
        None => DEFAULT_PAGE_SIZE,
        Some(v) => match v
            .parse::<u64>()
            .map_err(|e| format!("Problem parsing page size [{e}]"))?
        {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        },
    };
    let forward = single(&params, "ascending").is_none_or(|v| v == "true");
    let pubsub_topic = single(&params, "pubsubtopic").map(|t| percent_decode(&t));
    let cursor = match (
        &pubsub_topic,
        time("sendertime")?,
        time("storetime")?,
        single(&params, "digest"),
    ) {
        (Some(topic), Some(sender), Some(store), Some(digest)) => {
            let mut bytes = B64
                .decode(percent_decode(&digest).trim())
                .map_err(|e| format!("Problem parsing digest [{e}]"))?;
            // nwaku pads a short digest with zeros and cuts a long one.
            bytes.resize(32, 0);
            Some(Cursor::new(topic.clone(), sender, store, bytes))
        }
        _ => None,
    };
    let mut query = Query::default()
        .with_time_range(time("starttime")?, time("endtime")?)
        .with_page_size(page_size)
        .with_cursor(cursor);
    query.pubsub_topic = pubsub_topic;
    query.content_topics = many(&params, "contenttopics")
        .iter()
        .map(|t| percent_decode(t))
        .collect();
    query.forward = forward;
    Ok((query, peer))
}

/// nwaku's `StoreResponseRest`: messages and the cursor of the next page.
fn response_json(page: Page) -> Response {
    let messages: Vec<Value> = page.messages.iter().map(message_json).collect();
    let mut body = Map::new();
    body.insert("messages".into(), Value::Array(messages));
    if let Some(cursor) = page.cursor {
        body.insert(
            "cursor".into(),
            json!({
                "pubsubTopic": cursor.pubsub_topic,
                "senderTime": cursor.sender_time,
                "storeTime": cursor.receiver_time,
                "digest": { "data": B64.encode(cursor.digest) },
            }),
        );
    }
    Json(Value::Object(body)).into_response()
}

/// `GET /store/v1/messages`.
pub(crate) async fn messages(State(state): State<RestState>, RawQuery(raw): RawQuery) -> Response {
    let (query, peer) = match build_query(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    if peer.is_none()
        && let Some(store) = &state.legacy_store
    {
        return match waku_store::legacy::answer_query(store.as_ref(), &query).await {
            Ok(page) => response_json(page),
            Err(ResponseError::Status { code, .. }) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("legacy store error {code}"),
            ),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
    }
    let peer_id = peer.as_ref().map(|(id, _)| *id);
    remote(
        peer_id,
        state.node.legacy_store_query(peer, query),
        response_json,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nwaku_parameters() {
        let digest = B64.encode([9u8; 32]);
        let raw = format!(
            "pubsubTopic=%2Fwaku%2F2%2Frs%2F42%2F0&contentTopics=%2Fa%2F1%2Fb%2Fproto,%2Fc%2F1%2Fd%2Fproto&startTime=0&endTime=5&pageSize=500&ascending=false&senderTime=3&storeTime=4&digest={digest}"
        );
        let (query, peer) = build_query(Some(&raw)).unwrap();
        assert_eq!(peer, None);
        assert_eq!(query.pubsub_topic.as_deref(), Some("/waku/2/rs/42/0"));
        assert_eq!(query.content_topics.len(), 2);
        assert_eq!((query.start_time, query.end_time), (None, Some(5)));
        assert_eq!(query.page_size, Some(MAX_PAGE_SIZE));
        assert!(!query.forward);
        let cursor = query.cursor.unwrap();
        assert_eq!(cursor.digest, vec![9; 32]);
        assert_eq!((cursor.sender_time, cursor.receiver_time), (3, 4));

        // Defaults: forward, 20 per page, no cursor without all four parts.
        let (query, _) = build_query(Some("pubsubTopic=x&senderTime=3")).unwrap();
        assert_eq!(query.page_size, Some(DEFAULT_PAGE_SIZE));
        assert!(query.forward);
        assert_eq!(query.cursor, None);

        assert!(
            build_query(Some("startTime=abc"))
                .unwrap_err()
                .starts_with("Problem parsing time")
        );
        assert!(
            build_query(Some("pageSize=-1"))
                .unwrap_err()
                .starts_with("Problem parsing page size")
        );
        assert_eq!(
            build_query(Some("peerAddr=nonsense")).unwrap_err(),
            "Failed parsing remote peer info: MultiAddress.init [multiaddress: Invalid MultiAddress, must start with `/`]"
        );
        assert_eq!(
            build_query(Some("peerAddr=/ip4/127.0.0.1/41568/p2p/x")).unwrap_err(),
            "Failed parsing remote peer info: MultiAddress.init [multiaddress: Unsupported protocol '41568']"
        );
        assert!(
            build_query(Some("peerAddr=/ip4/127.0.0.1/tcp/1"))
                .unwrap_err()
                .ends_with("must end with /p2p/<peer id>")
        );
        let id = PeerId::random();
        let (_, peer) =
            build_query(Some(&format!("peerAddr=/ip4/127.0.0.1/tcp/1/p2p/{id}"))).unwrap();
        assert_eq!(peer.map(|(p, _)| p), Some(id));
    }
}

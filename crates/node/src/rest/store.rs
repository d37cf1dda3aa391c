//! `GET /store/v3/messages`: store queries from HTTP, answered from our own
//! archive (with `--store` and no `peerAddr`) or by a remote store node.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde_json::{Map, Value, json};
use waku_core::{MessageHash, WakuMessage};
use waku_store::{ResponseError, StoreQuery};

use super::RestState;
use super::json::B64;
use super::status::{NODE_TIMEOUT, text};
use crate::RequestError;

/// nwaku's default and largest page sizes.
pub(super) const DEFAULT_PAGE_SIZE: u64 = 20;
pub(super) const MAX_PAGE_SIZE: u64 = 100;

/// Decodes `%XX` escapes and `+` (a space), as nwaku's query parser does;
/// a `%` not followed by two hex digits stays as it is.
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    bytes.get(i + 1).and_then(|b| hex(*b)),
                    bytes.get(i + 2).and_then(|b| hex(*b)),
                ) {
                    (Some(hi), Some(lo)) => {
                        // Two hex digits: at most 0xff.
                        out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'%'));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters: names lowercased, values decoded, split on commas and
/// accumulated over repeated keys (nwaku's rules).
pub(super) fn parse_params(raw: Option<&str>) -> Vec<(String, Vec<String>)> {
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name).to_ascii_lowercase();
        let values: Vec<String> = percent_decode(value)
            .split(',')
            .map(str::to_owned)
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        match params.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => existing.extend(values),
            None => params.push((name, values)),
        }
    }
    params
}

pub(super) fn single(params: &[(String, Vec<String>)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.join(","))
}

pub(super) fn many(params: &[(String, Vec<String>)], name: &str) -> Vec<String> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "y" => Some(true),
        "false" | "no" | "off" | "0" | "n" => Some(false),
        _ => None,
    }
}

fn parse_hash(text: &str) -> Result<MessageHash, String> {
    let digits = percent_decode(text.strip_prefix("0x").unwrap_or(text));
    // nwaku's (nim's) words for a character that is not hex.
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "Exception converting hex string to bytes: {c} is not a hexadecimal character"
        ));
    }
    let bytes = hex::decode(&digits)
        .map_err(|e| format!("Exception converting hex string to bytes: {e}"))?;
    MessageHash::from_slice(&bytes).ok_or_else(|| {
        format!(
            "waku message hash parsing error: invalid hash length: {}",
            bytes.len()
        )
    })
}

fn parse_time(params: &[(String, Vec<String>)], name: &str) -> Result<Option<i64>, String> {
    match single(params, name) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(|t| (t > 0).then_some(t))
            .map_err(|e| format!("time parsing error: {e}")),
    }
}

/// The store peer named by `peerAddr`, if any: a multiaddr ending with
/// `/p2p/<peer id>`, else the 400 text.
pub(super) fn peer_param(
    params: &[(String, Vec<String>)],
) -> Result<Option<(PeerId, Multiaddr)>, String> {
    let Some(text) = single(params, "peeraddr") else {
        return Ok(None);
    };
    // nwaku's words for an address without its leading `/`.
    if !text.starts_with('/') {
        return Err("Failed parsing remote peer info: MultiAddress.init [multiaddress: Invalid MultiAddress, must start with `/`]".into());
    }
    let addr = text.parse::<Multiaddr>().map_err(|e| match e {
        // nwaku's words for a protocol name it does not know.
        libp2p::multiaddr::Error::UnknownProtocolString(name) => format!(
            "Failed parsing remote peer info: MultiAddress.init [multiaddress: Unsupported protocol '{name}']"
        ),
        other => format!("Failed parsing remote peer info: {other}"),
    })?;
    match addr.iter().last() {
        Some(Protocol::P2p(id)) => Ok(Some((id, addr))),
        _ => {
            Err("Failed parsing remote peer info: the address must end with /p2p/<peer id>".into())
        }
    }
}

/// The query of the HTTP request, and the peer to ask, if any.
fn build_request(raw: Option<&str>) -> Result<(StoreQuery, Option<(PeerId, Multiaddr)>), String> {
    let params = parse_params(raw);
    let peer = peer_param(&params)?;
    let include_data = match single(&params, "includedata") {
        None => false,
        Some(v) => parse_bool(&v).ok_or_else(|| format!("include data parsing error: {v}"))?,
    };
    let hashes = many(&params, "hashes")
        .iter()
        .map(|h| parse_hash(h))
        .collect::<Result<Vec<_>, _>>()?;
    let cursor = single(&params, "cursor")
        .map(|c| parse_hash(&c))
        .transpose()?;
    let page_size = match single(&params, "pagesize") {
        None => DEFAULT_PAGE_SIZE,
        // nwaku takes any integer: zero or less means the default.
        Some(v) => match v
            .parse::<i64>()
            .map_err(|e| format!("page size parsing error: {e}"))?
        {
            n if n <= 0 => DEFAULT_PAGE_SIZE,
            n => u64::try_from(n).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE)),
        },
    };
    let request = StoreQuery {
        include_data,
        pubsub_topic: single(&params, "pubsubtopic").map(|t| percent_decode(&t)),
        content_topics: many(&params, "contenttopics")
            .iter()
            .map(|t| percent_decode(t))
            .collect(),
        time_start: parse_time(&params, "starttime")?,
        time_end: parse_time(&params, "endtime")?,
        message_hashes: hashes,
        cursor,
        forward: single(&params, "ascending").is_none_or(|v| v == "true"),
        limit: Some(page_size),
    };
    Ok((request, peer))
}

fn hash_hex(hash: &[u8]) -> String {
    format!("0x{}", hex::encode(hash))
}

pub(super) fn message_json(m: &WakuMessage) -> Value {
    let mut out = Map::new();
    out.insert("payload".into(), json!(B64.encode(&m.payload)));
    out.insert("contentTopic".into(), json!(m.content_topic));
    if !m.meta_bytes().is_empty() {
        out.insert("meta".into(), json!(B64.encode(m.meta_bytes())));
    }
    out.insert("version".into(), json!(m.version_or_zero()));
    out.insert("timestamp".into(), json!(m.timestamp_or_zero()));
    out.insert("ephemeral".into(), json!(m.is_ephemeral()));
    if let Some(proof) = &m.rate_limit_proof {
        out.insert("proof".into(), json!(B64.encode(&proof.proof)));
    }
    Value::Object(out)
}

fn response_json(
    request_id: &str,
    status_code: u32,
    status_desc: &str,
    entries: Vec<(MessageHash, Option<(String, WakuMessage)>)>,
    cursor: Option<MessageHash>,
) -> Response {
    let messages: Vec<Value> = entries
        .into_iter()
        .map(|(hash, value)| {
            let mut entry = Map::new();
            entry.insert("messageHash".into(), json!(hash_hex(hash.as_bytes())));
            if let Some((topic, message)) = value {
                entry.insert("message".into(), message_json(&message));
                entry.insert("pubsubTopic".into(), json!(topic));
            }
            Value::Object(entry)
        })
        .collect();
    let mut body = Map::new();
    body.insert("requestId".into(), json!(request_id));
    body.insert("statusCode".into(), json!(status_code));
    body.insert("statusDesc".into(), json!(status_desc));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(cursor) = cursor {
        body.insert(
            "paginationCursor".into(),
            json!(hash_hex(cursor.as_bytes())),
        );
    }
    Json(Value::Object(body)).into_response()
}

/// The answer to a query sent to a store node (`peer`, when the request
/// named one): `ok` of its response, or nwaku's 500 (timeout, failure,
/// `PEER_DIAL_FAILURE` when the peer cannot be reached over the store
/// protocol) and 412 (no store peer) texts.
pub(super) async fn remote<T>(
    peer: Option<PeerId>,
    query: impl Future<Output = Result<T, RequestError>>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match tokio::time::timeout(NODE_TIMEOUT, query).await {
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "No history response received (timeout)",
        ),
        Ok(Err(RequestError::NoPeer)) => text(
            StatusCode::PRECONDITION_FAILED,
            "No suitable service peer & no discovery method",
        ),
        Ok(Err(e)) if unreachable(&e) => {
            let peer = peer.map_or_else(|| "store peer".to_owned(), |p| p.to_string());
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Error occurred in queryFut.read() [PEER_DIAL_FAILURE: {peer}]"),
            )
        }
        Ok(Err(e)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Error occurred in queryFut.read() [{e}]"),
        ),
        Ok(Ok(r)) => ok(r),
    }
}

/// Whether `e` means the store peer could not be reached over the store
/// protocol: nwaku reports all of these as a dial failure.
fn unreachable(e: &RequestError) -> bool {
    use crate::handle::StoreFailure;
    match e {
        RequestError::Dial(_) => true,
        RequestError::Store(StoreFailure::Query(q)) => matches!(
            **q,
            waku_store::QueryError::UnsupportedProtocol | waku_store::QueryError::ConnectionClosed
        ),
        _ => false,
    }
}

/// `GET /store/v3/messages`.
pub(crate) async fn messages(State(state): State<RestState>, RawQuery(raw): RawQuery) -> Response {
    let (query, peer) = match build_request(raw.as_deref()) {
        Ok(r) => r,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    let answer = |r: waku_store::StoreResponse| {
        let entries = r.entries.into_iter().map(|e| (e.hash, e.value)).collect();
        response_json(
            &r.request_id,
            r.status_code,
            r.status_desc.as_deref().unwrap_or("OK"),
            entries,
            r.cursor,
        )
    };
    let ok =
        |r: Result<waku_store::StoreResponse, Response>| r.map_or_else(|refusal| refusal, answer);
    if peer.is_none()
        && let Some(store) = &state.store
    {
        // A local query has no request on the wire: its id stays empty,
        // as in nwaku's answer from its own archive.
        return match waku_store::answer_query(store.as_ref(), String::new(), &query).await {
            Ok(r) => answer(r),
            Err(ResponseError::Status { code, desc }) => text(
                u16::try_from(code)
                    .ok()
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                desc,
            ),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
    }
    let peer_id = peer.as_ref().map(|(id, _)| *id);
    let query = state.node.store_query(peer, query);
    remote(peer_id, refusals_as_answers(query), ok).await
}

/// A store node's error status as nwaku's REST API shows it: a 200 answer
/// carrying the node's `statusCode` and `statusDesc` (no messages), except
/// the rate limit, which is a 429.
async fn refusals_as_answers(
    query: impl Future<Output = Result<waku_store::StoreResponse, RequestError>>,
) -> Result<Result<waku_store::StoreResponse, Response>, RequestError> {
    use crate::handle::StoreFailure;
    match query.await {
        Ok(r) => Ok(Ok(r)),
        Err(RequestError::Store(StoreFailure::Query(e))) => match &*e {
            waku_store::QueryError::Response(ResponseError::Status { code: 429, .. }) => Ok(Err(
                text(StatusCode::TOO_MANY_REQUESTS, "Request rate limit reached"),
            )),
            waku_store::QueryError::Response(ResponseError::Status { code, desc }) => {
                Ok(Err(response_json("", *code, desc, Vec::new(), None)))
            }
            _ => Err(RequestError::Store(StoreFailure::Query(e))),
        },
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_that_are_not_hex_get_nwakus_words() {
        assert_eq!(
            parse_hash("test").err().as_deref(),
            Some("Exception converting hex string to bytes: t is not a hexadecimal character")
        );
        let e = parse_hash("%23%23%23%20INVALID").err().unwrap_or_default();
        assert!(e.ends_with("# is not a hexadecimal character"), "{e}");
        assert!(parse_hash(&"ab".repeat(32)).is_ok());
        assert_eq!(
            parse_hash("abcd").err().as_deref(),
            Some("waku message hash parsing error: invalid hash length: 2")
        );
    }

    #[test]
    fn page_size_as_nwaku_reads_it() {
        let limit = |raw: &str| build_request(Some(raw)).map(|(q, _)| q.limit);
        assert_eq!(limit(""), Ok(Some(DEFAULT_PAGE_SIZE)));
        assert_eq!(limit("pageSize=0"), Ok(Some(DEFAULT_PAGE_SIZE)));
        assert_eq!(limit("pageSize=-5"), Ok(Some(DEFAULT_PAGE_SIZE)));
        assert_eq!(limit("pageSize=7"), Ok(Some(7)));
        assert_eq!(limit("pageSize=500"), Ok(Some(MAX_PAGE_SIZE)));
        assert!(limit("pageSize=x").is_err());
    }
}

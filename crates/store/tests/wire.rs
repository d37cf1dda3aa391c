//! The wire format against the js-waku vectors: raw js-waku frames sent to
//! our service over a real stream (served from memory and from an SQLite
//! file), and our frames decoded as js-waku's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::raw::raw;
use common::{Backend, Pair, each_backend, vector, vector_bytes};
use prost::Message;
use waku_core::codec::encode_frame;
use waku_core::{MessageHash, WakuMessage};
use waku_store::proto::{StoreQueryRequest, StoreQueryResponse};
use waku_store::{Config, MAX_REQUEST_SIZE, PROTOCOL, ResponseError, StoreResponse, StoredMessage};

const REQUESTS: [&str; 4] = [
    "store_query_content_time_range",
    "store_query_page_size_1_with_cursor",
    "store_query_backward_no_limit",
    "store_query_hash_lookup_as_sent_by_js_waku",
];

/// Messages A and B of the vectors, as stored entries.
fn a_and_b() -> Vec<StoredMessage> {
    let response =
        StoreQueryResponse::decode(vector_bytes("store_response_two_messages", "hex").as_slice())
            .unwrap();
    response
        .messages
        .into_iter()
        .map(|kv| {
            let m = WakuMessage::try_from(kv.message.unwrap()).unwrap();
            StoredMessage::new(kv.pubsub_topic.unwrap(), m)
        })
        .collect()
}

fn hash_field(name: &str) -> MessageHash {
    let all: serde_json::Value = serde_json::from_str(common::VECTORS).unwrap();
    all[name].as_str().unwrap().parse().unwrap()
}

// spec: STORE-001, STORE-002
#[test]
fn js_waku_requests_decode_and_reencode_identically() {
    for name in REQUESTS {
        assert_eq!(vector(name)["codec"], PROTOCOL.as_ref());
        let bytes = vector_bytes(name, "hex");
        let req = StoreQueryRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(req.encode_to_vec(), bytes, "{name}");
        assert_eq!(
            encode_frame(&req),
            vector_bytes(name, "length_prefixed_hex")
        );
        assert_eq!(req.request_id, vector(name)["object"]["requestId"]);
    }
}

// spec: STORE-002, STORE-006, STORE-007, STORE-008
#[tokio::test]
async fn our_response_is_byte_identical_to_js_waku_encoding() {
    let stored = a_and_b();
    assert_eq!(stored[0].hash, hash_field("message_hash_A"));
    assert_eq!(stored[1].hash, hash_field("message_hash_B"));
    // A third, later message: the page [A, B] then has a cursor (B).
    let later = WakuMessage {
        timestamp: Some(stored[1].timestamp() + 1),
        ..stored[1].message.clone()
    };
    let mut entries = stored.clone();
    entries.push(StoredMessage::new(stored[1].pubsub_topic.clone(), later));
    let last = entries[2].hash;
    let mut p = Pair::with_client(
        Backend::Memory.with(entries).await,
        Config::default(),
        raw(PROTOCOL),
    )
    .await;
    let request_id = "00000000-0000-4000-8000-000000000001";
    let first = StoreQueryRequest {
        request_id: request_id.into(),
        include_data: true,
        pagination_forward: true,
        pagination_limit: Some(2),
        ..StoreQueryRequest::default()
    };
    assert_eq!(
        p.send_raw(encode_frame(&first)).await,
        encode_frame(
            &StoreQueryResponse::decode(
                vector_bytes("store_response_two_messages", "hex").as_slice()
            )
            .unwrap()
        ),
    );
    let after_all = StoreQueryRequest {
        pagination_cursor: Some(last.as_bytes().to_vec()),
        ..first
    };
    assert_eq!(
        p.send_raw(encode_frame(&after_all)).await,
        encode_frame(
            &StoreQueryResponse::decode(
                vector_bytes("store_response_empty_last_page", "hex").as_slice()
            )
            .unwrap()
        ),
    );
}

// spec: STORE-025, STORE-008
#[test]
fn client_checks_status_and_entries() {
    let parse = |name: &str| {
        StoreResponse::try_from(
            StoreQueryResponse::decode(vector_bytes(name, "hex").as_slice()).unwrap(),
        )
    };
    let two = parse("store_response_two_messages").unwrap();
    assert_eq!(two.entries.len(), 2);
    assert_eq!(two.cursor, Some(hash_field("message_hash_B")));
    let keys = parse("store_response_hashes_only").unwrap();
    assert!(keys.entries[0].value.is_none());
    assert_eq!(
        parse("store_response_error"),
        Err(ResponseError::Status {
            code: 400,
            desc: "BAD_REQUEST: invalid cursor".into()
        })
    );
    let mut no_status = StoreQueryResponse::decode(
        vector_bytes("store_response_empty_last_page", "hex").as_slice(),
    )
    .unwrap();
    no_status.status_code = None;
    assert_eq!(
        StoreResponse::try_from(no_status),
        Err(ResponseError::MissingStatus)
    );
    let mut half =
        StoreQueryResponse::decode(vector_bytes("store_response_two_messages", "hex").as_slice())
            .unwrap();
    half.messages[1].pubsub_topic = None;
    assert_eq!(
        StoreResponse::try_from(half),
        Err(ResponseError::HalfValue(1))
    );
}

async fn js_pair(backend: Backend) -> Pair<common::raw::Raw> {
    Pair::with_client(
        backend.with(a_and_b()).await,
        Config::default(),
        raw(PROTOCOL),
    )
    .await
}

fn decode_frame(bytes: &[u8]) -> StoreQueryResponse {
    let (r, used) = waku_core::codec::decode_frame::<StoreQueryResponse>(bytes, usize::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(
        used,
        bytes.len(),
        "exactly one frame, then the stream closed"
    );
    r
}

/// Sends the js-waku vector `name` (a length-prefixed query frame) as raw
/// bytes and decodes the one response frame.
async fn send_vector(p: &mut Pair<common::raw::Raw>, name: &str) -> StoreQueryResponse {
    decode_frame(&p.send_raw(vector_bytes(name, "length_prefixed_hex")).await)
}

// spec: STORE-001, STORE-002, STORE-014, STORE-015, STORE-020, STORE-024, STORE-035
#[tokio::test]
async fn js_waku_frames_are_served_over_a_stream() {
    for backend in each_backend() {
        let mut p = js_pair(backend).await;
        let a = hash_field("message_hash_A");
        let b = hash_field("message_hash_B");
        let hashes = |r: &StoreQueryResponse| -> Vec<MessageHash> {
            r.messages
                .iter()
                .map(|kv| MessageHash::from_slice(kv.message_hash.as_deref().unwrap()).unwrap())
                .collect()
        };

        let r = send_vector(&mut p, "store_query_content_time_range").await;
        assert_eq!(r.status_code, Some(200));
        assert_eq!(r.request_id, "00000000-0000-4000-8000-000000000001");
        assert_eq!(hashes(&r), vec![a, b]);
        assert!(
            r.messages
                .iter()
                .all(|kv| kv.pubsub_topic.as_deref() == Some("/waku/2/rs/1/4"))
        );
        assert_eq!(r.pagination_cursor, None);

        let r = send_vector(&mut p, "store_query_backward_no_limit").await;
        assert_eq!(hashes(&r), vec![a, b], "backward, still oldest-first");
    }
}

// spec: STORE-037
#[tokio::test]
async fn undecodable_and_oversized_frames_get_400_and_the_peer_is_still_served() {
    for backend in each_backend() {
        let mut p = js_pair(backend).await;
        // Field 1 (request_id, a string) sent as a varint: not a request.
        let r = decode_frame(&p.send_raw(vec![3, 0x08, 0x96, 0x01]).await);
        assert_eq!(r.status_code, Some(400));
        let desc = r.status_desc.unwrap_or_default();
        assert!(desc.starts_with("decoding rpc failed: "), "{desc}");
        assert_eq!(r.request_id, "");
        assert!(r.messages.is_empty());
        // A length prefix beyond the request limit is answered before its body.
        let mut huge = Vec::new();
        prost::encoding::encode_varint((MAX_REQUEST_SIZE + 1) as u64, &mut huge);
        let r = decode_frame(&p.send_raw(huge).await);
        assert_eq!(r.status_code, Some(400));
        let desc = r.status_desc.unwrap_or_default();
        assert!(desc.contains("exceeds the limit"), "{desc}");
        // The same connection still serves real queries.
        let r = send_vector(&mut p, "store_query_content_time_range").await;
        assert_eq!(r.status_code, Some(200));
        assert_eq!(r.messages.len(), 2);
    }
}

// spec: STORE-023, STORE-028, STORE-033
#[tokio::test]
async fn js_waku_paging_and_lookup_frames() {
    for backend in each_backend() {
        let mut p = js_pair(backend).await;
        let b = hash_field("message_hash_B");
        // Cursor at A, limit 1, forward: B, and B is the last one.
        let r = send_vector(&mut p, "store_query_page_size_1_with_cursor").await;
        assert_eq!(r.status_code, Some(200));
        assert_eq!(r.messages.len(), 1);
        assert_eq!(r.messages[0].message_hash.as_deref(), Some(&b.0[..]));
        assert_eq!(
            r.pagination_cursor, None,
            "an exactly full last page has no cursor"
        );
        // js-waku asks again with B as cursor and expects 200 and nothing.
        let mut next = StoreQueryRequest::decode(
            vector_bytes("store_query_page_size_1_with_cursor", "hex").as_slice(),
        )
        .unwrap();
        next.pagination_cursor = Some(b.0.to_vec());
        let r = decode_frame(&p.send_raw(encode_frame(&next)).await);
        assert_eq!(r.status_code, Some(200));
        assert!(r.messages.is_empty());
        assert_eq!(r.pagination_cursor, None);
        // The hash lookup as js-waku sends it (with pubsub_topic).
        let r = send_vector(&mut p, "store_query_hash_lookup_as_sent_by_js_waku").await;
        assert_eq!(r.status_code, Some(200));
        assert_eq!(r.messages.len(), 2);
    }
}

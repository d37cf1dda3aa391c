//! The wire format against the js-waku vectors: js-waku's frames decode
//! and re-encode byte for byte, our responses are byte identical to its
//! encoding, and our client reads its answers. How the service answers
//! js-waku's frames over a stream is checked black-box by the conformance
//! runner (crates/conformance, run against wakunode by
//! crates/node/tests/conformance_own_node.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::raw::raw;
use common::{Backend, Pair, vector, vector_bytes};
use prost::Message;
use waku_core::codec::encode_frame;
use waku_core::{MessageHash, WakuMessage};
use waku_store::proto::{StoreQueryRequest, StoreQueryResponse};
use waku_store::{Config, PROTOCOL, ResponseError, StoreResponse, StoredMessage};

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

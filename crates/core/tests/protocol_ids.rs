//! Protocol ids agree with the codecs js-waku speaks (`vectors/codecs.json`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use waku_core::protocol_id;

#[test]
fn protocol_ids_match_js_waku() {
    let doc: Value = serde_json::from_str(include_str!("vectors/codecs.json")).unwrap();
    let c = &doc["codecs"];
    assert_eq!(c["relay"][0], protocol_id::RELAY);
    assert_eq!(c["store_query_v3"], protocol_id::STORE_QUERY_V3);
    assert_eq!(c["filter_subscribe_v2"], protocol_id::FILTER_SUBSCRIBE_V2);
    assert_eq!(c["filter_push_v2"], protocol_id::FILTER_PUSH_V2);
    assert_eq!(c["lightpush_v3"], protocol_id::LIGHTPUSH_V3);
    assert_eq!(c["lightpush_v2"], protocol_id::LIGHTPUSH_V2);
    assert_eq!(c["metadata"], protocol_id::METADATA);
    assert_eq!(c["peer_exchange"], protocol_id::PEER_EXCHANGE);
    assert_eq!(c["identify"], protocol_id::IDENTIFY);
    assert_eq!(c["ping"], protocol_id::PING);
}

//! `waku sign` as an operator of a protected shard runs it: the printed key
//! goes into `--protected-shard`, the printed body into a REST publish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Output;

use common::waku;

use base64::Engine as _;
use serde_json::Value;
use waku_core::{WakuMessage, now_nanos};
use waku_relay::{ProtectedShardValidator, Verdict, parse_public_key_hex};
use waku_sharding::RelayShard;

const KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn b64(text: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_str().unwrap())
        .unwrap()
}

#[test]
fn a_signed_body_passes_the_shards_validator_and_a_changed_one_does_not() {
    let public = stdout(&waku(&["sign", "--key", KEY, "--public-key"]));
    let validator = ProtectedShardValidator::new(
        RelayShard::new(1, 32),
        parse_public_key_hex(public.trim()).unwrap(),
    );
    let body: Value = serde_json::from_str(&stdout(&waku(&[
        "sign",
        "--key",
        KEY,
        "--pubsub-topic",
        "/waku/2/rs/1/32",
        "--content-topic",
        "/myapp/1/chat/proto",
        "--payload",
        "hello",
    ])))
    .unwrap();
    let mut message = WakuMessage::new(b64(&body["payload"]), "/myapp/1/chat/proto");
    message.timestamp = body["timestamp"].as_i64();
    message.meta = Some(b64(&body["meta"]).into());
    assert_eq!(message.payload.as_ref(), b"hello");
    assert!(matches!(
        validator.check("/waku/2/rs/1/32", &message, now_nanos()),
        Verdict::Accept
    ));
    message.payload = b"changed"[..].into();
    assert!(matches!(
        validator.check("/waku/2/rs/1/32", &message, now_nanos()),
        Verdict::Reject(_)
    ));
}

#[test]
fn bad_keys_and_missing_topics_exit_2() {
    for args in [
        &["sign", "--key", "zz", "--public-key"][..],
        &["sign", "--key", "00", "--public-key"],
        &["sign", "--key", KEY, "--pubsub-topic", "/waku/2/rs/1/32"],
    ] {
        let o = waku(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

//! Deterministic message hash against the 14/WAKU2-MESSAGE spec vectors and
//! the js-waku vectors (see `vectors/message_hash.json`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use sha2::{Digest, Sha256};
use waku_core::{MessageHash, WakuMessage, message_hash};

const VECTORS: &str = include_str!("vectors/message_hash.json");

struct Case {
    name: String,
    pubsub_topic: String,
    message: WakuMessage,
    js_hash: String,
    nwaku_hash: String,
    spec_expected: Option<String>,
    preimage: Option<Vec<u8>>,
}

fn cases() -> Vec<Case> {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let input = &c["input"];
            let mut message = WakuMessage::new(
                hex::decode(input["payload_hex"].as_str().unwrap()).unwrap(),
                input["content_topic"].as_str().unwrap(),
            );
            message.meta = input["meta_hex"]
                .as_str()
                .map(|m| hex::decode(m).unwrap().into());
            message.timestamp = input["timestamp"]
                .as_str()
                .map(|t| t.parse::<i64>().unwrap());
            Case {
                name: c["name"].as_str().unwrap().to_owned(),
                pubsub_topic: input["pubsub_topic"].as_str().unwrap().to_owned(),
                message,
                js_hash: c["hash"].as_str().unwrap().to_owned(),
                nwaku_hash: c["nwaku_style_hash"].as_str().unwrap().to_owned(),
                spec_expected: c["spec_expected"].as_str().map(str::to_owned),
                preimage: c["preimage_hex"].as_str().map(|p| hex::decode(p).unwrap()),
            }
        })
        .collect()
}

// spec: MSG-017, MSG-018, MSG-020
#[test]
fn spec_vectors_hash_as_published() {
    let with_spec: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.spec_expected.is_some())
        .collect();
    assert_eq!(with_spec.len(), 4, "the four vectors of 14/WAKU2-MESSAGE");
    for case in with_spec {
        let expected = case.spec_expected.as_deref().unwrap();
        assert_eq!(
            message_hash(&case.pubsub_topic, &case.message).to_hex(),
            expected,
            "{}",
            case.name
        );
    }
}

// spec: MSG-017, MSG-018
#[test]
fn js_waku_vectors_agree_whenever_a_timestamp_is_set() {
    let mut checked = 0;
    for case in cases()
        .into_iter()
        .filter(|c| c.message.timestamp_or_zero() != 0)
    {
        let ours = message_hash(&case.pubsub_topic, &case.message);
        assert_eq!(ours.to_hex(), case.js_hash, "{}", case.name);
        // The preimage js-waku hashed is exactly ours.
        if let Some(preimage) = &case.preimage {
            let raw: [u8; 32] = Sha256::digest(preimage).into();
            assert_eq!(ours, MessageHash(raw), "{}", case.name);
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} cases with timestamps");
}

// spec: MSG-006
#[test]
fn zero_timestamp_follows_nwaku_and_appends_eight_zero_bytes() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "timestamp_zero")
        .unwrap();
    let ours = message_hash(&case.pubsub_topic, &case.message).to_hex();
    assert_eq!(ours, case.nwaku_hash);
    assert_ne!(ours, case.js_hash, "js-waku leaves the timestamp out");

    // Absent and zero hash alike.
    let mut absent = case.message.clone();
    absent.timestamp = None;
    assert_eq!(message_hash(&case.pubsub_topic, &absent).to_hex(), ours);
}

// spec: MSG-017
#[test]
fn fields_outside_the_hash_do_not_change_it() {
    let mut m = WakuMessage::new(&b"x"[..], "/a/1/b/c");
    m.timestamp = Some(5);
    let before = message_hash("/waku/2/rs/1/0", &m);
    m.version = Some(1);
    m.ephemeral = Some(true);
    m.rate_limit_proof = Some(Default::default());
    assert_eq!(message_hash("/waku/2/rs/1/0", &m), before);
    assert_ne!(message_hash("/waku/2/rs/1/1", &m), before);
}

// spec: MSG-019
#[test]
fn absent_and_empty_meta_hash_alike() {
    let mut m = WakuMessage::new(&b"payload"[..], "/a/1/b/c");
    m.timestamp = Some(1);
    let absent = message_hash("/waku/2/rs/1/0", &m);
    m.meta = Some(bytes::Bytes::new());
    assert_eq!(message_hash("/waku/2/rs/1/0", &m), absent);
    m.meta = Some(bytes::Bytes::from_static(b"m"));
    assert_ne!(message_hash("/waku/2/rs/1/0", &m), absent);
}

//! WakuMessage wire encoding against the js-waku (protons) vectors in
//! `vectors/waku_message_proto.json`, and proptest round trips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::Value;
use waku_core::{MessageError, RateLimitProof, WakuMessage, message_hash};

const VECTORS: &str = include_str!("vectors/waku_message_proto.json");

fn bytes_field(v: &Value) -> bytes::Bytes {
    hex::decode(v.as_str().unwrap()).unwrap().into()
}

/// Builds our message from a vector's JSON object (protons field names).
fn from_json(m: &Value) -> WakuMessage {
    WakuMessage {
        payload: m.get("payload").map(bytes_field).unwrap_or_default(),
        content_topic: m["contentTopic"].as_str().unwrap_or_default().to_owned(),
        version: m.get("version").map(|v| v.as_u64().unwrap() as u32),
        timestamp: m
            .get("timestamp")
            .map(|t| t.as_str().unwrap().parse().unwrap()),
        meta: m.get("meta").map(bytes_field),
        rate_limit_proof: m.get("rateLimitProof").map(|p| RateLimitProof {
            proof: bytes_field(&p["proof"]),
            merkle_root: bytes_field(&p["merkleRoot"]),
            epoch: bytes_field(&p["epoch"]),
            share_x: bytes_field(&p["shareX"]),
            share_y: bytes_field(&p["shareY"]),
            nullifier: bytes_field(&p["nullifier"]),
            rln_identifier: bytes_field(&p["rlnIdentifier"]),
        }),
        ephemeral: m.get("ephemeral").map(|e| e.as_bool().unwrap()),
    }
}

// spec: MSG-001, MSG-002, MSG-010, MSG-011
#[test]
fn encodings_match_js_waku_byte_for_byte() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    let mut n = 0;
    for case in doc["messages"].as_array().unwrap() {
        let ours = from_json(&case["message"]);
        let expected = case["hex"].as_str().unwrap();
        assert_eq!(
            hex::encode(ours.encode_to_vec()),
            expected,
            "{}",
            case["name"]
        );
        assert_eq!(ours.encoded_len() * 2, expected.len());
        let decoded = WakuMessage::decode(&hex::decode(expected).unwrap()).unwrap();
        assert_eq!(decoded, from_json(&case["decoded"]), "{}", case["name"]);
        n += 1;
    }
    assert!(n >= 7);
}

// spec: MSG-010
#[test]
fn sdk_encoder_output_decodes_and_hashes_as_js_waku() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    for case in doc["sdk_encoder_output"].as_array().unwrap() {
        let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
        let m = WakuMessage::decode(&bytes).unwrap();
        assert_eq!(m, from_json(&case["proto_object"]), "{}", case["name"]);
        assert_eq!(m.encode_to_vec(), bytes, "re-encoding is byte-identical");
        assert_eq!(m.version, Some(0));
        assert_eq!(m.is_ephemeral(), case["ephemeral"].as_bool().unwrap());
        let hash = message_hash(case["pubsub_topic"].as_str().unwrap(), &m);
        assert_eq!(hash.to_hex(), case["message_hash"].as_str().unwrap());
    }
}

#[test]
fn lenient_decoding_cases() {
    let doc: Value = serde_json::from_str(VECTORS).unwrap();
    for case in doc["decoding"].as_array().unwrap() {
        let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
        let result = WakuMessage::decode(&bytes);
        if case["ok"].as_bool().unwrap() {
            assert_eq!(
                result.unwrap(),
                from_json(&case["decoded"]),
                "{}",
                case["name"]
            );
        } else {
            assert!(result.is_err(), "{}", case["name"]);
        }
    }
}

// spec: MSG-003
#[test]
fn meta_longer_than_64_bytes_is_refused_on_decode() {
    let mut m = WakuMessage::new(&b"p"[..], "/a/1/b/c");
    m.meta = Some(vec![7u8; 64].into());
    assert_eq!(WakuMessage::decode(&m.encode_to_vec()).unwrap(), m);
    m.meta = Some(vec![7u8; 65].into());
    assert_eq!(
        WakuMessage::decode(&m.encode_to_vec()),
        Err(MessageError::MetaTooLong(65))
    );
}

// spec: MSG-002
#[test]
fn content_topic_that_is_not_utf8_fails_to_decode() {
    // field 2, length 2, bytes 0xff 0xfe: not UTF-8.
    let err = WakuMessage::decode(&[0x12, 0x02, 0xff, 0xfe]).unwrap_err();
    assert!(matches!(err, MessageError::Decode(_)), "{err:?}");
    let ok = WakuMessage::decode(&[0x12, 0x02, 0xc3, 0xbc]).unwrap();
    assert_eq!(ok.content_topic, "\u{fc}");
}

// spec: MSG-004, MSG-007, MSG-008
#[test]
fn absent_optional_fields_read_as_their_defaults() {
    let m = WakuMessage::decode(&hex::decode("0a026869").unwrap()).unwrap();
    assert_eq!((m.version, m.version_or_zero()), (None, 0));
    assert_eq!((m.timestamp, m.timestamp_or_zero()), (None, 0));
    assert!(!m.is_ephemeral());
    let mut e = m.clone();
    e.ephemeral = Some(false);
    assert!(!e.is_ephemeral());
    e.ephemeral = Some(true);
    assert!(e.is_ephemeral());
    // Present-but-default fields are still emitted (presence is kept).
    let mut v = m.clone();
    v.version = Some(0);
    assert_ne!(v.encode_to_vec(), m.encode_to_vec());
}

#[test]
fn truncated_bytes_are_a_typed_error() {
    let mut m = WakuMessage::new(vec![1u8; 40], "/a/1/b/c");
    m.timestamp = Some(1_700_000_000_000_000_000);
    let bytes = m.encode_to_vec();
    for cut in 1..bytes.len() {
        // Every strict prefix either fails with a typed error or decodes to
        // something else: never a panic.
        if let Ok(decoded) = WakuMessage::decode(&bytes[..cut]) {
            assert_ne!(decoded, m);
        }
    }
}

fn arb_opt_bytes(max: usize) -> impl Strategy<Value = Option<bytes::Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..max).prop_map(Into::into))
}

fn arb_message() -> impl Strategy<Value = WakuMessage> {
    (
        proptest::collection::vec(any::<u8>(), 0..512),
        ".{0,40}",
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<i64>()),
        arb_opt_bytes(65),
        proptest::option::of(any::<bool>()),
        proptest::option::of(arb_opt_bytes(40)),
    )
        .prop_map(
            |(payload, topic, version, timestamp, meta, ephemeral, proof)| WakuMessage {
                payload: payload.into(),
                content_topic: topic,
                version,
                timestamp,
                meta,
                rate_limit_proof: proof.map(|p| RateLimitProof {
                    proof: p.unwrap_or_default(),
                    ..Default::default()
                }),
                ephemeral,
            },
        )
}

proptest! {
    // spec: MSG-001, MSG-011
    #[test]
    fn encode_decode_round_trip(m in arb_message()) {
        prop_assert_eq!(WakuMessage::decode(&m.encode_to_vec()).unwrap(), m.clone());
        prop_assert_eq!(m.encode_to_vec().len(), m.encoded_len());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = WakuMessage::decode(&bytes);
    }
}

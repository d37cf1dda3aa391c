//! The wire format against the js-waku vectors, and the codec's framing.
//! Unit tests: what we announce and the codec are not public API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::request_response::Codec;
use proptest::prelude::*;
use prost::Message;
use serde_json::Value;
use waku_core::codec::encode_frame;

use crate::codec::MetadataCodec;
use crate::proto::{WakuMetadataRequest, WakuMetadataResponse};
use crate::{Behaviour, Config, MAX_FRAME_SIZE, PROTOCOL, PeerMetadata, ShardSet};

/// The metadata vectors copied from the js-waku run.
const VECTORS: &str = include_str!("../tests/vectors/metadata.json");

fn vector(name: &str) -> Value {
    waku_testkit::vectors::case(VECTORS, "metadata", name)
}

fn vector_bytes(name: &str, field: &str) -> Vec<u8> {
    waku_testkit::vectors::case_bytes(VECTORS, "metadata", name, field)
}

/// The packed form of `shards` (field 2, wire type 2), after `cluster_id`.
fn packed(cluster: u32, shards: &[u32]) -> Vec<u8> {
    let mut body = Vec::new();
    for s in shards {
        prost::encoding::encode_varint(u64::from(*s), &mut body);
    }
    let mut out = vec![0x08];
    prost::encoding::encode_varint(u64::from(cluster), &mut out);
    out.push(0x12);
    prost::encoding::encode_varint(body.len() as u64, &mut out);
    out.extend(body);
    out
}

fn service_node() -> Behaviour {
    Behaviour::new(Config::new(1).with_shards(ShardSet::with_shards(0..8).unwrap()))
}

// spec: META-001
#[test]
fn protocol_id_is_the_one_js_waku_uses() {
    assert_eq!(PROTOCOL.as_ref(), "/vac/waku/metadata/1.0.0");
    for name in [
        "metadata_request_js_light_node",
        "metadata_response_service_node",
        "metadata_response_js_light_node",
    ] {
        assert_eq!(vector(name)["codec"], PROTOCOL.as_ref());
    }
}

// spec: META-002, META-012, META-013, META-016
#[test]
fn our_request_without_shards_matches_js_waku() {
    let ours = Behaviour::new(Config::new(1)).local_request();
    assert_eq!(ours.cluster_id, Some(1));
    assert!(ours.shards.is_empty());
    assert_eq!(
        ours.encode_to_vec(),
        vector_bytes("metadata_request_js_light_node", "hex")
    );
    assert_eq!(
        encode_frame(&ours),
        vector_bytes("metadata_request_js_light_node", "length_prefixed_hex")
    );
}

/// Field 3 (packed shards), as go-waku reads it: tag 0x1a, length, varints.
fn field3(shards: &[u32]) -> Vec<u8> {
    let mut body = Vec::new();
    for s in shards {
        prost::encoding::encode_varint(u64::from(*s), &mut body);
    }
    let mut out = vec![0x1a];
    prost::encoding::encode_varint(body.len() as u64, &mut out);
    out.extend(body);
    out
}

// spec: META-003, META-012, META-021
#[test]
fn our_response_with_shards_is_the_service_node_vector_plus_packed_field_3() {
    let ours = service_node().local_response();
    // Field 1 and 2 as js-waku's service-node vector, then field 3 packed.
    let mut expected = vector_bytes("metadata_response_service_node", "hex");
    expected.extend(field3(&(0..8).collect::<Vec<_>>()));
    assert_eq!(ours.encode_to_vec(), expected);
    assert_eq!(ours.shards, ours.shards_packed);
    // Requests use the same layout.
    assert_eq!(
        service_node().local_request().encode_to_vec(),
        ours.encode_to_vec()
    );
    // What js-waku reads (field 2) still sees every shard.
    let js_view = WakuMetadataResponse::decode(
        vector_bytes("metadata_response_service_node", "hex").as_slice(),
    )
    .unwrap();
    assert_eq!(js_view.shards, ours.shards);
}

// spec: META-021
#[test]
fn received_shards_come_from_field_3_first_then_field_2() {
    let peer = |bytes: &[u8]| {
        (
            PeerMetadata::from(&WakuMetadataResponse::decode(bytes).unwrap()),
            PeerMetadata::from(&WakuMetadataRequest::decode(bytes).unwrap()),
        )
    };
    // go-waku: only field 3.
    let mut go_waku = vec![0x08, 0x2a];
    go_waku.extend(field3(&[0, 3]));
    let (res, req) = peer(&go_waku);
    assert_eq!(res, PeerMetadata::new(Some(42), [0, 3]));
    assert_eq!(req, res);
    // js-waku: only field 2.
    let (res, _) = peer(&vector_bytes("metadata_response_service_node", "hex"));
    assert_eq!(res, PeerMetadata::new(Some(1), 0..8));
    // Both present and different: field 3 wins, as nwaku reads it.
    let mut both = vec![0x08, 0x01, 0x10, 0x05];
    both.extend(field3(&[1, 2]));
    let (res, req) = peer(&both);
    assert_eq!(res.shards.into_iter().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(req.shards.into_iter().collect::<Vec<_>>(), [1, 2]);
    // Neither: no shards.
    let (res, _) = peer(&[0x08, 0x01]);
    assert!(res.shards.is_empty());
}

// spec: META-021
#[test]
fn a_node_without_shards_writes_neither_field() {
    let ours = Behaviour::new(Config::new(42)).local_response();
    assert_eq!(ours.encode_to_vec(), [0x08, 0x2a]);
}

// spec: META-002, META-003
#[test]
fn js_waku_messages_decode() {
    for (name, cluster, shards) in [
        ("metadata_request_js_light_node", 1, vec![]),
        ("metadata_response_js_light_node", 1, vec![]),
        ("metadata_response_service_node", 1, (0..8).collect()),
    ] {
        let v = vector(name);
        assert_eq!(v["decoded"]["clusterId"], cluster);
        let bytes = vector_bytes(name, "hex");
        let req = WakuMetadataRequest::decode(bytes.as_slice()).unwrap();
        let res = WakuMetadataResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(req.cluster_id, Some(cluster), "{name}");
        assert_eq!(req.shards, shards, "{name}");
        assert_eq!((res.cluster_id, res.shards), (Some(cluster), shards));
    }
}

// spec: META-002, META-003
#[test]
fn packed_and_unpacked_shards_both_decode() {
    let unpacked = vector_bytes("metadata_response_service_node", "hex");
    let packed_form = packed(1, &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert_ne!(packed_form, unpacked);
    for bytes in [&packed_form, &unpacked] {
        let res = WakuMetadataResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(res.cluster_id, Some(1));
        assert_eq!(res.shards, (0..8).collect::<Vec<_>>());
        let req = WakuMetadataRequest::decode(bytes.as_slice()).unwrap();
        assert_eq!(req.shards, (0..8).collect::<Vec<_>>());
    }
    // A mix of both forms in one message is valid protobuf too.
    let mut mixed = packed(1, &[0, 1]);
    mixed.extend([0x10, 0x05]);
    let res = WakuMetadataResponse::decode(mixed.as_slice()).unwrap();
    assert_eq!(res.shards, [0, 1, 5]);
}

// spec: META-002
#[test]
fn no_cluster_id_decodes_as_absent() {
    let res = WakuMetadataResponse::decode([0x10u8, 0x03].as_slice()).unwrap();
    assert_eq!(res.cluster_id, None);
    // Cluster 0 is present on the wire, not absent.
    let zero = WakuMetadataRequest {
        cluster_id: Some(0),
        ..Default::default()
    };
    assert_eq!(zero.encode_to_vec(), [0x08, 0x00]);
}

// spec: META-001, META-002, META-003
#[test]
fn codec_reads_and_writes_frames() {
    let mut codec = MetadataCodec;
    let frame = vector_bytes("metadata_request_js_light_node", "length_prefixed_hex");
    let req = block_on(codec.read_request(&PROTOCOL, &mut Cursor::new(frame))).unwrap();
    assert_eq!(req.cluster_id, Some(1));

    let mut out = Cursor::new(Vec::new());
    block_on(codec.write_response(&PROTOCOL, &mut out, service_node().local_response())).unwrap();
    // js-waku's service-node frame, plus field 3 (META-021).
    let mut body = vector_bytes("metadata_response_service_node", "hex");
    body.extend(field3(&(0..8).collect::<Vec<_>>()));
    let mut expected = Vec::new();
    prost::encoding::encode_varint(body.len() as u64, &mut expected);
    expected.extend(body);
    assert_eq!(out.into_inner(), expected);

    let frame = vector_bytes("metadata_response_js_light_node", "length_prefixed_hex");
    let res = block_on(codec.read_response(&PROTOCOL, &mut Cursor::new(frame))).unwrap();
    assert_eq!((res.cluster_id, res.shards.len()), (Some(1), 0));

    // A stream that ends without a frame, or inside one, is an error.
    assert!(block_on(codec.read_request(&PROTOCOL, &mut Cursor::new(vec![]))).is_err());
    assert!(block_on(codec.read_request(&PROTOCOL, &mut Cursor::new(vec![0x02, 0x08]))).is_err());
}

#[test]
fn the_frame_limit_holds_every_shard_of_a_cluster() {
    let all =
        Behaviour::new(Config::new(u16::MAX).with_shards(ShardSet::with_shards(0..=1023).unwrap()));
    let res = all.local_response();
    assert!(res.encoded_len() <= MAX_FRAME_SIZE, "{}", res.encoded_len());
    let mut out = Cursor::new(Vec::new());
    block_on(MetadataCodec.write_response(&PROTOCOL, &mut out, res.clone())).unwrap();
    let back = block_on(MetadataCodec.read_response(&PROTOCOL, &mut Cursor::new(out.into_inner())))
        .unwrap();
    assert_eq!(back, res);

    // Larger frames are refused before their body is read.
    let mut huge = Vec::new();
    prost::encoding::encode_varint((MAX_FRAME_SIZE + 1) as u64, &mut huge);
    let err = block_on(MetadataCodec.read_request(&PROTOCOL, &mut Cursor::new(huge))).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn shard_set_refuses_indices_outside_a_cluster() {
    let set = ShardSet::with_shards([1, 2]).unwrap();
    assert!(set.insert(1024).is_err());
    assert!(set.replace([3, 2000]).is_err());
    assert_eq!(set.snapshot().into_iter().collect::<Vec<_>>(), [1, 2]);
    assert!(set.insert(1023).unwrap());
    assert!(!set.insert(1023).unwrap());
    assert_eq!(set.len(), 3);
    let shared = set.clone();
    shared.clear();
    assert!(set.is_empty());
}

// spec: META-010, META-013
#[test]
fn defaults() {
    let config = Config::new(1);
    assert_eq!(config.metadata_ttl().as_secs(), 6 * 60 * 60);
    assert!(config.enforce_cluster());
    assert!(config.shards().is_empty());
    assert_eq!(config.cluster_id(), 1);
}

proptest! {
    // spec: META-002, META-003
    #[test]
    fn any_metadata_round_trips_in_both_forms(
        cluster in any::<u32>(),
        shards in proptest::collection::btree_set(0u32..1024, 0..64),
    ) {
        let shards: Vec<u32> = shards.into_iter().collect();
        let res = WakuMetadataResponse { cluster_id: Some(cluster), shards: shards.clone(), shards_packed: vec![] };
        let bytes = res.encode_to_vec();
        prop_assert_eq!(WakuMetadataResponse::decode(bytes.as_slice()).unwrap(), res.clone());
        prop_assert_eq!(WakuMetadataRequest::decode(bytes.as_slice()).unwrap().shards, shards.clone());
        let from_packed = WakuMetadataResponse::decode(packed(cluster, &shards).as_slice()).unwrap();
        prop_assert_eq!(from_packed, res);
    }
}

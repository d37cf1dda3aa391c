//! A foreign client on raw streams: js-waku's request bytes get the right
//! answer, and every answer ends the stream (the service closed its write
//! side), so a js-waku client reading until the end does not hang.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Peer, lenient_validator, raw, service, swarm, vector, vector_bytes};
use libp2p::request_response::{Event as RrEvent, Message};
use prost::Message as _;
use waku_core::WakuMessage;
use waku_lightpush::proto::{LightPushResponse, PushRpc};
use waku_lightpush::{PROTOCOL_V2, PROTOCOL_V3, PublishFailure};
use waku_testkit::raw::{Raw, RawRequest};

type Answer = fn(&str, &WakuMessage) -> Option<Result<u32, PublishFailure>>;

fn one_peer(_: &str, _: &WakuMessage) -> Option<Result<u32, PublishFailure>> {
    Some(Ok(1))
}

fn no_peers(_: &str, _: &WakuMessage) -> Option<Result<u32, PublishFailure>> {
    Some(Err(PublishFailure::NoPeers))
}

/// Sends `request` on a fresh stream of `protocol` and returns everything
/// read until the end of the stream.
async fn exchange(
    config: waku_lightpush::service::Config,
    answer: Answer,
    protocol: libp2p::StreamProtocol,
    request: Vec<u8>,
) -> (Vec<u8>, Peer<waku_lightpush::service::Behaviour>) {
    let (server, addr) = service(config, answer).await;
    let mut client = Peer::spawn(swarm(raw(protocol, Duration::from_secs(10))));
    client.connect(addr, server.id).await;
    let bytes = send(&mut client, server.id, RawRequest::Bytes(request)).await;
    (bytes, server)
}

async fn send(client: &mut Peer<Raw>, to: libp2p::PeerId, request: RawRequest) -> Vec<u8> {
    let id = client
        .with(move |s| s.behaviour_mut().send_request(&to, request))
        .await;
    client
        .wait_behaviour("the raw answer", |e| match e {
            RrEvent::Message {
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } if request_id == id => Some(response),
            RrEvent::OutboundFailure {
                request_id, error, ..
            } if request_id == id => panic!("{error}"),
            _ => None,
        })
        .await
}

fn lenient() -> waku_lightpush::service::Config {
    waku_lightpush::service::Config::default().with_validator(lenient_validator())
}

// spec: LIGHTPUSH-001, LIGHTPUSH-002, LIGHTPUSH-003, LIGHTPUSH-007, LIGHTPUSH-018
#[tokio::test]
async fn js_waku_request_gets_the_vector_response_and_the_stream_ends() {
    let request = vector_bytes("lightpush_v3_request", "length_prefixed_hex");
    let (answer, mut server) = exchange(lenient(), one_peer, PROTOCOL_V3, request).await;
    // Read until the end of the stream: exactly js-waku's success frame.
    assert_eq!(
        answer,
        vector_bytes("lightpush_v3_response_ok", "length_prefixed_hex")
    );
    let decoded = LightPushResponse::decode_length_delimited(answer.as_slice()).unwrap();
    assert_eq!(
        decoded.request_id,
        vector("lightpush_v3_request")["object"]["requestId"]
    );
    let (topic, message) = server
        .wait_behaviour("the publish request", |e| match e {
            waku_lightpush::service::Event::PublishRequest {
                pubsub_topic,
                message,
                ..
            } => Some((pubsub_topic, message)),
            _ => None,
        })
        .await;
    assert_eq!(topic, "/waku/2/rs/1/4");
    assert_eq!(message.content_topic, "/app/1/chat/proto");
    assert_eq!(&message.payload[..], b"hello");
    assert_eq!(message.timestamp, Some(1_700_000_000_000_000_000));
}

// spec: LIGHTPUSH-002, LIGHTPUSH-005
#[tokio::test]
async fn request_without_pubsub_topic_is_autosharded() {
    use std::sync::Arc;
    use waku_sharding::{AutoSharding, NetworkConfig};
    let config = lenient().with_shard_mapper(Arc::new(AutoSharding(NetworkConfig::TWN)));
    let request = vector_bytes(
        "lightpush_v3_request_autosharding_no_pubsub",
        "length_prefixed_hex",
    );
    let (answer, mut server) = exchange(config, one_peer, PROTOCOL_V3, request).await;
    assert_eq!(
        answer,
        vector_bytes("lightpush_v3_response_ok", "length_prefixed_hex")
    );
    let topic = server
        .wait_behaviour("the publish request", |e| match e {
            waku_lightpush::service::Event::PublishRequest { pubsub_topic, .. } => {
                Some(pubsub_topic)
            }
            _ => None,
        })
        .await;
    assert_eq!(topic, "/waku/2/rs/1/4");
}

// spec: LIGHTPUSH-014, LIGHTPUSH-008
#[tokio::test]
async fn no_relay_peers_is_answered_505_like_nwaku() {
    let request = vector_bytes("lightpush_v3_request", "length_prefixed_hex");
    let (answer, _server) = exchange(lenient(), no_peers, PROTOCOL_V3, request).await;
    // The vector's fields (505, the request id, no peer count) with
    // nwaku's text rather than the vector's made-up "no peers to relay".
    let ours = LightPushResponse::decode_length_delimited(answer.as_slice()).unwrap();
    let theirs = LightPushResponse::decode_length_delimited(
        vector_bytes("lightpush_v3_response_no_peers", "length_prefixed_hex").as_slice(),
    )
    .unwrap();
    assert_eq!(
        ours,
        LightPushResponse {
            status_desc: Some("No peers for topic, skipping publish".into()),
            ..theirs
        }
    );
}

// spec: LIGHTPUSH-009, LIGHTPUSH-018
#[tokio::test]
async fn undecodable_requests_get_400_with_an_unknown_request_id() {
    // A well-framed body that is not a LightPushRequest (field 1 as varint).
    let garbage = vec![3, 0x08, 0x96, 0x01];
    let (answer, _server) = exchange(lenient(), one_peer, PROTOCOL_V3, garbage).await;
    let decoded = LightPushResponse::decode_length_delimited(answer.as_slice()).unwrap();
    assert_eq!(decoded.status_code, 400);
    assert_eq!(
        decoded.request_id,
        waku_lightpush::service::UNKNOWN_REQUEST_ID
    );
    assert_eq!(decoded.relay_peer_count, None);
    // nwaku's wording.
    let desc = decoded.status_desc.clone().unwrap_or_default();
    assert!(desc.starts_with("decode_rpc_failure: "), "{desc}");
    // Exactly one frame.
    assert_eq!(decoded.encode_length_delimited_to_vec(), answer);
}

// spec: LIGHTPUSH-010
#[tokio::test]
async fn js_waku_too_large_response_shape() {
    // js-waku's request with its payload grown past 150 KiB.
    let js = waku_lightpush::proto::LightPushRequest::decode(
        &vector_bytes("lightpush_v3_request", "hex")[..],
    )
    .unwrap();
    let mut request = WakuMessage::try_from(js.message.unwrap()).unwrap();
    request.payload = vec![1u8; 151 * 1024].into();
    let frame = waku_lightpush::proto::LightPushRequest {
        request_id: "big".into(),
        pubsub_topic: Some("/waku/2/rs/1/4".into()),
        message: Some(request.into()),
    }
    .encode_length_delimited_to_vec();
    let (answer, _server) = exchange(lenient(), one_peer, PROTOCOL_V3, frame).await;
    let decoded = LightPushResponse::decode_length_delimited(answer.as_slice()).unwrap();
    let shape = LightPushResponse::decode(
        &vector_bytes("lightpush_v3_response_payload_too_large", "hex")[..],
    )
    .unwrap();
    assert_eq!(decoded.status_code, shape.status_code);
    assert!(
        decoded
            .status_desc
            .unwrap()
            .starts_with(&shape.status_desc.unwrap())
    );
    assert_eq!(decoded.request_id, "big");
}

// spec: LIGHTPUSH2-001, LIGHTPUSH2-002, LIGHTPUSH2-006
#[tokio::test]
async fn js_waku_legacy_request_gets_the_vector_response() {
    let request = vector_bytes("lightpush_v2_request", "length_prefixed_hex");
    let (answer, mut server) = exchange(lenient(), one_peer, PROTOCOL_V2, request).await;
    // js-waku's vector, plus the `info` "OK" nwaku writes on success.
    let mut expected =
        PushRpc::decode(vector_bytes("lightpush_v2_response_ok", "hex").as_slice()).unwrap();
    if let Some(response) = expected.response.as_mut() {
        response.info = Some("OK".into());
    }
    assert_eq!(answer, expected.encode_length_delimited_to_vec());
    let topic = server
        .wait_behaviour("the publish request", |e| match e {
            waku_lightpush::service::Event::PublishRequest { pubsub_topic, .. } => {
                Some(pubsub_topic)
            }
            _ => None,
        })
        .await;
    assert_eq!(topic, "/waku/2/rs/1/4");
    // And the error form decodes as js-waku encodes it.
    let error = PushRpc::decode(&vector_bytes("lightpush_v2_response_error", "hex")[..]).unwrap();
    assert!(!error.response.unwrap().is_success);
}

// spec: LIGHTPUSH-018, LIGHTPUSH2-006
#[tokio::test]
async fn idle_streams_are_tolerated() {
    let config = lenient().with_request_timeout(Duration::from_secs(1));
    let (mut server, addr) = service(config, one_peer).await;
    let mut client = Peer::spawn(swarm(raw(PROTOCOL_V3, Duration::from_secs(10))));
    client.connect(addr, server.id).await;
    let to = server.id;
    // Streams opened ahead of time and never used, as js-waku does.
    for _ in 0..3 {
        client
            .with(move |s| s.behaviour_mut().send_request(&to, RawRequest::Idle))
            .await;
    }
    let request = vector_bytes("lightpush_v3_request", "length_prefixed_hex");
    let answer = send(&mut client, to, RawRequest::Bytes(request.clone())).await;
    assert_eq!(
        answer,
        vector_bytes("lightpush_v3_response_ok", "length_prefixed_hex")
    );
    // After the idle streams timed out the connection still serves.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answer = send(&mut client, to, RawRequest::Bytes(request)).await;
    assert_eq!(
        answer,
        vector_bytes("lightpush_v3_response_ok", "length_prefixed_hex")
    );
    assert!(client.with(move |s| s.is_connected(&to)).await);
    let events = server.drain_for(Duration::from_millis(100)).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, waku_lightpush::service::Event::Abandoned { .. })),
        "{events:?}"
    );
}

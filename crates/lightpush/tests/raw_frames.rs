//! js-waku's frames against ours: its requests and answers decode and
//! re-encode byte for byte, and the one answer the conformance runner
//! cannot provoke (505 when relay has no peer: the runner is always a relay
//! peer) over a raw stream. What the service answers to js-waku's requests
//! (statuses, one answer per stream, idle streams, autosharding) is checked
//! black-box by the conformance runner (crates/conformance, run against
//! wakunode by crates/node/tests/conformance_own_node.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Peer, lenient_validator, raw, service, swarm, vector, vector_bytes};
use libp2p::request_response::{Event as RrEvent, Message};
use prost::Message as _;
use waku_core::WakuMessage;
use waku_lightpush::proto::{LightPushRequest, LightPushResponse, PushRpc};
use waku_lightpush::{PROTOCOL_V3, PublishFailure};
use waku_testkit::raw::{Raw, RawRequest};

type Answer = fn(&str, &WakuMessage) -> Option<Result<u32, PublishFailure>>;

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

// spec: LIGHTPUSH-002, LIGHTPUSH-003, LIGHTPUSH2-002
#[test]
fn js_waku_frames_decode_and_reencode_byte_for_byte() {
    // v3: js-waku's request, with and without a pubsub topic.
    let request = vector_bytes("lightpush_v3_request", "length_prefixed_hex");
    let decoded = LightPushRequest::decode_length_delimited(request.as_slice()).unwrap();
    assert_eq!(
        decoded.request_id,
        vector("lightpush_v3_request")["object"]["requestId"]
    );
    assert_eq!(decoded.pubsub_topic.as_deref(), Some("/waku/2/rs/1/4"));
    let message = WakuMessage::try_from(decoded.message.clone().unwrap()).unwrap();
    assert_eq!(message.content_topic, "/app/1/chat/proto");
    assert_eq!(&message.payload[..], b"hello");
    assert_eq!(message.timestamp, Some(1_700_000_000_000_000_000));
    assert_eq!(decoded.encode_length_delimited_to_vec(), request);
    let autoshard = vector_bytes(
        "lightpush_v3_request_autosharding_no_pubsub",
        "length_prefixed_hex",
    );
    let decoded = LightPushRequest::decode_length_delimited(autoshard.as_slice()).unwrap();
    assert_eq!(decoded.pubsub_topic, None);
    assert_eq!(decoded.encode_length_delimited_to_vec(), autoshard);
    // v3: js-waku's success answer, with the request's id.
    let ok = vector_bytes("lightpush_v3_response_ok", "length_prefixed_hex");
    let response = LightPushResponse::decode_length_delimited(ok.as_slice()).unwrap();
    assert_eq!(response.status_code, 200);
    assert_eq!(
        response.request_id,
        vector("lightpush_v3_request")["object"]["requestId"]
    );
    assert_eq!(response.encode_length_delimited_to_vec(), ok);
    // Legacy: the request, the success answer (plus the "OK" info nwaku
    // writes) and the error form.
    let legacy = vector_bytes("lightpush_v2_request", "length_prefixed_hex");
    let rpc = PushRpc::decode_length_delimited(legacy.as_slice()).unwrap();
    assert_eq!(
        rpc.request.as_ref().map(|r| r.pubsub_topic.as_str()),
        Some("/waku/2/rs/1/4")
    );
    assert_eq!(rpc.encode_length_delimited_to_vec(), legacy);
    let ok = PushRpc::decode(vector_bytes("lightpush_v2_response_ok", "hex").as_slice()).unwrap();
    assert!(ok.response.as_ref().unwrap().is_success);
    assert_eq!(
        ok.encode_to_vec(),
        vector_bytes("lightpush_v2_response_ok", "hex")
    );
    let error = PushRpc::decode(&vector_bytes("lightpush_v2_response_error", "hex")[..]).unwrap();
    assert!(!error.response.unwrap().is_success);
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

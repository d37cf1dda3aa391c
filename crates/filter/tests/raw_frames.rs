//! Foreign peers on raw streams: js-waku's frames match ours byte for
//! byte, our pushes are what js-waku reads, and js-waku-shaped service
//! frames work with our client. What the service answers to js-waku's
//! requests (idle streams, an UNSUBSCRIBE never read, a ping with an empty
//! pubsub topic, unknown request types) is checked black-box by the
//! conformance runner (crates/conformance, run against wakunode by
//! crates/node/tests/conformance_own_node.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{CONTENT, Peer, TOPIC, feed, raw, service, swarm, unlimited, vector, vector_bytes};
use libp2p::request_response::{Event as RrEvent, Message, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{Multiaddr, PeerId};
use prost::Message as _;
use waku_core::WakuMessage;
use waku_filter::proto::{FilterSubscribeRequest, FilterSubscribeResponse, MessagePush};
use waku_filter::{PUSH_PROTOCOL, RequestKind, SUBSCRIBE_PROTOCOL};
use waku_testkit::raw::{Raw, RawRequest};

/// A js-waku-like light node: `rpc` reads answers to the end of the stream;
/// pushes arrive on it too.
#[derive(NetworkBehaviour)]
struct JsLike {
    rpc: Raw,
}

fn js_like() -> JsLike {
    JsLike {
        rpc: raw(
            [
                (SUBSCRIBE_PROTOCOL, ProtocolSupport::Outbound),
                (PUSH_PROTOCOL, ProtocolSupport::Inbound),
            ],
            true,
        ),
    }
}

async fn js_client(server: PeerId, addr: Multiaddr) -> Peer<JsLike> {
    let mut peer = Peer::spawn(swarm(js_like()));
    peer.connect(addr, server).await;
    peer
}

/// Sends `bytes` on a new subscribe stream and returns everything read
/// until the end of the stream.
async fn send(js: &mut Peer<JsLike>, to: PeerId, bytes: Vec<u8>) -> Vec<u8> {
    let id = js
        .with(move |s| {
            s.behaviour_mut()
                .rpc
                .send_request(&to, RawRequest::Bytes(bytes))
        })
        .await;
    js.wait_behaviour("the raw answer", |e| match e {
        JsLikeEvent::Rpc(RrEvent::Message {
            message:
                Message::Response {
                    request_id,
                    response,
                },
            ..
        }) if request_id == id => Some(response),
        JsLikeEvent::Rpc(RrEvent::OutboundFailure {
            request_id, error, ..
        }) if request_id == id => panic!("{error}"),
        _ => None,
    })
    .await
}

fn lp(name: &str) -> Vec<u8> {
    vector_bytes(name, "length_prefixed_hex")
}

// spec: FILTER-002
#[test]
fn js_waku_requests_and_the_ok_answer_match_the_vectors_byte_for_byte() {
    // What the service reads: js-waku's subscribe and ping frames.
    let subscribe =
        FilterSubscribeRequest::decode_length_delimited(lp("filter_subscribe").as_slice()).unwrap();
    assert_eq!(
        subscribe.filter_subscribe_type,
        RequestKind::Subscribe.wire() as i32
    );
    assert_eq!(subscribe.pubsub_topic.as_deref(), Some(TOPIC));
    assert_eq!(subscribe.content_topics, vec![CONTENT.to_owned()]);
    assert_eq!(
        subscribe.request_id,
        vector("filter_subscribe")["object"]["requestId"]
    );
    assert_eq!(
        subscribe.encode_length_delimited_to_vec(),
        lp("filter_subscribe")
    );
    let ping = FilterSubscribeRequest::decode_length_delimited(
        lp("filter_subscriber_ping_as_sent_by_js_waku").as_slice(),
    )
    .unwrap();
    assert_eq!(ping.filter_subscribe_type, 0);
    assert_eq!(ping.pubsub_topic.as_deref(), Some(""));
    // What it writes: the "200 OK" answer, encoded as js-waku encodes it.
    let ok = FilterSubscribeResponse {
        request_id: subscribe.request_id,
        status_code: 200,
        status_desc: Some("OK".into()),
    };
    assert_eq!(
        ok.encode_length_delimited_to_vec(),
        lp("filter_response_ok")
    );
}

// spec: FILTER-002, FILTER-024, FILTER-025, FILTER-030
#[tokio::test]
async fn pushes_are_byte_for_byte_what_js_waku_expects() {
    let (server, addr) = service(unlimited()).await;
    let mut js = js_client(server.id, addr).await;
    let answer = send(&mut js, server.id, lp("filter_subscribe_two_topics")).await;
    assert_eq!(answer, lp("filter_response_ok"));
    let push = MessagePush::decode(&vector_bytes("filter_message_push", "hex")[..]).unwrap();
    let message = WakuMessage::try_from(push.waku_message.unwrap()).unwrap();
    assert_eq!(feed(&server, TOPIC, message).await, 1);
    let pushed = js
        .wait_behaviour("the push", |e| match e {
            JsLikeEvent::Rpc(RrEvent::Message {
                message:
                    Message::Request {
                        request: RawRequest::Bytes(bytes),
                        ..
                    },
                ..
            }) => Some(bytes),
            _ => None,
        })
        .await;
    // Read to the end of the stream: exactly one frame, the vector's.
    assert_eq!(pushed, lp("filter_message_push"));
}

/// A js-waku-shaped service: answers subscribe requests with the vector's
/// frame and pushes raw bytes.
#[derive(NetworkBehaviour)]
struct JsService {
    serve: Raw,
}

// spec: FILTER-019, FILTER-004, FILTER-007, FILTER-002
#[tokio::test]
async fn our_client_works_with_js_waku_shaped_service_frames() {
    let mut remote = Peer::spawn(swarm(JsService {
        serve: raw(
            [
                (SUBSCRIBE_PROTOCOL, ProtocolSupport::Inbound),
                (PUSH_PROTOCOL, ProtocolSupport::Outbound),
            ],
            false,
        ),
    }));
    let addr = remote.listen().await;
    let mut client = Peer::spawn(swarm(waku_filter::client::Behaviour::new(
        Default::default(),
    )));
    client.connect(addr, remote.id).await;
    let to = remote.id;
    let id = client
        .with(move |s| s.behaviour_mut().subscribe(&to, TOPIC, [CONTENT]))
        .await;
    // What our client wrote, answered with js-waku's "200" frame.
    let request = remote
        .wait_behaviour("the subscribe request", |e| match e {
            JsServiceEvent::Serve(RrEvent::Message {
                message:
                    Message::Request {
                        request: RawRequest::Bytes(bytes),
                        channel,
                        ..
                    },
                ..
            }) => Some((bytes, channel)),
            _ => None,
        })
        .await;
    let (bytes, channel) = request;
    let decoded = FilterSubscribeRequest::decode_length_delimited(bytes.as_slice()).unwrap();
    assert_eq!(
        decoded.filter_subscribe_type,
        RequestKind::Subscribe.wire() as i32
    );
    assert_eq!(decoded.pubsub_topic.as_deref(), Some(TOPIC));
    assert_eq!(decoded.content_topics, vec![CONTENT.to_owned()]);
    assert_eq!(decoded.request_id.len(), 36);
    remote
        .with(move |s| {
            s.behaviour_mut()
                .serve
                .send_response(channel, lp("filter_response_ok_no_desc"))
                .unwrap()
        })
        .await;
    let result = client
        .wait_behaviour("the answer", |e| match e {
            waku_filter::client::Event::Response {
                request, result, ..
            } if request == id => Some(result),
            _ => None,
        })
        .await;
    assert!(result.is_ok(), "{result:?}");
    // js-waku's push frame is delivered.
    let client_id = client.id;
    remote
        .with(move |s| {
            s.behaviour_mut()
                .serve
                .send_request(&client_id, RawRequest::Bytes(lp("filter_message_push")))
        })
        .await;
    let (topic, message) = client
        .wait_behaviour("the push", |e| match e {
            waku_filter::client::Event::Message {
                pubsub_topic,
                message,
                ..
            } => Some((pubsub_topic, message)),
            _ => None,
        })
        .await;
    assert_eq!(topic, TOPIC);
    assert_eq!(&message.payload[..], b"hello");
    // And js-waku's 404 frame is an error.
    let id = client.with(move |s| s.behaviour_mut().ping(&to)).await;
    let (bytes, channel) = remote
        .wait_behaviour("the ping", |e| match e {
            JsServiceEvent::Serve(RrEvent::Message {
                message:
                    Message::Request {
                        request: RawRequest::Bytes(bytes),
                        channel,
                        ..
                    },
                ..
            }) => Some((bytes, channel)),
            _ => None,
        })
        .await;
    let ping = FilterSubscribeRequest::decode_length_delimited(bytes.as_slice()).unwrap();
    assert_eq!(ping.filter_subscribe_type, 0);
    assert_eq!(ping.pubsub_topic.as_deref(), Some(""));
    remote
        .with(move |s| {
            s.behaviour_mut()
                .serve
                .send_response(channel, lp("filter_response_not_found"))
                .unwrap()
        })
        .await;
    let result = client
        .wait_behaviour("the answer", |e| match e {
            waku_filter::client::Event::Response {
                request, result, ..
            } if request == id => Some(result),
            _ => None,
        })
        .await;
    assert_eq!(common::status(&result), 404);
    // A 404 to a ping means the service forgot us.
    assert!(
        !client
            .with(move |s| s.behaviour().is_subscribed(&to, TOPIC, CONTENT))
            .await
    );
}

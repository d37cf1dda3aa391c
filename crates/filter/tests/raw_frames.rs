//! Foreign peers on raw streams: js-waku's request bytes get the right
//! answers and every answer ends the stream (the service closed its write
//! side); js-waku-shaped service frames work with our client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{CONTENT, Peer, TOPIC, feed, raw, service, swarm, unlimited, vector, vector_bytes};
use libp2p::request_response::{Event as RrEvent, Message, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{Multiaddr, PeerId};
use prost::Message as _;
use waku_core::WakuMessage;
use waku_filter::proto::{FilterSubscribeRequest, FilterSubscribeResponse, MessagePush};
use waku_filter::{PUSH_PROTOCOL, RequestKind, SUBSCRIBE_PROTOCOL};
use waku_testkit::raw::{Raw, RawRequest};

/// A js-waku-like light node: `rpc` reads answers to the end of the stream,
/// `fire` writes and never reads (js-waku's UNSUBSCRIBE); pushes arrive on
/// `rpc`.
#[derive(NetworkBehaviour)]
struct JsLike {
    rpc: Raw,
    fire: Raw,
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
        fire: raw([(SUBSCRIBE_PROTOCOL, ProtocolSupport::Outbound)], false),
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

fn decode(answer: &[u8]) -> FilterSubscribeResponse {
    let r = FilterSubscribeResponse::decode_length_delimited(answer).unwrap();
    // Exactly one frame, then the end of the stream.
    assert_eq!(r.encode_length_delimited_to_vec(), answer);
    r
}

// spec: FILTER-001, FILTER-002, FILTER-005, FILTER-006, FILTER-029, FILTER-011
#[tokio::test]
async fn js_waku_subscribe_and_ping_get_the_vector_answers() {
    let (server, addr) = service(unlimited()).await;
    let mut js = js_client(server.id, addr).await;
    // A ping before subscribing: 404 with js-waku's request id.
    let answer = send(
        &mut js,
        server.id,
        lp("filter_subscriber_ping_as_sent_by_js_waku"),
    )
    .await;
    let r = decode(&answer);
    assert_eq!(r.status_code, 404);
    assert_eq!(
        r.status_desc.as_deref(),
        Some("NOT_FOUND: peer has no subscriptions")
    );
    assert_eq!(
        r.request_id,
        vector("filter_subscribe")["object"]["requestId"]
    );
    // Subscribe: byte for byte js-waku's "200 OK" frame.
    let answer = send(&mut js, server.id, lp("filter_subscribe")).await;
    assert_eq!(answer, lp("filter_response_ok"));
    // js-waku's ping, with pubsub_topic = "": 200 now.
    let answer = send(
        &mut js,
        server.id,
        lp("filter_subscriber_ping_as_sent_by_js_waku"),
    )
    .await;
    assert_eq!(answer, lp("filter_response_ok"));
    let criteria = server
        .with(|s| {
            let peer = *s.connected_peers().next().unwrap();
            s.behaviour().criteria_of(&peer)
        })
        .await;
    assert_eq!(criteria, vec![(TOPIC.to_owned(), CONTENT.to_owned())]);
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

// spec: FILTER-031, FILTER-016
#[tokio::test]
async fn unsubscribe_without_reading_the_answer_is_carried_out() {
    let (mut server, addr) = service(unlimited()).await;
    let mut js = js_client(server.id, addr).await;
    assert_eq!(
        send(&mut js, server.id, lp("filter_subscribe")).await,
        lp("filter_response_ok")
    );
    let to = server.id;
    let bytes = lp("filter_unsubscribe");
    js.with(move |s| {
        s.behaviour_mut()
            .fire
            .send_request(&to, RawRequest::Bytes(bytes))
    })
    .await;
    server
        .wait_behaviour("the unsubscribe", |e| match e {
            waku_filter::service::Event::Request {
                kind: Some(RequestKind::Unsubscribe),
                status,
                ..
            } => {
                assert_eq!(status.0, 200);
                Some(())
            }
            _ => None,
        })
        .await;
    assert_eq!(server.with(|s| s.behaviour().subscriber_count()).await, 0);
    // The connection is fine afterwards.
    let answer = send(&mut js, to, lp("filter_subscriber_ping_as_sent_by_js_waku")).await;
    assert_eq!(decode(&answer).status_code, 404);
}

// spec: FILTER-018, FILTER-029
#[tokio::test]
async fn js_waku_unsubscribe_all_with_a_pubsub_topic_is_honoured() {
    let (server, addr) = service(unlimited()).await;
    let mut js = js_client(server.id, addr).await;
    assert_eq!(
        send(&mut js, server.id, lp("filter_subscribe")).await,
        lp("filter_response_ok")
    );
    let answer = send(&mut js, server.id, lp("filter_unsubscribe_all")).await;
    assert_eq!(answer, lp("filter_response_ok"));
    let answer = send(&mut js, server.id, lp("filter_unsubscribe_all")).await;
    let r = decode(&answer);
    assert_eq!(r.status_code, 404);
    assert_eq!(
        r.status_desc.as_deref(),
        Some("NOT_FOUND: peer has no subscriptions")
    );
}

// spec: FILTER-009, FILTER-029
#[tokio::test]
async fn undecodable_and_unknown_requests_get_400() {
    let (server, addr) = service(unlimited()).await;
    let mut js = js_client(server.id, addr).await;
    let answer = send(&mut js, server.id, vec![3, 0x08, 0x96, 0x01]).await;
    let r = decode(&answer);
    assert_eq!(
        (r.status_code, r.request_id.as_str()),
        (400, waku_filter::service::UNKNOWN_REQUEST_ID)
    );
    let description = r.status_desc.unwrap_or_default();
    assert!(
        description.starts_with("BAD_REQUEST: undecodable request"),
        "{description}"
    );
    let unknown = FilterSubscribeRequest {
        request_id: "x".into(),
        filter_subscribe_type: 9,
        pubsub_topic: Some(TOPIC.into()),
        content_topics: vec![CONTENT.into()],
    }
    .encode_length_delimited_to_vec();
    let r = decode(&send(&mut js, server.id, unknown).await);
    assert_eq!((r.status_code, r.request_id.as_str()), (400, "x"));
    assert_eq!(
        r.status_desc.as_deref(),
        Some("BAD_REQUEST: unknown request type 9")
    );
    // The same shape js-waku decodes as a bad request.
    let shape =
        FilterSubscribeResponse::decode(&vector_bytes("filter_response_bad_request", "hex")[..])
            .unwrap();
    assert_eq!(shape.status_code, r.status_code);
}

// spec: FILTER-029
#[tokio::test]
async fn idle_streams_are_tolerated() {
    let config = unlimited().with_request_timeout(Duration::from_secs(1));
    let (server, addr) = service(config).await;
    let mut js = js_client(server.id, addr).await;
    let to = server.id;
    for _ in 0..3 {
        js.with(move |s| s.behaviour_mut().rpc.send_request(&to, RawRequest::Idle))
            .await;
    }
    assert_eq!(
        send(&mut js, to, lp("filter_subscribe")).await,
        lp("filter_response_ok")
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answer = send(&mut js, to, lp("filter_subscriber_ping_as_sent_by_js_waku")).await;
    assert_eq!(answer, lp("filter_response_ok"));
    assert!(js.with(move |s| s.is_connected(&to)).await);
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

//! The v3 service and client over real libp2p streams (TCP, noise, yamux).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{message, push, refused_status, service, three_peers};
use waku_core::{MessageValidator, WakuMessage};
use waku_lightpush::{PublishFailure, ServedTopics, Version};
use waku_sharding::{AutoSharding, NetworkConfig};

const TOPIC: &str = "/waku/2/rs/1/4";
const CONTENT: &str = "/app/1/chat/proto";

fn autosharding() -> waku_lightpush::service::Config {
    waku_lightpush::service::Config::default()
        .with_shard_mapper(Arc::new(AutoSharding(NetworkConfig::TWN)))
}

// spec: LIGHTPUSH-001, LIGHTPUSH-004, LIGHTPUSH-007, LIGHTPUSH-019
#[tokio::test]
async fn push_is_handed_to_the_node_and_answered_with_the_peer_count() {
    let (mut server, addr) = service(waku_lightpush::service::Config::default(), three_peers).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let sent = message(CONTENT, b"hello");
    let outcome = push(&mut client, server.id, Some(TOPIC), sent.clone()).await;
    match outcome {
        waku_lightpush::client::Event::Pushed {
            peer,
            version,
            relay_peer_count,
            ..
        } => {
            assert_eq!(peer, server.id);
            assert_eq!(version, Version::V3);
            assert_eq!(relay_peer_count, Some(3));
        }
        other => panic!("{other:?}"),
    }
    let (topic, got) = server
        .wait_behaviour("the publish request", |e| match e {
            waku_lightpush::service::Event::PublishRequest {
                pubsub_topic,
                message,
                peer,
                version,
                ..
            } => {
                assert_eq!(peer, client.id);
                assert_eq!(version, Version::V3);
                Some((pubsub_topic, message))
            }
            _ => None,
        })
        .await;
    assert_eq!(topic, TOPIC);
    assert_eq!(*got, sent);
}

// spec: LIGHTPUSH-005
#[tokio::test]
async fn without_a_pubsub_topic_the_service_autoshards() {
    let (mut server, addr) = service(autosharding(), three_peers).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let outcome = push(&mut client, server.id, None, message(CONTENT, b"x")).await;
    assert!(
        matches!(outcome, waku_lightpush::client::Event::Pushed { .. }),
        "{outcome:?}"
    );
    let topic = server
        .wait_behaviour("the publish request", |e| match e {
            waku_lightpush::service::Event::PublishRequest { pubsub_topic, .. } => {
                Some(pubsub_topic)
            }
            _ => None,
        })
        .await;
    // js-waku's autosharding vector: /app/1/... is shard 4 of cluster 1.
    assert_eq!(topic, TOPIC);
}

// spec: LIGHTPUSH-006, LIGHTPUSH-008, LIGHTPUSH-009
#[tokio::test]
async fn bad_requests_get_400() {
    let (mut server, addr) = service(waku_lightpush::service::Config::default(), three_peers).await;
    let mut client = common::client(
        waku_lightpush::client::Config::default(),
        &server,
        addr.clone(),
    )
    .await;
    // No pubsub topic and no autosharding configured.
    let outcome = push(&mut client, server.id, None, message(CONTENT, b"x")).await;
    assert_eq!(refused_status(&outcome), Some(400));
    // A blank pubsub topic.
    let outcome = push(&mut client, server.id, Some(""), message(CONTENT, b"x")).await;
    assert_eq!(refused_status(&outcome), Some(400));
    // Autosharding a content topic that cannot be parsed.
    let (auto, auto_addr) = service(autosharding(), three_peers).await;
    let mut c2 = common::client(waku_lightpush::client::Config::default(), &auto, auto_addr).await;
    let outcome = push(&mut c2, auto.id, None, message("not-a-topic", b"x")).await;
    assert_eq!(refused_status(&outcome), Some(400));
    match outcome {
        waku_lightpush::client::Event::Refused { description, .. } => {
            assert!(description.unwrap().contains("invalid content topic"));
        }
        other => panic!("{other:?}"),
    }
    // With a pubsub topic, a free-form content topic is published, as nwaku
    // does.
    let outcome = push(&mut c2, auto.id, Some(TOPIC), message("Hello World!", b"x")).await;
    assert!(
        matches!(outcome, waku_lightpush::client::Event::Pushed { .. }),
        "{outcome:?}"
    );
    // Nothing reached the node.
    let events = server.drain_for(Duration::from_millis(200)).await;
    assert!(
        events
            .iter()
            .all(|e| matches!(e, waku_lightpush::service::Event::Refused { status, .. } if status.0 == 400)),
        "{events:?}"
    );
}

// spec: LIGHTPUSH-010
#[tokio::test]
async fn oversized_messages_get_413() {
    let config = waku_lightpush::service::Config::default().with_validator(MessageValidator {
        max_message_size: 1024,
        ..MessageValidator::default()
    });
    let (server, addr) = service(config, three_peers).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let outcome = push(
        &mut client,
        server.id,
        Some(TOPIC),
        message(CONTENT, &[7; 1024]),
    )
    .await;
    assert_eq!(refused_status(&outcome), Some(413));
    // Just under the limit passes.
    let outcome = push(
        &mut client,
        server.id,
        Some(TOPIC),
        message(CONTENT, &[7; 900]),
    )
    .await;
    assert!(
        matches!(outcome, waku_lightpush::client::Event::Pushed { .. }),
        "{outcome:?}"
    );
    // A frame far beyond the frame limit is answered 413 unread.
    let outcome = push(
        &mut client,
        server.id,
        Some(TOPIC),
        message(CONTENT, &vec![7; 200 * 1024]),
    )
    .await;
    assert_eq!(refused_status(&outcome), Some(413));
}

// spec: LIGHTPUSH-015
#[tokio::test]
async fn messages_out_of_the_timestamp_window_get_420() {
    let (server, addr) = service(waku_lightpush::service::Config::default(), three_peers).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let stale = WakuMessage {
        timestamp: Some(1_700_000_000_000_000_000),
        ..WakuMessage::new(&b"old"[..], CONTENT)
    };
    let outcome = push(&mut client, server.id, Some(TOPIC), stale).await;
    assert_eq!(refused_status(&outcome), Some(420));
}

// spec: LIGHTPUSH-011
#[tokio::test]
async fn topics_not_served_get_421() {
    let served = ServedTopics::only([TOPIC]);
    let config = waku_lightpush::service::Config::default().with_served_topics(served.clone());
    let (server, addr) = service(config, three_peers).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let outcome = push(
        &mut client,
        server.id,
        Some("/waku/2/rs/1/5"),
        message(CONTENT, b"x"),
    )
    .await;
    assert_eq!(refused_status(&outcome), Some(421));
    // The node starts relaying on shard 5: the shared set is updated.
    served.insert("/waku/2/rs/1/5");
    let outcome = push(
        &mut client,
        server.id,
        Some("/waku/2/rs/1/5"),
        message(CONTENT, b"x"),
    )
    .await;
    assert!(
        matches!(outcome, waku_lightpush::client::Event::Pushed { .. }),
        "{outcome:?}"
    );
}

fn fail_by_content(_: &str, m: &WakuMessage) -> Option<Result<u32, PublishFailure>> {
    Some(match m.content_topic.as_str() {
        "/app/1/no-peers/proto" => Err(PublishFailure::NoPeers),
        "/app/1/invalid/proto" => Err(PublishFailure::InvalidMessage("relay said no".into())),
        "/app/1/unavailable/proto" => Err(PublishFailure::ServiceUnavailable("busy".into())),
        "/app/1/rln/proto" => Err(PublishFailure::OutOfRlnProof("no proof".into())),
        "/app/1/internal/proto" => Err(PublishFailure::Internal("oops".into())),
        "/app/1/unsupported/proto" => Err(PublishFailure::UnsupportedPubsubTopic),
        _ => Ok(1),
    })
}

// spec: LIGHTPUSH-006, LIGHTPUSH-013, LIGHTPUSH-014, LIGHTPUSH-016
#[tokio::test]
async fn publish_failures_map_to_their_codes() {
    let (server, addr) = service(waku_lightpush::service::Config::default(), fail_by_content).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    for (content, code) in [
        ("/app/1/no-peers/proto", 505),
        ("/app/1/invalid/proto", 420),
        ("/app/1/unavailable/proto", 503),
        ("/app/1/rln/proto", 504),
        ("/app/1/internal/proto", 500),
        ("/app/1/unsupported/proto", 421),
    ] {
        let outcome = push(&mut client, server.id, Some(TOPIC), message(content, b"x")).await;
        assert_eq!(refused_status(&outcome), Some(code), "{content}");
        if code == 505 {
            match outcome {
                waku_lightpush::client::Event::Refused { description, .. } => {
                    assert_eq!(
                        description.as_deref(),
                        Some("No peers for topic, skipping publish")
                    );
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

// spec: LIGHTPUSH-016
#[tokio::test]
async fn too_many_pending_publishes_get_503_and_late_answers_still_work() {
    fn never(_: &str, _: &WakuMessage) -> Option<Result<u32, PublishFailure>> {
        None
    }
    let config = waku_lightpush::service::Config::default().with_max_pending_publishes(1);
    let (mut server, addr) = service(config, never).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let to = server.id;
    let first = client
        .with(move |s| {
            s.behaviour_mut()
                .push(&to, Some(TOPIC.into()), message(CONTENT, b"1"))
        })
        .await;
    let id = server
        .wait_behaviour("the first publish request", |e| match e {
            waku_lightpush::service::Event::PublishRequest { id, .. } => Some(id),
            _ => None,
        })
        .await;
    let second = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"2")).await;
    assert_eq!(refused_status(&second), Some(503));
    // The node answers the first one asynchronously.
    assert!(
        server
            .with(move |s| s.behaviour_mut().publish_result(id, Ok(7)))
            .await
    );
    let outcome = client
        .wait_behaviour("the first outcome", |e| match e {
            waku_lightpush::client::Event::Pushed {
                request,
                relay_peer_count,
                ..
            } if request == first => Some(relay_peer_count),
            _ => None,
        })
        .await;
    assert_eq!(outcome, Some(7));
    // Answering twice is refused.
    assert!(
        !server
            .with(move |s| s.behaviour_mut().publish_result(id, Ok(7)))
            .await
    );
}

// spec: LIGHTPUSH-006
#[tokio::test]
async fn unanswered_publishes_are_abandoned_after_the_timeout() {
    fn never(_: &str, _: &WakuMessage) -> Option<Result<u32, PublishFailure>> {
        None
    }
    let config =
        waku_lightpush::service::Config::default().with_request_timeout(Duration::from_millis(500));
    let (mut server, addr) = service(config, never).await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let outcome = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert!(
        matches!(outcome, waku_lightpush::client::Event::Failed { .. }),
        "{outcome:?}"
    );
    let id = server
        .wait_behaviour("the abandonment", |e| match e {
            waku_lightpush::service::Event::Abandoned { id, .. } => Some(id),
            _ => None,
        })
        .await;
    assert!(
        !server
            .with(move |s| s.behaviour_mut().publish_result(id, Ok(1)))
            .await
    );
    assert_eq!(server.with(|s| s.behaviour().pending_publishes()).await, 0);
}

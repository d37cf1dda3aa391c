//! The legacy `/vac/waku/lightpush/2.0.0-beta1` over real libp2p streams.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{message, push, service, three_peers};
use libp2p::request_response::OutboundFailure;
use waku_core::WakuMessage;
use waku_lightpush::{PublishFailure, RateLimit, Version};

const TOPIC: &str = "/waku/2/rs/1/4";
const CONTENT: &str = "/app/1/chat/proto";

fn legacy() -> waku_lightpush::client::Config {
    waku_lightpush::client::Config::default()
        .with_protocols(waku_lightpush::client::Protocols::LegacyOnly)
}

// spec: LIGHTPUSH2-001, LIGHTPUSH2-003, LIGHTPUSH2-006
#[tokio::test]
async fn legacy_push_is_published_and_answered_success() {
    let (mut server, addr) = service(waku_lightpush::service::Config::default(), three_peers).await;
    let mut client = common::client(legacy(), &server, addr).await;
    let sent = message(CONTENT, b"old school");
    let outcome = push(&mut client, server.id, Some(TOPIC), sent.clone()).await;
    match outcome {
        waku_lightpush::client::Event::Pushed {
            version,
            relay_peer_count,
            description,
            ..
        } => {
            assert_eq!(version, Version::V2);
            assert_eq!(relay_peer_count, None);
            assert_eq!(description.as_deref(), Some("OK"));
        }
        other => panic!("{other:?}"),
    }
    let (version, topic, got) = server
        .wait_behaviour("the publish request", |e| match e {
            waku_lightpush::service::Event::PublishRequest {
                version,
                pubsub_topic,
                message,
                ..
            } => Some((version, pubsub_topic, message)),
            _ => None,
        })
        .await;
    assert_eq!((version, topic.as_str()), (Version::V2, TOPIC));
    assert_eq!(*got, sent);
}

fn no_peers(_: &str, _: &WakuMessage) -> Option<Result<u32, PublishFailure>> {
    Some(Err(PublishFailure::NoPeers))
}

// spec: LIGHTPUSH2-004
#[tokio::test]
async fn legacy_failures_carry_is_success_false_and_the_reason() {
    let (server, addr) = service(waku_lightpush::service::Config::default(), no_peers).await;
    let mut client = common::client(legacy(), &server, addr).await;
    let outcome = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    match outcome {
        waku_lightpush::client::Event::Refused {
            version,
            status,
            description,
            ..
        } => {
            assert_eq!(version, Version::V2);
            assert_eq!(status, None);
            assert_eq!(description.as_deref(), Some("not_published_to_any_peer"));
        }
        other => panic!("{other:?}"),
    }
    // A stale timestamp is refused the same way as in v3.
    let stale = WakuMessage {
        timestamp: Some(1),
        ..WakuMessage::new(&b"x"[..], CONTENT)
    };
    let outcome = push(&mut client, server.id, Some(TOPIC), stale).await;
    assert!(
        matches!(outcome, waku_lightpush::client::Event::Refused { .. }),
        "{outcome:?}"
    );
}

// spec: LIGHTPUSH2-005
#[tokio::test]
async fn legacy_requests_are_rate_limited_too() {
    let limit = RateLimit::new(1, std::time::Duration::from_secs(3600));
    let (server, addr) = service(
        waku_lightpush::service::Config::default().with_rate_limit(limit),
        three_peers,
    )
    .await;
    let mut client = common::client(legacy(), &server, addr).await;
    let first = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert!(
        matches!(first, waku_lightpush::client::Event::Pushed { .. }),
        "{first:?}"
    );
    let second = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    match second {
        waku_lightpush::client::Event::Refused {
            description,
            status,
            ..
        } => {
            // nwaku's legacy text, which the client reads as 429.
            assert_eq!(description.as_deref(), Some("TOO_MANY_REQUESTS"));
            assert_eq!(status, Some(waku_lightpush::StatusCode::TOO_MANY_REQUESTS));
        }
        other => panic!("{other:?}"),
    }
}

// spec: LIGHTPUSH2-001
#[tokio::test]
async fn a_service_without_legacy_support_refuses_the_protocol() {
    let (server, addr) = service(
        waku_lightpush::service::Config::default().with_legacy(false),
        three_peers,
    )
    .await;
    let mut client = common::client(legacy(), &server, addr.clone()).await;
    let outcome = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert!(
        matches!(
            outcome,
            waku_lightpush::client::Event::Failed {
                error: OutboundFailure::UnsupportedProtocols,
                ..
            }
        ),
        "{outcome:?}"
    );
    // The default client prefers v3, so it is served.
    let mut modern = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let outcome = push(&mut modern, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert!(
        matches!(
            outcome,
            waku_lightpush::client::Event::Pushed {
                version: Version::V3,
                ..
            }
        ),
        "{outcome:?}"
    );
}

// spec: LIGHTPUSH2-002
#[tokio::test]
async fn a_legacy_push_without_a_topic_fails_locally() {
    let (server, addr) = service(waku_lightpush::service::Config::default(), three_peers).await;
    let mut client = common::client(legacy(), &server, addr).await;
    let outcome = push(&mut client, server.id, None, message(CONTENT, b"x")).await;
    assert!(
        matches!(
            outcome,
            waku_lightpush::client::Event::Failed {
                error: OutboundFailure::Io(_),
                ..
            }
        ),
        "{outcome:?}"
    );
}

//! The subscribe protocol between our client and our service over real
//! libp2p streams (TCP, noise, yamux).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    CONTENT, NO_SUBSCRIPTIONS, TOPIC, feed, message, next_message, refusal, request, service,
    status, unlimited,
};
use waku_filter::{RequestKind, StatusCode};

// spec: FILTER-001, FILTER-003, FILTER-004, FILTER-005, FILTER-006, FILTER-012
#[tokio::test]
async fn subscribe_is_answered_200_and_matching_messages_are_pushed() {
    let (mut server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    let result = request(&mut client, move |c| c.subscribe(&to, TOPIC, [CONTENT])).await;
    assert_eq!(status(&result), 200);
    // The service saw a request id and answered it with 200.
    let (request_id, kind, code) = server
        .wait_behaviour("the request", |e| match e {
            waku_filter::service::Event::Request {
                request_id,
                kind,
                status,
                ..
            } => Some((request_id, kind, status)),
            _ => None,
        })
        .await;
    assert_eq!(request_id.len(), 36, "a UUID: {request_id}");
    assert_eq!((kind, code), (Some(RequestKind::Subscribe), StatusCode::OK));
    assert!(
        server
            .with(|s| s.behaviour().is_subscribed(&client_id_of(s)))
            .await
    );

    let sent = message(CONTENT, b"hello");
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 1);
    let (from, topic, got) = next_message(&mut client).await;
    assert_eq!((from, topic.as_str()), (server.id, TOPIC));
    assert_eq!(got, sent);
}

/// The one connected peer of a service swarm.
fn client_id_of(s: &libp2p::Swarm<waku_filter::service::Behaviour>) -> libp2p::PeerId {
    *s.connected_peers().next().unwrap()
}

// spec: FILTER-004
#[tokio::test]
async fn request_ids_are_fresh_for_every_request() {
    let ids: std::collections::HashSet<String> =
        (0..100).map(|_| waku_core::new_request_id()).collect();
    assert_eq!(ids.len(), 100);
}

// spec: FILTER-011
#[tokio::test]
async fn ping_is_200_with_a_subscription_and_404_without() {
    let (server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    let result = request(&mut client, move |c| c.ping(&to)).await;
    // nwaku's words: "KIND: cause".
    assert_eq!(refusal(&result), NO_SUBSCRIPTIONS);
    common::subscribe(&mut client, to).await;
    let result = request(&mut client, move |c| c.ping(&to)).await;
    assert_eq!(status(&result), 200);
}

// spec: FILTER-009, FILTER-015, FILTER-017, FILTER-007, FILTER-008
#[tokio::test]
async fn invalid_criteria_are_refused_with_400_and_change_nothing() {
    let (server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    for (pubsub, contents) in [
        ("", vec![CONTENT.to_owned()]),
        (TOPIC, Vec::new()),
        (TOPIC, vec![String::new()]),
        (
            TOPIC,
            (0..101).map(|i| format!("/app/1/t{i}/proto")).collect(),
        ),
    ] {
        let too_many = contents.len() > 100;
        let c2 = contents.clone();
        let result = request(&mut client, move |c| c.subscribe(&to, pubsub, c2)).await;
        let (code, description) = refusal(&result);
        assert_eq!(code, 400, "{pubsub:?} {contents:?}");
        assert!(description.starts_with("BAD_REQUEST: "), "{description}");
        if too_many {
            // nwaku's exact words.
            assert_eq!(
                description,
                "BAD_REQUEST: exceeds maximum content topics: 100"
            );
        }
        let result = request(&mut client, move |c| c.unsubscribe(&to, pubsub, contents)).await;
        let (code, description) = refusal(&result);
        assert_eq!(code, 400);
        if too_many {
            assert_eq!(
                description,
                "BAD_REQUEST: exceeds maximum content topics: 100"
            );
        }
    }
    // Nothing was subscribed.
    assert_eq!(server.with(|s| s.behaviour().subscriber_count()).await, 0);
    // Exactly 100 topics is fine.
    let hundred: Vec<String> = (0..100).map(|i| format!("/app/1/t{i}/proto")).collect();
    let result = request(&mut client, move |c| c.subscribe(&to, TOPIC, hundred)).await;
    assert_eq!(status(&result), 200);
}

// spec: FILTER-013, FILTER-014, FILTER-016, FILTER-010
#[tokio::test]
async fn subscriptions_grow_refresh_and_shrink() {
    let (server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    let other = "/app/1/other/proto";
    common::subscribe(&mut client, to).await;
    // More criteria extend the subscription.
    let result = request(&mut client, move |c| c.subscribe(&to, TOPIC, [other])).await;
    assert_eq!(status(&result), 200);
    // The same criteria again only refresh it.
    let result = request(&mut client, move |c| {
        c.subscribe(&to, TOPIC, [CONTENT, other])
    })
    .await;
    assert_eq!(status(&result), 200);
    let criteria = server
        .with(|s| {
            let peer = *s.connected_peers().next().unwrap();
            s.behaviour().criteria_of(&peer)
        })
        .await;
    assert_eq!(criteria.len(), 2);

    // Both are pushed; another pubsub topic or content topic is not.
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"1")).await, 1);
    assert_eq!(feed(&server, TOPIC, message(other, b"2")).await, 1);
    assert_eq!(
        feed(&server, "/waku/2/rs/1/5", message(CONTENT, b"3")).await,
        0
    );
    assert_eq!(
        feed(&server, TOPIC, message("/app/1/nope/proto", b"4")).await,
        0
    );
    let mut payloads = vec![
        next_message(&mut client).await.2.payload,
        next_message(&mut client).await.2.payload,
    ];
    payloads.sort();
    assert_eq!(payloads, vec![&b"1"[..], &b"2"[..]]);

    // Unsubscribing a subset keeps the rest.
    let result = request(&mut client, move |c| c.unsubscribe(&to, TOPIC, [other])).await;
    assert_eq!(status(&result), 200);
    assert_eq!(feed(&server, TOPIC, message(other, b"5")).await, 0);
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"6")).await, 1);
    assert_eq!(&next_message(&mut client).await.2.payload[..], b"6");
    // Unsubscribing what is not held is 404.
    let result = request(&mut client, move |c| c.unsubscribe(&to, TOPIC, [other])).await;
    assert_eq!(
        refusal(&result),
        (404, "NOT_FOUND: peer has no subscriptions")
    );
    let result = request(&mut client, move |c| c.unsubscribe(&to, TOPIC, [CONTENT])).await;
    assert_eq!(status(&result), 200);
    // Now the peer holds nothing at all: nwaku's answer.
    let result = request(&mut client, move |c| c.unsubscribe(&to, TOPIC, [CONTENT])).await;
    assert_eq!(refusal(&result), NO_SUBSCRIPTIONS);
}

// spec: FILTER-018
#[tokio::test]
async fn unsubscribe_all_removes_everything() {
    let (server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    let result = request(&mut client, move |c| c.unsubscribe_all(&to)).await;
    assert_eq!(refusal(&result), NO_SUBSCRIPTIONS);
    common::subscribe(&mut client, to).await;
    let result = request(&mut client, move |c| {
        c.subscribe(&to, "/waku/2/rs/1/5", [CONTENT])
    })
    .await;
    assert_eq!(status(&result), 200);
    let result = request(&mut client, move |c| c.unsubscribe_all(&to)).await;
    assert_eq!(status(&result), 200);
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"x")).await, 0);
    assert_eq!(
        feed(&server, "/waku/2/rs/1/5", message(CONTENT, b"x")).await,
        0
    );
    let result = request(&mut client, move |c| c.ping(&to)).await;
    assert_eq!(refusal(&result), NO_SUBSCRIPTIONS);
    assert!(
        !client
            .with(move |s| s.behaviour().is_subscribed(&to, TOPIC, CONTENT))
            .await
    );
}

// spec: FILTER-007
#[tokio::test]
async fn a_failed_subscribe_is_taken_back_locally() {
    let config = unlimited().with_max_peers(0);
    let (server, addr) = service(config).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    let result = request(&mut client, move |c| c.subscribe(&to, TOPIC, [CONTENT])).await;
    let (code, description) = refusal(&result);
    assert_eq!(code, 503);
    assert!(
        description.starts_with("SERVICE_UNAVAILABLE: "),
        "{description}"
    );
    assert!(
        !client
            .with(move |s| s.behaviour().is_subscribed(&to, TOPIC, CONTENT))
            .await
    );
    // No pushes are expected from that peer.
    let events = client.drain_for(Duration::from_millis(100)).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, waku_filter::client::Event::Message { .. })),
        "{events:?}"
    );
}

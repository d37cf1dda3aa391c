//! Per-peer rate limiting: a peer over its rate gets 429, others are served.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{message, push, refused_status, service, three_peers};
use waku_lightpush::RateLimit;

const TOPIC: &str = "/waku/2/rs/1/4";
const CONTENT: &str = "/app/1/chat/proto";

// spec: LIGHTPUSH-012, LIGHTPUSH-017
#[tokio::test]
async fn a_peer_over_its_rate_gets_429_while_others_are_served() {
    // As nwaku's `--rate-limit lightpush:3/1h` sets it.
    let limit: RateLimit = "3/1h".parse().unwrap();
    let (server, addr) = service(
        waku_lightpush::service::Config::default().with_rate_limit(limit),
        three_peers,
    )
    .await;
    let mut greedy = common::client(
        waku_lightpush::client::Config::default(),
        &server,
        addr.clone(),
    )
    .await;
    let mut polite = common::client(waku_lightpush::client::Config::default(), &server, addr).await;

    for _ in 0..3 {
        let outcome = push(&mut greedy, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
        assert!(
            matches!(outcome, waku_lightpush::client::Event::Pushed { .. }),
            "{outcome:?}"
        );
    }
    let outcome = push(&mut greedy, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert_eq!(refused_status(&outcome), Some(429));

    // Another peer still has its own budget.
    let outcome = push(&mut polite, server.id, Some(TOPIC), message(CONTENT, b"y")).await;
    assert!(
        matches!(outcome, waku_lightpush::client::Event::Pushed { .. }),
        "{outcome:?}"
    );
}

// spec: LIGHTPUSH-012
#[tokio::test]
async fn the_budget_comes_back_over_time() {
    let limit = RateLimit::new(1, Duration::from_secs(2));
    let (server, addr) = service(
        waku_lightpush::service::Config::default().with_rate_limit(limit),
        three_peers,
    )
    .await;
    let mut client = common::client(waku_lightpush::client::Config::default(), &server, addr).await;
    let first = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert!(
        matches!(first, waku_lightpush::client::Event::Pushed { .. }),
        "{first:?}"
    );
    let second = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert_eq!(refused_status(&second), Some(429));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let third = push(&mut client, server.id, Some(TOPIC), message(CONTENT, b"x")).await;
    assert!(
        matches!(third, waku_lightpush::client::Event::Pushed { .. }),
        "{third:?}"
    );
}

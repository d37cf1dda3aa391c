//! Resource limits: subscribers, criteria, expiry, unreachable subscribers
//! and the per-peer request rate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{CONTENT, TOPIC, feed, message, refusal, request, service, status, unlimited};
use waku_filter::RateLimit;

// spec: FILTER-028
#[tokio::test]
async fn the_subscriber_beyond_the_limit_gets_503() {
    let (server, addr) = service(unlimited().with_max_peers(3)).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut c = common::client(server.id, addr.clone()).await;
        common::subscribe(&mut c, server.id).await;
        clients.push(c);
    }
    let mut fourth = common::client(server.id, addr).await;
    let to = server.id;
    let result = request(&mut fourth, move |c| c.subscribe(&to, TOPIC, [CONTENT])).await;
    assert_eq!(
        refusal(&result),
        (
            503,
            "SERVICE_UNAVAILABLE: the service serves its maximum of 3 subscribers"
        )
    );
    // Existing subscribers may still refresh and extend.
    let result = request(&mut clients[0], move |c| {
        c.subscribe(&to, TOPIC, ["/app/1/more/proto"])
    })
    .await;
    assert_eq!(status(&result), 200);
    // A place freed by UNSUBSCRIBE_ALL is taken.
    let result = request(&mut clients[1], move |c| c.unsubscribe_all(&to)).await;
    assert_eq!(status(&result), 200);
    let result = request(&mut fourth, move |c| c.subscribe(&to, TOPIC, [CONTENT])).await;
    assert_eq!(status(&result), 200);
}

// spec: FILTER-028
#[tokio::test]
async fn criteria_beyond_the_per_peer_limit_get_503() {
    let (server, addr) = service(unlimited().with_max_criteria_per_peer(5)).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    let four: Vec<String> = (0..4).map(|i| format!("/app/1/t{i}/proto")).collect();
    let result = request(&mut client, move |c| c.subscribe(&to, TOPIC, four)).await;
    assert_eq!(status(&result), 200);
    let two = ["/app/1/x/proto", "/app/1/y/proto"];
    let result = request(&mut client, move |c| c.subscribe(&to, TOPIC, two)).await;
    assert_eq!(
        refusal(&result),
        (
            503,
            "SERVICE_UNAVAILABLE: a subscriber may hold at most 5 criteria"
        )
    );
    // Nothing of the refused request was added; one more fits.
    let result = request(&mut client, move |c| {
        c.subscribe(&to, "/waku/2/rs/1/5", ["/app/1/x/proto"])
    })
    .await;
    assert_eq!(status(&result), 200);
    assert_eq!(
        feed(&server, TOPIC, message("/app/1/y/proto", b"x")).await,
        0
    );
}

// spec: FILTER-028, FILTER-011
#[tokio::test]
async fn subscriptions_expire_without_a_refresh() {
    let config = unlimited().with_subscription_timeout(Duration::from_millis(1500));
    let (mut server, addr) = service(config).await;
    let mut client = common::client(server.id, addr).await;
    let to = server.id;
    common::subscribe(&mut client, to).await;
    // Pings keep it alive.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let result = request(&mut client, move |c| c.ping(&to)).await;
        assert_eq!(status(&result), 200);
    }
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"x")).await, 1);
    // Then silence: it expires, nothing is pushed, and a ping says 404.
    let removed = server
        .wait_behaviour("the expiry", |e| match e {
            waku_filter::service::Event::SubscriberRemoved { peer, reason } => Some((peer, reason)),
            _ => None,
        })
        .await;
    assert_eq!(
        removed,
        (client.id, waku_filter::service::RemovalReason::Expired)
    );
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"x")).await, 0);
    let result = request(&mut client, move |c| c.ping(&to)).await;
    assert_eq!(refusal(&result), common::NO_SUBSCRIPTIONS);
    // Defaults are nwaku's.
    let d = waku_filter::service::Config::default();
    assert_eq!(d.subscription_timeout(), Duration::from_secs(300));
    assert_eq!(d.max_peers(), 1000);
    assert_eq!(d.max_criteria_per_peer(), 1000);
    assert_eq!(d.max_content_topics_per_request(), 100);
}

// spec: FILTER-022, FILTER-023, FILTER-030
#[tokio::test]
async fn a_subscriber_that_stays_unreachable_is_dropped() {
    let config = unlimited().with_unreachable_timeout(Duration::from_millis(1500));
    let (mut server, addr) = service(config).await;
    let mut client = common::client(server.id, addr).await;
    common::subscribe(&mut client, server.id).await;
    let gone = client.id;
    client.kill();
    server
        .wait("the disconnection", |e| match e {
            libp2p::swarm::SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == gone => {
                Some(())
            }
            _ => None,
        })
        .await;
    // The service dials it back, which fails (the client never listened);
    // the next push within the backoff fails at once, without a dial.
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"x")).await, 1);
    let failed = server
        .wait_behaviour("the failed dial back", |e| match e {
            waku_filter::service::Event::PushFailed { peer, reason } => Some((peer, reason)),
            _ => None,
        })
        .await;
    assert_eq!(failed.0, gone);
    assert!(
        matches!(
            failed.1,
            waku_filter::service::PushFailure::Stream(
                libp2p::request_response::OutboundFailure::DialFailure
            )
        ),
        "{:?}",
        failed.1
    );
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"y")).await, 0);
    let failed = server
        .wait_behaviour("the failed push", |e| match e {
            waku_filter::service::Event::PushFailed { peer, reason } => Some((peer, reason)),
            _ => None,
        })
        .await;
    assert!(
        matches!(failed, (p, waku_filter::service::PushFailure::NotConnected(_)) if p == gone),
        "{failed:?}"
    );
    assert!(server.with(move |s| s.behaviour().subscriber_count()).await == 1);
    let removed = server
        .wait_behaviour("the removal", |e| match e {
            waku_filter::service::Event::SubscriberRemoved { peer, reason } => Some((peer, reason)),
            _ => None,
        })
        .await;
    assert_eq!(
        removed,
        (gone, waku_filter::service::RemovalReason::Unreachable)
    );
    assert_eq!(server.with(|s| s.behaviour().subscriber_count()).await, 0);
    assert_eq!(
        waku_filter::service::Config::default().unreachable_timeout(),
        Duration::from_secs(60)
    );
}

// spec: FILTER-032
#[tokio::test]
async fn a_peer_over_its_rate_gets_429_while_others_are_served() {
    let config = waku_filter::service::Config::default()
        .with_rate_limit(RateLimit::new(3, Duration::from_secs(3600)));
    let (server, addr) = service(config).await;
    let mut greedy = common::client(server.id, addr.clone()).await;
    let mut polite = common::client(server.id, addr).await;
    let to = server.id;
    common::subscribe(&mut greedy, to).await;
    for _ in 0..2 {
        let result = request(&mut greedy, move |c| c.ping(&to)).await;
        assert_eq!(status(&result), 200);
    }
    let result = request(&mut greedy, move |c| c.ping(&to)).await;
    assert_eq!(
        refusal(&result),
        (
            429,
            "TOO_MANY_REQUESTS: filter request rejected: rate limit exceeded"
        )
    );
    let result = request(&mut greedy, move |c| {
        c.subscribe(&to, TOPIC, ["/app/1/x/proto"])
    })
    .await;
    assert_eq!(status(&result), 429);
    // The other peer has its own budget.
    common::subscribe(&mut polite, to).await;
    let result = request(&mut polite, move |c| c.ping(&to)).await;
    assert_eq!(status(&result), 200);
    // The refused requests changed nothing, pushes still flow.
    assert_eq!(
        feed(&server, TOPIC, message("/app/1/x/proto", b"x")).await,
        0
    );
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"x")).await, 2);
    // nwaku's default: 30 per minute.
    assert_eq!(
        waku_filter::service::Config::default().rate_limit(),
        RateLimit::new(30, Duration::from_secs(60))
    );
}

// spec: FILTER-022
#[tokio::test]
async fn a_connected_subscriber_that_refuses_pushes_is_dropped() {
    use libp2p::request_response::{Event, Message, ProtocolSupport};
    use prost::Message as _;
    use waku_filter::SUBSCRIBE_PROTOCOL;
    use waku_filter::proto::FilterSubscribeRequest;
    use waku_testkit::{Peer, RawRequest, swarm};

    let config = unlimited().with_unreachable_timeout(Duration::from_millis(300));
    let (mut server, addr) = service(config).await;
    // Subscribes with raw bytes but does not speak the push protocol, so
    // every push fails while the connection stays up.
    let mut deaf = Peer::spawn(swarm(common::raw(
        [(SUBSCRIBE_PROTOCOL, ProtocolSupport::Outbound)],
        true,
    )));
    deaf.connect(addr, server.id).await;
    let subscribe = FilterSubscribeRequest {
        request_id: "deaf-1".into(),
        filter_subscribe_type: 1,
        pubsub_topic: Some(TOPIC.into()),
        content_topics: vec![CONTENT.into()],
    }
    .encode_length_delimited_to_vec();
    let to = server.id;
    deaf.with(move |s| {
        s.behaviour_mut()
            .send_request(&to, RawRequest::Bytes(subscribe))
    })
    .await;
    deaf.wait("the answer", |e| match e {
        libp2p::swarm::SwarmEvent::Behaviour(Event::Message {
            message: Message::Response { .. },
            ..
        }) => Some(()),
        _ => None,
    })
    .await;
    let deaf_id = deaf.id;
    assert!(
        server
            .with(move |s| s.behaviour().is_subscribed(&deaf_id))
            .await
    );

    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"1")).await, 1);
    let failed = server
        .wait_behaviour("the refused push", |e| match e {
            waku_filter::service::Event::PushFailed { peer, reason } => Some((
                peer,
                matches!(
                    reason,
                    waku_filter::service::PushFailure::Stream(
                        libp2p::request_response::OutboundFailure::UnsupportedProtocols
                    )
                ),
            )),
            _ => None,
        })
        .await;
    assert_eq!(failed, (deaf_id, true));
    // Still failing after the unreachable timeout: removed.
    tokio::time::sleep(Duration::from_millis(400)).await;
    feed(&server, TOPIC, message(CONTENT, b"2")).await;
    let removed = server
        .wait_behaviour("the removal", |e| match e {
            waku_filter::service::Event::SubscriberRemoved { peer, reason } => Some((peer, reason)),
            _ => None,
        })
        .await;
    assert_eq!(
        removed,
        (deaf_id, waku_filter::service::RemovalReason::Unreachable)
    );
    assert!(
        !server
            .with(move |s| s.behaviour().is_subscribed(&deaf_id))
            .await
    );
}

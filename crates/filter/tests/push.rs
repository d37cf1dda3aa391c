//! Pushes: fan-out to matching subscribers over their own connections, and
//! the client's checks on what it receives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{CONTENT, Peer, TOPIC, feed, message, next_message, raw, service, swarm, unlimited};
use libp2p::request_response::{Event as RrEvent, Message, ProtocolSupport};
use prost::Message as _;
use waku_filter::PUSH_PROTOCOL;
use waku_filter::proto::MessagePush;
use waku_testkit::raw::{Raw, RawRequest};

// spec: FILTER-020, FILTER-021, FILTER-010, FILTER-024, FILTER-025
#[tokio::test]
async fn every_matching_subscriber_gets_the_message_once() {
    let (server, addr) = service(unlimited()).await;
    let mut chat = Vec::new();
    for _ in 0..3 {
        let mut c = common::client(server.id, addr.clone()).await;
        common::subscribe(&mut c, server.id).await;
        chat.push(c);
    }
    let mut other = common::client(server.id, addr).await;
    let to = server.id;
    let r = common::request(&mut other, move |c| {
        c.subscribe(&to, TOPIC, ["/app/1/other/proto"])
    })
    .await;
    assert_eq!(common::status(&r), 200);

    let sent = message(CONTENT, b"fan-out");
    // The node feeds the service; three subscribers match.
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 3);
    for c in &mut chat {
        let (from, topic, got) = next_message(c).await;
        assert_eq!((from, topic.as_str()), (server.id, TOPIC));
        assert_eq!(got, sent);
    }
    // Nobody got it twice, and the other subscriber got nothing.
    for c in chat.iter_mut().chain(std::iter::once(&mut other)) {
        let events = c.drain_for(Duration::from_millis(150)).await;
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, waku_filter::client::Event::Message { .. })),
            "{events:?}"
        );
    }
}

// spec: FILTER-030, FILTER-019
#[tokio::test]
async fn pushes_use_the_connection_the_non_listening_client_opened() {
    let (mut server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    assert!(!client.is_listening().await, "the client must not listen");
    common::subscribe(&mut client, server.id).await;
    let connections_before = server.with(|s| s.network_info().num_peers()).await;
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"x")).await, 1);
    next_message(&mut client).await;
    assert_eq!(
        server
            .with(|s| s.network_info().connection_counters().num_connections())
            .await,
        1
    );
    assert_eq!(
        server.with(|s| s.network_info().num_peers()).await,
        connections_before
    );
    // The service never dialled.
    let events = server.drain_for(Duration::from_millis(100)).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, waku_filter::service::Event::PushFailed { .. })),
        "{events:?}"
    );
    // 20 s per push, as nwaku.
    assert_eq!(
        waku_filter::service::Config::default().push_timeout(),
        Duration::from_secs(20)
    );
}

// A subscriber that listens and lost its connection is dialled back, as
// go-waku's service does (within the push timeout).
// spec: FILTER-030
#[tokio::test]
async fn a_listening_subscriber_whose_connection_dropped_is_dialled_back() {
    let (server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    let client_addr = client.listen().await;
    common::subscribe(&mut client, server.id).await;
    // What identify tells a node about the subscriber's listen address.
    let client_id = client.id;
    server
        .with(move |s| s.add_peer_address(client_id, client_addr))
        .await;
    assert!(
        server
            .with(move |s| s.disconnect_peer_id(client_id))
            .await
            .is_ok()
    );
    client
        .wait("the disconnection", |e| match e {
            libp2p::swarm::SwarmEvent::ConnectionClosed { .. } => Some(()),
            _ => None,
        })
        .await;
    assert!(!server.with(move |s| s.is_connected(&client_id)).await);

    let sent = message(CONTENT, b"after the drop");
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 1);
    let (from, topic, got) = next_message(&mut client).await;
    assert_eq!((from, topic.as_str(), got), (server.id, TOPIC, sent));
    assert!(server.with(move |s| s.is_connected(&client_id)).await);
}

/// Whether `events` hold a delivered message.
fn any_message(events: &[waku_filter::client::Event]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, waku_filter::client::Event::Message { .. }))
}

// As in nwaku, a message the node hands over twice (from relay and from
// lightpush, say) reaches each subscriber once: the service remembers the
// hashes of the messages it pushed for `duplicate_window` (2 minutes).
// spec: FILTER-020
#[tokio::test]
async fn a_message_given_twice_is_pushed_once() {
    let (server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    let sent = message(CONTENT, b"once");
    // Nobody subscribed yet: nothing pushed, and nothing remembered.
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 0);
    common::subscribe(&mut client, server.id).await;
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 1);
    assert_eq!(next_message(&mut client).await.2, sent);
    // The same message again is not pushed.
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 0);
    // A different one is.
    let other = message(CONTENT, b"another");
    assert_eq!(feed(&server, TOPIC, other.clone()).await, 1);
    assert_eq!(next_message(&mut client).await.2, other);
    let events = client.drain_for(Duration::from_millis(200)).await;
    assert!(!any_message(&events), "{events:?}");
    assert_eq!(
        waku_filter::service::Config::default().duplicate_window(),
        Duration::from_secs(120)
    );
}

// spec: FILTER-020
#[tokio::test]
async fn duplicates_are_pushed_again_without_a_window_or_after_it() {
    // A zero window switches the check off.
    let config = unlimited().with_duplicate_window(Duration::ZERO);
    let (server, addr) = service(config).await;
    let mut client = common::client(server.id, addr).await;
    common::subscribe(&mut client, server.id).await;
    let sent = message(CONTENT, b"twice");
    for _ in 0..2 {
        assert_eq!(feed(&server, TOPIC, sent.clone()).await, 1);
        assert_eq!(next_message(&mut client).await.2, sent);
    }

    // A short window: the duplicate is pushed again once it has passed.
    let window = Duration::from_millis(300);
    let config = unlimited().with_duplicate_window(window);
    assert_eq!(config.duplicate_window(), window);
    let (server, addr) = service(config).await;
    let mut client = common::client(server.id, addr).await;
    common::subscribe(&mut client, server.id).await;
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 1);
    assert_eq!(next_message(&mut client).await.2, sent);
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 0);
    tokio::time::sleep(window * 2).await;
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 1);
    assert_eq!(next_message(&mut client).await.2, sent);
    let events = client.drain_for(Duration::from_millis(200)).await;
    assert!(!any_message(&events), "{events:?}");
}

/// A raw peer that pushes arbitrary bytes to a client.
async fn rogue_pusher(client: &mut Peer<waku_filter::client::Behaviour>) -> Peer<Raw> {
    // It reads each stream to its end, to see what the client writes back.
    let mut rogue = Peer::spawn(swarm(raw(
        [(PUSH_PROTOCOL, ProtocolSupport::Outbound)],
        true,
    )));
    let addr = rogue.listen().await;
    client.connect(addr, rogue.id).await;
    // The rogue must know the connection too, or its first push would dial
    // the (non-listening) client.
    let client_id = client.id;
    rogue
        .wait("the rogue's side of the connection", |e| match e {
            libp2p::swarm::SwarmEvent::ConnectionEstablished { peer_id, .. }
                if peer_id == client_id =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
    rogue
}

async fn push_raw(rogue: &Peer<Raw>, to: libp2p::PeerId, bytes: Vec<u8>) {
    rogue
        .with(move |s| {
            s.behaviour_mut()
                .send_request(&to, RawRequest::Bytes(bytes))
        })
        .await;
}

async fn next_drop(
    client: &mut Peer<waku_filter::client::Behaviour>,
) -> waku_filter::client::PushDropReason {
    client
        .wait_behaviour("a dropped push", |e| match e {
            waku_filter::client::Event::PushDropped { reason, .. } => Some(reason),
            waku_filter::client::Event::Message { .. } => panic!("unexpected delivery"),
            _ => None,
        })
        .await
}

// spec: FILTER-027, FILTER-026
#[tokio::test]
async fn pushes_not_matching_our_subscription_at_that_peer_are_dropped() {
    let (server, addr) = service(unlimited()).await;
    let mut client = common::client(server.id, addr).await;
    common::subscribe(&mut client, server.id).await;
    let client_id = client.id;
    let mut rogue = rogue_pusher(&mut client).await;
    let frame = |topic: Option<&str>, content: &str| {
        MessagePush {
            waku_message: Some(message(content, b"spam").into()),
            pubsub_topic: topic.map(str::to_owned),
        }
        .encode_length_delimited_to_vec()
    };
    // Right criteria, but we never subscribed at this peer.
    push_raw(&rogue, client_id, frame(Some(TOPIC), CONTENT)).await;
    assert_eq!(
        next_drop(&mut client).await,
        waku_filter::client::PushDropReason::NotSubscribed {
            pubsub_topic: TOPIC.into(),
            content_topic: CONTENT.into()
        }
    );
    // No pubsub topic; no message; garbage.
    push_raw(&rogue, client_id, frame(None, CONTENT)).await;
    assert_eq!(
        next_drop(&mut client).await,
        waku_filter::client::PushDropReason::NoPubsubTopic
    );
    let empty = MessagePush {
        waku_message: None,
        pubsub_topic: Some(TOPIC.into()),
    }
    .encode_length_delimited_to_vec();
    push_raw(&rogue, client_id, empty).await;
    assert!(matches!(
        next_drop(&mut client).await,
        waku_filter::client::PushDropReason::BadMessage(_)
    ));
    push_raw(&rogue, client_id, vec![2, 0xff, 0xff]).await;
    assert!(matches!(
        next_drop(&mut client).await,
        waku_filter::client::PushDropReason::Malformed(_)
    ));
    // The client wrote nothing back on any of these streams, and closed
    // each of them (the rogue read every one to its end).
    let answers: Vec<Vec<u8>> = rogue
        .drain_for(Duration::from_millis(500))
        .await
        .into_iter()
        .filter_map(|a| match a {
            RrEvent::Message {
                message: Message::Response { response, .. },
                ..
            } => Some(response),
            _ => None,
        })
        .collect();
    assert_eq!(answers, vec![Vec::<u8>::new(); 4]);
    // The real service's push still arrives.
    assert_eq!(feed(&server, TOPIC, message(CONTENT, b"real")).await, 1);
    assert_eq!(&next_message(&mut client).await.2.payload[..], b"real");
}

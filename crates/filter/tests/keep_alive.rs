//! Connections stay open while a subscription lives on them, whatever the
//! swarm's idle timeout, and go back to idling once it is gone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{CONTENT, Peer, TOPIC, feed, message, next_message, unlimited};

use waku_testkit::swarm_with_idle_timeout;

/// Far shorter than any test step, so only keep-alive holds a connection.
const IDLE: Duration = Duration::from_millis(300);

async fn connected(peer: &Peer<waku_filter::client::Behaviour>, other: libp2p::PeerId) -> bool {
    peer.with(move |s| s.is_connected(&other)).await
}

// spec: FILTER-019, FILTER-020
#[tokio::test]
async fn a_subscription_keeps_the_connection_open_on_both_sides() {
    let mut server = Peer::spawn(swarm_with_idle_timeout(
        waku_filter::service::Behaviour::new(unlimited()),
        IDLE,
    ));
    let addr = server.listen().await;
    let mut client = Peer::spawn(swarm_with_idle_timeout(
        waku_filter::client::Behaviour::new(waku_filter::client::Config::default()),
        IDLE,
    ));
    client.connect(addr.clone(), server.id).await;
    common::subscribe(&mut client, server.id).await;

    // Many idle timeouts later, the connection is still there and pushes
    // still arrive over it.
    tokio::time::sleep(IDLE * 5).await;
    assert!(connected(&client, server.id).await);
    let sent = message(CONTENT, b"still here");
    assert_eq!(feed(&server, TOPIC, sent.clone()).await, 1);
    assert_eq!(next_message(&mut client).await.2, sent);

    // Without a subscription, the idle timeout applies again.
    let to = server.id;
    let r = common::request(&mut client, move |c| c.unsubscribe_all(&to)).await;
    assert_eq!(common::status(&r), 200);
    tokio::time::sleep(IDLE * 5).await;
    assert!(!connected(&client, server.id).await);

    // A fresh connection without any subscription closes on its own too.
    client.connect(addr, server.id).await;
    tokio::time::sleep(IDLE * 5).await;
    assert!(!connected(&client, server.id).await);
}

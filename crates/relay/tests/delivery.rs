//! Delivery over real swarms: every subscriber of a shard gets each message
//! exactly once, nodes not subscribed to it get nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::*;
use waku_core::{ValidationError, WakuMessage, now_nanos};
use waku_relay::{PublishError, ValidatorScope, Verdict};
use waku_sharding::RelayShard;

const SHARD_0: &str = "/waku/2/rs/1/0";
const SHARD_1: &str = "/waku/2/rs/1/1";

// spec: NET-020, RELAY-004, NET-013
#[tokio::test]
async fn two_nodes_exchange_messages_on_their_shard() {
    let mut a = spawn_relay(relay_config()).await;
    let mut b = spawn_relay(relay_config()).await;
    let shard = RelayShard::new(1, 0);
    a.behaviour(move |r| r.subscribe(&shard).unwrap()).await;
    b.behaviour(move |r| r.subscribe(&shard).unwrap()).await;
    a.connect(&b).await;

    let msg = message("hello from a");
    let hash = publish(&a, SHARD_0, msg.clone()).await;
    let mut got = Vec::new();
    collect_messages(&mut b, &mut got, 1).await;
    assert_eq!(got[0].topic, SHARD_0);
    assert_eq!(got[0].message, msg);
    assert_eq!(got[0].hash, hash);
    assert_eq!(hash, waku_core::message_hash(SHARD_0, &msg));
    assert_eq!(got[0].source, a.peer_id);
    // No version field on the wire: relayed as is, read as version 0.
    assert_eq!(got[0].message.version, None);
    assert_eq!(got[0].message.version_or_zero(), 0);

    let reply = message("hello from b");
    publish(&b, SHARD_0, reply.clone()).await;
    let mut got = Vec::new();
    collect_messages(&mut a, &mut got, 1).await;
    assert_eq!(got[0].message, reply);
    assert_eq!(got[0].source, b.peer_id);
}

// spec: MSG-012, MSG-013, MSG-016
#[tokio::test]
async fn payloads_of_every_version_are_relayed_byte_for_byte() {
    let mut a = spawn_relay(relay_config()).await;
    let b = spawn_relay(relay_config()).await;
    a.behaviour(|r| r.subscribe(SHARD_0).unwrap()).await;
    b.behaviour(|r| r.subscribe(SHARD_0).unwrap()).await;
    b.connect(&a).await;

    // Binary payloads, as an encrypting layer above would hand over: every
    // byte value, then a run that differs per message.
    let sent: Vec<WakuMessage> = [Some(0), None, Some(1), Some(2), Some(7), Some(u32::MAX)]
        .into_iter()
        .enumerate()
        .map(|(i, version)| {
            let mut m = message("");
            let mut payload: Vec<u8> = (0..=255u8).rev().collect();
            payload.extend(std::iter::repeat_n(0xa5 ^ u8::try_from(i).unwrap(), 64));
            m.payload = payload.into();
            m.version = version;
            m
        })
        .collect();
    for m in &sent {
        publish(&b, SHARD_0, m.clone()).await;
    }
    let mut got = Vec::new();
    collect_messages(&mut a, &mut got, sent.len()).await;
    let got: Vec<WakuMessage> = got.into_iter().map(|d| d.message).collect();
    // Each arrives exactly as published, version field included.
    for m in &sent {
        assert!(got.contains(m), "{:?} was not relayed unchanged", m.version);
    }
    let counts = a.behaviour(|r| r.validation_counts().clone()).await;
    assert_eq!(counts.total(waku_relay::Outcome::Reject), 0);
    assert_eq!(counts.total(waku_relay::Outcome::Ignore), 0);
}

// spec: SHARD-003
#[tokio::test]
async fn cluster_and_shard_index_are_enough_to_use_a_shard() {
    // Neither node is given a topic string.
    let shard = RelayShard::try_new(3, 517).unwrap();
    let mut a = spawn_relay(relay_config()).await;
    let b = spawn_relay(relay_config()).await;
    a.behaviour(move |r| r.subscribe(&shard).unwrap()).await;
    b.behaviour(move |r| r.subscribe(&shard).unwrap()).await;
    b.connect(&a).await;
    let b_ref = &b;
    eventually("b sees a on the shard", move || async move {
        b_ref.behaviour(move |r| r.relay_peers(&shard) == 1).await
    })
    .await;
    assert!(b.behaviour(move |r| r.is_subscribed(&shard)).await);

    let sent = message("by cluster and index");
    let hash = publish(&b, &shard, sent.clone()).await;
    let mut got = Vec::new();
    collect_messages(&mut a, &mut got, 1).await;
    assert_eq!(got[0].message, sent);
    assert_eq!(got[0].hash, hash);
    assert_eq!(got[0].source, b.peer_id);
    // The topic the event names is that shard's, and reads back as it.
    assert_eq!(got[0].topic.parse::<RelayShard>(), Ok(shard));
    assert_eq!(got[0].topic, "/waku/2/rs/3/517");
    assert!(b.behaviour(move |r| r.unsubscribe(&shard)).await);
    assert!(!b.behaviour(move |r| r.is_subscribed(&shard)).await);
}

// spec: NET-020
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_nodes_deliver_once_to_every_subscriber_and_to_no_one_else() {
    const N: usize = 10;
    // Shard 0: everyone. Shard 1: nodes 0..=4, contiguous on the ring.
    let on_shard_1 = |i: usize| i <= 4;
    let mut nodes = Vec::new();
    for i in 0..N {
        let node = spawn_relay(relay_config()).await;
        node.behaviour(move |r| {
            r.subscribe(SHARD_0).unwrap();
            if on_shard_1(i) {
                r.subscribe(SHARD_1).unwrap();
            }
        })
        .await;
        nodes.push(node);
    }
    // A ring plus chords: several paths between most pairs.
    let mut edges: Vec<(usize, usize)> = (0..N).map(|i| (i, (i + 1) % N)).collect();
    edges.extend([(0, 5), (2, 7), (3, 8)]);
    for &(i, j) in &edges {
        nodes[i].connect(&nodes[j]).await;
    }
    // Wait for every mesh link the topology allows (degrees < D_low, so all
    // subscribed neighbours end up in the mesh).
    for &(i, j) in &edges {
        wait_mesh(&nodes[i], SHARD_0, nodes[j].peer_id).await;
        wait_mesh(&nodes[j], SHARD_0, nodes[i].peer_id).await;
        if on_shard_1(i) && on_shard_1(j) {
            wait_mesh(&nodes[i], SHARD_1, nodes[j].peer_id).await;
            wait_mesh(&nodes[j], SHARD_1, nodes[i].peer_id).await;
        }
    }

    let mut published: HashMap<usize, Vec<(String, waku_core::MessageHash)>> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let m = message(&format!("shard 0 from {i}"));
        let h = publish(node, SHARD_0, m).await;
        published.entry(i).or_default().push((SHARD_0.into(), h));
    }
    for i in [0, 4] {
        let m = message(&format!("shard 1 from {i}"));
        let h = publish(&nodes[i], SHARD_1, m).await;
        published.entry(i).or_default().push((SHARD_1.into(), h));
    }

    for (i, node) in nodes.iter_mut().enumerate() {
        let expected: HashSet<_> = published
            .iter()
            .filter(|(from, _)| **from != i)
            .flat_map(|(_, msgs)| msgs.iter())
            .filter(|(topic, _)| topic == SHARD_0 || on_shard_1(i))
            .map(|(_, h)| *h)
            .collect();
        let mut got = Vec::new();
        collect_messages(node, &mut got, expected.len()).await;
        let got_hashes: HashSet<_> = got.iter().map(|d| d.hash).collect();
        assert_eq!(got_hashes, expected, "node {i} got the wrong messages");
        assert_eq!(got.len(), expected.len(), "node {i} got duplicates");
    }
    // Anything still in flight would be a duplicate or a message for a
    // shard the node is not on.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (i, node) in nodes.iter_mut().enumerate() {
        let extra = messages(node.drain());
        assert!(extra.is_empty(), "node {i} got extra messages: {extra:?}");
    }
    // Every node relayed shard-0 traffic; the counters saw no rejections.
    for node in &nodes {
        let counts = node.behaviour(|r| r.validation_counts().clone()).await;
        assert_eq!(counts.total(waku_relay::Outcome::Reject), 0);
        assert_eq!(counts.total(waku_relay::Outcome::Ignore), 0);
    }
}

// spec: NET-018, NET-027
#[test]
fn publish_refuses_oversized_and_stale_messages_and_reports_missing_peers() {
    let mut relay = waku_relay::Behaviour::new(relay_config()).unwrap();
    let shard = RelayShard::new(1, 0);
    relay.subscribe(&shard).unwrap();

    let mut big = message("");
    big.payload = vec![0u8; 150 * 1024].into();
    assert!(big.encoded_len() > 150 * 1024);
    assert!(matches!(
        relay.publish(&shard, big),
        Err(PublishError::Invalid(ValidationError::TooLarge { .. }))
    ));

    for offset in [-30_000_000_000i64, 30_000_000_000] {
        let mut stale = message("stale");
        stale.timestamp = Some(now_nanos() + offset);
        assert!(matches!(
            relay.publish(&shard, stale),
            Err(PublishError::Invalid(
                ValidationError::TimestampOutOfWindow { .. }
            ))
        ));
    }

    let no_topic = WakuMessage::new(&b"x"[..], "");
    assert_eq!(
        relay.publish(&shard, no_topic),
        Err(PublishError::Rejected(
            waku_relay::reason::MISSING_CONTENT_TOPIC
        ))
    );

    // A message just under the limit is fine, but nobody listens yet.
    let mut fits = message("");
    fits.payload = vec![0u8; 150 * 1024 - 100].into();
    assert!(fits.encoded_len() <= 150 * 1024);
    assert_eq!(
        relay.publish(&shard, fits),
        Err(PublishError::NoPeers(SHARD_0.into()))
    );
}

// spec: RELAY-009
#[tokio::test]
async fn peers_announce_subscriptions_and_unsubscribed_peers_get_nothing() {
    let mut a = spawn_relay(relay_config()).await;
    let mut b = spawn_relay(relay_config()).await;
    a.behaviour(|r| r.subscribe(SHARD_0).unwrap()).await;
    a.connect(&b).await;

    b.behaviour(|r| r.subscribe(SHARD_0).unwrap()).await;
    let b_id = b.peer_id;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let e = tokio::time::timeout_at(deadline, a.events.recv())
            .await
            .expect("no subscription event")
            .unwrap();
        if e == (waku_relay::Event::Subscribed {
            peer: b_id,
            pubsub_topic: SHARD_0.into(),
        }) {
            break;
        }
    }
    assert_eq!(a.behaviour(|r| r.relay_peers(SHARD_0)).await, 1);
    publish(&a, SHARD_0, message("before")).await;
    let mut got = Vec::new();
    collect_messages(&mut b, &mut got, 1).await;

    assert!(b.behaviour(|r| r.unsubscribe(SHARD_0)).await);
    assert!(!b.behaviour(|r| r.is_subscribed(SHARD_0)).await);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let e = tokio::time::timeout_at(deadline, a.events.recv())
            .await
            .expect("no unsubscription event")
            .unwrap();
        if e == (waku_relay::Event::Unsubscribed {
            peer: b_id,
            pubsub_topic: SHARD_0.into(),
        }) {
            break;
        }
    }
    assert_eq!(a.behaviour(|r| r.relay_peers(SHARD_0)).await, 0);
    let after = message("after");
    assert_eq!(
        a.behaviour(move |r| r.publish(SHARD_0, after)).await,
        Err(PublishError::NoPeers(SHARD_0.into()))
    );
}

// spec: NET-019, NET-021
#[tokio::test]
async fn named_topics_work_and_take_topic_scoped_validators() {
    const LEGACY: &str = "/waku/2/default-waku/proto";
    let mut config = relay_config();
    config.add_validator(
        ValidatorScope::Topic(LEGACY.into()),
        Box::new(|ctx: &waku_relay::MessageContext<'_>| {
            assert!(ctx.shard.is_none());
            if ctx.message.payload.starts_with(b"bad") {
                Verdict::Reject("test_bad_payload")
            } else {
                Verdict::Accept
            }
        }),
    );
    let mut a = spawn_relay(config).await;
    let b = spawn_relay(relay_config()).await;
    a.behaviour(|r| r.subscribe(LEGACY).unwrap()).await;
    b.behaviour(|r| r.subscribe(LEGACY).unwrap()).await;
    b.connect(&a).await;

    publish(&b, LEGACY, message("bad one")).await;
    publish(&b, LEGACY, message("good one")).await;
    let mut got = Vec::new();
    collect_messages(&mut a, &mut got, 1).await;
    assert_eq!(got[0].message.payload.as_ref(), b"good one");
    assert_eq!(got[0].topic, LEGACY);
    let counts = a.behaviour(|r| r.validation_counts().clone()).await;
    assert_eq!(
        counts.get(waku_relay::Outcome::Reject, "test_bad_payload"),
        1
    );
}

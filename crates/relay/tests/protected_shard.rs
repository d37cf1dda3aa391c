//! Protected shards over real swarms: only messages signed by the shard key
//! pass; everything else is rejected at the first hop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use libp2p::gossipsub;
use waku_core::{WakuMessage, now_nanos};
use waku_relay::{Outcome, PublishError, SigningKey, reason, sign_for_protected_shard};
use waku_sharding::RelayShard;

const PROTECTED: RelayShard = RelayShard::new(1, 5);

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn signed(payload: &str, by: &SigningKey) -> WakuMessage {
    let mut m = message(payload);
    sign_for_protected_shard(by, &PROTECTED.to_string(), &mut m);
    m
}

// spec: NET-019, NET-021, NET-022
#[tokio::test]
async fn only_messages_signed_by_the_shard_key_are_relayed() {
    let topic = PROTECTED.to_string();
    let shard_key = key(11);
    let raw = spawn_raw(Authenticity::Anonymous).await;
    let mut a =
        spawn_relay(relay_config().with_protected_shard(PROTECTED, *shard_key.verifying_key()))
            .await;
    // A plain gossipsub observer: it would show anything a forwards.
    let mut c = spawn_observer(&topic).await;
    a.behaviour(|r| r.subscribe(&PROTECTED).unwrap()).await;
    {
        let t = topic.clone();
        raw.behaviour(move |g| g.subscribe(&gossipsub::IdentTopic::new(t)).unwrap())
            .await;
    }
    raw.connect(&a).await;
    a.connect(&c).await;
    wait_mesh(&a, &topic, c.peer_id).await;
    wait_raw_knows(&raw, &topic, a.peer_id).await;

    let wrong_key = signed("wrong key", &key(12));
    let mut bad_signature = signed("bad signature", &shard_key);
    let mut sig = bad_signature.meta.clone().unwrap().to_vec();
    sig[5] ^= 0x40;
    bad_signature.meta = Some(sig.into());
    let mut tampered = signed("tampered", &shard_key);
    tampered.payload = b"tampered!".to_vec().into();
    let mut missing_meta = message("missing meta");
    missing_meta.meta = None;
    let mut no_timestamp = message("no timestamp");
    no_timestamp.timestamp = None;
    sign_for_protected_shard(&shard_key, &topic, &mut no_timestamp);
    let mut stale = message("stale");
    stale.timestamp = Some(now_nanos() - 10 * 60 * 1_000_000_000);
    sign_for_protected_shard(&shard_key, &topic, &mut stale);
    let bad = [
        wrong_key,
        bad_signature,
        tampered,
        missing_meta,
        no_timestamp,
        stale,
    ];
    for m in &bad {
        let (t, data) = (topic.clone(), m.encode_to_vec());
        raw.behaviour(move |g| g.publish(gossipsub::IdentTopic::new(t), data).unwrap())
            .await;
    }
    let good = signed("properly signed", &shard_key);
    {
        let (t, data) = (topic.clone(), good.encode_to_vec());
        raw.behaviour(move |g| g.publish(gossipsub::IdentTopic::new(t), data).unwrap())
            .await;
    }

    let mut at_a = Vec::new();
    collect_messages(&mut a, &mut at_a, 1).await;
    assert_eq!(at_a[0].message, good);
    let mut at_c = Vec::new();
    collect_raw(&mut c, &mut at_c, 1).await;
    assert_eq!(at_c[0].data, good.encode_to_vec());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(messages(a.drain()).is_empty());
    assert!(raw_messages(c.drain()).is_empty());

    let counts = a.behaviour(|r| r.validation_counts().clone()).await;
    assert_eq!(counts.total(Outcome::Accept), 1, "{counts:?}");
    assert_eq!(
        counts.total(Outcome::Reject),
        bad.len() as u64,
        "{counts:?}"
    );
    // The signature corruption may break the encoding of r instead.
    assert_eq!(
        counts.get(Outcome::Reject, reason::PROTECTED_BAD_SIGNATURE)
            + counts.get(Outcome::Reject, reason::PROTECTED_NO_SIGNATURE),
        4,
        "{counts:?}"
    );
    assert_eq!(
        counts.get(Outcome::Reject, reason::PROTECTED_NO_TIMESTAMP),
        1
    );
    assert_eq!(
        counts.get(Outcome::Reject, reason::TIMESTAMP_OUT_OF_WINDOW),
        1
    );
    let raw_id = raw.peer_id;
    let s = a.behaviour(move |r| r.peer_score(&raw_id).unwrap()).await;
    assert!(s < 0.0, "score {s}");
}

// spec: NET-019
#[tokio::test]
async fn a_node_refuses_to_publish_unsigned_messages_on_its_protected_shard() {
    let shard_key = key(21);
    let a = spawn_relay(relay_config().with_protected_shard(PROTECTED, *shard_key.verifying_key()))
        .await;
    let mut b = spawn_relay(relay_config()).await;
    a.behaviour(|r| r.subscribe(&PROTECTED).unwrap()).await;
    b.behaviour(|r| r.subscribe(&PROTECTED).unwrap()).await;
    a.connect(&b).await;
    wait_relay_peer(&a, &PROTECTED.to_string(), b.peer_id).await;

    let unsigned = message("unsigned");
    assert_eq!(
        a.behaviour(move |r| r.publish(&PROTECTED, unsigned)).await,
        Err(PublishError::Rejected(reason::PROTECTED_NO_SIGNATURE))
    );
    let good = signed("signed", &shard_key);
    publish(&a, &PROTECTED.to_string(), good.clone()).await;
    let mut got = Vec::new();
    collect_messages(&mut b, &mut got, 1).await;
    assert_eq!(got[0].message, good);
    // Other shards are not affected.
    let other = RelayShard::new(1, 6);
    a.behaviour(move |r| r.subscribe(&other).unwrap()).await;
    b.behaviour(move |r| r.subscribe(&other).unwrap()).await;
    wait_relay_peer(&a, &other.to_string(), b.peer_id).await;
    publish(&a, &other.to_string(), message("free shard")).await;
    collect_messages(&mut b, &mut got, 2).await;
}

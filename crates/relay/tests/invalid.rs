//! Invalid messages injected by a plain gossipsub peer (same protocol id,
//! no Waku validation) are neither delivered nor forwarded, and cost their
//! sender score.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use libp2p::gossipsub;
use waku_core::now_nanos;
use waku_relay::{Outcome, reason};

const SHARD: &str = "/waku/2/rs/1/2";

/// raw -- a -- b, everyone on SHARD, with the mesh a -> b in place. `b` is
/// a plain gossipsub observer without validation: it shows everything `a`
/// forwards.
struct Line {
    raw: Node<gossipsub::Behaviour>,
    a: Node<waku_relay::Behaviour>,
    b: Node<gossipsub::Behaviour>,
}

async fn line(authenticity: Authenticity) -> Line {
    let raw = spawn_raw(authenticity).await;
    let a = spawn_relay(relay_config()).await;
    let b = spawn_observer(SHARD).await;
    a.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    raw.behaviour(|g| g.subscribe(&gossipsub::IdentTopic::new(SHARD)).unwrap())
        .await;
    raw.connect(&a).await;
    a.connect(&b).await;
    wait_mesh(&a, SHARD, b.peer_id).await;
    wait_raw_knows(&raw, SHARD, a.peer_id).await;
    Line { raw, a, b }
}

async fn raw_publish(raw: &Node<gossipsub::Behaviour>, data: Vec<u8>) {
    raw.behaviour(move |g| g.publish(gossipsub::IdentTopic::new(SHARD), data).unwrap())
        .await;
}

async fn score(a: &Node<waku_relay::Behaviour>, peer: libp2p::PeerId) -> f64 {
    a.behaviour(move |r| r.peer_score(&peer).unwrap()).await
}

/// Sends `bad` (each expected to be rejected for `why`), then a valid
/// control message, and checks the outcome at a and b.
async fn inject_and_check(bad: Vec<Vec<u8>>, why: &str) {
    let mut l = line(Authenticity::Anonymous).await;
    assert!(score(&l.a, l.raw.peer_id).await >= 0.0);
    let n = bad.len() as u64;
    for data in bad {
        raw_publish(&l.raw, data).await;
    }
    let control = message("valid control message");
    raw_publish(&l.raw, control.encode_to_vec()).await;

    // b gets the control message (forwarded by a after the bad ones, on the
    // same stream) and nothing else.
    let mut got = Vec::new();
    collect_raw(&mut l.b, &mut got, 1).await;
    assert_eq!(
        got[0].data,
        control.encode_to_vec(),
        "b got an invalid message"
    );
    let mut at_a = Vec::new();
    collect_messages(&mut l.a, &mut at_a, 1).await;
    assert_eq!(at_a[0].message, control);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        raw_messages(l.b.drain()).is_empty(),
        "b got an invalid message"
    );
    assert!(
        messages(l.a.drain()).is_empty(),
        "a delivered an invalid message"
    );

    let counts = l.a.behaviour(|r| r.validation_counts().clone()).await;
    assert_eq!(counts.get(Outcome::Reject, why), n, "{counts:?}");
    assert_eq!(counts.total(Outcome::Accept), 1);
    let s = score(&l.a, l.raw.peer_id).await;
    assert!(s < 0.0, "score of the sender is {s}");
}

// spec: NET-025, NET-026, NET-011, NET-021, NET-022, RELAY-004
#[tokio::test]
async fn undecodable_data_is_rejected_not_forwarded_and_penalised() {
    inject_and_check(vec![vec![0xff, 0xff, 0xff, 0x01]], reason::UNDECODABLE).await;
}

// spec: NET-018, NET-021, NET-022
#[tokio::test]
async fn oversized_messages_are_rejected_not_forwarded_and_penalised() {
    let mut big = message("");
    big.payload = vec![7u8; 150 * 1024 + 1].into();
    inject_and_check(vec![big.encode_to_vec()], reason::TOO_LARGE).await;
}

// spec: NET-027, NET-021, NET-022
#[tokio::test]
async fn messages_30_s_off_the_clock_are_rejected_not_forwarded_and_penalised() {
    let mut past = message("from the past");
    past.timestamp = Some(now_nanos() - 30_000_000_000);
    let mut future = message("from the future");
    future.timestamp = Some(now_nanos() + 30_000_000_000);
    inject_and_check(
        vec![past.encode_to_vec(), future.encode_to_vec()],
        reason::TIMESTAMP_OUT_OF_WINDOW,
    )
    .await;
}

/// A sender whose messages carry `from`/`seqno` (and, when signed,
/// `signature`/`key`) is refused by gossipsub's StrictNoSign check.
async fn authored_messages_are_refused(authenticity: Authenticity) {
    let mut l = line(authenticity).await;
    let clean = spawn_raw(Authenticity::Anonymous).await;
    clean
        .behaviour(|g| g.subscribe(&gossipsub::IdentTopic::new(SHARD)).unwrap())
        .await;
    clean.connect(&l.a).await;
    wait_raw_knows(&clean, SHARD, l.a.peer_id).await;

    // A perfectly valid WakuMessage, but with an author.
    raw_publish(&l.raw, message("authored").encode_to_vec()).await;
    let raw_id = l.raw.peer_id;
    let a = &l.a;
    eventually("sender penalised", || async move {
        a.behaviour(move |r| r.peer_score(&raw_id).unwrap() < 0.0)
            .await
    })
    .await;

    let control = message("anonymous control");
    clean
        .behaviour({
            let data = control.encode_to_vec();
            move |g| g.publish(gossipsub::IdentTopic::new(SHARD), data).unwrap()
        })
        .await;
    let mut got = Vec::new();
    collect_raw(&mut l.b, &mut got, 1).await;
    assert_eq!(
        got[0].data,
        control.encode_to_vec(),
        "b got an authored message"
    );
    let mut at_a = Vec::new();
    collect_messages(&mut l.a, &mut at_a, 1).await;
    assert_eq!(at_a[0].message, control);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(raw_messages(l.b.drain()).is_empty());
    assert!(messages(l.a.drain()).is_empty());
}

// spec: RELAY-012, NET-021, NET-022
#[tokio::test]
async fn messages_with_from_and_seqno_are_rejected() {
    authored_messages_are_refused(Authenticity::RandomAuthor).await;
}

// spec: RELAY-012, NET-021, NET-022
#[tokio::test]
async fn signed_messages_are_rejected() {
    authored_messages_are_refused(Authenticity::Signed).await;
}

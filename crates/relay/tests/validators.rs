//! Validators over real swarms: the rate limiter ignores (never rejects)
//! what exceeds the shard's allowance, custom validators plug in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use libp2p::gossipsub;
use waku_core::RateLimitProof;
use waku_relay::{MessageContext, Outcome, RateLimitValidator, ValidatorScope, Verdict, reason};

const SHARD: &str = "/waku/2/rs/1/3";

/// sender -- a -- c on SHARD, a configured with `config`; c is a plain
/// gossipsub observer showing everything a forwards.
async fn line(
    config: waku_relay::Config,
) -> (
    Node<waku_relay::Behaviour>,
    Node<waku_relay::Behaviour>,
    Node<gossipsub::Behaviour>,
) {
    let sender = spawn_relay(relay_config()).await;
    let a = spawn_relay(config).await;
    let c = spawn_observer(SHARD).await;
    for n in [&sender, &a] {
        n.behaviour(|r| r.subscribe(SHARD).unwrap()).await;
    }
    sender.connect(&a).await;
    a.connect(&c).await;
    wait_mesh(&a, SHARD, c.peer_id).await;
    wait_relay_peer(&sender, SHARD, a.peer_id).await;
    (sender, a, c)
}

async fn counts(a: &Node<waku_relay::Behaviour>) -> waku_relay::ValidationCounts {
    a.behaviour(|r| r.validation_counts().clone()).await
}

async fn wait_validated(a: &Node<waku_relay::Behaviour>, n: u64) -> waku_relay::ValidationCounts {
    eventually("all messages validated", || async move {
        let c = counts(a).await;
        c.total(Outcome::Accept) + c.total(Outcome::Ignore) + c.total(Outcome::Reject) >= n
    })
    .await;
    counts(a).await
}

/// Checks that c received exactly the `accepted` messages a accepted.
async fn c_gets_exactly(c: &mut Node<gossipsub::Behaviour>, accepted: usize) {
    let mut got = Vec::new();
    collect_raw(c, &mut got, accepted).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        raw_messages(c.drain()).is_empty(),
        "ignored messages were forwarded"
    );
}

// spec: NET-006, NET-019, NET-023, NET-024, NET-005
#[tokio::test]
async fn messages_beyond_the_rate_are_ignored_without_penalty() {
    let config = relay_config().with_validator(
        ValidatorScope::Topic(SHARD.into()),
        RateLimitValidator::messages_per_second(1.0, 3),
    );
    let (sender, mut a, mut c) = line(config).await;
    let started = Instant::now();
    sender
        .behaviour(|r| {
            for i in 0..10 {
                r.publish(SHARD, message(&format!("m{i}"))).unwrap();
            }
        })
        .await;
    let counts = wait_validated(&a, 10).await;
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = counts.total(Outcome::Accept);
    let ignored = counts.get(Outcome::Ignore, reason::RATE_LIMITED);
    assert_eq!(accepted + ignored, 10, "{counts:?}");
    assert_eq!(counts.total(Outcome::Reject), 0);
    assert!(accepted >= 3, "the burst passes: {counts:?}");
    assert!(
        (accepted as f64) <= 3.0 + elapsed + 1.0,
        "{accepted} accepted in {elapsed} s"
    );
    assert!(ignored >= 1);

    let mut delivered = Vec::new();
    collect_messages(&mut a, &mut delivered, accepted as usize).await;
    assert!(
        messages(a.drain()).is_empty(),
        "an ignored message was delivered"
    );
    c_gets_exactly(&mut c, accepted as usize).await;
    let s = a
        .behaviour({
            let p = sender.peer_id;
            move |r| r.peer_score(&p).unwrap()
        })
        .await;
    assert!(s >= 0.0, "ignoring lowered the sender's score to {s}");
}

// spec: NET-028, NET-006, NET-007, NET-023, NET-024
#[tokio::test]
async fn free_bandwidth_drops_unproven_messages_above_1_mbps() {
    let config = relay_config().with_validator(
        ValidatorScope::AllTopics,
        RateLimitValidator::free_bandwidth(),
    );
    let (sender, mut a, mut c) = line(config).await;
    // 60 x 10 kB = 600 kB in one burst, well over one second at 1 Mbps.
    sender
        .behaviour(|r| {
            for i in 0..60 {
                let mut m = message("");
                m.payload = format!("{i:>10000}").into_bytes().into();
                r.publish(SHARD, m).unwrap();
            }
        })
        .await;
    // A message with an RLN proof still passes (RLN validation judges it).
    let mut proven = message("with proof");
    proven.rate_limit_proof = Some(RateLimitProof {
        proof: vec![1u8; 128].into(),
        ..RateLimitProof::default()
    });
    publish(&sender, SHARD, proven.clone()).await;

    let counts = wait_validated(&a, 61).await;
    let accepted = counts.total(Outcome::Accept);
    assert!(
        counts.get(Outcome::Ignore, reason::RATE_LIMITED) >= 1,
        "{counts:?}"
    );
    assert_eq!(counts.total(Outcome::Reject), 0);
    let mut got = Vec::new();
    collect_messages(&mut a, &mut got, accepted as usize).await;
    assert!(got.iter().any(|d| d.message == proven));
    c_gets_exactly(&mut c, accepted as usize).await;
    let s = a
        .behaviour({
            let p = sender.peer_id;
            move |r| r.peer_score(&p).unwrap()
        })
        .await;
    assert!(s >= 0.0);
}

// spec: NET-016, NET-012
#[tokio::test]
async fn a_custom_validator_can_require_rln_proofs() {
    let config =
        relay_config().with_validator(ValidatorScope::AllTopics, |ctx: &MessageContext<'_>| {
            if ctx.message.rate_limit_proof.is_some() {
                Verdict::Accept
            } else {
                Verdict::Ignore("no_rln_proof")
            }
        });
    let (sender, mut a, mut c) = line(config).await;
    publish(&sender, SHARD, message("no proof")).await;
    let mut proven = message("proof");
    proven.rate_limit_proof = Some(RateLimitProof {
        proof: vec![2u8; 32].into(),
        ..RateLimitProof::default()
    });
    publish(&sender, SHARD, proven.clone()).await;
    let counts = wait_validated(&a, 2).await;
    assert_eq!(counts.get(Outcome::Ignore, "no_rln_proof"), 1);
    let mut got = Vec::new();
    collect_messages(&mut a, &mut got, 1).await;
    assert_eq!(got[0].message, proven);
    c_gets_exactly(&mut c, 1).await;
}

//! Metadata exchange on loopback (TCP, noise, yamux): with the two swarms
//! already connected, one asks the other for its metadata again
//! (`Behaviour::refresh`) and waits for the response to be stored
//! (`Event::Received` with `Origin::Response`).
//!
//! - `metadata/refresh/8_shards`: the responder announces The Waku
//!   Network's 8 shards;
//! - `metadata/refresh/1024_shards`: every shard of a cluster, the largest
//!   response the protocol carries.
//!
//! Run: `cargo bench -p waku-metadata --bench exchange`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::Criterion;
use tokio::runtime::Runtime;
use waku_metadata::{Behaviour, Config, Event, Origin, ShardSet};
use waku_testkit::{Peer, swarm};

struct Pair {
    asker: Peer<Behaviour>,
    responder_id: libp2p::PeerId,
    _responder: Peer<Behaviour>,
}

async fn pair(shards: u16) -> Pair {
    let shard_set = ShardSet::with_shards(0..shards).unwrap();
    let mut responder = Peer::spawn(swarm(Behaviour::new(Config::new(1).with_shards(shard_set))));
    let addr = responder.listen().await;
    let mut asker = Peer::spawn(swarm(Behaviour::new(Config::new(1))));
    asker.connect(addr, responder.id).await;
    // The exchange every new connection starts with.
    asker
        .wait_behaviour("the first metadata", |e| match e {
            Event::Received {
                origin: Origin::Response,
                ..
            } => Some(()),
            _ => None,
        })
        .await;
    let responder_id = responder.id;
    Pair {
        asker,
        responder_id,
        _responder: responder,
    }
}

async fn refresh(pair: &mut Pair) -> Duration {
    let peer = pair.responder_id;
    let start = Instant::now();
    let sent = pair
        .asker
        .with(move |s| s.behaviour_mut().refresh(&peer))
        .await;
    assert!(sent, "a refresh was already pending");
    pair.asker
        .wait_behaviour("the response", |e| match e {
            Event::Received {
                origin: Origin::Response,
                ..
            } => Some(()),
            Event::Received { .. } => None,
            other => panic!("{other:?}"),
        })
        .await;
    start.elapsed()
}

fn bench(c: &mut Criterion, rt: &Runtime) {
    let mut group = c.benchmark_group("metadata/refresh");
    for shards in [8u16, 1024] {
        let mut pair = rt.block_on(pair(shards));
        group.bench_function(format!("{shards}_shards"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += refresh(&mut pair).await;
                    }
                    total
                })
            })
        });
    }
    group.finish();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &rt);
    c.final_summary();
}

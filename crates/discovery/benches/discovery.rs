//! Hot paths of discovery: verifying a whole ENR tree, and drawing a
//! peer-exchange answer from a full cache.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures::executor::block_on;
use waku_discovery::dns::{SigningKey, TreeBuilder, Walker};
use waku_discovery::peer_exchange::service::EnrCache;
use waku_enr::{WakuEnr, WakuEnrBuilder};

fn key(n: u32) -> SigningKey {
    let mut secret = [0x22u8; 32];
    secret[28..].copy_from_slice(&n.to_be_bytes());
    SigningKey::from_slice(&secret).unwrap()
}

fn enrs(count: u32) -> Vec<WakuEnr> {
    (1..=count)
        .map(|n| {
            WakuEnrBuilder::new()
                .ip(IpAddr::V4(Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8)))
                .tcp(60000)
                .build(&key(n))
                .unwrap()
        })
        .collect()
}

fn tree_walk(c: &mut Criterion) {
    let nodes = enrs(1000);
    let tree = TreeBuilder::new(1)
        .with_enrs(&nodes)
        .sign("nodes.example.org", &key(0xffff))
        .unwrap();
    let resolver = tree.to_resolver();
    c.bench_function("dns/walk_verify/1000_enrs", |b| {
        b.iter(|| {
            let outcome = block_on(Walker::new(&resolver).walk(tree.url()));
            assert_eq!(outcome.enrs.len(), 1000);
            black_box(outcome)
        })
    });
}

fn px_answer(c: &mut Criterion) {
    let mut cache = EnrCache::new(1000, Duration::from_secs(3600));
    let now = Instant::now();
    for record in enrs(1000) {
        cache.insert(record, now);
    }
    c.bench_function("px/answer/60_of_1000", |b| {
        b.iter(|| {
            let answer = cache.sample(black_box(60), now, None);
            assert_eq!(answer.len(), 60);
            black_box(answer)
        })
    });
}

criterion_group!(benches, tree_walk, px_answer);
criterion_main!(benches);

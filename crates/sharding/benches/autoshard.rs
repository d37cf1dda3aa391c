//! Autosharding a content topic (parse + sha256 + mod).
//! Run: `cargo bench -p waku-sharding --bench autoshard`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use waku_core::ContentTopic;
use waku_sharding::{NetworkConfig, RelayShard, autoshard_index};

fn bench(c: &mut Criterion) {
    let twn = NetworkConfig::TWN;
    c.bench_function("autoshard/parse_and_map", |b| {
        b.iter(|| {
            twn.autoshard(black_box("/toychat/2/huilong/proto"))
                .unwrap()
        })
    });
    let parsed: ContentTopic = "/toychat/2/huilong/proto".parse().unwrap();
    c.bench_function("autoshard/map_parsed", |b| {
        b.iter(|| autoshard_index(black_box(&parsed), 8).unwrap())
    });
    c.bench_function("pubsub_topic/parse", |b| {
        b.iter(|| black_box("/waku/2/rs/1/7").parse::<RelayShard>().unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

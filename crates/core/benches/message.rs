//! Message hash against a raw SHA-256 of the same preimage, and message
//! encode/decode. Run: `cargo bench -p waku-core --bench message`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use waku_core::{WakuMessage, message_hash};

const PUBSUB_TOPIC: &str = "/waku/2/rs/1/4";

fn message(payload_len: usize) -> WakuMessage {
    let mut m = WakuMessage::new(vec![0x5a; payload_len], "/app/1/chat/proto");
    m.timestamp = Some(1_700_000_000_000_000_000);
    m.meta = Some(vec![1u8; 32].into());
    m.version = Some(0);
    m.ephemeral = Some(false);
    m
}

fn preimage(m: &WakuMessage) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(PUBSUB_TOPIC.as_bytes());
    p.extend_from_slice(&m.payload);
    p.extend_from_slice(m.content_topic.as_bytes());
    p.extend_from_slice(m.meta_bytes());
    p.extend_from_slice(&m.timestamp_or_zero().to_be_bytes());
    p
}

fn hash(c: &mut Criterion) {
    for size in [1024usize, 64 * 1024] {
        let m = message(size);
        let pre = preimage(&m);
        let mut group = c.benchmark_group(format!("hash/{}B", size));
        group.throughput(Throughput::Bytes(pre.len() as u64));
        group.bench_function("message_hash", |b| {
            b.iter(|| message_hash(black_box(PUBSUB_TOPIC), black_box(&m)))
        });
        group.bench_function("raw_sha256_same_preimage", |b| {
            b.iter(|| Sha256::digest(black_box(&pre)))
        });
        group.finish();
    }
}

fn codec(c: &mut Criterion) {
    let m = message(1024);
    let bytes = m.encode_to_vec();
    let mut group = c.benchmark_group("message/1KiB");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("encode", |b| b.iter(|| black_box(&m).encode_to_vec()));
    group.bench_function("decode", |b| {
        b.iter(|| WakuMessage::decode(black_box(&bytes)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, hash, codec);
criterion_main!(benches);

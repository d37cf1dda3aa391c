//! Query latency on an SQLite store of 1,000,000 messages of 1 KB:
//! content topic + time range (page 100, forward and backward) and a
//! 10-hash lookup. Prints p50/p99 over 2,000 queries of each kind, then
//! lets criterion measure the same queries.
//!
//! Building the database takes minutes, so it is built once into
//! `target/waku-store-bench/query-1m.sqlite3` and reused by later runs
//! (delete the file to rebuild it). `WAKU_BENCH_ROWS` changes the size.
//!
//! `cargo bench -p waku-store --bench query`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use waku_core::{MessageHash, WakuMessage, message_hash};
use waku_store::{MessageFilter, MessageQuery, MessageStore, SqliteStore, StoredMessage};

/// Shards the messages are spread over.
const TOPICS: u64 = 8;
/// Content topics per shard.
const CONTENT_TOPICS: u64 = 50;
/// Time between two messages (1 ms): 1M messages span ~17 minutes.
const STEP: i64 = 1_000_000;
const BASE: i64 = 1_700_000_000_000_000_000;

fn rows() -> u64 {
    std::env::var("WAKU_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn topic(i: u64) -> String {
    format!("/waku/2/rs/1/{}", i % TOPICS)
}

fn content_topic(i: u64) -> String {
    format!("/bench/1/c{}/proto", (i / TOPICS) % CONTENT_TOPICS)
}

/// Message number `i`, deterministic, so hashes can be recomputed.
fn message(i: u64) -> StoredMessage {
    let mut payload = vec![b'p'; 1024];
    payload[..8].copy_from_slice(&i.to_le_bytes());
    let m = WakuMessage {
        timestamp: Some(BASE + i as i64 * STEP),
        ..WakuMessage::new(payload, content_topic(i))
    };
    StoredMessage::new(topic(i), m)
}

fn db_path(n: u64) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let name = if n == 1_000_000 {
        "query-1m.sqlite3".to_owned()
    } else {
        format!("query-{n}.sqlite3")
    };
    target.join("waku-store-bench").join(name)
}

async fn open_or_build(n: u64) -> Arc<dyn MessageStore> {
    let path = db_path(n);
    let complete = path.with_extension("complete");
    if !complete.exists() {
        let _ = std::fs::remove_file(&path);
        eprintln!("building {} ({n} messages, once)...", path.display());
        let start = Instant::now();
        let store = SqliteStore::open(&path).unwrap();
        let mut i = 0;
        while i < n {
            let end = (i + 2_000).min(n);
            store.put((i..end).map(message).collect()).await.unwrap();
            i = end;
        }
        drop(store);
        std::fs::write(&complete, b"").unwrap();
        eprintln!("built in {:.1?}", start.elapsed());
    }
    Arc::new(SqliteStore::open(&path).unwrap())
}

/// Deterministic pseudo-random numbers.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// A content topic + time range query (a window of a quarter of the
/// stored span at a random place), page 100.
fn range_query(rng: &mut Lcg, n: u64, forward: bool) -> MessageQuery {
    let i = rng.next(n);
    let span = n as i64 * STEP;
    let start = BASE + rng.next((n * 3 / 4).max(1)) as i64 * STEP;
    MessageQuery {
        filter: MessageFilter {
            pubsub_topic: Some(topic(i)),
            content_topics: vec![content_topic(i)],
            time_start: Some(start),
            time_end: Some(start + span / 4),
            hashes: Vec::new(),
        },
        cursor: None,
        forward,
        page_size: 100,
        include_data: true,
    }
}

fn lookup_query(rng: &mut Lcg, n: u64) -> MessageQuery {
    let hashes: Vec<MessageHash> = (0..10)
        .map(|_| {
            let m = message(rng.next(n));
            message_hash(&m.pubsub_topic, &m.message)
        })
        .collect();
    MessageQuery {
        filter: MessageFilter {
            hashes,
            ..Default::default()
        },
        cursor: None,
        forward: true,
        page_size: 100,
        include_data: true,
    }
}

fn percentiles(
    rt: &tokio::runtime::Runtime,
    store: &dyn MessageStore,
    name: &str,
    mut make: impl FnMut() -> MessageQuery,
) {
    let mut times: Vec<Duration> = Vec::with_capacity(2_000);
    let mut returned = 0;
    for _ in 0..2_000 {
        let q = make();
        let start = Instant::now();
        let page = rt.block_on(store.query(q)).unwrap();
        times.push(start.elapsed());
        returned += page.entries.len();
    }
    times.sort();
    let p = |x: f64| times[((times.len() as f64 * x) as usize).min(times.len() - 1)];
    println!(
        "{name}: p50 {:.3?}  p99 {:.3?}  max {:.3?}  (2000 queries, {:.1} entries/page)",
        p(0.50),
        p(0.99),
        times[times.len() - 1],
        returned as f64 / 2_000.0
    );
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rows();
    let store = rt.block_on(open_or_build(n));
    assert_eq!(
        rt.block_on(store.count()).unwrap(),
        n,
        "incomplete bench database"
    );

    let mut rng = Lcg(1);
    percentiles(&rt, store.as_ref(), "content+time forward ", || {
        range_query(&mut rng, n, true)
    });
    percentiles(&rt, store.as_ref(), "content+time backward", || {
        range_query(&mut rng, n, false)
    });
    percentiles(&rt, store.as_ref(), "10-hash lookup       ", || {
        lookup_query(&mut rng, n)
    });

    let mut g = c.benchmark_group(format!("query_sqlite_{n}"));
    g.bench_function("content_time_forward_page100", |b| {
        b.iter(|| {
            rt.block_on(store.query(range_query(&mut rng, n, true)))
                .unwrap()
        })
    });
    g.bench_function("content_time_backward_page100", |b| {
        b.iter(|| {
            rt.block_on(store.query(range_query(&mut rng, n, false)))
                .unwrap()
        })
    });
    g.bench_function("lookup_10_hashes", |b| {
        b.iter(|| rt.block_on(store.query(lookup_query(&mut rng, n))).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Ingest rate of 1 KB messages: the SQLite backend (batched puts and
//! concurrent single puts) beside a raw rusqlite insert loop of the same
//! rows into the same schema, and the PostgreSQL backend when a server can
//! be started (see `tests/common/pg.rs`).
//!
//! `cargo bench -p waku-store --bench ingest`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use waku_core::{WakuMessage, now_nanos};
use waku_store::{MessageStore, PostgresStore, SqliteStore, StoredMessage};

const N: usize = 5_000;
const BATCH: usize = 100;

fn messages() -> Vec<StoredMessage> {
    let base = now_nanos();
    (0..N)
        .map(|i| {
            let mut payload = vec![0u8; 1024];
            payload[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let m = WakuMessage {
                timestamp: Some(base + i as i64),
                ..WakuMessage::new(payload, format!("/bench/1/t{}/proto", i % 10))
            };
            StoredMessage::new("/waku/2/rs/1/0", m)
        })
        .collect()
}

/// A fresh SQLite store in `dir`.
fn fresh_sqlite(dir: &tempfile::TempDir, n: &mut usize) -> SqliteStore {
    *n += 1;
    SqliteStore::open(dir.path().join(format!("b{n}.sqlite3"))).unwrap()
}

/// The raw loop: the same rows (pre-encoded) into the same schema with the
/// same pragmas, one transaction per BATCH rows, prepared statement.
/// One row as the raw loop binds it.
type RawRow = (Vec<u8>, i64, String, String, Vec<u8>);

fn raw_insert(path: &std::path::Path, rows: &[RawRow]) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    for chunk in rows.chunks(BATCH) {
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO messages \
                     (hash, timestamp, pubsub_topic, content_topic, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .unwrap();
            for r in chunk {
                stmt.execute(rusqlite::params![r.0, r.1, r.2, r.3, r.4])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let msgs = messages();
    let rows: Vec<_> = msgs
        .iter()
        .map(|m| {
            (
                m.hash.0.to_vec(),
                m.timestamp(),
                m.pubsub_topic.clone(),
                m.message.content_topic.clone(),
                m.message.encode_to_vec(),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;

    let mut g = c.benchmark_group("ingest_1kb");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));

    g.bench_function("sqlite_raw_insert_loop", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = fresh_sqlite(&dir, &mut n).path().to_path_buf();
                let start = Instant::now();
                raw_insert(&path, &rows);
                total += start.elapsed();
            }
            total
        })
    });

    g.bench_function("sqlite_backend_put_batches", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let store = fresh_sqlite(&dir, &mut n);
                let batches: Vec<Vec<StoredMessage>> =
                    msgs.chunks(BATCH).map(<[_]>::to_vec).collect();
                let start = Instant::now();
                rt.block_on(async {
                    for batch in batches {
                        store.put(batch).await.unwrap();
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });

    g.bench_function("sqlite_backend_concurrent_single_puts", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let store: Arc<dyn MessageStore> = Arc::new(fresh_sqlite(&dir, &mut n));
                let singles: Vec<StoredMessage> = msgs.clone();
                let start = Instant::now();
                rt.block_on(async {
                    let puts = singles.into_iter().map(|m| {
                        let store = Arc::clone(&store);
                        async move { store.put(vec![m]).await.unwrap() }
                    });
                    futures::future::join_all(puts).await;
                });
                total += start.elapsed();
            }
            total
        })
    });

    if std::env::var("WAKU_BENCH_PG").map_or(true, |v| v != "0") && pg::server().is_some() {
        g.bench_function("postgres_backend_put_batches", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let store = rt.block_on(async {
                        let url = pg::fresh_database_url().await.unwrap();
                        PostgresStore::connect(&url).await.unwrap()
                    });
                    let batches: Vec<Vec<StoredMessage>> =
                        msgs.chunks(BATCH).map(<[_]>::to_vec).collect();
                    let start = Instant::now();
                    rt.block_on(async {
                        for batch in batches {
                            store.put(batch).await.unwrap();
                        }
                    });
                    total += start.elapsed();
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

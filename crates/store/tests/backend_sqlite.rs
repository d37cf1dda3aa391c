//! The shared backend suite against SQLite, each test on a fresh database
//! file in a temporary directory; plus SQLite-specific checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{CT, entry};
use waku_store::{MessageFilter, MessageQuery, MessageStore, SqliteStore, open_store};

/// A fresh SQLite store; the directory lives as long as the test process.
fn store() -> Option<Arc<dyn MessageStore>> {
    let dir = tempfile::tempdir().unwrap().keep();
    Some(Arc::new(
        SqliteStore::open(dir.join("store.sqlite3")).unwrap(),
    ))
}

common::suite::backend_suite!(store());

#[tokio::test]
async fn data_survives_reopening_and_url_selection_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/store.sqlite3");
    let url = format!("sqlite://{}", path.display());
    let e = entry(77, CT, "persist");
    {
        let store = open_store(&url).await.unwrap();
        assert_eq!(store.put(vec![e.clone()]).await.unwrap(), vec![true]);
    }
    let store = open_store(&url).await.unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
    let page = store
        .query(MessageQuery {
            filter: MessageFilter::default(),
            cursor: None,
            forward: true,
            page_size: 10,
            include_data: true,
        })
        .await
        .unwrap();
    assert_eq!(page.entries[0].message.as_ref(), Some(&e.message));
    assert_eq!(store.put(vec![e]).await.unwrap(), vec![false]);
}

#[test]
fn database_uses_wal_and_the_query_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
        rows.join("; ")
    };
    let content = plan(
        "SELECT hash FROM messages WHERE pubsub_topic = 'p' AND content_topic = 'c' \
         AND timestamp >= 1 AND timestamp < 9 AND (timestamp, hash) > (1, x'00') \
         ORDER BY timestamp, hash LIMIT 101",
    );
    assert!(content.contains("messages_topic_time"), "{content}");
    assert!(!content.contains("TEMP B-TREE"), "{content}");
    let lookup = plan(
        "SELECT hash FROM messages WHERE hash IN (x'01', x'02') ORDER BY timestamp, hash LIMIT 21",
    );
    assert!(
        lookup.contains("hash=?") || lookup.contains("autoindex"),
        "{lookup}"
    );
}

#[tokio::test]
async fn concurrent_queries_are_bounded_by_the_connection_limit_and_the_cores() {
    let dir = tempfile::tempdir().unwrap();
    let cores_less_one = std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1);
    let one = SqliteStore::open_with_max_readers(dir.path().join("a.sqlite3"), 1).unwrap();
    assert_eq!(one.max_concurrent_reads(), 1);
    let many = SqliteStore::open_with_max_readers(dir.path().join("b.sqlite3"), 50).unwrap();
    assert_eq!(many.max_concurrent_reads(), cores_less_one.min(50));
    assert!(SqliteStore::open_with_max_readers(dir.path().join("c.sqlite3"), 0).is_err());
    // The limit only bounds concurrency: a burst of queries all complete.
    let store: Arc<dyn MessageStore> = Arc::new(one);
    store.put(vec![entry(1, CT, "x")]).await.unwrap();
    let queries = (0..20).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .query(MessageQuery {
                    filter: MessageFilter::default(),
                    cursor: None,
                    forward: true,
                    page_size: 10,
                    include_data: false,
                })
                .await
                .unwrap()
                .entries
                .len()
        })
    });
    for q in queries {
        assert_eq!(q.await.unwrap(), 1);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn open_store_opens_sqlite_off_the_runtime_and_without_one() {
    let dir = tempfile::tempdir().unwrap();
    // On a single-threaded runtime: the open runs on the blocking pool
    // while the runtime thread stays free.
    let url = format!("sqlite://{}", dir.path().join("a.sqlite3").display());
    let opening = tokio::spawn(async move { open_store(&url).await });
    let store = opening.await.unwrap().unwrap();
    store.put(vec![entry(1, CT, "a")]).await.unwrap();
    assert_eq!(store.count().await.unwrap(), 1);
    // Outside any tokio runtime (another executor), on a plain thread.
    let url = format!("sqlite://{}", dir.path().join("b.sqlite3").display());
    let opened = std::thread::spawn(move || futures::executor::block_on(open_store(&url)))
        .join()
        .unwrap();
    assert!(opened.is_ok(), "{:?}", opened.err());
}

//! Retention applied periodically: `run_retention` on a real SQLite file,
//! observed only through the store (the test never calls `apply`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{CT, DEADLINE, TOPIC, msg};
use waku_core::now_nanos;
use waku_store::{MessageStore, RetentionPolicy, SqliteStore, StoredMessage, run_retention};

/// Polls `count()` every 20 ms until it is `want`, for at most
/// [`DEADLINE`]; panics with `what` otherwise.
async fn wait_for_count(store: &dyn MessageStore, want: u64, what: &str) {
    let polled = tokio::time::timeout(DEADLINE, async {
        loop {
            if store.count().await.unwrap() == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let now = store.count().await.unwrap();
    assert!(polled.is_ok(), "{what}: {now} messages, expected {want}");
}

#[tokio::test]
async fn retention_runs_again_after_each_interval() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn MessageStore> =
        Arc::new(SqliteStore::open(dir.path().join("store.sqlite3")).unwrap());
    let hour = 3_600_000_000_000;
    let old = |i: i64| StoredMessage::new(TOPIC, msg(now_nanos() - hour - i, CT, &format!("o{i}")));

    // One expired message before the task starts: its removal shows that
    // the first pass has run.
    store.put(vec![old(0)]).await.unwrap();
    let policy: RetentionPolicy = "time:600".parse().unwrap();
    let task = tokio::spawn(run_retention(
        Arc::clone(&store),
        policy,
        Duration::from_millis(50),
    ));
    wait_for_count(store.as_ref(), 0, "first pass").await;

    // Inserted after the first pass: only a later pass can remove the
    // expired ones; the fresh one stays.
    let fresh = StoredMessage::new(TOPIC, msg(now_nanos(), CT, "fresh"));
    let mut batch: Vec<StoredMessage> = (1..=5).map(old).collect();
    batch.push(fresh.clone());
    store.put(batch).await.unwrap();
    wait_for_count(store.as_ref(), 1, "a later pass").await;

    // And again: the task keeps going.
    store.put((6..=8).map(old).collect()).await.unwrap();
    wait_for_count(store.as_ref(), 1, "yet another pass").await;
    assert!(!task.is_finished(), "run_retention runs until dropped");
    task.abort();

    let page = store
        .query(waku_store::MessageQuery {
            filter: waku_store::MessageFilter::default(),
            cursor: None,
            forward: true,
            page_size: 10,
            include_data: false,
        })
        .await
        .unwrap();
    let kept: Vec<_> = page.entries.iter().map(|e| e.hash).collect();
    assert_eq!(kept, vec![fresh.hash], "only the fresh message is kept");
}

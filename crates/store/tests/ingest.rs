//! Ingest through the `Archive`: eligibility rules of 13/WAKU2-STORE, and
//! messages fed in by the composer served back over the network.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{CT, Pair, TOPIC, msg};
use waku_core::{WakuMessage, message_hash, now_nanos};
use waku_store::{Archive, Config, IngestError, Ingested, MessageStore, SqliteStore, StoreQuery};

fn sqlite() -> Arc<dyn MessageStore> {
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(SqliteStore::open(dir.join("s.sqlite3")).unwrap())
}

// spec: STORE-003, STORE2-003, MSG-009
#[tokio::test]
async fn ephemeral_messages_are_not_stored() {
    let archive = Archive::new(sqlite());
    let mut m = msg(now_nanos(), CT, "e");
    m.ephemeral = Some(true);
    assert!(matches!(
        archive.handle_message(TOPIC, m).await,
        Err(IngestError::Ephemeral)
    ));
    assert_eq!(archive.store().count().await.unwrap(), 0);
}

// spec: STORE-004
#[tokio::test]
async fn messages_without_timestamp_are_not_stored() {
    let archive = Archive::new(sqlite());
    let none = WakuMessage::new("p", CT);
    let zero = msg(0, CT, "p");
    for m in [none, zero] {
        assert!(matches!(
            archive.handle_message(TOPIC, m).await,
            Err(IngestError::MissingTimestamp)
        ));
    }
    assert_eq!(archive.store().count().await.unwrap(), 0);
}

// spec: STORE-005
#[tokio::test]
async fn timestamps_beyond_20_seconds_are_rejected() {
    let archive = Archive::new(sqlite());
    let now = now_nanos();
    let s = 1_000_000_000;
    assert!(matches!(
        archive.check_eligible(&msg(now - 21 * s, CT, ""), now),
        Err(IngestError::TooOld { .. })
    ));
    assert!(matches!(
        archive.check_eligible(&msg(now + 21 * s, CT, ""), now),
        Err(IngestError::TooNew { .. })
    ));
    archive
        .check_eligible(&msg(now - 19 * s, CT, ""), now)
        .unwrap();
    archive
        .check_eligible(&msg(now + 19 * s, CT, ""), now)
        .unwrap();
    // The window is waku-core's shared one (relay's too): exactly 20 s
    // away is still inside.
    assert_eq!(
        waku_store::MAX_TIMESTAMP_SKEW,
        waku_core::DEFAULT_MAX_TIMESTAMP_SKEW
    );
    archive
        .check_eligible(&msg(now - 20 * s, CT, ""), now)
        .unwrap();
    archive
        .check_eligible(&msg(now + 20 * s, CT, ""), now)
        .unwrap();
    assert!(
        archive
            .handle_message(TOPIC, msg(now - 60 * s, CT, "old"))
            .await
            .is_err()
    );
    assert!(
        archive
            .handle_message(TOPIC, msg(now + 60 * s, CT, "new"))
            .await
            .is_err()
    );
    let wide = Archive::new(sqlite()).with_max_skew(Duration::from_secs(120));
    wide.handle_message(TOPIC, msg(now - 60 * s, CT, "old"))
        .await
        .unwrap();
}

// spec: STORE-006
#[tokio::test]
async fn each_message_is_stored_once_per_hash_with_its_topic() {
    let archive = Archive::new(sqlite());
    let m = msg(now_nanos(), CT, "once");
    let h = message_hash(TOPIC, &m);
    assert_eq!(
        archive.handle_message(TOPIC, m.clone()).await.unwrap(),
        Ingested::Stored(h)
    );
    assert_eq!(
        archive.handle_message(TOPIC, m.clone()).await.unwrap(),
        Ingested::Duplicate(h)
    );
    // The same message on another shard is another entry.
    let other = archive
        .handle_message("/waku/2/rs/1/5", m.clone())
        .await
        .unwrap();
    assert!(matches!(other, Ingested::Stored(h2) if h2 != h));
    let mut eph = m.clone();
    eph.ephemeral = Some(true);
    let results = archive
        .handle_messages(vec![
            (TOPIC.into(), m.clone()),
            (TOPIC.into(), msg(now_nanos(), CT, "batch")),
            (TOPIC.into(), eph),
        ])
        .await;
    assert!(matches!(results[0], Ok(Ingested::Duplicate(_))));
    assert!(matches!(results[1], Ok(Ingested::Stored(_))));
    assert!(matches!(results[2], Err(IngestError::Ephemeral)));
    assert_eq!(archive.store().count().await.unwrap(), 3);
}

// spec: STORE-006, STORE-011, STORE-035
#[tokio::test]
async fn ingested_messages_are_served_with_their_topic() {
    let store = sqlite();
    let archive = Archive::new(Arc::clone(&store));
    let base = now_nanos() - 10_000_000_000;
    for i in 0..5 {
        archive
            .handle_message(TOPIC, msg(base + i, CT, &format!("{i}")))
            .await
            .unwrap();
    }
    let mut p = Pair::new(store, Config::default()).await;
    let r = p
        .query(&StoreQuery::content(TOPIC, [CT]).forward())
        .await
        .unwrap();
    assert_eq!(r.entries.len(), 5);
    for (i, e) in r.entries.iter().enumerate() {
        let (topic, m) = e.value.as_ref().unwrap();
        assert_eq!(topic, TOPIC);
        assert_eq!(m.payload.as_ref(), format!("{i}").as_bytes());
    }
}

// spec: STORE-036
#[tokio::test]
async fn the_writer_writes_everything_queued_before_shutdown_returns() {
    let store = sqlite();
    let stored = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&stored);
    let writer = waku_store::ArchiveWriter::spawn_with(
        Archive::new(Arc::clone(&store)),
        5_000,
        Box::new(move |r| {
            if matches!(r, Ok(Ingested::Stored(_))) {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }),
    );
    let now = now_nanos();
    for i in 0..3_000 {
        writer
            .try_send(TOPIC, &msg(now + i, CT, &format!("w{i}")))
            .unwrap();
    }
    // An ephemeral message is taken and refused by the archive's rules.
    let mut ephemeral = msg(now, CT, "e");
    ephemeral.ephemeral = Some(true);
    writer.try_send(TOPIC, &ephemeral).unwrap();
    writer.shutdown().await;
    assert_eq!(store.count().await.unwrap(), 3_000);
    assert_eq!(stored.load(std::sync::atomic::Ordering::Relaxed), 3_000);
}

// spec: STORE-036
#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_refuses_without_waiting() {
    let store = sqlite();
    let writer = waku_store::ArchiveWriter::spawn_with(
        Archive::new(Arc::clone(&store)),
        2,
        Box::new(|_| {}),
    );
    // The writer task cannot run until this task yields.
    let now = now_nanos();
    assert_eq!(writer.try_send(TOPIC, &msg(now, CT, "a")), Ok(()));
    assert_eq!(writer.try_send(TOPIC, &msg(now + 1, CT, "b")), Ok(()));
    assert_eq!(writer.queued(), 2);
    assert_eq!(
        writer.try_send(TOPIC, &msg(now + 2, CT, "c")),
        Err(waku_store::ArchiveSendError::Full)
    );
    writer.shutdown().await;
    assert_eq!(store.count().await.unwrap(), 2);
}

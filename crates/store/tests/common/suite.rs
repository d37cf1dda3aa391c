//! The backend test suite every `MessageStore` must pass: one async
//! function per property, instantiated per backend by `backend_suite!`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use waku_core::{MessageHash, WakuMessage};
use waku_store::{
    MessageFilter, MessageQuery, MessageStore, QueryPage, RetentionPolicy, StoreError,
    StoredMessage,
};

use super::{CT, TOPIC, entry, msg};

/// A query with defaults: forward, data, page of 100.
pub fn q(filter: MessageFilter) -> MessageQuery {
    MessageQuery {
        filter,
        cursor: None,
        forward: true,
        page_size: 100,
        include_data: true,
    }
}

fn hashes(page: &QueryPage) -> Vec<MessageHash> {
    page.entries.iter().map(|e| e.hash).collect()
}

/// Entries sorted as the store must sort them.
fn sorted(mut v: Vec<StoredMessage>) -> Vec<StoredMessage> {
    v.sort_by_key(|m| (m.timestamp(), m.hash));
    v
}

/// Walks every page of `query` and returns all hashes in walk order
/// (reversing backward pages back into walk order), checking on the way
/// that each page is oldest-first and that cursors are set only when
/// entries remain.
pub async fn walk(store: &dyn MessageStore, query: &MessageQuery) -> Vec<MessageHash> {
    let mut out = Vec::new();
    let mut q = query.clone();
    loop {
        let page = store.query(q.clone()).await.unwrap();
        let keys: Vec<(i64, MessageHash)> =
            page.entries.iter().map(|e| (e.timestamp, e.hash)).collect();
        let mut ascending = keys.clone();
        ascending.sort();
        assert_eq!(keys, ascending, "page not oldest-first");
        assert!(page.entries.len() <= q.page_size);
        let mut h = hashes(&page);
        if !q.forward {
            h.reverse();
        }
        out.extend(h);
        match page.next_cursor {
            Some(c) => {
                assert_eq!(page.entries.len(), q.page_size, "cursor on a short page");
                let expected = if q.forward {
                    page.entries.last()
                } else {
                    page.entries.first()
                };
                assert_eq!(Some(c), expected.map(|e| e.hash));
                q.cursor = Some(c);
            }
            None => return out,
        }
        assert!(out.len() < 100_000, "endless walk");
    }
}

/// What `walk` must return, computed naively.
pub fn reference(all: &[StoredMessage], query: &MessageQuery) -> Vec<MessageHash> {
    let mut v: Vec<&StoredMessage> = all.iter().filter(|m| query.filter.matches(m)).collect();
    v.sort_by_key(|m| (m.timestamp(), m.hash));
    if !query.forward {
        v.reverse();
    }
    v.iter().map(|m| m.hash).collect()
}

pub async fn stores_each_hash_once(store: Arc<dyn MessageStore>) {
    let a = entry(1_000, CT, "a");
    let same_message_other_topic = StoredMessage::new("/waku/2/rs/1/5", a.message.clone());
    assert_ne!(a.hash, same_message_other_topic.hash);
    assert_eq!(store.put(vec![a.clone()]).await.unwrap(), vec![true]);
    assert_eq!(store.put(vec![a.clone()]).await.unwrap(), vec![false]);
    assert_eq!(
        store
            .put(vec![
                same_message_other_topic.clone(),
                a.clone(),
                same_message_other_topic
            ])
            .await
            .unwrap(),
        vec![true, false, false]
    );
    assert_eq!(store.count().await.unwrap(), 2);
    assert_eq!(store.put(vec![]).await.unwrap(), Vec::<bool>::new());
}

pub async fn returns_messages_exactly_with_topic(store: Arc<dyn MessageStore>) {
    let full = WakuMessage {
        payload: vec![0, 1, 2, 255].into(),
        content_topic: CT.into(),
        version: Some(0),
        timestamp: Some(42),
        meta: Some(vec![7; 64].into()),
        rate_limit_proof: None,
        ephemeral: Some(false),
    };
    let bare = msg(43, "/other/1/x/proto", "");
    let entries = vec![
        StoredMessage::new(TOPIC, full.clone()),
        StoredMessage::new("/waku/2/rs/1/7", bare.clone()),
    ];
    store.put(entries.clone()).await.unwrap();
    let page = store.query(q(MessageFilter::default())).await.unwrap();
    assert_eq!(page.entries.len(), 2);
    for (got, want) in page.entries.iter().zip(&entries) {
        assert_eq!(got.hash, want.hash);
        assert_eq!(got.timestamp, want.timestamp());
        assert_eq!(got.pubsub_topic, want.pubsub_topic);
        let m = got.message.as_ref().unwrap();
        assert_eq!(m, &want.message);
        assert_eq!(m.encode_to_vec(), want.message.encode_to_vec());
    }
    // Without data: keys only.
    let mut keys_only = q(MessageFilter::default());
    keys_only.include_data = false;
    let page = store.query(keys_only).await.unwrap();
    assert_eq!(
        hashes(&page),
        entries.iter().map(|e| e.hash).collect::<Vec<_>>()
    );
    assert!(page.entries.iter().all(|e| e.message.is_none()));
}

pub async fn sorts_by_timestamp_then_hash(store: Arc<dyn MessageStore>) {
    let mut entries = Vec::new();
    for i in 0..12 {
        // Four timestamps, three messages each: ties broken by hash.
        entries.push(entry(100 + (i % 4), CT, &format!("m{i}")));
    }
    store.put(entries.clone()).await.unwrap();
    let want: Vec<MessageHash> = sorted(entries).iter().map(|m| m.hash).collect();
    let page = store.query(q(MessageFilter::default())).await.unwrap();
    assert_eq!(hashes(&page), want);
    let mut back = q(MessageFilter::default());
    back.forward = false;
    let page = store.query(back).await.unwrap();
    assert_eq!(hashes(&page), want, "backward pages come oldest-first too");
}

pub async fn filters_by_topics(store: Arc<dyn MessageStore>) {
    let a = entry(10, "/app/1/a/proto", "a");
    let b = entry(11, "/app/1/b/proto", "b");
    let c = entry(12, "/app/1/c/proto", "c");
    let a_elsewhere = StoredMessage::new("/waku/2/rs/1/0", msg(13, "/app/1/a/proto", "a2"));
    store
        .put(vec![a.clone(), b.clone(), c.clone(), a_elsewhere.clone()])
        .await
        .unwrap();
    let content = |topic: Option<&str>, cts: &[&str]| {
        q(MessageFilter {
            pubsub_topic: topic.map(String::from),
            content_topics: cts.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    };
    let page = store
        .query(content(Some(TOPIC), &["/app/1/a/proto"]))
        .await
        .unwrap();
    assert_eq!(hashes(&page), vec![a.hash]);
    let page = store
        .query(content(Some(TOPIC), &["/app/1/c/proto", "/app/1/a/proto"]))
        .await
        .unwrap();
    assert_eq!(hashes(&page), vec![a.hash, c.hash]);
    let page = store
        .query(content(Some("/waku/2/rs/1/0"), &["/app/1/a/proto"]))
        .await
        .unwrap();
    assert_eq!(hashes(&page), vec![a_elsewhere.hash]);
    let page = store
        .query(content(Some(TOPIC), &["/nope/1/x/proto"]))
        .await
        .unwrap();
    assert!(page.entries.is_empty());
    // Backends also answer the combinations only the legacy protocol sends.
    let page = store
        .query(content(None, &["/app/1/a/proto"]))
        .await
        .unwrap();
    assert_eq!(hashes(&page), vec![a.hash, a_elsewhere.hash]);
    let page = store.query(content(Some(TOPIC), &[])).await.unwrap();
    assert_eq!(hashes(&page), vec![a.hash, b.hash, c.hash]);
}

pub async fn time_range_is_start_inclusive_end_exclusive(store: Arc<dyn MessageStore>) {
    let entries: Vec<StoredMessage> = (0..10)
        .map(|i| entry(100 + i, CT, &format!("t{i}")))
        .collect();
    store.put(entries.clone()).await.unwrap();
    let range = |s: Option<i64>, e: Option<i64>| {
        q(MessageFilter {
            pubsub_topic: Some(TOPIC.into()),
            content_topics: vec![CT.into()],
            time_start: s,
            time_end: e,
            ..Default::default()
        })
    };
    let ts = |page: QueryPage| page.entries.iter().map(|e| e.timestamp).collect::<Vec<_>>();
    assert_eq!(
        ts(store.query(range(Some(103), Some(106))).await.unwrap()),
        vec![103, 104, 105]
    );
    assert_eq!(
        ts(store.query(range(Some(108), None)).await.unwrap()),
        vec![108, 109]
    );
    assert_eq!(
        ts(store.query(range(None, Some(102))).await.unwrap()),
        vec![100, 101]
    );
    assert!(
        store
            .query(range(Some(105), Some(105)))
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    assert_eq!(
        store.query(range(None, None)).await.unwrap().entries.len(),
        10
    );
}

pub async fn looks_up_hashes(store: Arc<dyn MessageStore>) {
    let entries: Vec<StoredMessage> = (0..30)
        .map(|i| entry(1_000 - i, CT, &format!("h{i}")))
        .collect();
    store.put(entries.clone()).await.unwrap();
    let wanted = [&entries[3], &entries[17], &entries[29]];
    let missing = MessageHash([9; 32]);
    let mut lookup = q(MessageFilter {
        hashes: wanted.iter().map(|e| e.hash).chain([missing]).collect(),
        ..Default::default()
    });
    lookup.include_data = false;
    let page = store.query(lookup.clone()).await.unwrap();
    // Sorted by timestamp: entries[29] is the oldest.
    assert_eq!(
        hashes(&page),
        vec![entries[29].hash, entries[17].hash, entries[3].hash]
    );
    assert!(page.entries.iter().all(|e| e.message.is_none()));
    // Paged lookups.
    lookup.page_size = 2;
    assert_eq!(walk(store.as_ref(), &lookup).await.len(), 3);
    // A pubsub topic restricts a lookup.
    lookup.filter.pubsub_topic = Some("/waku/2/rs/1/0".into());
    assert!(store.query(lookup).await.unwrap().entries.is_empty());
}

pub async fn paginates_both_ways_with_exclusive_cursor(store: Arc<dyn MessageStore>) {
    let entries: Vec<StoredMessage> = (0..25)
        .map(|i| entry(500 + i / 2, CT, &format!("p{i}")))
        .collect();
    store.put(entries.clone()).await.unwrap();
    let all: Vec<MessageHash> = sorted(entries.clone()).iter().map(|m| m.hash).collect();
    let mut fwd = q(MessageFilter::default());
    fwd.page_size = 10;
    // First page forward starts at the oldest.
    let first = store.query(fwd.clone()).await.unwrap();
    assert_eq!(hashes(&first), all[..10].to_vec());
    assert_eq!(first.next_cursor, Some(all[9]));
    let second = store
        .query(MessageQuery {
            cursor: first.next_cursor,
            ..fwd.clone()
        })
        .await
        .unwrap();
    assert_eq!(hashes(&second), all[10..20].to_vec(), "cursor excluded");
    assert_eq!(walk(store.as_ref(), &fwd).await, all);

    let mut back = fwd.clone();
    back.forward = false;
    // First page backward starts at the newest, still oldest-first.
    let first = store.query(back.clone()).await.unwrap();
    assert_eq!(hashes(&first), all[15..].to_vec());
    assert_eq!(first.next_cursor, Some(all[15]));
    let second = store
        .query(MessageQuery {
            cursor: first.next_cursor,
            ..back.clone()
        })
        .await
        .unwrap();
    assert_eq!(hashes(&second), all[5..15].to_vec());
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(walk(store.as_ref(), &back).await, rev);

    // Exactly one page: no cursor.
    let mut exact = fwd.clone();
    exact.page_size = 25;
    assert_eq!(store.query(exact).await.unwrap().next_cursor, None);
}

pub async fn cursor_at_the_end_gives_an_empty_page(store: Arc<dyn MessageStore>) {
    let entries: Vec<StoredMessage> = (0..3)
        .map(|i| entry(10 + i, CT, &format!("e{i}")))
        .collect();
    store.put(entries.clone()).await.unwrap();
    let all: Vec<MessageHash> = sorted(entries).iter().map(|m| m.hash).collect();
    let page = store
        .query(MessageQuery {
            cursor: Some(all[2]),
            ..q(MessageFilter::default())
        })
        .await
        .unwrap();
    assert!(page.entries.is_empty());
    assert_eq!(page.next_cursor, None);
    let page = store
        .query(MessageQuery {
            cursor: Some(all[0]),
            forward: false,
            ..q(MessageFilter::default())
        })
        .await
        .unwrap();
    assert!(page.entries.is_empty());
    assert_eq!(page.next_cursor, None);
}

pub async fn unknown_cursor_is_an_error(store: Arc<dyn MessageStore>) {
    store.put(vec![entry(1, CT, "x")]).await.unwrap();
    let unknown = MessageHash([0xee; 32]);
    let r = store
        .query(MessageQuery {
            cursor: Some(unknown),
            ..q(MessageFilter::default())
        })
        .await;
    assert!(
        matches!(r, Err(StoreError::UnknownCursor(h)) if h == unknown),
        "{r:?}"
    );
}

/// Deterministic pseudo-random numbers for the model check.
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

pub async fn agrees_with_a_naive_model(store: Arc<dyn MessageStore>) {
    let topics = ["/waku/2/rs/1/0", "/waku/2/rs/1/1"];
    let cts = ["/a/1/x/proto", "/a/1/y/proto", "/a/1/z/proto"];
    let mut rng = Lcg(7);
    let all: Vec<StoredMessage> = (0..120)
        .map(|i| {
            let t = topics[rng.next(2) as usize];
            let ct = cts[rng.next(3) as usize];
            StoredMessage::new(t, msg(1_000 + rng.next(40) as i64, ct, &format!("r{i}")))
        })
        .collect();
    for chunk in all.chunks(17) {
        store.put(chunk.to_vec()).await.unwrap();
    }
    for round in 0..60 {
        let mut filter = MessageFilter::default();
        match rng.next(3) {
            0 => {
                filter.pubsub_topic = Some(topics[rng.next(2) as usize].into());
                let n = 1 + rng.next(3) as usize;
                filter.content_topics = cts[..n].iter().map(|s| s.to_string()).collect();
            }
            1 => {
                filter.hashes = (0..10).map(|_| all[rng.next(120) as usize].hash).collect();
            }
            _ => {}
        }
        if filter.hashes.is_empty() && rng.next(2) == 0 {
            filter.time_start = Some(1_000 + rng.next(20) as i64);
            filter.time_end = Some(1_020 + rng.next(25) as i64);
        }
        let query = MessageQuery {
            filter,
            cursor: None,
            forward: rng.next(2) == 0,
            page_size: 1 + rng.next(12) as usize,
            include_data: rng.next(2) == 0,
        };
        assert_eq!(
            walk(store.as_ref(), &query).await,
            reference(&all, &query),
            "round {round}: {query:?}"
        );
    }
}

pub async fn concurrent_puts_all_land(store: Arc<dyn MessageStore>) {
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let e = entry(10_000 + i, CT, &format!("c{t}-{i}"));
                assert_eq!(store.put(vec![e]).await.unwrap(), vec![true]);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.count().await.unwrap(), 200);
}

pub async fn retention_by_time(store: Arc<dyn MessageStore>) {
    let now = 1_000_000_000_000;
    let sec = 1_000_000_000;
    let entries: Vec<StoredMessage> = (0..10)
        .map(|i| entry(now - i * sec, CT, &format!("r{i}")))
        .collect();
    store.put(entries).await.unwrap();
    // Keep messages at most 4.5 s old: 0..=4 stay.
    let policy = RetentionPolicy::Time(std::time::Duration::from_millis(4_500));
    assert_eq!(policy.apply_at(store.as_ref(), now).await.unwrap(), 5);
    assert_eq!(store.count().await.unwrap(), 5);
    let oldest = store
        .query(q(MessageFilter::default()))
        .await
        .unwrap()
        .entries[0]
        .timestamp;
    assert_eq!(oldest, now - 4 * sec);
}

pub async fn retention_by_capacity(store: Arc<dyn MessageStore>) {
    let entries: Vec<StoredMessage> = (0..30)
        .map(|i| entry(100 + i, CT, &format!("k{i}")))
        .collect();
    store.put(entries.clone()).await.unwrap();
    let policy: RetentionPolicy = "capacity:12".parse().unwrap();
    assert_eq!(policy.apply(store.as_ref()).await.unwrap(), 18);
    assert_eq!(store.count().await.unwrap(), 12);
    let left = store.query(q(MessageFilter::default())).await.unwrap();
    assert_eq!(left.entries[0].timestamp, 118, "the oldest went first");
    assert_eq!(policy.apply(store.as_ref()).await.unwrap(), 0);
    assert_eq!(store.delete_oldest(2).await.unwrap(), 2);
    assert_eq!(store.count().await.unwrap(), 10);
}

pub async fn retention_by_size(store: Arc<dyn MessageStore>) {
    // 600 messages of 1 KiB payload: well over 256 KiB by any measure.
    let payload = "x".repeat(1024);
    let entries: Vec<StoredMessage> = (0..600)
        .map(|i| entry(1_000 + i, CT, &format!("{i}{payload}")))
        .collect();
    for chunk in entries.chunks(100) {
        store.put(chunk.to_vec()).await.unwrap();
    }
    let before = store.size_bytes().await.unwrap();
    assert!(before > 600 * 1024, "size {before}");
    let limit = 256 * 1024;
    let policy = RetentionPolicy::Size(limit);
    let deleted = policy.apply(store.as_ref()).await.unwrap();
    assert!(deleted > 0);
    let after = store.size_bytes().await.unwrap();
    assert!(after <= limit, "size {after} over {limit}");
    let left = store.count().await.unwrap();
    assert_eq!(left + deleted, 600);
    assert!(left > 0, "kept the newest");
    let newest = MessageQuery {
        forward: false,
        page_size: 1,
        ..q(MessageFilter::default())
    };
    let page = store.query(newest).await.unwrap();
    assert_eq!(page.entries[0].timestamp, 1_599);
}

#[allow(unused_macros)]
/// Instantiates the suite for one backend. `$make` is an expression that
/// evaluates (in an async context) to `Option<Arc<dyn MessageStore>>`, a
/// fresh empty store each time, `None` to skip.
macro_rules! backend_suite {
    ($make:expr) => {
        use common::suite;

        // spec: STORE-006
        #[tokio::test]
        async fn stores_each_hash_once() {
            let Some(store) = $make else { return };
            suite::stores_each_hash_once(store).await;
        }

        // spec: STORE-006, STORE-011, STORE-035
        #[tokio::test]
        async fn returns_messages_exactly_with_topic() {
            let Some(store) = $make else { return };
            suite::returns_messages_exactly_with_topic(store).await;
        }

        // spec: STORE-009, STORE-020
        #[tokio::test]
        async fn sorts_by_timestamp_then_hash() {
            let Some(store) = $make else { return };
            suite::sorts_by_timestamp_then_hash(store).await;
        }

        // spec: STORE-014
        #[tokio::test]
        async fn filters_by_topics() {
            let Some(store) = $make else { return };
            suite::filters_by_topics(store).await;
        }

        // spec: STORE-015
        #[tokio::test]
        async fn time_range_is_start_inclusive_end_exclusive() {
            let Some(store) = $make else { return };
            suite::time_range_is_start_inclusive_end_exclusive(store).await;
        }

        // spec: STORE-016, STORE-017
        #[tokio::test]
        async fn looks_up_hashes() {
            let Some(store) = $make else { return };
            suite::looks_up_hashes(store).await;
        }

        // spec: STORE-018, STORE-020, STORE-022, STORE-023
        #[tokio::test]
        async fn paginates_both_ways_with_exclusive_cursor() {
            let Some(store) = $make else { return };
            suite::paginates_both_ways_with_exclusive_cursor(store).await;
        }

        // spec: STORE-028
        #[tokio::test]
        async fn cursor_at_the_end_gives_an_empty_page() {
            let Some(store) = $make else { return };
            suite::cursor_at_the_end_gives_an_empty_page(store).await;
        }

        // spec: STORE-029
        #[tokio::test]
        async fn unknown_cursor_is_an_error() {
            let Some(store) = $make else { return };
            suite::unknown_cursor_is_an_error(store).await;
        }

        // spec: STORE-009, STORE-014, STORE-015, STORE-016, STORE-018, STORE-020, STORE-023
        #[tokio::test]
        async fn agrees_with_a_naive_model() {
            let Some(store) = $make else { return };
            suite::agrees_with_a_naive_model(store).await;
        }

        // spec: STORE-006
        #[tokio::test]
        async fn concurrent_puts_all_land() {
            let Some(store) = $make else { return };
            suite::concurrent_puts_all_land(store).await;
        }

        #[tokio::test]
        async fn retention_by_time() {
            let Some(store) = $make else { return };
            suite::retention_by_time(store).await;
        }

        #[tokio::test]
        async fn retention_by_capacity() {
            let Some(store) = $make else { return };
            suite::retention_by_capacity(store).await;
        }

        #[tokio::test]
        async fn retention_by_size() {
            let Some(store) = $make else { return };
            suite::retention_by_size(store).await;
        }
    };
}

#[allow(unused_imports)]
pub(crate) use backend_suite;

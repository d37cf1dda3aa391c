//! The v3 service and client over real libp2p streams (loopback TCP,
//! noise, yamux): every rule of 13/WAKU2-STORE the service enforces.
//!
//! Tests whose answer comes from the backend (paging, ordering, filters,
//! lookups, cursors) run once per backend: on `MemoryStore` and on an
//! SQLite file, whose page query (with its `UNION ALL` of per-topic parts
//! for several content topics) is then served over the network. Tests of
//! request validation, rate limits and failures run on memory only: the
//! backend is not reached.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::raw::raw_pair_on;
use common::{Backend, CT, Pair, TOPIC, each_backend, entry, memory_with, swarm};
use libp2p::Swarm;
use waku_core::{MessageHash, Timestamp};
use waku_store::proto::StoreQueryRequest;
use waku_store::{
    Behaviour, Config, MessageQuery, MessageStore, QueryError, QueryPage, RateLimit, ResponseError,
    StoreError, StoreFuture, StoreQuery, StoreResponse, StoredMessage, status,
};

/// `n` messages on TOPIC/CT at timestamps 1000, 1001, ...
fn entries(n: i64) -> Vec<StoredMessage> {
    (0..n)
        .map(|i| entry(1_000 + i, CT, &format!("m{i}")))
        .collect()
}

fn sorted_hashes(v: &[StoredMessage]) -> Vec<MessageHash> {
    let mut v = v.to_vec();
    v.sort_by_key(|m| (m.timestamp(), m.hash));
    v.iter().map(|m| m.hash).collect()
}

async fn pair_with(backend: Backend, n: i64) -> (Pair, Vec<MessageHash>) {
    let all = entries(n);
    let hashes = sorted_hashes(&all);
    (Pair::on(backend, all).await, hashes)
}

/// The hashes of each page, in page order.
fn page_hashes(pages: &[StoreResponse]) -> Vec<Vec<MessageHash>> {
    pages.iter().map(|r| r.hashes()).collect()
}

fn status_of(r: Result<waku_store::StoreResponse, QueryError>) -> (u32, String) {
    match r {
        Err(QueryError::Response(ResponseError::Status { code, desc })) => (code, desc),
        other => panic!("expected an error status, got {other:?}"),
    }
}

// spec: STORE-018, STORE-020, STORE-022, STORE-023, STORE-027
#[tokio::test]
async fn forward_pagination_over_the_network() {
    for backend in each_backend() {
        let (mut p, all) = pair_with(backend, 45).await;
        let q = StoreQuery::content(TOPIC, [CT]).forward().with_limit(20);
        let pages = p.all_pages(&q).await;
        assert_eq!(
            pages.iter().map(|r| r.entries.len()).collect::<Vec<_>>(),
            vec![20, 20, 5]
        );
        assert_eq!(
            pages[0].hashes(),
            all[..20].to_vec(),
            "starts at the oldest"
        );
        assert_eq!(
            pages[0].cursor,
            Some(all[19]),
            "cursor = last entry of the page"
        );
        assert_eq!(
            pages[1].hashes(),
            all[20..40].to_vec(),
            "cursor entry excluded"
        );
        assert_eq!(pages[2].cursor, None, "no cursor when nothing is left");
        let got: Vec<MessageHash> = pages.iter().flat_map(|r| r.hashes()).collect();
        assert_eq!(got, all);
    }
}

// spec: STORE-018, STORE-019, STORE-020, STORE-022, STORE-023, STORE-027
#[tokio::test]
async fn backward_pagination_pages_come_oldest_first() {
    for backend in each_backend() {
        let (mut p, all) = pair_with(backend, 45).await;
        let q = StoreQuery::content(TOPIC, [CT]).with_limit(20);
        assert!(!q.forward, "backward is the default");
        let pages = p.all_pages(&q).await;
        assert_eq!(pages.len(), 3);
        assert_eq!(
            pages[0].hashes(),
            all[25..].to_vec(),
            "starts at the newest, oldest-first"
        );
        assert_eq!(
            pages[0].cursor,
            Some(all[25]),
            "cursor = first entry of the page"
        );
        assert_eq!(pages[1].hashes(), all[5..25].to_vec());
        assert_eq!(pages[2].hashes(), all[..5].to_vec());
        assert_eq!(pages[2].cursor, None);
        // js-waku takes the first message of a backward page as next
        // cursor: that works because pages are oldest-first.
        let js_next = StoreQuery::content(TOPIC, [CT])
            .with_limit(20)
            .with_cursor(Some(pages[0].entries[0].hash));
        assert_eq!(
            p.query(&js_next).await.unwrap().hashes(),
            all[5..25].to_vec()
        );
    }
}

/// A second content topic, for the several-topics (`UNION ALL`) query.
const CT2: &str = "/app/1/other/proto";

// spec: STORE-009, STORE-018, STORE-020, STORE-022, STORE-023
#[tokio::test]
async fn ties_between_equal_timestamps_are_ordered_by_hash_across_pages() {
    // 3 entries at 1999, 10 at 2000, 3 at 2001, the content topics
    // alternating: pages of 4 cut through the run of equal timestamps, so
    // cursors sit between ties.
    let mut all = Vec::new();
    for i in 0..16 {
        let ts = if i < 3 {
            1_999
        } else if i < 13 {
            2_000
        } else {
            2_001
        };
        let ct = if i % 2 == 0 { CT } else { CT2 };
        all.push(entry(ts, ct, &format!("tie{i}")));
    }
    let on_ct: Vec<StoredMessage> = all
        .iter()
        .filter(|m| m.message.content_topic == CT)
        .cloned()
        .collect();
    for backend in each_backend() {
        let mut p = Pair::on(backend, all.clone()).await;
        for (topics, expected) in [
            (vec![CT], sorted_hashes(&on_ct)),
            (vec![CT, CT2], sorted_hashes(&all)),
        ] {
            let chunks: Vec<Vec<MessageHash>> = expected.chunks(4).map(<[_]>::to_vec).collect();
            // Forward: the chunks of the sorted list, in order.
            let q = StoreQuery::content(TOPIC, topics.clone())
                .forward()
                .with_limit(4);
            let pages = p.all_pages(&q).await;
            assert_eq!(page_hashes(&pages), chunks, "forward over {topics:?}");
            // Backward: the same chunks counted from the newest end, each
            // page still oldest-first.
            let q = StoreQuery::content(TOPIC, topics.clone())
                .backward()
                .with_limit(4);
            let pages = p.all_pages(&q).await;
            let from_newest: Vec<Vec<MessageHash>> =
                expected.rchunks(4).map(<[_]>::to_vec).collect();
            assert_eq!(page_hashes(&pages), from_newest, "backward over {topics:?}");
        }
        // The run of ties really is split by the pages.
        let whole = sorted_hashes(&all);
        let q = StoreQuery::content(TOPIC, [CT, CT2])
            .forward()
            .with_limit(4);
        let first = p.query(&q).await.unwrap();
        assert_eq!(first.cursor, Some(whole[3]));
        let second = p.query(&q.with_cursor(first.cursor)).await.unwrap();
        let ts: Vec<i64> = second.messages().map(|m| m.timestamp_or_zero()).collect();
        assert_eq!(ts, vec![2_000; 4], "a page wholly inside the tie");
    }
}

// spec: STORE-023
#[tokio::test]
async fn an_exactly_full_last_page_has_no_cursor() {
    // 40 entries, 20 per content topic: pages of 20 fit exactly.
    let all: Vec<StoredMessage> = (0..40)
        .map(|i| {
            entry(
                3_000 + i,
                if i % 2 == 0 { CT } else { CT2 },
                &format!("x{i}"),
            )
        })
        .collect();
    for backend in each_backend() {
        let mut p = Pair::on(backend, all.clone()).await;
        for topics in [vec![CT], vec![CT, CT2]] {
            for forward in [true, false] {
                let mut q = StoreQuery::content(TOPIC, topics.clone()).with_limit(20);
                q.forward = forward;
                let pages = p.all_pages(&q).await;
                let want = if topics.len() == 1 { 1 } else { 2 };
                let what = format!("{topics:?}, forward = {forward}");
                assert_eq!(pages.len(), want, "{what}");
                assert!(pages.iter().all(|r| r.entries.len() == 20), "{what}");
                assert!(
                    pages[..want - 1].iter().all(|r| r.cursor.is_some()),
                    "{what}"
                );
                assert_eq!(pages[want - 1].cursor, None, "{what}");
            }
        }
    }
}

// spec: STORE-028
#[tokio::test]
async fn cursor_at_the_last_entry_gets_200_and_an_empty_page() {
    for backend in each_backend() {
        let (mut p, all) = pair_with(backend, 3).await;
        for (q, cursor) in [
            (StoreQuery::content(TOPIC, [CT]).forward(), all[2]),
            (StoreQuery::content(TOPIC, [CT]).backward(), all[0]),
        ] {
            let r = p.query(&q.with_cursor(Some(cursor))).await.unwrap();
            assert_eq!(r.status_code, 200);
            assert!(r.entries.is_empty());
            assert_eq!(r.cursor, None);
        }
    }
}

// spec: STORE-007, STORE-008, STORE-011, STORE-035
#[tokio::test]
async fn include_data_selects_keys_or_key_values() {
    for backend in each_backend() {
        let (mut p, all) = pair_with(backend, 3).await;
        let r = p
            .query(&StoreQuery::content(TOPIC, [CT]).forward().with_data(true))
            .await
            .unwrap();
        assert_eq!(r.hashes(), all, "every entry, in order");
        for (e, h) in r.entries.iter().zip(&all) {
            let (topic, m) = e.value.as_ref().expect("message and topic");
            assert_eq!(topic, TOPIC);
            assert_eq!(waku_core::message_hash(topic, m), *h);
        }
        let r = p
            .query(&StoreQuery::content(TOPIC, [CT]).forward().with_data(false))
            .await
            .unwrap();
        assert_eq!(r.hashes(), all);
        assert!(r.entries.iter().all(|e| e.value.is_none()));
        // The wire default is include_data = false.
        let bare = StoreQueryRequest {
            request_id: "r".into(),
            ..Default::default()
        };
        let r = raw_pair_on(&p).await.request(bare).await.unwrap();
        assert_eq!(r.entries.len(), 3);
        assert!(r.entries.iter().all(|e| e.value.is_none()));
    }
}

// spec: STORE-014, STORE-015
#[tokio::test]
async fn content_and_time_filters_over_the_network() {
    let mut all = entries(10);
    all.push(entry(1_003, CT2, "o"));
    all.push(StoredMessage::new(
        "/waku/2/rs/1/0",
        common::msg(1_004, CT, "elsewhere"),
    ));
    let mut on_topic: Vec<StoredMessage> = all
        .iter()
        .filter(|m| m.pubsub_topic == TOPIC)
        .cloned()
        .collect();
    let both_topics = sorted_hashes(&on_topic);
    for backend in each_backend() {
        let mut p = Pair::on(backend, all.clone()).await;
        let r = p
            .query(
                &StoreQuery::content(TOPIC, [CT])
                    .forward()
                    .with_time_range(Some(1_002), Some(1_006)),
            )
            .await
            .unwrap();
        let ts: Vec<i64> = r.messages().map(|m| m.timestamp_or_zero()).collect();
        // Both ends inclusive, as nwaku answers (STORE-015's deviation).
        assert_eq!(ts, vec![1_002, 1_003, 1_004, 1_005, 1_006]);
        assert!(r.messages().all(|m| m.content_topic == CT));
        let r = p
            .query(&StoreQuery::content(TOPIC, [CT, CT2]).forward())
            .await
            .unwrap();
        assert_eq!(r.hashes(), both_topics, "two topics, one ordered page");
        // Two topics and a time range, in pages of 2 walked backward.
        let q = StoreQuery::content(TOPIC, [CT2, CT])
            .with_time_range(Some(1_001), Some(1_005))
            .with_limit(2);
        let pages = p.all_pages(&q).await;
        on_topic.retain(|m| (1_001..=1_005).contains(&m.timestamp()));
        let want = sorted_hashes(&on_topic);
        assert_eq!(want.len(), 6);
        assert_eq!(
            page_hashes(&pages),
            vec![want[4..].to_vec(), want[2..4].to_vec(), want[..2].to_vec()]
        );
        let r = p.query(&StoreQuery::all().forward()).await.unwrap();
        assert_eq!(r.entries.len(), 12, "no criteria: everything");
    }
}

// spec: STORE-016, STORE-017, STORE-033
#[tokio::test]
async fn hash_lookups_and_presence_queries() {
    for backend in each_backend() {
        let (mut p, all) = pair_with(backend, 10).await;
        let absent = MessageHash([3; 32]);
        let q = StoreQuery::hashes([all[7], absent, all[2]]).with_data(false);
        let r = p.query(&q).await.unwrap();
        assert_eq!(r.hashes(), vec![all[2], all[7]], "present ones, sorted");
        assert!(r.entries.iter().all(|e| e.value.is_none()));
        // As js-waku sends it: with pubsub_topic.
        let mut js = StoreQuery::hashes([all[1]]);
        js.pubsub_topic = Some(TOPIC.into());
        let r = p.query(&js).await.unwrap();
        assert_eq!(r.hashes(), vec![all[1]]);
        assert!(r.entries[0].value.is_some());
        js.pubsub_topic = Some("/waku/2/rs/1/0".into());
        assert!(p.query(&js).await.unwrap().entries.is_empty());
    }
}

// spec: STORE-013, STORE-024, STORE-026
#[tokio::test]
async fn mixed_queries_are_refused_with_400() {
    let (mut p, all) = pair_with(Backend::Memory, 3).await;
    let mut with_topics = StoreQuery::content(TOPIC, [CT]);
    with_topics.message_hashes = vec![all[0]];
    let mut with_time = StoreQuery::hashes([all[0]]);
    with_time.time_start = Some(1);
    for q in [with_topics, with_time] {
        let (code, desc) = status_of(p.query(&q).await);
        assert_eq!(code, 400);
        assert!(desc.starts_with("BAD_REQUEST: "), "{desc}");
        assert!(desc.contains("not both"), "{desc}");
    }
}

// A pubsub topic without content topics, or content topics without a
// pubsub topic, is answered as nwaku answers it (the RFC would refuse it).
// spec: STORE-012, STORE-026
#[tokio::test]
async fn a_pubsub_topic_or_content_topics_alone_are_answered() {
    for backend in each_backend() {
        let (mut p, all) = pair_with(backend, 3).await;
        let mut only_pubsub = StoreQuery::all();
        only_pubsub.pubsub_topic = Some(TOPIC.into());
        let mut only_content = StoreQuery::all();
        only_content.content_topics = vec![CT.into()];
        for q in [only_pubsub, only_content] {
            let r = p.query(&q).await.unwrap();
            assert_eq!(r.hashes(), all, "{q:?}");
        }
        let mut elsewhere = StoreQuery::all();
        elsewhere.pubsub_topic = Some("/waku/2/rs/9/9".into());
        assert!(p.query(&elsewhere).await.unwrap().entries.is_empty());
        let mut other_content = StoreQuery::all();
        other_content.content_topics = vec!["/other/1/x/proto".into()];
        assert!(p.query(&other_content).await.unwrap().entries.is_empty());
    }
}

// spec: STORE-030
#[tokio::test]
async fn at_most_ten_content_topics() {
    for backend in each_backend() {
        let (mut p, all) = pair_with(backend, 3).await;
        let topics: Vec<String> = (0..11).map(|i| format!("/app/1/t{i}/proto")).collect();
        let (code, desc) = status_of(p.query(&StoreQuery::content(TOPIC, topics.clone())).await);
        assert_eq!(code, 400);
        assert!(desc.contains("11 content topics"), "{desc}");
        // Ten topics: a union of ten parts on SQL backends.
        let mut ten = topics[..9].to_vec();
        ten.push(CT.into());
        let r = p.query(&StoreQuery::content(TOPIC, ten)).await.unwrap();
        assert_eq!(r.hashes(), all[..].to_vec());
    }
}

// spec: STORE-021
#[tokio::test]
async fn page_size_default_20_and_maximum_100() {
    for backend in each_backend() {
        let (mut p, _) = pair_with(backend, 150).await;
        let q = StoreQuery::content(TOPIC, [CT]).forward();
        let len = |r: StoreResponse| r.entries.len();
        assert_eq!(len(p.query(&q).await.unwrap()), 20);
        assert_eq!(len(p.query(&q.clone().with_limit(0)).await.unwrap()), 20);
        assert_eq!(len(p.query(&q.clone().with_limit(7)).await.unwrap()), 7);
        let big = p.query(&q.clone().with_limit(500)).await.unwrap();
        assert_eq!(big.entries.len(), 100);
        assert!(big.cursor.is_some());
    }
}

// spec: STORE-029, STORE-026
#[tokio::test]
async fn unknown_or_malformed_cursor_gets_400() {
    for backend in each_backend() {
        let (mut p, _) = pair_with(backend, 3).await;
        let q = StoreQuery::content(TOPIC, [CT]).with_cursor(Some(MessageHash([0xab; 32])));
        let (code, desc) = status_of(p.query(&q).await);
        assert_eq!(code, 400);
        // nwaku's words ("cursor not found"), which its REST clients check.
        assert!(
            desc.contains("cursor not found") && desc.contains(&"ab".repeat(32)),
            "{desc}"
        );
        let short = StoreQueryRequest {
            request_id: "c".into(),
            pubsub_topic: Some(TOPIC.into()),
            content_topics: vec![CT.into()],
            pagination_cursor: Some(vec![1, 2, 3]),
            ..StoreQueryRequest::default()
        };
        let short = raw_pair_on(&p).await.request(short).await;
        let (code, desc) = status_of(short.map_err(QueryError::from));
        assert_eq!(code, 400);
        assert!(desc.contains("invalid cursor"), "{desc}");
    }
}

// spec: STORE-031
#[tokio::test]
async fn rate_limit_answers_429() {
    let store = memory_with(entries(2)).await;
    let config =
        Config::default().with_rate_limit(waku_core::RateLimit::new(2, Duration::from_secs(3600)));
    let mut p = Pair::new(store, config).await;
    let q = StoreQuery::all();
    p.query(&q).await.unwrap();
    p.query(&q).await.unwrap();
    let (code, desc) = status_of(p.query(&q).await);
    assert_eq!(code, status::TOO_MANY_REQUESTS);
    assert!(desc.starts_with("TOO_MANY_REQUESTS"), "{desc}");
}

/// A second client, connected to `p`'s server (the pair's own client is not
/// polled meanwhile).
async fn second_client(p: &mut Pair) -> Swarm<Behaviour> {
    let mut client = swarm(Behaviour::client(Config::default()));
    let addr = p.server.listeners().next().cloned().unwrap();
    common::connect(&mut p.server, &mut client, addr).await;
    client
}

/// Sends `query` from `client` to `p`'s server and waits for its outcome.
async fn query_from(
    p: &mut Pair,
    client: &mut Swarm<Behaviour>,
    query: &StoreQuery,
) -> Result<StoreResponse, QueryError> {
    let server_id = p.server_id;
    let id = client.behaviour_mut().send_query(&server_id, query);
    common::outcome(&mut p.server, client, id).await
}

// spec: STORE-031
#[tokio::test]
async fn rate_limit_is_per_peer() {
    let store = memory_with(entries(2)).await;
    let config =
        Config::default().with_rate_limit(waku_core::RateLimit::new(1, Duration::from_secs(60)));
    let mut p = Pair::new(store, config).await;
    let q = StoreQuery::all();
    // Peer A spends its one query of the minute.
    let first = p.query(&q).await.unwrap();
    assert_eq!(first.status_code, status::OK);
    let (code, desc) = status_of(p.query(&q).await);
    assert_eq!(code, status::TOO_MANY_REQUESTS);
    assert!(desc.starts_with("TOO_MANY_REQUESTS"), "{desc}");
    // Peer B has a bucket of its own.
    let mut b = second_client(&mut p).await;
    let r = query_from(&mut p, &mut b, &q).await.unwrap();
    assert_eq!(r.status_code, status::OK);
    assert_eq!(r.entries.len(), 2);
    let (code, _) = status_of(query_from(&mut p, &mut b, &q).await);
    assert_eq!(code, status::TOO_MANY_REQUESTS);
    // A is still refused.
    let (code, _) = status_of(p.query(&q).await);
    assert_eq!(code, status::TOO_MANY_REQUESTS);
}

// spec: STORE-031
#[tokio::test]
async fn zero_volume_rate_limit_is_no_limit() {
    let store = memory_with(entries(2)).await;
    let config = Config::default().with_rate_limit(RateLimit::new(0, Duration::from_secs(1)));
    let mut p = Pair::new(store, config).await;
    let q = StoreQuery::all();
    for i in 0..50 {
        let r = p.query(&q).await.unwrap();
        assert_eq!(r.status_code, status::OK, "query {i}");
        assert_eq!(r.entries.len(), 2, "query {i}");
    }
}

/// A backend that fails every call.
struct Broken;

impl MessageStore for Broken {
    fn put(&self, _: Vec<StoredMessage>) -> StoreFuture<'_, Vec<bool>> {
        Box::pin(async { Err(StoreError::Unavailable("disk on fire".into())) })
    }
    fn query(&self, _: MessageQuery) -> StoreFuture<'_, QueryPage> {
        Box::pin(async { Err(StoreError::Database("disk on fire".into())) })
    }
    fn count(&self) -> StoreFuture<'_, u64> {
        Box::pin(async { Err(StoreError::Unavailable("disk on fire".into())) })
    }
    fn size_bytes(&self) -> StoreFuture<'_, u64> {
        Box::pin(async { Err(StoreError::Unavailable("disk on fire".into())) })
    }
    fn delete_older_than(&self, _: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(async { Err(StoreError::Unavailable("disk on fire".into())) })
    }
    fn delete_oldest(&self, _: u64) -> StoreFuture<'_, u64> {
        Box::pin(async { Err(StoreError::Unavailable("disk on fire".into())) })
    }
}

// spec: STORE-032
#[tokio::test]
async fn backend_failure_or_overload_answers_503() {
    let mut p = Pair::new(Arc::new(Broken), Config::default()).await;
    let (code, desc) = status_of(p.query(&StoreQuery::all()).await);
    assert_eq!(code, status::SERVICE_UNAVAILABLE);
    assert!(desc.starts_with("SERVICE_UNAVAILABLE"), "{desc}");
    assert!(
        !desc.contains("disk on fire"),
        "internal errors stay internal"
    );

    let store = memory_with(entries(1)).await;
    let mut p = Pair::new(store, Config::default().with_max_pending_queries(0)).await;
    let (code, _) = status_of(p.query(&StoreQuery::all()).await);
    assert_eq!(code, status::SERVICE_UNAVAILABLE);
}

// spec: STORE-010
#[test]
fn request_ids_are_fresh_uuids() {
    let ids: std::collections::HashSet<String> =
        (0..10_000).map(|_| waku_core::new_request_id()).collect();
    assert_eq!(ids.len(), 10_000);
    for id in ids.iter().take(10) {
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4", "version 4: {id}");
    }
}

// spec: STORE-001
#[test]
fn protocol_ids() {
    assert_eq!(waku_store::PROTOCOL.as_ref(), "/vac/waku/store-query/3.0.0");
    assert_eq!(
        waku_store::LEGACY_PROTOCOL.as_ref(),
        "/vac/waku/store/2.0.0-beta4"
    );
}

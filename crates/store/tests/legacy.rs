//! The legacy `/vac/waku/store/2.0.0-beta4` service and client over real
//! libp2p streams, on the same store as v3.
//!
//! Tests whose answer comes from the backend (paging with Index cursors,
//! filters, time ranges, tie order) run once on `MemoryStore` and once on
//! an SQLite file; rate-limit tests run on memory only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Pair;
use common::raw::raw;
use common::{CT, TOPIC, each_backend, entry, listen, memory_with, msg, swarm};
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Swarm};
use prost::Message;
use sha2::{Digest, Sha256};
use waku_core::WakuMessage;
use waku_core::codec::{decode_frame, encode_frame};
use waku_store::legacy::{Cursor, Page, Query};
use waku_store::proto::v2beta4::paging_info::Direction;
use waku_store::proto::v2beta4::{
    ContentFilter, HistoryQuery, HistoryResponse, HistoryRpc, Index, PagingInfo,
};
use waku_store::{Config, LEGACY_PROTOCOL, MessageStore, QueryError, ResponseError, StoredMessage};

/// Sends `rpc` from a raw legacy client to a legacy service over `store`
/// and decodes the one `HistoryRPC` answered.
async fn raw_rpc(store: Arc<dyn MessageStore>, config: Config, rpc: HistoryRpc) -> HistoryRpc {
    let mut server = swarm(waku_store::legacy::Behaviour::new(store, config));
    let mut client = swarm(raw(LEGACY_PROTOCOL));
    let addr = listen(&mut server).await;
    let server_id = *server.local_peer_id();
    common::connect(&mut server, &mut client, addr).await;
    let mut pair: Pair<common::raw::Raw, waku_store::legacy::Behaviour> = Pair {
        server,
        client,
        server_id,
    };
    let bytes = pair.send_raw(encode_frame(&rpc)).await;
    let (answer, _) = decode_frame::<HistoryRpc>(&bytes, usize::MAX)
        .unwrap()
        .unwrap();
    answer
}

struct Legacy {
    server: Swarm<waku_store::legacy::Behaviour>,
    client: Swarm<waku_store::legacy::Behaviour>,
    server_id: PeerId,
}

impl Legacy {
    async fn new(store: Arc<dyn MessageStore>, config: Config) -> Self {
        let mut server = swarm(waku_store::legacy::Behaviour::new(store, config));
        let mut client = swarm(waku_store::legacy::Behaviour::client(Config::default()));
        let addr = listen(&mut server).await;
        let server_id = *server.local_peer_id();
        client.dial(addr).unwrap();
        let mut s = Self {
            server,
            client,
            server_id,
        };
        s.drive(|ev| matches!(ev, SwarmEvent::ConnectionEstablished { .. }).then_some(()))
            .await;
        s
    }

    async fn drive<T>(
        &mut self,
        mut f: impl FnMut(SwarmEvent<waku_store::legacy::Event>) -> Option<T>,
    ) -> T {
        let run = async {
            loop {
                tokio::select! {
                    ev = self.server.select_next_some() => drop(ev),
                    ev = self.client.select_next_some() => if let Some(t) = f(ev) { return t },
                }
            }
        };
        tokio::time::timeout(common::DEADLINE, run)
            .await
            .expect("timed out")
    }

    async fn query(&mut self, q: Query) -> Result<Page, QueryError> {
        let peer = self.server_id;
        let id = self.client.behaviour_mut().send_query(&peer, &q);
        self.drive(|ev| match ev {
            SwarmEvent::Behaviour(waku_store::legacy::Event::QueryResult {
                request_id,
                result,
                ..
            }) if request_id == id => Some(result),
            _ => None,
        })
        .await
    }

    /// Queries TOPIC/CT for a page of `size` in `dir` after `cursor`; the
    /// query must succeed.
    async fn page(&mut self, size: Option<u64>, forward: bool, cursor: Option<Cursor>) -> Page {
        self.query(query(TOPIC, &[CT], size, forward, cursor))
            .await
            .unwrap()
    }
}

fn query(
    topic: &str,
    cts: &[&str],
    page: Option<u64>,
    forward: bool,
    cursor: Option<Cursor>,
) -> Query {
    let mut q = Query::content(topic, cts.iter().copied()).with_cursor(cursor);
    q.page_size = page;
    q.forward = forward;
    q
}

fn payloads(r: &Page) -> Vec<String> {
    r.messages
        .iter()
        .map(|m| String::from_utf8(m.payload.to_vec()).unwrap())
        .collect()
}

/// 25 messages "m00".."m24" at timestamps 100.., on TOPIC/CT.
fn twenty_five() -> Vec<StoredMessage> {
    (0..25)
        .map(|i| entry(100 + i, CT, &format!("m{i:02}")))
        .collect()
}

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("m{i:02}")).collect()
}

// spec: STORE2-001
#[test]
fn legacy_protocol_id() {
    assert_eq!(LEGACY_PROTOCOL.as_ref(), "/vac/waku/store/2.0.0-beta4");
}

// spec: STORE2-002, STORE2-011
#[test]
fn wire_layout_and_index() {
    // HistoryRPC { request_id = "r" (1), response (3) { error = NONE (4) } }:
    // the zero error is written, as nwaku's decoder requires.
    let rpc = HistoryRpc {
        request_id: "r".into(),
        query: None,
        response: Some(HistoryResponse {
            messages: vec![],
            paging_info: None,
            error: Some(0),
        }),
    };
    assert_eq!(
        rpc.encode_to_vec(),
        vec![0x0a, 0x01, b'r', 0x1a, 0x02, 0x20, 0x00]
    );
    // HistoryQuery: pubsub_topic (2), content_filters (3), paging_info (4),
    // start_time (5, zigzag), end_time (6).
    let q = HistoryQuery {
        pubsub_topic: Some("t".into()),
        content_filters: vec![ContentFilter {
            content_topic: "c".into(),
        }],
        paging_info: Some(PagingInfo {
            page_size: Some(5),
            cursor: None,
            direction: Some(Direction::Forward as i32),
        }),
        start_time: Some(1),
        end_time: Some(2),
    };
    assert_eq!(
        q.encode_to_vec(),
        vec![
            0x12, 1, b't', 0x1a, 3, 0x0a, 1, b'c', 0x22, 4, 0x08, 5, 0x18, 1, 0x28, 2, 0x30, 4
        ]
    );
    // Index: digest over content topic and payload; all four fields written.
    let m = WakuMessage {
        timestamp: Some(0),
        ..WakuMessage::new("hi", "/a/1/b/c")
    };
    let idx = Index::from(Cursor::of(TOPIC, &m));
    let digest: [u8; 32] = Sha256::digest(b"/a/1/b/chi").into();
    assert_eq!(idx.digest.as_deref(), Some(&digest[..]));
    assert_eq!((idx.sender_time, idx.receiver_time), (Some(0), Some(0)));
    assert_eq!(idx.pubsub_topic.as_deref(), Some(TOPIC));
    let bytes = idx.encode_to_vec();
    assert_eq!(
        bytes[34..38],
        [0x10, 0x00, 0x18, 0x00],
        "zero times still written"
    );
}

// spec: STORE2-004, STORE2-005, STORE2-008, STORE2-009, STORE2-012
#[tokio::test]
async fn forward_and_backward_paging_with_index_cursors() {
    for backend in each_backend() {
        let mut p = Legacy::new(backend.with(twenty_five()).await, Config::default()).await;
        let r = p.page(Some(10), true, None).await;
        assert_eq!(payloads(&r), names(0..10));
        let cursor = r.cursor.unwrap();
        assert_eq!(cursor.sender_time, 109, "cursor at the last message");
        let r = p.page(Some(10), true, Some(cursor)).await;
        assert_eq!(payloads(&r), names(10..20));
        let cursor = r.cursor.unwrap();
        let r = p.page(Some(10), true, Some(cursor)).await;
        assert_eq!(payloads(&r), names(20..25));
        assert_eq!(r.cursor, None, "no cursor at the end");

        let r = p.page(Some(10), false, None).await;
        assert_eq!(payloads(&r), names(15..25), "newest page, oldest first");
        let cursor = r.cursor.unwrap();
        assert_eq!(cursor.sender_time, 115, "cursor at the first message");
        let r = p.page(Some(10), false, Some(cursor)).await;
        assert_eq!(payloads(&r), names(5..15));
    }
}

// spec: STORE2-006
#[tokio::test]
async fn empty_filters_mean_any() {
    for backend in each_backend() {
        let entries = vec![
            entry(1, CT, "a"),
            entry(2, "/app/1/other/proto", "b"),
            StoredMessage::new("/waku/2/rs/1/0", msg(3, CT, "c")),
        ];
        let mut p = Legacy::new(backend.with(entries).await, Config::default()).await;
        let mut q = query("", &[], None, true, None);
        assert_eq!(
            payloads(&p.query(q.clone()).await.unwrap()),
            ["a", "b", "c"]
        );
        q.pubsub_topic = None;
        q.content_topics = vec![CT.into()];
        assert_eq!(payloads(&p.query(q.clone()).await.unwrap()), ["a", "c"]);
        q.pubsub_topic = Some(TOPIC.into());
        assert_eq!(payloads(&p.query(q.clone()).await.unwrap()), ["a"]);
        q.content_topics.clear();
        assert_eq!(payloads(&p.query(q).await.unwrap()), ["a", "b"]);
    }
}

// spec: STORE2-007
#[tokio::test]
async fn page_size_default_and_cap() {
    for backend in each_backend() {
        let entries: Vec<StoredMessage> = (0..150).map(|i| entry(i, CT, &format!("{i}"))).collect();
        let mut p = Legacy::new(backend.with(entries).await, Config::default()).await;
        let sizes = [(None, 20), (Some(0), 20), (Some(3), 3), (Some(1000), 100)];
        for (asked, got) in sizes {
            let r = p.page(asked, true, None).await;
            assert_eq!(r.messages.len(), got, "{asked:?}");
        }
    }
}

// spec: STORE2-010
#[tokio::test]
async fn unknown_cursor_is_invalid_cursor() {
    for backend in each_backend() {
        let mut p = Legacy::new(backend.with(twenty_five()).await, Config::default()).await;
        let bogus = Cursor::new(TOPIC, 105, 105, vec![1; 32]);
        let r = p.query(query(TOPIC, &[CT], None, true, Some(bogus))).await;
        match r {
            Err(QueryError::Response(ResponseError::Status { code, desc })) => {
                assert_eq!(code, 1);
                assert_eq!(desc, "INVALID_CURSOR");
            }
            other => panic!("{other:?}"),
        }
    }
}

// spec: STORE2-013
#[tokio::test]
async fn time_range_bounds_are_inclusive() {
    for backend in each_backend() {
        let mut p = Legacy::new(backend.with(twenty_five()).await, Config::default()).await;
        let q = query(TOPIC, &[CT], None, true, None).with_time_range(Some(103), Some(106));
        assert_eq!(payloads(&p.query(q).await.unwrap()), names(3..7));
    }
}

// spec: STORE2-012, STORE2-014
#[tokio::test]
async fn rate_limit_and_request_id() {
    let store = memory_with(twenty_five()).await;
    let rpc = HistoryRpc {
        request_id: "legacy-1".into(),
        query: Some(HistoryQuery::default()),
        response: None,
    };
    let answered = raw_rpc(Arc::clone(&store), Config::default(), rpc).await;
    assert_eq!(answered.request_id, "legacy-1");
    assert_eq!(answered.response.unwrap().error, Some(0));
    let config =
        Config::default().with_rate_limit(waku_core::RateLimit::new(1, Duration::from_secs(3600)));
    let mut p = Legacy::new(store, config).await;
    p.query(Query::default()).await.unwrap();
    match p.query(Query::default()).await {
        Err(QueryError::Response(ResponseError::Status { code, .. })) => assert_eq!(code, 429),
        other => panic!("{other:?}"),
    }
}

/// The legacy error code of a refused query.
fn legacy_code(r: Result<Page, QueryError>) -> u32 {
    match r {
        Err(QueryError::Response(ResponseError::Status { code, .. })) => code,
        other => panic!("expected an error code, got {other:?}"),
    }
}

// spec: STORE2-014
#[tokio::test]
async fn rate_limit_is_per_peer() {
    let config =
        Config::default().with_rate_limit(waku_core::RateLimit::new(1, Duration::from_secs(60)));
    let mut a = Legacy::new(memory_with(twenty_five()).await, config).await;
    assert!(a.query(Query::default()).await.is_ok());
    assert_eq!(legacy_code(a.query(Query::default()).await), 429);
    // A second peer, on the same server, has a bucket of its own.
    let addr = a.server.listeners().next().cloned().unwrap();
    let mut b = Legacy {
        server: a.server,
        client: swarm(waku_store::legacy::Behaviour::client(Config::default())),
        server_id: a.server_id,
    };
    b.client.dial(addr).unwrap();
    b.drive(|ev| matches!(ev, SwarmEvent::ConnectionEstablished { .. }).then_some(()))
        .await;
    let r = b.query(Query::default()).await.unwrap();
    assert!(!r.messages.is_empty());
    assert_eq!(legacy_code(b.query(Query::default()).await), 429);
}

// spec: STORE2-014
#[tokio::test]
async fn zero_volume_rate_limit_is_no_limit() {
    let config =
        Config::default().with_rate_limit(waku_core::RateLimit::new(0, Duration::from_secs(1)));
    let mut p = Legacy::new(memory_with(twenty_five()).await, config).await;
    for i in 0..50 {
        let r = p.query(Query::default()).await.unwrap();
        assert!(!r.messages.is_empty(), "query {i}");
    }
}

// spec: STORE2-004, STORE2-005
#[tokio::test]
async fn legacy_and_v3_read_the_same_store() {
    for backend in each_backend() {
        // Equal timestamps: both protocols order them the same way.
        let entries: Vec<StoredMessage> = (0..6).map(|i| entry(50, CT, &format!("s{i}"))).collect();
        let mut sorted = entries.clone();
        sorted.sort_by_key(|m| m.hash);
        let store = backend.with(entries).await;
        let mut p = Legacy::new(Arc::clone(&store), Config::default()).await;
        let r = p.page(Some(4), true, None).await;
        let want: Vec<String> = sorted[..4]
            .iter()
            .map(|m| String::from_utf8(m.message.payload.to_vec()).unwrap())
            .collect();
        assert_eq!(payloads(&r), want);
        // The cursor between equal timestamps resolves to the right entry.
        let cursor = r.cursor.unwrap();
        let r = p.page(Some(4), true, Some(cursor)).await;
        assert_eq!(r.messages.len(), 2);
    }
}

//! 13/WAKU2-STORE v2 (legacy), `/vac/waku/store/2.0.0-beta4`, the store
//! go-waku serves: the request id echoed, one answer per stream, content
//! filtering, oldest-first pages in both directions, page size and cursor,
//! an unknown cursor refused, and hostile frames. Its messages are seeded
//! through the target's lightpush.

use std::time::Duration;

use prost::Message;
use waku_store::proto::v2beta4::{
    ContentFilter, HistoryQuery, HistoryResponse, HistoryRpc, Index, PagingInfo, history_response,
    paging_info,
};

use super::{
    Ctx, can_publish, decode, describe, hostile_round, message, publish_via_target, request_paced,
    stream_end,
};
use crate::report::Outcome;
use crate::session::Proto;
use crate::wire::StreamEnd;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "STORE2-001",
    "STORE2-005",
    "STORE2-006",
    "STORE2-009",
    "STORE2-010",
    "STORE2-012",
];

/// How many messages the suite seeds.
const SEEDED: usize = 3;

/// A query frame.
fn request(request_id: &str, query: HistoryQuery) -> Vec<u8> {
    waku_core::codec::encode_frame(&HistoryRpc {
        request_id: request_id.to_owned(),
        query: Some(query),
        response: None,
    })
}

/// The query for `topic` on `pubsub_topic`, `forward` or not, pages of
/// `page_size` after `cursor`.
fn query(
    pubsub_topic: &str,
    topic: &str,
    forward: bool,
    page_size: u64,
    cursor: Option<Index>,
) -> HistoryQuery {
    let direction = if forward {
        paging_info::Direction::Forward
    } else {
        paging_info::Direction::Backward
    };
    HistoryQuery {
        pubsub_topic: Some(pubsub_topic.to_owned()),
        content_filters: vec![ContentFilter {
            content_topic: topic.to_owned(),
        }],
        paging_info: Some(PagingInfo {
            page_size: Some(page_size),
            cursor,
            direction: Some(direction as i32),
        }),
        start_time: None,
        end_time: None,
    }
}

/// A legacy answer as a status: its error (0 for NONE), 429 for
/// TOO_MANY_REQUESTS; `None` for no RPC with a response.
fn status_of(body: &[u8]) -> Option<u32> {
    HistoryRpc::decode(body)
        .ok()
        .and_then(|rpc| rpc.response)
        .map(|r| u32::try_from(r.error.unwrap_or(0)).unwrap_or(u32::MAX))
        .map(|e| if e == 0 { 200 } else { e })
}

/// Sends `query` and returns the answer's response.
async fn ask(ctx: &mut Ctx<'_>, query: HistoryQuery) -> Result<HistoryResponse, String> {
    let answer = request_paced(
        ctx,
        Proto::StoreV2,
        request(&waku_core::new_request_id(), query),
        status_of,
    )
    .await;
    decode::<HistoryRpc>(&answer)?
        .response
        .ok_or_else(|| "the answer has no response field".to_owned())
}

/// Seeds [`SEEDED`] messages through lightpush and waits until the target
/// returns them all; their payloads, oldest first.
async fn seed(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut payloads = Vec::new();
    for i in 0..SEEDED {
        let offset = -2_000_000_000 + i64::try_from(i).unwrap_or(0) * 1_000_000;
        let payload = format!("legacy store {i}").into_bytes();
        let m = message(topic, &payload, offset);
        if !publish_via_target(ctx, m).await? {
            return Err("lightpush refused a seed message".into());
        }
        payloads.push(payload);
    }
    let deadline = tokio::time::Instant::now() + ctx.wait();
    loop {
        let r = ask(ctx, query(pubsub_topic, topic, true, 100, None)).await?;
        if r.messages.len() >= SEEDED {
            return Ok(payloads);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "{} of {SEEDED} pushed messages returned after {:?}",
                r.messages.len(),
                ctx.wait()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs the legacy store checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let pubsub_topic = ctx.pubsub_topic();
    let topic = ctx.content_topic("store-v2");
    let request_id = waku_core::new_request_id();
    let bytes = request(&request_id, query(&pubsub_topic, &topic, true, 10, None));
    let answer = request_paced(ctx, Proto::StoreV2, bytes, status_of).await;
    match decode::<HistoryRpc>(&answer) {
        Err(e) => {
            out.push(Outcome::fail("STORE2-001", format!("a query: {e}")));
            return out;
        }
        Ok(rpc) => {
            out.push(match stream_end(&answer) {
                Some(StreamEnd::Closed) => Outcome::pass(
                    "STORE2-001",
                    format!(
                        "a query answered with one frame on {}, then the write side was closed",
                        Proto::StoreV2.id()
                    ),
                ),
                Some(end) => Outcome::fail("STORE2-001", format!("after the answer: {end:?}")),
                None => Outcome::fail("STORE2-001", describe(&answer)),
            });
            out.push(Outcome::judge(
                "STORE2-012",
                rpc.request_id == request_id,
                format!("request_id {:?}, sent {request_id:?}", rpc.request_id),
            ));
        }
    }
    out.extend(data(ctx, &pubsub_topic, &topic).await);
    out.push(unknown_cursor(ctx, &pubsub_topic, &topic).await);
    let next = || {
        request(
            &waku_core::new_request_id(),
            query(&pubsub_topic, &topic, true, 1, None),
        )
    };
    out.extend(
        hostile_round(ctx, Proto::StoreV2, |_| "STORE2-001", status_of, next)
            .await
            .into_iter()
            .map(|s| s.outcome),
    );
    out
}

/// STORE2-005, 006 and 009 on seeded messages.
async fn data(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Vec<Outcome> {
    if !can_publish(ctx) {
        return vec![Outcome::not_checkable(
            "STORE2-006",
            "the target serves no lightpush to seed messages with",
        )];
    }
    let payloads = match seed(ctx, pubsub_topic, topic).await {
        Ok(p) => p,
        Err(e) => return vec![Outcome::fail("STORE2-006", format!("seeding: {e}"))],
    };
    let mut out = Vec::new();
    let payloads_of = |r: &HistoryResponse| -> Vec<Vec<u8>> {
        r.messages.iter().map(|m| m.payload.to_vec()).collect()
    };
    match ask(ctx, query(pubsub_topic, topic, true, 100, None)).await {
        Ok(r) => {
            let others = r
                .messages
                .iter()
                .filter(|m| m.content_topic != topic)
                .count();
            out.push(Outcome::judge(
                "STORE2-006",
                others == 0 && r.messages.len() == SEEDED,
                format!("content filter on {topic}: {} messages, {others} on other topics (expected {SEEDED}, 0)", r.messages.len()),
            ));
            out.push(Outcome::judge(
                "STORE2-005",
                payloads_of(&r) == payloads,
                "forward query: messages oldest first".to_owned()
                    + if payloads_of(&r) == payloads {
                        ""
                    } else {
                        " (they are not)"
                    },
            ));
        }
        Err(e) => out.push(Outcome::fail("STORE2-006", e)),
    }
    match ask(ctx, query(pubsub_topic, topic, false, 2, None)).await {
        Ok(r) => {
            let want = payloads[SEEDED - 2..].to_vec();
            out.push(Outcome::judge(
                "STORE2-005",
                payloads_of(&r) == want,
                format!(
                    "backward page of 2: the newest 2, oldest first: {}",
                    payloads_of(&r) == want
                ),
            ));
            let paging = r.paging_info.unwrap_or_default();
            out.push(Outcome::judge(
                "STORE2-009",
                r.messages.len() == 2
                    && paging.cursor.is_some()
                    // An unset direction reads as BACKWARD (0).
                    && paging.direction.unwrap_or(0) == paging_info::Direction::Backward as i32,
                format!(
                    "backward page of 2 of {SEEDED}: {} messages, cursor {}, direction {:?}",
                    r.messages.len(),
                    if paging.cursor.is_some() {
                        "set"
                    } else {
                        "missing"
                    },
                    paging.direction
                ),
            ));
        }
        Err(e) => out.push(Outcome::fail("STORE2-009", e)),
    }
    out
}

/// STORE2-010: a cursor naming no stored message gets INVALID_CURSOR and
/// no messages.
async fn unknown_cursor(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Outcome {
    let cursor = Index {
        digest: Some(vec![0xab; 32]),
        receiver_time: Some(1),
        sender_time: Some(1),
        pubsub_topic: Some(pubsub_topic.to_owned()),
    };
    match ask(ctx, query(pubsub_topic, topic, true, 10, Some(cursor))).await {
        Ok(r) => Outcome::judge(
            "STORE2-010",
            r.error == Some(history_response::Error::InvalidCursor as i32) && r.messages.is_empty(),
            format!(
                "unknown cursor: error {:?}, {} messages (expected INVALID_CURSOR, 0)",
                r.error,
                r.messages.len()
            ),
        ),
        Err(e) => Outcome::fail("STORE2-010", format!("unknown cursor: {e}")),
    }
}

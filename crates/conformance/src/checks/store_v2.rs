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
    Ctx, can_publish, decode, describe, hostile_round, message, publish_via_target, rate_limit,
    request_paced, stream_end,
};
use crate::report::Outcome;
use crate::session::Proto;
use crate::wire::StreamEnd;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "STORE2-001",
    "STORE2-014",
    "STORE2-004",
    "STORE2-005",
    "STORE2-006",
    "STORE2-007",
    "STORE2-008",
    "STORE2-009",
    "STORE2-010",
    "STORE2-011",
    "STORE2-012",
    "STORE2-013",
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

/// One seeded message: its payload and sender time.
#[derive(Clone)]
struct Seeded {
    payload: Vec<u8>,
    timestamp: i64,
}

/// The order the seed messages are pushed in, as indexes into their
/// timestamp order: not oldest first, so the order of the answers shows
/// the store sorts by sender time (STORE2-004), not arrival.
const PUSH_ORDER: [usize; SEEDED] = [1, 0, 2];

/// Seeds [`SEEDED`] messages through lightpush (in [`PUSH_ORDER`]) and
/// waits until the target returns them all; them, oldest first.
async fn seed(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Result<Vec<Seeded>, String> {
    let mut seeded = Vec::new();
    for i in PUSH_ORDER {
        let offset = -2_000_000_000 + i64::try_from(i).unwrap_or(0) * 1_000_000;
        let payload = format!("legacy store {i}").into_bytes();
        let m = message(topic, &payload, offset);
        let timestamp = m.timestamp.unwrap_or_default();
        if !publish_via_target(ctx, m).await? {
            return Err("lightpush refused a seed message".into());
        }
        seeded.push(Seeded { payload, timestamp });
    }
    seeded.sort_by_key(|s| s.timestamp);
    let deadline = tokio::time::Instant::now() + ctx.wait();
    loop {
        let r = ask(ctx, query(pubsub_topic, topic, true, 100, None)).await?;
        if r.messages.len() >= SEEDED {
            return Ok(seeded);
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
    let burst = || {
        request(
            &waku_core::new_request_id(),
            query(&pubsub_topic, &topic, true, 1, None),
        )
    };
    out.push(rate_limit::judge(ctx, "STORE2-014", Proto::StoreV2, burst, status_of).await);
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
    let seeded = match seed(ctx, pubsub_topic, topic).await {
        Ok(s) => s,
        Err(e) => return vec![Outcome::fail("STORE2-006", format!("seeding: {e}"))],
    };
    let payloads: Vec<Vec<u8>> = seeded.iter().map(|s| s.payload.clone()).collect();
    let mut out = Vec::new();
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
                "STORE2-004",
                payloads_of(&r) == payloads,
                format!(
                    "pushed in the order {PUSH_ORDER:?} of their sender times, returned {}",
                    if payloads_of(&r) == payloads {
                        "in sender-time order"
                    } else {
                        "in another order"
                    }
                ),
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
    out.extend(paging(ctx, pubsub_topic, topic, &seeded).await);
    out
}

/// The payloads of a response, in its order.
fn payloads_of(r: &HistoryResponse) -> Vec<Vec<u8>> {
    r.messages.iter().map(|m| m.payload.to_vec()).collect()
}

/// A query without a direction (STORE2-008's default).
fn undirected(pubsub_topic: &str, topic: &str, page_size: u64) -> HistoryQuery {
    let mut q = query(pubsub_topic, topic, true, page_size, None);
    if let Some(paging) = q.paging_info.as_mut() {
        paging.direction = None;
    }
    q
}

/// STORE2-007, 008, 011 and 013 on the seeded messages: pages of one
/// walked with their cursors both ways, the default direction, a page
/// size of 0, the cursor's fields, a time range of one message.
async fn paging(
    ctx: &mut Ctx<'_>,
    pubsub_topic: &str,
    topic: &str,
    seeded: &[Seeded],
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let payloads: Vec<Vec<u8>> = seeded.iter().map(|s| s.payload.clone()).collect();
    let Some(newest) = seeded.last() else {
        return out;
    };
    // A page of 1 without a cursor, then the rest after its cursor.
    let walk = async |ctx: &mut Ctx<'_>,
                      forward: bool|
           -> Result<(HistoryResponse, Result<HistoryResponse, String>), String> {
        let first = ask(ctx, query(pubsub_topic, topic, forward, 1, None)).await?;
        let Some(cursor) = first.paging_info.as_ref().and_then(|p| p.cursor.clone()) else {
            return Ok((first, Err("a page of 1 of 3 carries no cursor".into())));
        };
        let rest = ask(ctx, query(pubsub_topic, topic, forward, 10, Some(cursor))).await;
        Ok((first, rest))
    };
    match walk(ctx, true).await {
        Ok((first, rest)) => {
            out.push(Outcome::judge(
                "STORE2-007",
                first.messages.len() == 1,
                format!(
                    "page size 1 of 3 matching: {} messages",
                    first.messages.len()
                ),
            ));
            out.push(match rest {
                Ok(rest) => {
                    let ok =
                        payloads_of(&first) == payloads[..1] && payloads_of(&rest) == payloads[1..];
                    Outcome::judge(
                        "STORE2-008",
                        ok,
                        format!(
                            "forward: a page of 1 then its cursor gave {} + {} messages, {}",
                            first.messages.len(),
                            rest.messages.len(),
                            if ok {
                                "the oldest, then the two after it"
                            } else {
                                "not the oldest, then the two after it"
                            }
                        ),
                    )
                }
                Err(e) => Outcome::fail("STORE2-008", format!("forward walk: {e}")),
            });
        }
        Err(e) => out.push(Outcome::fail("STORE2-008", format!("forward walk: {e}"))),
    }
    match walk(ctx, false).await {
        Ok((_, Err(e))) => {
            out.push(Outcome::fail("STORE2-008", format!("backward walk: {e}")));
        }
        Ok((first, Ok(rest))) => {
            let ok = payloads_of(&first) == payloads[SEEDED - 1..]
                && payloads_of(&rest) == payloads[..SEEDED - 1];
            out.push(Outcome::judge(
                "STORE2-008",
                ok,
                format!(
                    "backward: a page of 1 then its cursor gave {} + {} messages, {}",
                    first.messages.len(),
                    rest.messages.len(),
                    if ok {
                        "the newest, then the two before it"
                    } else {
                        "not the newest, then the two before it"
                    }
                ),
            ));
            let cursor = first.paging_info.and_then(|p| p.cursor).unwrap_or_default();
            let digest: [u8; 32] = {
                use sha2::Digest;
                let mut h = sha2::Sha256::new();
                h.update(topic.as_bytes());
                h.update(&newest.payload);
                h.finalize().into()
            };
            let ok = cursor.digest.as_deref() == Some(digest.as_slice())
                && cursor.sender_time == Some(newest.timestamp)
                && cursor.receiver_time.is_some_and(|t| t != 0)
                && cursor.pubsub_topic.as_deref() == Some(pubsub_topic);
            out.push(Outcome::judge(
                "STORE2-011",
                ok,
                format!(
                    "cursor of a backward page of 1: digest {} sha256(content topic || payload), \
                     sender time {:?} (message {}), receiver time {:?}, pubsub topic {:?}",
                    if cursor.digest.as_deref() == Some(digest.as_slice()) {
                        "="
                    } else {
                        "!="
                    },
                    cursor.sender_time,
                    newest.timestamp,
                    cursor.receiver_time,
                    cursor.pubsub_topic
                ),
            ));
        }
        Err(e) => out.push(Outcome::fail("STORE2-008", format!("backward walk: {e}"))),
    }
    match ask(ctx, undirected(pubsub_topic, topic, 1)).await {
        Ok(r) => out.push(Outcome::judge(
            "STORE2-008",
            payloads_of(&r) == payloads[SEEDED - 1..],
            format!(
                "no direction, page of 1: {} (expected the newest: backward)",
                if payloads_of(&r) == payloads[SEEDED - 1..] {
                    "the newest"
                } else if payloads_of(&r) == payloads[..1] {
                    "the oldest"
                } else {
                    "something else"
                }
            ),
        )),
        Err(e) => out.push(Outcome::fail("STORE2-008", format!("no direction: {e}"))),
    }
    match ask(ctx, query(pubsub_topic, topic, true, 0, None)).await {
        Ok(r) => out.push(Outcome::judge(
            "STORE2-007",
            r.messages.len() == SEEDED,
            format!(
                "page size 0 (read as 20) with {SEEDED} matching: {} messages",
                r.messages.len()
            ),
        )),
        Err(e) => out.push(Outcome::fail("STORE2-007", format!("page size 0: {e}"))),
    }
    let Some(middle) = seeded.get(1) else {
        return out;
    };
    let mut ranged = query(pubsub_topic, topic, true, 10, None);
    ranged.start_time = Some(middle.timestamp);
    ranged.end_time = Some(middle.timestamp);
    match ask(ctx, ranged).await {
        Ok(r) => out.push(Outcome::judge(
            "STORE2-013",
            payloads_of(&r) == [middle.payload.clone()],
            format!(
                "start_time = end_time = the middle message's sender time: {} messages{}",
                r.messages.len(),
                if payloads_of(&r) == [middle.payload.clone()] {
                    ", that one"
                } else {
                    ""
                }
            ),
        )),
        Err(e) => out.push(Outcome::fail("STORE2-013", format!("time range: {e}"))),
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

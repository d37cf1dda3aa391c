//! 13/WAKU2-STORE v3: statuses, the response layout, order, paging and
//! cursors in both directions, time ranges, hash lookups, bad requests and
//! hostile frames. The data checks seed the store through lightpush (the
//! target archives what it publishes), so they need the target to serve
//! lightpush too.

use std::time::Duration;

use prost::Message;
use waku_store::proto::{StoreQueryRequest, StoreQueryResponse};

use super::{
    Ctx, can_publish, decode, hash_of, hostile_round, message, publish_via_target, rate_limit,
    request_paced,
};
use crate::report::Outcome;
use crate::session::Proto;
use crate::wire::Hostile;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "STORE-001",
    "STORE-031",
    "STORE-006",
    "STORE-007",
    "STORE-008",
    "STORE-009",
    "STORE-011",
    "STORE-013",
    "STORE-014",
    "STORE-015",
    "STORE-016",
    "STORE-017",
    "STORE-018",
    "STORE-020",
    "STORE-021",
    "STORE-022",
    "STORE-023",
    "STORE-024",
    "STORE-025",
    "STORE-028",
    "STORE-029",
    "STORE-030",
    "STORE-033",
    "STORE-034",
    "STORE-035",
    "STORE-037",
];

/// How many messages the data checks seed.
const SEEDED: usize = 5;

/// The status of a store answer frame.
pub fn status_of(body: &[u8]) -> Option<u32> {
    StoreQueryResponse::decode(body)
        .ok()
        .and_then(|r| r.status_code)
}

/// A query with a fresh request id and `fill` applied.
fn query(fill: impl FnOnce(&mut StoreQueryRequest)) -> StoreQueryRequest {
    let mut request = StoreQueryRequest {
        request_id: waku_core::new_request_id(),
        ..StoreQueryRequest::default()
    };
    fill(&mut request);
    request
}

async fn ask(ctx: &mut Ctx<'_>, request: &StoreQueryRequest) -> Result<StoreQueryResponse, String> {
    let bytes = waku_core::codec::encode_frame(request);
    decode(&request_paced(ctx, Proto::Store, bytes, status_of).await)
}

/// The hashes of a page's entries (short or missing hashes as empty).
fn hashes(response: &StoreQueryResponse) -> Vec<Vec<u8>> {
    response
        .messages
        .iter()
        .map(|e| e.message_hash.clone().unwrap_or_default())
        .collect()
}

fn short(hash: &[u8]) -> String {
    hex::encode(hash.get(..4).unwrap_or(hash))
}

fn shorts(hashes: &[Vec<u8>]) -> String {
    let names: Vec<String> = hashes.iter().map(|h| short(h)).collect();
    format!("[{}]", names.join(" "))
}

/// Sends `request`, expecting status `expected`.
async fn expect_status(
    ctx: &mut Ctx<'_>,
    id: &'static str,
    what: &str,
    request: StoreQueryRequest,
    expected: u32,
) -> Outcome {
    match ask(ctx, &request).await {
        Ok(r) => Outcome::judge(
            id,
            r.status_code == Some(expected),
            format!(
                "{what}: answered {:?} {:?} (expected {expected})",
                r.status_code,
                r.status_desc.unwrap_or_default()
            ),
        ),
        Err(e) => Outcome::fail(id, format!("{what}: {e} (expected {expected})")),
    }
}

/// Runs the store checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let pubsub_topic = ctx.pubsub_topic();
    let topic = ctx.content_topic("store");
    let empty = query(|q| {
        q.include_data = true;
        q.pubsub_topic = Some(pubsub_topic.clone());
        q.content_topics = vec![ctx.content_topic("store-empty")];
    });
    match ask(ctx, &empty).await {
        Err(e) => out.push(Outcome::fail("STORE-001", format!("content query: {e}"))),
        Ok(r) => {
            out.push(Outcome::pass(
                "STORE-001",
                format!("content query answered on {}", Proto::Store.id()),
            ));
            out.push(Outcome::judge(
                "STORE-025",
                r.status_code == Some(200),
                format!("content query: status {:?}", r.status_code),
            ));
            out.push(Outcome::judge(
                "STORE-024",
                r.request_id == empty.request_id,
                format!("request_id {:?}, sent {:?}", r.request_id, empty.request_id),
            ));
        }
    }
    out.extend(bad_requests(ctx, &pubsub_topic, &topic).await);
    if can_publish(ctx) {
        out.extend(data(ctx, &pubsub_topic, &topic).await);
    } else {
        for id in [
            "STORE-006",
            "STORE-009",
            "STORE-015",
            "STORE-016",
            "STORE-018",
            "STORE-020",
            "STORE-023",
            "STORE-028",
        ] {
            out.push(Outcome::not_checkable(
                id,
                "needs stored messages: the target serves no lightpush to seed them",
            ));
        }
    }
    out.push(idle_stream(ctx, &pubsub_topic, &topic).await);
    out.push(undecodable_described(ctx).await);
    let burst = || {
        waku_core::codec::encode_frame(&query(|q| {
            q.pubsub_topic = Some(pubsub_topic.clone());
            q.content_topics = vec![topic.clone()];
        }))
    };
    out.push(rate_limit::judge(ctx, "STORE-031", Proto::Store, burst, status_of).await);
    out
}

async fn bad_requests(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mixed = query(|q| {
        q.pubsub_topic = Some(pubsub_topic.to_owned());
        q.content_topics = vec![topic.to_owned()];
        q.message_hashes = vec![vec![1u8; 32]];
    });
    out.push(
        expect_status(
            ctx,
            "STORE-013",
            "content topics with message hashes",
            mixed,
            400,
        )
        .await,
    );
    let unknown = query(|q| {
        q.pubsub_topic = Some(pubsub_topic.to_owned());
        q.content_topics = vec![topic.to_owned()];
        q.pagination_cursor = Some(rand::random::<[u8; 32]>().to_vec());
    });
    out.push(expect_status(ctx, "STORE-029", "cursor of an unknown hash", unknown, 400).await);
    let stub = query(|q| {
        q.pubsub_topic = Some(pubsub_topic.to_owned());
        q.content_topics = vec![topic.to_owned()];
        q.pagination_cursor = Some(vec![1, 2, 3, 4, 5]);
    });
    out.push(expect_status(ctx, "STORE-029", "5-byte cursor", stub, 400).await);
    let many = query(|q| {
        q.pubsub_topic = Some(pubsub_topic.to_owned());
        q.content_topics = (0..11)
            .map(|i| format!("/conformance/1/t{i}/proto"))
            .collect();
    });
    out.push(expect_status(ctx, "STORE-030", "11 content topics", many, 400).await);
    let next = || {
        waku_core::codec::encode_frame(&query(|q| {
            q.pubsub_topic = Some(pubsub_topic.to_owned());
            q.content_topics = vec![topic.to_owned()];
        }))
    };
    let id_of = |input| match input {
        Hostile::Undecodable | Hostile::OversizePrefix => "STORE-037",
        Hostile::Truncated | Hostile::Empty => "STORE-034",
    };
    for survival in hostile_round(ctx, Proto::Store, id_of, status_of, next).await {
        let expects_400 = id_of(survival.input) == "STORE-037";
        if expects_400
            && survival.outcome.verdict == crate::report::Verdict::Pass
            && survival.status != Some(400)
        {
            out.push(Outcome::fail(
                "STORE-037",
                format!(
                    "{}: status {:?} (expected 400)",
                    survival.input.describe(),
                    survival.status
                ),
            ));
        } else {
            out.push(survival.outcome);
        }
    }
    out
}

/// Seeds [`SEEDED`] messages through lightpush; their hashes in timestamp
/// order and timestamps, once all are stored.
async fn seed(
    ctx: &mut Ctx<'_>,
    pubsub_topic: &str,
    topic: &str,
) -> Result<(Vec<Vec<u8>>, Vec<i64>), String> {
    let mut seeded = Vec::new();
    for i in 0..SEEDED {
        let offset = -2_000_000_000 + i64::try_from(i).unwrap_or(0) * 1_000_000;
        let m = message(topic, format!("store {i}").as_bytes(), offset);
        let hash = hash_of(pubsub_topic, &m).ok_or("cannot hash a seeded message")?;
        let stamp = m.timestamp.unwrap_or_default();
        if !publish_via_target(ctx, m).await? {
            return Err("lightpush refused a seed message".into());
        }
        seeded.push((hash.to_vec(), stamp));
    }
    let all = query(|q| {
        q.pubsub_topic = Some(pubsub_topic.to_owned());
        q.content_topics = vec![topic.to_owned()];
        q.pagination_forward = true;
        q.pagination_limit = Some(100);
    });
    let deadline = tokio::time::Instant::now() + ctx.wait();
    loop {
        let r = ask(ctx, &all).await?;
        if r.messages.len() >= SEEDED {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "{} of {SEEDED} pushed messages stored after {:?}",
                r.messages.len(),
                ctx.wait()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(seeded.into_iter().unzip())
}

async fn data(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    let (expected, stamps) = match seed(ctx, pubsub_topic, topic).await {
        Ok(seeded) => seeded,
        Err(e) => {
            out.push(Outcome::fail(
                "STORE-006",
                format!("seeding through lightpush: {e}"),
            ));
            return out;
        }
    };
    let base = |forward: bool, limit: u64| {
        query(|q| {
            q.include_data = true;
            q.pubsub_topic = Some(pubsub_topic.to_owned());
            q.content_topics = vec![topic.to_owned()];
            q.pagination_forward = forward;
            q.pagination_limit = Some(limit);
        })
    };

    // Everything in one page: layout, hashes, order, content filtering.
    match ask(ctx, &base(true, 100)).await {
        Err(e) => out.push(Outcome::fail("STORE-014", format!("content query: {e}"))),
        Ok(r) => {
            let got = hashes(&r);
            out.push(Outcome::judge(
                "STORE-014",
                got.len() == SEEDED && got.iter().all(|h| expected.contains(h)),
                format!(
                    "content query: {} entries {}, pushed {}",
                    got.len(),
                    shorts(&got),
                    shorts(&expected)
                ),
            ));
            out.push(Outcome::judge(
                "STORE-007",
                !got.is_empty() && got.iter().all(|h| h.len() == 32),
                format!(
                    "hash lengths {:?}",
                    got.iter().map(Vec::len).collect::<Vec<_>>()
                ),
            ));
            let complete = !r.messages.is_empty()
                && r.messages
                    .iter()
                    .all(|e| e.message.is_some() && e.pubsub_topic.is_some());
            out.push(Outcome::judge(
                "STORE-008",
                complete,
                "include_data: every entry has message and pubsub_topic".to_owned(),
            ));
            out.push(Outcome::judge(
                "STORE-035",
                !r.messages.is_empty()
                    && r.messages
                        .iter()
                        .all(|e| e.pubsub_topic.as_deref() == Some(pubsub_topic)),
                format!("every entry's pubsub_topic is {pubsub_topic}"),
            ));
            let rehashed: Vec<Vec<u8>> = r
                .messages
                .iter()
                .map(|e| {
                    e.message
                        .as_ref()
                        .and_then(|m| hash_of(e.pubsub_topic.as_deref().unwrap_or_default(), m))
                        .map(|h| h.to_vec())
                        .unwrap_or_default()
                })
                .collect();
            out.push(Outcome::judge(
                "STORE-006",
                !got.is_empty() && rehashed == got,
                format!(
                    "message_hash equals our hash of the returned message: {}",
                    shorts(&rehashed)
                ),
            ));
            out.push(Outcome::judge(
                "STORE-009",
                got == expected,
                format!(
                    "forward order {}, by timestamp {}",
                    shorts(&got),
                    shorts(&expected)
                ),
            ));
        }
    }
    let other = query(|q| {
        q.pubsub_topic = Some(pubsub_topic.to_owned());
        q.content_topics = vec![ctx.content_topic("store-other")];
    });
    if let Ok(r) = ask(ctx, &other).await {
        out.push(Outcome::judge(
            "STORE-014",
            r.messages.is_empty(),
            format!("another content topic: {} entries", r.messages.len()),
        ));
    }

    let mut bare = base(true, 100);
    bare.include_data = false;
    match ask(ctx, &bare).await {
        Ok(r) => out.push(Outcome::judge(
            "STORE-011",
            r.messages.len() == SEEDED
                && r.messages
                    .iter()
                    .all(|e| e.message_hash.is_some() && e.message.is_none()),
            format!(
                "without include_data: {} entries, {} with a message",
                r.messages.len(),
                r.messages.iter().filter(|e| e.message.is_some()).count()
            ),
        )),
        Err(e) => out.push(Outcome::fail(
            "STORE-011",
            format!("query without data: {e}"),
        )),
    }

    // Forward paging.
    match ask(ctx, &base(true, 2)).await {
        Err(e) => out.push(Outcome::fail("STORE-023", format!("forward page: {e}"))),
        Ok(first) => {
            let got = hashes(&first);
            out.push(Outcome::judge(
                "STORE-021",
                // Five entries match: a page of limit 2 holds exactly 2.
                got.len() == 2,
                format!("limit 2 with {SEEDED} matching: {} entries", got.len()),
            ));
            out.push(Outcome::judge(
                "STORE-022",
                got.as_slice() == expected.get(..2).unwrap_or_default(),
                format!(
                    "forward without cursor starts at the oldest: {}",
                    shorts(&got)
                ),
            ));
            out.push(Outcome::judge(
                "STORE-023",
                first.pagination_cursor.is_some() && first.pagination_cursor.as_ref() == got.last(),
                format!(
                    "forward page cursor {} = last entry {}",
                    short(first.pagination_cursor.as_deref().unwrap_or_default()),
                    short(got.last().map(Vec::as_slice).unwrap_or_default())
                ),
            ));
            let mut walked = got;
            let mut cursor = first.pagination_cursor;
            let mut pages = 1;
            while let Some(c) = cursor.take() {
                if pages > SEEDED {
                    break;
                }
                let mut next = base(true, 2);
                next.pagination_cursor = Some(c);
                match ask(ctx, &next).await {
                    Ok(page) => {
                        walked.extend(hashes(&page));
                        cursor = page.pagination_cursor;
                        pages += 1;
                    }
                    Err(e) => {
                        out.push(Outcome::fail(
                            "STORE-018",
                            format!("page {}: {e}", pages + 1),
                        ));
                        break;
                    }
                }
            }
            out.push(Outcome::judge(
                "STORE-018",
                walked == expected,
                format!(
                    "forward walk with limit 2 over {pages} pages: {}",
                    shorts(&walked)
                ),
            ));
        }
    }
    if let Some(last) = expected.last() {
        let mut at_end = base(true, 2);
        at_end.pagination_cursor = Some(last.clone());
        match ask(ctx, &at_end).await {
            Ok(r) => out.push(Outcome::judge(
                "STORE-028",
                r.status_code == Some(200)
                    && r.messages.is_empty()
                    && r.pagination_cursor.is_none(),
                format!(
                    "cursor at the last entry: status {:?}, {} entries, cursor {}",
                    r.status_code,
                    r.messages.len(),
                    r.pagination_cursor.is_some()
                ),
            )),
            Err(e) => out.push(Outcome::fail(
                "STORE-028",
                format!("cursor at the last entry: {e}"),
            )),
        }
    }

    // Backward paging.
    match ask(ctx, &base(false, 2)).await {
        Err(e) => out.push(Outcome::fail("STORE-020", format!("backward page: {e}"))),
        Ok(first) => {
            let got = hashes(&first);
            let newest = expected.get(SEEDED - 2..).unwrap_or_default();
            out.push(Outcome::judge(
                "STORE-020",
                got.as_slice() == newest,
                format!(
                    "backward page {} (oldest first), newest two {}",
                    shorts(&got),
                    shorts(newest)
                ),
            ));
            out.push(Outcome::judge(
                "STORE-023",
                first.pagination_cursor.is_some()
                    && first.pagination_cursor.as_ref() == got.first(),
                format!(
                    "backward page cursor {} = first entry {}",
                    short(first.pagination_cursor.as_deref().unwrap_or_default()),
                    short(got.first().map(Vec::as_slice).unwrap_or_default())
                ),
            ));
            if let Some(c) = first.pagination_cursor {
                let mut next = base(false, 2);
                next.pagination_cursor = Some(c);
                if let Ok(page) = ask(ctx, &next).await {
                    let got = hashes(&page);
                    let before = expected.get(SEEDED - 4..SEEDED - 2).unwrap_or_default();
                    out.push(Outcome::judge(
                        "STORE-018",
                        got.as_slice() == before,
                        format!(
                            "backward page after the cursor {}, expected {}",
                            shorts(&got),
                            shorts(before)
                        ),
                    ));
                }
            }
        }
    }

    // Time range, both bounds inclusive.
    if let (Some(start), Some(end)) = (stamps.get(1), stamps.get(3)) {
        let mut range = base(true, 100);
        range.time_start = Some(*start);
        range.time_end = Some(*end);
        if let Ok(r) = ask(ctx, &range).await {
            let got = hashes(&r);
            let want = expected.get(1..=3).unwrap_or_default();
            out.push(Outcome::judge(
                "STORE-015",
                got.as_slice() == want,
                format!(
                    "time_start = 2nd, time_end = 4th timestamp: {}, expected {}",
                    shorts(&got),
                    shorts(want)
                ),
            ));
        }
    }

    // Hash lookups.
    let picked: Vec<Vec<u8>> = [1, 3]
        .iter()
        .filter_map(|&i| expected.get(i).cloned())
        .collect();
    let mut asked = picked.clone();
    asked.push(rand::random::<[u8; 32]>().to_vec());
    let lookup = query(|q| q.message_hashes = asked.clone());
    match ask(ctx, &lookup).await {
        Ok(r) => {
            let got = hashes(&r);
            out.push(Outcome::judge(
                "STORE-016",
                r.status_code == Some(200)
                    && got.len() == picked.len()
                    && picked.iter().all(|h| got.contains(h)),
                format!(
                    "lookup of 2 stored + 1 unknown hash: {:?} {}",
                    r.status_code,
                    shorts(&got)
                ),
            ));
            out.push(if r.messages.is_empty() {
                Outcome::not_checkable("STORE-017", "the lookup returned no entry to look at")
            } else {
                Outcome::judge(
                    "STORE-017",
                    r.messages.iter().all(|e| e.message.is_none()),
                    format!(
                        "lookup without include_data: {} entries, {} with a message (hashes only expected)",
                        r.messages.len(),
                        r.messages.iter().filter(|e| e.message.is_some()).count()
                    ),
                )
            });
        }
        Err(e) => out.push(Outcome::fail("STORE-016", format!("hash lookup: {e}"))),
    }
    let with_topic = query(|q| {
        q.message_hashes = asked.clone();
        q.pubsub_topic = Some(pubsub_topic.to_owned());
    });
    match ask(ctx, &with_topic).await {
        Ok(r) => {
            let got = hashes(&r);
            out.push(Outcome::judge(
                "STORE-033",
                r.status_code == Some(200)
                    && got.len() == picked.len()
                    && picked.iter().all(|h| got.contains(h)),
                format!(
                    "lookup with pubsub_topic: {:?} {}",
                    r.status_code,
                    shorts(&got)
                ),
            ));
        }
        Err(e) => out.push(Outcome::fail(
            "STORE-033",
            format!("hash lookup with topic: {e}"),
        )),
    }
    out
}

/// STORE-034: a stream opened and left silent does not keep the target
/// from answering a query on another stream.
async fn idle_stream(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Outcome {
    let next = waku_core::codec::encode_frame(&query(|q| {
        q.pubsub_topic = Some(pubsub_topic.to_owned());
        q.content_topics = vec![topic.to_owned()];
    }));
    super::idle_tolerated(ctx, "STORE-034", Proto::Store, status_of, next).await
}

/// STORE-037: the 400 answering an undecodable request says "decoding rpc
/// failed:" at the start of its status_desc, as nwaku's does.
async fn undecodable_described(ctx: &mut Ctx<'_>) -> Outcome {
    const PREFIX: &str = "decoding rpc failed:";
    let bytes = crate::wire::undecodable_frame();
    let answer = request_paced(ctx, Proto::Store, bytes, status_of).await;
    match decode::<StoreQueryResponse>(&answer) {
        Ok(r) => {
            let desc = r.status_desc.unwrap_or_default();
            Outcome::judge(
                "STORE-037",
                r.status_code == Some(400) && desc.starts_with(PREFIX),
                format!(
                    "undecodable request frame: {:?} {desc:?} (expected 400, {PREFIX:?} ...)",
                    r.status_code
                ),
            )
        }
        Err(e) => Outcome::fail("STORE-037", format!("undecodable request frame: {e}")),
    }
}

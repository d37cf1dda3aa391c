//! 12/WAKU2-FILTER v2: subscribe, ping, unsubscribe and unsubscribe-all
//! statuses, invalid criteria, pushes of matching (and only matching)
//! messages, one answer per stream, and hostile frames. The push checks
//! publish through lightpush, so they need the target to serve it too.

use prost::Message;
use waku_core::proto::message::v1::WakuMessage;
use waku_filter::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, FilterSubscribeType, MessagePush,
};

use super::{
    Ctx, can_publish, decode, hash_of, hostile_round, message, publish_via_target, rate_limit,
    request_paced, stream_end,
};
use crate::report::Outcome;
use crate::session::Proto;
use crate::wire::{Hostile, StreamEnd};

/// The most content topics one request may carry (nwaku's default).
const MAX_TOPICS_PER_REQUEST: usize = 100;

/// The most criteria one subscriber may hold (nwaku's default).
const MAX_CRITERIA: usize = 1000;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "FILTER-001",
    "FILTER-032",
    "FILTER-005",
    "FILTER-006",
    "FILTER-009",
    "FILTER-010",
    "FILTER-011",
    "FILTER-012",
    "FILTER-016",
    "FILTER-018",
    "FILTER-024",
    "FILTER-025",
    "FILTER-028",
    "FILTER-029",
    "FILTER-031",
];

/// The status of a filter answer frame.
pub fn status_of(body: &[u8]) -> Option<u32> {
    FilterSubscribeResponse::decode(body)
        .ok()
        .map(|r| r.status_code)
}

fn request(
    kind: FilterSubscribeType,
    pubsub_topic: Option<String>,
    content_topics: Vec<String>,
) -> FilterSubscribeRequest {
    FilterSubscribeRequest {
        request_id: waku_core::new_request_id(),
        filter_subscribe_type: kind as i32,
        pubsub_topic,
        content_topics,
    }
}

/// Sends `request`; the answer and how its stream ended.
async fn send(
    ctx: &mut Ctx<'_>,
    request: &FilterSubscribeRequest,
) -> (Result<FilterSubscribeResponse, String>, Option<StreamEnd>) {
    let bytes = waku_core::codec::encode_frame(request);
    let answer = request_paced(ctx, Proto::FilterSubscribe, bytes, status_of).await;
    (decode(&answer), stream_end(&answer))
}

/// Subscribes to `content_topic` on `pubsub_topic`; the answer's status.
pub async fn subscribe(
    ctx: &mut Ctx<'_>,
    pubsub_topic: &str,
    content_topic: &str,
) -> Result<u32, String> {
    let request = request(
        FilterSubscribeType::Subscribe,
        Some(pubsub_topic.to_owned()),
        vec![content_topic.to_owned()],
    );
    send(ctx, &request).await.0.map(|r| r.status_code)
}

/// The message of a push, with the pubsub topic it names.
pub fn pushed(push: &crate::wire::Inbound) -> Option<(String, WakuMessage)> {
    let p = MessagePush::decode(push.0.as_slice()).ok()?;
    Some((p.pubsub_topic?, p.waku_message?))
}

/// Sends `request` (described by `what`), expecting status `expected`.
async fn expect_status(
    ctx: &mut Ctx<'_>,
    id: &'static str,
    what: &str,
    request: FilterSubscribeRequest,
    expected: u32,
) -> Outcome {
    match send(ctx, &request).await.0 {
        Ok(r) => Outcome::judge(
            id,
            r.status_code == expected,
            format!(
                "{what}: answered {} {:?} (expected {expected})",
                r.status_code,
                r.status_desc.unwrap_or_default()
            ),
        ),
        Err(e) => Outcome::fail(id, format!("{what}: {e} (expected {expected})")),
    }
}

/// Runs the filter checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    use FilterSubscribeType::{Subscribe, SubscriberPing, Unsubscribe, UnsubscribeAll};
    let mut out = Vec::new();
    let pubsub_topic = ctx.pubsub_topic();
    let topic = ctx.content_topic("filter");

    let ping = || request(SubscriberPing, None, Vec::new());
    out.push(expect_status(ctx, "FILTER-011", "ping before subscribing", ping(), 404).await);

    let subscribe = request(Subscribe, Some(pubsub_topic.clone()), vec![topic.clone()]);
    let (answer, end) = send(ctx, &subscribe).await;
    let subscribed = answer.as_ref().is_ok_and(|r| r.status_code == 200);
    match answer {
        Err(e) => out.push(Outcome::fail("FILTER-001", format!("subscribe: {e}"))),
        Ok(r) => {
            out.push(Outcome::pass(
                "FILTER-001",
                format!("subscribe answered on {}", Proto::FilterSubscribe.id()),
            ));
            out.push(Outcome::judge(
                "FILTER-012",
                r.status_code == 200,
                format!(
                    "subscribe to {topic}: answered {} {:?}",
                    r.status_code,
                    r.status_desc.unwrap_or_default()
                ),
            ));
            out.push(Outcome::judge(
                "FILTER-005",
                r.request_id == subscribe.request_id,
                format!(
                    "request_id {:?}, sent {:?}",
                    r.request_id, subscribe.request_id
                ),
            ));
            out.push(match end {
                Some(StreamEnd::Closed) => {
                    Outcome::pass("FILTER-029", "one response, then the write side was closed")
                }
                Some(end) => Outcome::fail("FILTER-029", format!("after the response: {end:?}")),
                None => Outcome::fail("FILTER-029", "no stream end seen"),
            });
        }
    }
    if !subscribed {
        // What needs a subscription cannot be judged without one; the
        // subscribe's own rows above say what went wrong.
        for id in ["FILTER-011", "FILTER-010", "FILTER-024", "FILTER-025"] {
            out.push(Outcome::not_checkable(
                id,
                "needs a subscription: the subscribe was not answered 200",
            ));
        }
    } else if can_publish(ctx) {
        out.push(expect_status(ctx, "FILTER-011", "ping while subscribed", ping(), 200).await);
        out.extend(pushes(ctx, &pubsub_topic, &topic).await);
    } else {
        out.push(expect_status(ctx, "FILTER-011", "ping while subscribed", ping(), 200).await);
        for id in ["FILTER-010", "FILTER-024", "FILTER-025"] {
            out.push(Outcome::not_checkable(
                id,
                "needs published messages: the target serves no lightpush to publish them",
            ));
        }
    }

    let unsubscribe = || request(Unsubscribe, Some(pubsub_topic.clone()), vec![topic.clone()]);
    out.push(expect_status(ctx, "FILTER-016", "unsubscribe", unsubscribe(), 200).await);
    out.push(expect_status(ctx, "FILTER-016", "unsubscribe again", unsubscribe(), 404).await);
    out.push(expect_status(ctx, "FILTER-011", "ping after unsubscribing", ping(), 404).await);
    let all = || request(UnsubscribeAll, None, Vec::new());
    out.push(
        expect_status(
            ctx,
            "FILTER-018",
            "unsubscribe-all with nothing subscribed",
            all(),
            404,
        )
        .await,
    );
    let resubscribe = request(Subscribe, Some(pubsub_topic.clone()), vec![topic.clone()]);
    match send(ctx, &resubscribe).await.0 {
        Ok(r) if r.status_code == 200 => out.push(
            expect_status(
                ctx,
                "FILTER-018",
                "unsubscribe-all after subscribing",
                all(),
                200,
            )
            .await,
        ),
        other => out.push(Outcome::not_checkable(
            "FILTER-018",
            format!(
                "unsubscribe-all after subscribing: the subscribe before it got {:?}",
                other.map(|r| r.status_code)
            ),
        )),
    }
    out.extend(client_forms(ctx, &pubsub_topic, &topic).await);
    out
}

/// The refusals half of the suite, on a connection without subscriptions
/// (the runner runs it alongside [`run`], each on its own connection):
/// invalid criteria, hostile frames, a silent stream, a request of unknown
/// type, and the per-peer rate limit.
pub async fn refusals(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    use FilterSubscribeType::{Subscribe, SubscriberPing};
    let mut out = Vec::new();
    let pubsub_topic = ctx.pubsub_topic();
    let topic = ctx.content_topic("filter-refusals");
    let ping = || request(SubscriberPing, None, Vec::new());
    let criteria = |kind| request(kind, Some(pubsub_topic.clone()), vec![topic.clone()]);
    out.push(
        expect_status(
            ctx,
            "FILTER-009",
            "subscribe without content topics",
            request(Subscribe, Some(pubsub_topic.clone()), Vec::new()),
            400,
        )
        .await,
    );
    out.push(
        expect_status(
            ctx,
            "FILTER-009",
            "subscribe without pubsub topic",
            request(Subscribe, None, vec![topic.clone()]),
            400,
        )
        .await,
    );
    let too_many: Vec<String> = (0..=MAX_TOPICS_PER_REQUEST)
        .map(|i| ctx.content_topic(&format!("filter-cap-{i}")))
        .collect();
    out.push(
        expect_status(
            ctx,
            "FILTER-028",
            &format!("subscribe with {} content topics", too_many.len()),
            request(Subscribe, Some(pubsub_topic.clone()), too_many),
            400,
        )
        .await,
    );
    for survival in hostile_round(
        ctx,
        Proto::FilterSubscribe,
        |_| "FILTER-029",
        status_of,
        || waku_core::codec::encode_frame(&ping()),
    )
    .await
    {
        let (undecodable, limited, status) = (
            survival.input == Hostile::Undecodable,
            survival.rate_limited(),
            survival.status,
        );
        out.push(survival.outcome);
        if undecodable {
            out.push(if limited {
                Outcome::not_checkable("FILTER-006", "undecodable request frame: rate limited")
            } else {
                Outcome::judge(
                    "FILTER-006",
                    status.is_none_or(|s| !(200..300).contains(&s)),
                    format!("undecodable request frame: status {status:?}, not 2xx"),
                )
            });
        }
    }

    out.push(
        super::idle_tolerated(
            ctx,
            "FILTER-029",
            Proto::FilterSubscribe,
            status_of,
            waku_core::codec::encode_frame(&ping()),
        )
        .await,
    );
    let mut unknown = criteria(Subscribe);
    unknown.filter_subscribe_type = 9;
    match send(ctx, &unknown).await.0 {
        Ok(r) => {
            out.push(Outcome::judge(
                "FILTER-006",
                !(200..300).contains(&r.status_code),
                format!(
                    "request of unknown type 9: answered {} {:?}, not 2xx",
                    r.status_code,
                    r.status_desc.unwrap_or_default()
                ),
            ));
            out.push(Outcome::judge(
                "FILTER-005",
                r.request_id == unknown.request_id,
                format!(
                    "request of unknown type 9: request_id {:?}, sent {:?}",
                    r.request_id, unknown.request_id
                ),
            ));
        }
        Err(e) => out.push(Outcome::fail(
            "FILTER-005",
            format!("request of unknown type 9: {e}"),
        )),
    }
    let burst = || waku_core::codec::encode_frame(&ping());
    out.push(rate_limit::judge(ctx, "FILTER-032", Proto::FilterSubscribe, burst, status_of).await);
    out
}

async fn pushes(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    let unsubscribed = message(&ctx.content_topic("filter-other"), b"not subscribed", 0);
    let subscribed = message(topic, b"subscribed", 0);
    let wanted = hash_of(pubsub_topic, &subscribed);
    for m in [unsubscribed, subscribed] {
        match publish_via_target(ctx, m).await {
            Ok(true) => {}
            Ok(false) => {
                out.push(Outcome::not_checkable(
                    "FILTER-010",
                    "lightpush refused the message to push",
                ));
                return out;
            }
            Err(e) => {
                out.push(Outcome::not_checkable(
                    "FILTER-010",
                    format!("lightpush: {e}"),
                ));
                return out;
            }
        }
    }
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + ctx.wait();
    while let Some(push) = ctx
        .session
        .next_push(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        received.push(push);
        let seen = received.iter().any(|p| {
            MessagePush::decode(p.0.as_slice()).ok().and_then(|m| {
                let topic = m.pubsub_topic?;
                hash_of(&topic, &m.waku_message?)
            }) == wanted
        });
        if seen {
            // Give a wrongly pushed message a moment to arrive too.
            while let Some(more) = ctx
                .session
                .next_push(std::time::Duration::from_millis(300))
                .await
            {
                received.push(more);
            }
            break;
        }
    }
    let decoded: Vec<Result<MessagePush, String>> = received
        .iter()
        .map(|p| MessagePush::decode(p.0.as_slice()).map_err(|e| e.to_string()))
        .collect();
    let topics: Vec<String> = decoded
        .iter()
        .map(|d| match d {
            Ok(p) => p
                .waku_message
                .as_ref()
                .map(|m| m.content_topic.clone())
                .unwrap_or_default(),
            Err(e) => format!("undecodable: {e}"),
        })
        .collect();
    let only_matching = decoded.iter().all(|d| {
        d.as_ref().is_ok_and(|p| {
            p.waku_message
                .as_ref()
                .is_some_and(|m| m.content_topic == topic)
        })
    });
    out.push(Outcome::judge(
        "FILTER-010",
        !decoded.is_empty() && only_matching,
        format!("pushed {topics:?} after publishing one subscribed and one other content topic"),
    ));
    out.push(Outcome::judge(
        "FILTER-024",
        !decoded.is_empty()
            && decoded
                .iter()
                .all(|d| d.as_ref().is_ok_and(|p| p.waku_message.is_some())),
        format!("{} pushes, each with one message", decoded.len()),
    ));
    out.push(Outcome::judge(
        "FILTER-025",
        !decoded.is_empty()
            && decoded.iter().all(|d| {
                d.as_ref()
                    .is_ok_and(|p| p.pubsub_topic.as_deref() == Some(pubsub_topic))
            }),
        format!("pushes name pubsub topic {pubsub_topic}"),
    ));
    if decoded.is_empty() {
        out.push(Outcome::fail(
            "FILTER-012",
            format!("no push within {:?} of a matching message", ctx.wait()),
        ));
    }
    out
}

/// The forms light clients such as js-waku send beyond the basic requests:
/// a stream opened and left silent, a ping carrying an empty pubsub topic,
/// an UNSUBSCRIBE whose answer is never read, an UNSUBSCRIBE_ALL carrying
/// a pubsub topic, and a request of an unknown type.
async fn client_forms(ctx: &mut Ctx<'_>, pubsub_topic: &str, topic: &str) -> Vec<Outcome> {
    use FilterSubscribeType::{Subscribe, SubscriberPing, Unsubscribe};
    let mut out = Vec::new();
    let ping = || request(SubscriberPing, None, Vec::new());
    let criteria = |kind| request(kind, Some(pubsub_topic.to_owned()), vec![topic.to_owned()]);
    let subscribed = send(ctx, &criteria(Subscribe)).await.0;
    if subscribed.as_ref().map(|r| r.status_code) != Ok(200) {
        let why = format!(
            "needs a subscription: the subscribe got {:?}",
            subscribed.map(|r| r.status_code)
        );
        for id in ["FILTER-011", "FILTER-031", "FILTER-018"] {
            out.push(Outcome::not_checkable(id, why.clone()));
        }
    } else {
        out.push(
            expect_status(
                ctx,
                "FILTER-011",
                "ping with pubsub_topic \"\" (as js-waku sends it) while subscribed",
                request(SubscriberPing, Some(String::new()), Vec::new()),
                200,
            )
            .await,
        );
        let unsubscribe = waku_core::codec::encode_frame(&criteria(Unsubscribe));
        out.push(
            match ctx.session.fire(Proto::FilterSubscribe, unsubscribe).await {
                Ok(()) => unsubscribed(ctx, ping).await,
                Err(e) => Outcome::not_checkable(
                    "FILTER-031",
                    format!("UNSUBSCRIBE without reading the answer: not sent ({e})"),
                ),
            },
        );
        out.push(unsubscribe_all_with_topic(ctx, criteria(Subscribe), pubsub_topic, ping).await);
    }
    out
}

/// FILTER-031: after an UNSUBSCRIBE whose answer was not read, pings are
/// answered 404 (within the run's wait: the target may still be working
/// on the unsubscribe when the first ping comes).
async fn unsubscribed(ctx: &mut Ctx<'_>, ping: impl Fn() -> FilterSubscribeRequest) -> Outcome {
    let what = "UNSUBSCRIBE of the only criterion, stream closed without reading the answer";
    let deadline = tokio::time::Instant::now() + ctx.wait();
    loop {
        match send(ctx, &ping()).await.0 {
            Ok(r) if r.status_code == 404 => {
                return Outcome::pass("FILTER-031", format!("{what}: a ping afterwards got 404"));
            }
            Ok(r) if r.status_code == 200 && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok(r) => {
                return Outcome::fail(
                    "FILTER-031",
                    format!(
                        "{what}: a ping {:?} later still got {} {:?} (expected 404)",
                        ctx.wait(),
                        r.status_code,
                        r.status_desc.unwrap_or_default()
                    ),
                );
            }
            Err(e) => return Outcome::fail("FILTER-031", format!("{what}: the ping after: {e}")),
        }
    }
}

/// FILTER-018: an UNSUBSCRIBE_ALL carrying a pubsub topic (as js-waku
/// sends it) is answered 200 and removes the subscription.
async fn unsubscribe_all_with_topic(
    ctx: &mut Ctx<'_>,
    subscribe: FilterSubscribeRequest,
    pubsub_topic: &str,
    ping: impl Fn() -> FilterSubscribeRequest,
) -> Outcome {
    let what = format!("UNSUBSCRIBE_ALL with pubsub_topic {pubsub_topic} after subscribing");
    match send(ctx, &subscribe).await.0 {
        Ok(r) if r.status_code == 200 => {}
        other => {
            return Outcome::not_checkable(
                "FILTER-018",
                format!(
                    "{what}: the subscribe got {:?}",
                    other.map(|r| r.status_code)
                ),
            );
        }
    }
    let all = request(
        FilterSubscribeType::UnsubscribeAll,
        Some(pubsub_topic.to_owned()),
        Vec::new(),
    );
    let answered = match send(ctx, &all).await.0 {
        Ok(r) => r.status_code,
        Err(e) => return Outcome::fail("FILTER-018", format!("{what}: {e}")),
    };
    let after = send(ctx, &ping()).await.0.map(|r| r.status_code);
    Outcome::judge(
        "FILTER-018",
        answered == 200 && after == Ok(404),
        format!(
            "{what}: answered {answered} (expected 200), a ping after got {after:?} (expected 404)"
        ),
    )
}

/// FILTER-028's criteria cap: subscribes of 100 content topics each until
/// [`MAX_CRITERIA`] are held, then one more criterion: refused with 503
/// (at the cap or below it, as the cap is configurable). Unsubscribes all
/// afterwards. The runner runs it on a connection of its own: a
/// subscriber of its own, with a request budget of its own.
pub async fn criteria_cap(ctx: &mut Ctx<'_>) -> Outcome {
    let pubsub_topic = ctx.pubsub_topic();
    let pubsub_topic = pubsub_topic.as_str();
    use FilterSubscribeType::{Subscribe, UnsubscribeAll};
    let mut held = 0;
    let mut refusal = None;
    while held <= MAX_CRITERIA {
        let count = if held == MAX_CRITERIA {
            1
        } else {
            MAX_TOPICS_PER_REQUEST
        };
        let topics: Vec<String> = (held..held + count)
            .map(|i| ctx.content_topic(&format!("filter-criteria-{i}")))
            .collect();
        match send(
            ctx,
            &request(Subscribe, Some(pubsub_topic.to_owned()), topics),
        )
        .await
        .0
        {
            Ok(r) if r.status_code == 200 => held += count,
            other => {
                refusal = Some(other);
                break;
            }
        }
    }
    let _ = send(ctx, &request(UnsubscribeAll, None, Vec::new())).await;
    match refusal {
        None => Outcome::not_checkable(
            "FILTER-028",
            format!("{held} criteria held by one subscriber, all taken: no cap at {MAX_CRITERIA}"),
        ),
        Some(Ok(r)) => Outcome::judge(
            "FILTER-028",
            r.status_code == 503,
            format!(
                "with {held} criteria held, more were answered {} {:?} (expected 503)",
                r.status_code,
                r.status_desc.unwrap_or_default()
            ),
        ),
        Some(Err(e)) => Outcome::fail(
            "FILTER-028",
            format!("with {held} criteria held, a subscribe for more: {e}"),
        ),
    }
}

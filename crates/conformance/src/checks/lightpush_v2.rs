//! 19/WAKU2-LIGHTPUSH, the legacy `/vac/waku/lightpush/2.0.0-beta1` that
//! go-waku and older clients speak: the PushRPC layout, success and
//! refusal answers, that an accepted message is relayed, one answer per
//! stream, and hostile frames.

use std::time::Duration;

use prost::Message;
use waku_core::proto::message::v1::WakuMessage;
use waku_lightpush::proto::{PushRequest, PushResponse, PushRpc};

use super::{
    Ctx, TOO_MANY_REQUESTS, decode, describe, hash_of, hostile_round, message, rate_limit,
    request_paced, stream_end,
};
use crate::report::Outcome;
use crate::session::Proto;
use crate::wire::StreamEnd;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "LIGHTPUSH2-001",
    "LIGHTPUSH2-005",
    "LIGHTPUSH2-002",
    "LIGHTPUSH2-003",
    "LIGHTPUSH2-004",
    "LIGHTPUSH2-006",
];

/// A legacy push frame.
fn request(request_id: &str, pubsub_topic: &str, message: Option<WakuMessage>) -> Vec<u8> {
    waku_core::codec::encode_frame(&PushRpc {
        request_id: request_id.to_owned(),
        request: Some(PushRequest {
            pubsub_topic: pubsub_topic.to_owned(),
            message,
        }),
        response: None,
    })
}

/// A legacy answer as a status: 200 for success, 429 for a refusal
/// naming a rate limit (the legacy protocol has no codes: go-waku says
/// "exceeds the rate limit", nwaku "TOO_MANY_REQUESTS"), 400 for any other
/// refusal, 0 for an RPC without a response.
fn status_of(body: &[u8]) -> Option<u32> {
    let names_a_limit = |info: &str| {
        let info = info.to_lowercase().replace('_', " ");
        info.contains("rate limit") || info.contains("too many requests")
    };
    PushRpc::decode(body).ok().map(|rpc| match rpc.response {
        Some(PushResponse {
            is_success: true, ..
        }) => 200,
        Some(PushResponse { info, .. }) if info.as_deref().is_some_and(names_a_limit) => {
            TOO_MANY_REQUESTS
        }
        Some(_) => 400,
        None => 0,
    })
}

/// Pushes `message` on the shard under test over the legacy protocol;
/// whether the target took it.
pub async fn push(ctx: &mut Ctx<'_>, message: WakuMessage) -> Result<bool, String> {
    let bytes = request(
        &waku_core::new_request_id(),
        &ctx.pubsub_topic(),
        Some(message),
    );
    let answer = request_paced(ctx, Proto::LightpushV2, bytes, status_of).await;
    let rpc: PushRpc = decode(&answer)?;
    Ok(rpc.response.is_some_and(|r| r.is_success))
}

/// Sends a request the service must refuse; judges LIGHTPUSH2-004.
async fn expect_refusal(
    ctx: &mut Ctx<'_>,
    what: &str,
    pubsub_topic: &str,
    message: Option<WakuMessage>,
) -> Outcome {
    let bytes = request(&waku_core::new_request_id(), pubsub_topic, message);
    let answer = request_paced(ctx, Proto::LightpushV2, bytes, status_of).await;
    match decode::<PushRpc>(&answer).map(|rpc| rpc.response) {
        Ok(Some(r)) => Outcome::judge(
            "LIGHTPUSH2-004",
            !r.is_success && r.info.as_deref().is_some_and(|i| !i.is_empty()),
            format!(
                "{what}: is_success {}, info {:?} (expected a refusal with a reason)",
                r.is_success,
                r.info.unwrap_or_default()
            ),
        ),
        Ok(None) => Outcome::fail("LIGHTPUSH2-004", format!("{what}: no response field")),
        Err(e) => Outcome::fail("LIGHTPUSH2-004", format!("{what}: {e}")),
    }
}

/// Runs the legacy lightpush checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let pubsub_topic = ctx.pubsub_topic();
    let topic = ctx.content_topic("lightpush-v2");
    let valid = message(&topic, b"conformance legacy lightpush", 0);
    let wanted = hash_of(&pubsub_topic, &valid);
    let request_id = waku_core::new_request_id();
    let bytes = request(&request_id, &pubsub_topic, Some(valid));
    let answer = request_paced(ctx, Proto::LightpushV2, bytes, status_of).await;
    let accepted = match decode::<PushRpc>(&answer) {
        Err(e) => {
            out.push(Outcome::fail("LIGHTPUSH2-001", format!("valid push: {e}")));
            return out;
        }
        Ok(rpc) => {
            out.push(Outcome::pass(
                "LIGHTPUSH2-001",
                format!("valid push answered on {}", Proto::LightpushV2.id()),
            ));
            out.push(Outcome::judge(
                "LIGHTPUSH2-002",
                rpc.response.is_some() && rpc.request.is_none(),
                format!(
                    "answer PushRPC: response {:?}, request set {}",
                    rpc.response,
                    rpc.request.is_some()
                ),
            ));
            out.push(Outcome::judge(
                "LIGHTPUSH2-006",
                rpc.request_id == request_id,
                format!("request_id {:?}, sent {request_id:?}", rpc.request_id),
            ));
            out.push(match stream_end(&answer) {
                Some(StreamEnd::Closed) => Outcome::pass(
                    "LIGHTPUSH2-006",
                    "one answer, then the write side was closed",
                ),
                Some(end) => Outcome::fail("LIGHTPUSH2-006", format!("after the answer: {end:?}")),
                None => Outcome::fail("LIGHTPUSH2-006", describe(&answer)),
            });
            rpc.response.is_some_and(|r| r.is_success)
        }
    };
    out.push(relayed(ctx, &pubsub_topic, accepted, wanted).await);
    out.push(expect_refusal(ctx, "request without a message", &pubsub_topic, None).await);
    let unserved = format!("/waku/2/rs/{}/1023", ctx.cluster);
    let other = message(&topic, b"unserved topic", 0);
    out.push(
        expect_refusal(
            ctx,
            &format!("pubsub topic {unserved}"),
            &unserved,
            Some(other),
        )
        .await,
    );
    let next = || request(&waku_core::new_request_id(), &pubsub_topic, None);
    out.extend(
        hostile_round(
            ctx,
            Proto::LightpushV2,
            |_| "LIGHTPUSH2-006",
            status_of,
            next,
        )
        .await
        .into_iter()
        .map(|s| s.outcome),
    );
    let burst = || {
        request(
            &waku_core::new_request_id(),
            &pubsub_topic,
            Some(message(&topic, b"burst", 0)),
        )
    };
    out.push(rate_limit::judge(ctx, "LIGHTPUSH2-005", Proto::LightpushV2, burst, status_of).await);
    out
}

/// LIGHTPUSH2-003: the accepted message reaches us over relay.
async fn relayed(
    ctx: &mut Ctx<'_>,
    pubsub_topic: &str,
    accepted: bool,
    wanted: Option<[u8; 32]>,
) -> Outcome {
    if !accepted {
        return Outcome::fail("LIGHTPUSH2-003", "a valid legacy push was not accepted");
    }
    if !ctx
        .session
        .target_relays(pubsub_topic, Duration::ZERO)
        .await
    {
        return Outcome::not_checkable(
            "LIGHTPUSH2-003",
            format!("the target does not relay {pubsub_topic} to us"),
        );
    }
    if super::relayed(ctx, wanted).await.is_some() {
        return Outcome::pass("LIGHTPUSH2-003", "the pushed message reached us over relay");
    }
    Outcome::fail(
        "LIGHTPUSH2-003",
        format!(
            "the accepted message did not reach us over relay within {:?}",
            ctx.wait()
        ),
    )
}

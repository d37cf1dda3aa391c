//! WAKU-LIGHTPUSH v3: status codes for valid, invalid, oversized and
//! misdirected pushes, the response layout, one answer per stream, and
//! hostile frames.

use std::time::Duration;

use prost::Message;
use waku_core::proto::message::v1::WakuMessage;
use waku_lightpush::proto::{LightPushRequest, LightPushResponse};

use super::{Ctx, decode, describe, hostile_round, message, rate_limit, request_paced, stream_end};
use crate::report::Outcome;
use crate::session::Proto;
use crate::wire::Hostile;
use crate::wire::StreamEnd;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "LIGHTPUSH-001",
    "LIGHTPUSH-012",
    "LIGHTPUSH-014",
    "LIGHTPUSH-003",
    "LIGHTPUSH-005",
    "LIGHTPUSH-007",
    "LIGHTPUSH-008",
    "LIGHTPUSH-009",
    "LIGHTPUSH-010",
    "LIGHTPUSH-011",
    "LIGHTPUSH-015",
    "LIGHTPUSH-018",
];

/// The largest message 64/WAKU2-NETWORK allows (150 KiB).
pub const MAX_MESSAGE_SIZE: usize = 150 * 1024;

/// How long the target gets to take in the runner's relay subscription
/// before a valid push answered 505 is repeated.
const PEERS_SETTLE: Duration = Duration::from_secs(1);

/// A valid push on the shard under test, after [`PEERS_SETTLE`]; its
/// answer, if it decodes.
async fn pushed_again(ctx: &mut Ctx<'_>, topic: &str) -> Option<LightPushResponse> {
    ctx.session.settle(PEERS_SETTLE).await;
    let again = message(topic, b"conformance lightpush, again", 0);
    let bytes = request(
        &waku_core::new_request_id(),
        Some(ctx.pubsub_topic()),
        Some(again),
    );
    decode::<LightPushResponse>(&request_paced(ctx, Proto::Lightpush, bytes, status_of).await).ok()
}

/// LIGHTPUSH-014, asked before the runner joins the shard as a relay
/// peer: a valid push is answered 505 when the target has no relay peer
/// on the shard. A target with other relay peers answers 200: "not
/// checkable".
pub async fn without_relay_peers(ctx: &mut Ctx<'_>) -> Outcome {
    let what = "valid push before the runner joined the shard";
    let pushed = message(
        &ctx.content_topic("lightpush-no-peers"),
        b"conformance lightpush, no relay peers",
        0,
    );
    let bytes = request(
        &waku_core::new_request_id(),
        Some(ctx.pubsub_topic()),
        Some(pushed),
    );
    let answer = request_paced(ctx, Proto::Lightpush, bytes, status_of).await;
    match decode::<LightPushResponse>(&answer) {
        Ok(r) if r.status_code == 505 => Outcome::pass(
            "LIGHTPUSH-014",
            format!("{what}: 505 {:?}", r.status_desc.unwrap_or_default()),
        ),
        Ok(r) if (200..300).contains(&r.status_code) => Outcome::not_checkable(
            "LIGHTPUSH-014",
            format!(
                "{what}: {} with relay_peer_count {:?}: the target has other relay peers on the shard",
                r.status_code, r.relay_peer_count
            ),
        ),
        Ok(r) => Outcome::fail(
            "LIGHTPUSH-014",
            format!(
                "{what}: {} {:?} (expected 505, no peers to relay)",
                r.status_code,
                r.status_desc.unwrap_or_default()
            ),
        ),
        Err(e) => Outcome::fail("LIGHTPUSH-014", format!("{what}: {e}")),
    }
}

/// A lightpush request frame.
pub fn request(
    request_id: &str,
    pubsub_topic: Option<String>,
    message: Option<WakuMessage>,
) -> Vec<u8> {
    waku_core::codec::encode_frame(&LightPushRequest {
        request_id: request_id.to_owned(),
        pubsub_topic,
        message,
    })
}

/// The status of a lightpush answer frame.
pub fn status_of(body: &[u8]) -> Option<u32> {
    LightPushResponse::decode(body).ok().map(|r| r.status_code)
}

/// Pushes `message` on the shard under test; the target's answer.
pub async fn push(ctx: &mut Ctx<'_>, message: WakuMessage) -> Result<LightPushResponse, String> {
    let bytes = request(
        &waku_core::new_request_id(),
        Some(ctx.pubsub_topic()),
        Some(message),
    );
    decode(&request_paced(ctx, Proto::Lightpush, bytes, status_of).await)
}

/// Whether a lightpush answer accepted the message: 200, or 505 when the
/// target had no relay peer (it still takes the message itself).
pub fn accepted(response: &LightPushResponse) -> bool {
    matches!(response.status_code, 200..=299 | 505)
}

/// Sends one request and judges its status against `expected`.
async fn expect_status(
    ctx: &mut Ctx<'_>,
    id: &'static str,
    what: &str,
    pubsub_topic: Option<String>,
    message: Option<WakuMessage>,
    expected: u32,
) -> Outcome {
    let bytes = request(&waku_core::new_request_id(), pubsub_topic, message);
    let answer = request_paced(ctx, Proto::Lightpush, bytes, status_of).await;
    match decode::<LightPushResponse>(&answer) {
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

/// Runs the lightpush checks.
pub async fn run(ctx: &mut Ctx<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let topic = ctx.content_topic("lightpush");
    let valid = message(&topic, b"conformance lightpush", 0);
    let request_id = waku_core::new_request_id();
    let bytes = request(&request_id, Some(ctx.pubsub_topic()), Some(valid.clone()));
    let answer = request_paced(ctx, Proto::Lightpush, bytes, status_of).await;
    match decode::<LightPushResponse>(&answer) {
        Err(e) => out.push(Outcome::fail("LIGHTPUSH-001", format!("valid push: {e}"))),
        Ok(r) => {
            out.push(Outcome::pass(
                "LIGHTPUSH-001",
                format!(
                    "valid push answered {} on {}",
                    r.status_code,
                    Proto::Lightpush.id()
                ),
            ));
            out.push(Outcome::judge(
                "LIGHTPUSH-003",
                r.request_id == request_id,
                format!(
                    "response request_id {:?}, sent {request_id:?}",
                    r.request_id
                ),
            ));
            match r.status_code {
                200 => out.push(Outcome::judge(
                    "LIGHTPUSH-007",
                    r.relay_peer_count.is_some(),
                    format!(
                        "valid push: 200 with relay_peer_count {:?}",
                        r.relay_peer_count
                    ),
                )),
                // The target may not have taken in the runner's relay
                // subscription yet: once more, a moment later.
                505 => out.push(match pushed_again(ctx, &topic).await {
                    Some(again) if again.status_code == 200 => Outcome::judge(
                        "LIGHTPUSH-007",
                        again.relay_peer_count.is_some(),
                        format!(
                            "valid push: 505, then {PEERS_SETTLE:?} later 200 with relay_peer_count {:?}",
                            again.relay_peer_count
                        ),
                    ),
                    _ => Outcome::not_checkable(
                        "LIGHTPUSH-007",
                        format!(
                            "the target reports no relay peer on the shard (505 {:?}), so no 200 to check",
                            r.status_desc.unwrap_or_default()
                        ),
                    ),
                }),
                code => out.push(Outcome::fail(
                    "LIGHTPUSH-007",
                    format!(
                        "valid push on {} answered {code} {:?}",
                        ctx.pubsub_topic(),
                        r.status_desc.unwrap_or_default()
                    ),
                )),
            }
            out.push(match stream_end(&answer) {
                Some(StreamEnd::Closed) => Outcome::pass(
                    "LIGHTPUSH-018",
                    "one response, then the write side was closed",
                ),
                Some(end) => Outcome::fail("LIGHTPUSH-018", format!("after the response: {end:?}")),
                None => Outcome::fail("LIGHTPUSH-018", describe(&answer)),
            });
        }
    }
    out.push(
        expect_status(
            ctx,
            "LIGHTPUSH-009",
            "request without a message",
            Some(ctx.pubsub_topic()),
            None,
            400,
        )
        .await,
    );
    let other = message(&topic, b"blank topic", 0);
    out.push(
        expect_status(
            ctx,
            "LIGHTPUSH-009",
            "blank pubsub topic",
            Some(String::new()),
            Some(other),
            400,
        )
        .await,
    );
    let unserved = format!("/waku/2/rs/{}/1023", ctx.cluster);
    let other = message(&topic, b"unserved topic", 0);
    out.push(
        expect_status(
            ctx,
            "LIGHTPUSH-011",
            &format!("pubsub topic {unserved}"),
            Some(unserved.clone()),
            Some(other),
            421,
        )
        .await,
    );
    let big = message(&topic, &vec![0x5a; MAX_MESSAGE_SIZE + 1], 0);
    out.push(
        expect_status(
            ctx,
            "LIGHTPUSH-010",
            "message of 150 KiB + 1 payload bytes",
            Some(ctx.pubsub_topic()),
            Some(big),
            413,
        )
        .await,
    );
    let mut long_meta = message(&topic, b"long meta", 0);
    long_meta.meta = Some(vec![7u8; waku_core::MAX_META_SIZE + 1].into());
    out.push(
        expect_status(
            ctx,
            "LIGHTPUSH-015",
            "meta of 65 bytes",
            Some(ctx.pubsub_topic()),
            Some(long_meta),
            420,
        )
        .await,
    );
    let next = || {
        request(
            &waku_core::new_request_id(),
            Some(String::new()),
            Some(message(&topic, b"after hostile", 0)),
        )
    };
    for survival in hostile_round(ctx, Proto::Lightpush, |_| "LIGHTPUSH-018", status_of, next).await
    {
        let status = survival.status;
        let expected = match survival.input {
            Hostile::Undecodable => Some(("LIGHTPUSH-009", 400)),
            Hostile::OversizePrefix => Some(("LIGHTPUSH-010", 413)),
            Hostile::Truncated | Hostile::Empty => None,
        };
        out.push(survival.outcome);
        if let Some((id, code)) = expected {
            out.push(Outcome::judge(
                id,
                status == Some(code),
                format!(
                    "{}: status {status:?} (expected {code})",
                    survival.input.describe()
                ),
            ));
        }
    }
    out.extend(client_forms(ctx, &topic).await);
    let pubsub_topic = ctx.pubsub_topic();
    let burst = || {
        request(
            &waku_core::new_request_id(),
            Some(pubsub_topic.clone()),
            Some(message(&topic, b"burst", 0)),
        )
    };
    out.push(rate_limit::judge(ctx, "LIGHTPUSH-012", Proto::Lightpush, burst, status_of).await);
    out
}

/// A stream opened and left silent (LIGHTPUSH-018), an error answer's
/// fields (LIGHTPUSH-008) and a push without a pubsub topic
/// (LIGHTPUSH-005).
async fn client_forms(ctx: &mut Ctx<'_>, topic: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    let blank = request(
        &waku_core::new_request_id(),
        Some(String::new()),
        Some(message(topic, b"after idle", 0)),
    );
    out.push(super::idle_tolerated(ctx, "LIGHTPUSH-018", Proto::Lightpush, status_of, blank).await);
    let bytes = request(&waku_core::new_request_id(), Some(ctx.pubsub_topic()), None);
    let answer = request_paced(ctx, Proto::Lightpush, bytes, status_of).await;
    out.push(match decode::<LightPushResponse>(&answer) {
        Ok(r) if (200..300).contains(&r.status_code) => Outcome::not_checkable(
            "LIGHTPUSH-008",
            format!(
                "request without a message: answered {}, no error",
                r.status_code
            ),
        ),
        Ok(r) => Outcome::judge(
            "LIGHTPUSH-008",
            r.relay_peer_count.is_none(),
            format!(
                "request without a message: answered {} with relay_peer_count {:?}",
                r.status_code, r.relay_peer_count
            ),
        ),
        Err(e) => {
            Outcome::not_checkable("LIGHTPUSH-008", format!("request without a message: {e}"))
        }
    });
    out.push(autosharded(ctx, topic).await);
    out
}

/// LIGHTPUSH-005: a push without a pubsub topic is answered 2xx and
/// relayed on the shard its content topic maps to. The runner's content
/// topics map to the shard under test when the run was told the network's
/// shard count (`--autoshard`); without it a message not seen there may
/// have gone to another shard.
async fn autosharded(ctx: &mut Ctx<'_>, topic: &str) -> Outcome {
    const ID: &str = "LIGHTPUSH-005";
    let pubsub_topic = ctx.pubsub_topic();
    let pushed = message(topic, b"conformance lightpush without pubsub topic", 0);
    let wanted = super::hash_of(&pubsub_topic, &pushed);
    let bytes = request(&waku_core::new_request_id(), None, Some(pushed));
    let answer = request_paced(ctx, Proto::Lightpush, bytes, status_of).await;
    let what = "push without pubsub topic";
    let r = match decode::<LightPushResponse>(&answer) {
        Ok(r) => r,
        Err(e) => return Outcome::fail(ID, format!("{what}: {e}")),
    };
    match r.status_code {
        200..=299 => {}
        505 => {
            return Outcome::not_checkable(
                ID,
                format!("{what}: 505, the target has no relay peer on the shard"),
            );
        }
        code => {
            return Outcome::fail(
                ID,
                format!(
                    "{what}: answered {code} {:?}",
                    r.status_desc.unwrap_or_default()
                ),
            );
        }
    }
    if !ctx
        .session
        .target_relays(&pubsub_topic, std::time::Duration::ZERO)
        .await
    {
        return Outcome::not_checkable(
            ID,
            format!(
                "{what}: answered {}, but the target does not relay {pubsub_topic} to us",
                r.status_code
            ),
        );
    }
    if super::relayed(ctx, wanted).await.is_some() {
        return Outcome::pass(
            ID,
            format!(
                "{what}: answered {}, relayed on {pubsub_topic}, the autoshard of {topic}",
                r.status_code
            ),
        );
    }
    let evidence = format!(
        "{what}: answered {}, not relayed on {pubsub_topic} within {:?}",
        r.status_code,
        ctx.wait()
    );
    if ctx.options.autoshard.is_some() {
        Outcome::fail(ID, evidence)
    } else {
        Outcome::not_checkable(
            ID,
            format!("{evidence} (it may map to another shard: give --autoshard)"),
        )
    }
}

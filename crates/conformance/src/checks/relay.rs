//! 11/WAKU2-RELAY and 64/WAKU2-NETWORK, as a gossipsub peer of the target:
//! its subscription announcement, the fields of the messages it relays to
//! us, whether it takes a valid message and drops an oversize one (seen
//! through its store, else its filter), and what it forwards from one
//! gossipsub peer of ours to another ([`forwarding`]).

use std::time::Duration;

use prost::Message;
use waku_core::proto::message::v1::WakuMessage;
use waku_store::proto::{StoreQueryRequest, StoreQueryResponse};

use super::{
    Ctx, can_publish, decode, filter, hash_of, lightpush, message, publish_via_target,
    request_paced, store,
};
use crate::report::Outcome;
use crate::session::Proto;

pub mod forwarding;

/// Every requirement id this suite can decide.
pub const IDS: &[&str] = &[
    "RELAY-001",
    "RELAY-003",
    "RELAY-004",
    "RELAY-005",
    "RELAY-006",
    "RELAY-011",
    "NET-018",
    "NET-020",
    "NET-021",
    "NET-025",
    "NET-027",
    "RELAY-012",
];

/// How long the target has to announce its subscription.
pub const SUBSCRIPTION_WAIT: Duration = Duration::from_secs(3);

/// Whether the target's store holds `hash` (a hash lookup).
async fn stored(ctx: &mut Ctx<'_>, hash: &[u8; 32]) -> Result<bool, String> {
    let request = StoreQueryRequest {
        request_id: waku_core::new_request_id(),
        message_hashes: vec![hash.to_vec()],
        ..StoreQueryRequest::default()
    };
    let bytes = waku_core::codec::encode_frame(&request);
    let answer = request_paced(ctx, Proto::Store, bytes, store::status_of).await;
    let response: StoreQueryResponse = decode(&answer)?;
    Ok(response
        .messages
        .iter()
        .any(|e| e.message_hash.as_deref() == Some(hash.as_slice())))
}

/// Runs the relay checks; `announced` says whether the target announced
/// the shard's topic over gossipsub.
pub async fn run(ctx: &mut Ctx<'_>, announced: bool) -> Vec<Outcome> {
    let mut out = Vec::new();
    let pubsub_topic = ctx.pubsub_topic();
    if !announced {
        out.push(Outcome::fail(
            "RELAY-011",
            format!("no gossipsub subscription to {pubsub_topic} within {SUBSCRIPTION_WAIT:?}"),
        ));
        return out;
    }
    out.push(Outcome::pass(
        "RELAY-001",
        format!("gossipsub negotiated on {}", waku_core::protocol_id::RELAY),
    ));
    out.push(Outcome::pass(
        "RELAY-011",
        format!("the target announced a subscription to {pubsub_topic}"),
    ));
    out.extend(from_target(ctx, &pubsub_topic).await);
    if ctx.options.rest.is_some() {
        out.extend(super::rest_publish::run(ctx, &pubsub_topic).await);
    }
    out.extend(to_target(ctx, &pubsub_topic).await);
    // Boxed: it holds sessions of its own.
    out.extend(Box::pin(forwarding::run(ctx, &pubsub_topic)).await);
    out
}

/// What the target relays to us: a message it publishes for our lightpush,
/// else (a relay-only target, such as a js-waku relay node) the first
/// message it relays on the shard of its own accord within the run's wait.
async fn from_target(ctx: &mut Ctx<'_>, pubsub_topic: &str) -> Vec<Outcome> {
    if !can_publish(ctx) {
        return spontaneous(ctx, pubsub_topic).await;
    }
    let mut out = Vec::new();
    let sent = message(&ctx.content_topic("relay-out"), b"relayed by the target", 0);
    let wanted = hash_of(pubsub_topic, &sent);
    match publish_via_target(ctx, sent).await {
        Ok(true) => {}
        Ok(false) => {
            out.push(Outcome::not_checkable(
                "RELAY-004",
                "the target refused the message to publish",
            ));
            return out;
        }
        Err(e) => {
            out.push(Outcome::not_checkable(
                "RELAY-004",
                format!("lightpush: {e}"),
            ));
            return out;
        }
    }
    let Some(m) = super::relayed(ctx, wanted).await else {
        out.push(Outcome::fail(
            "RELAY-004",
            format!(
                "a message lightpushed to the target was not relayed to us within {:?}",
                ctx.wait()
            ),
        ));
        return out;
    };
    out.push(Outcome::pass(
        "RELAY-004",
        format!(
            "relayed data ({} bytes) decodes as the WakuMessage pushed",
            m.data.len()
        ),
    ));
    out.extend(judge_fields(&m, pubsub_topic));
    out
}

/// RELAY-003/004/005/006 on the first message a target without lightpush
/// relays to us on the shard (a node publishing, or relaying its network's
/// traffic); "not checkable" when none comes within the run's wait.
async fn spontaneous(ctx: &mut Ctx<'_>, pubsub_topic: &str) -> Vec<Outcome> {
    let wait = ctx.wait();
    let Some(m) = ctx.session.next_relayed(wait).await else {
        return ["RELAY-003", "RELAY-004", "RELAY-005", "RELAY-006"]
            .into_iter()
            .map(|id| {
                Outcome::not_checkable(
                    id,
                    format!(
                        "needs the target to publish: it serves no lightpush (v3 or v2) to ask \
                         it, and relayed nothing of its own within {wait:?}"
                    ),
                )
            })
            .collect();
    };
    let mut out = vec![match WakuMessage::decode(m.data.as_slice()) {
        Ok(decoded) => Outcome::judge(
            "RELAY-004",
            waku_core::WakuMessage::try_from(decoded.clone()).is_ok(),
            format!(
                "data of a message the target relayed on its own ({} bytes) decodes as a \
                 WakuMessage on {}",
                m.data.len(),
                decoded.content_topic
            ),
        ),
        Err(e) => Outcome::fail(
            "RELAY-004",
            format!(
                "data of a message the target relayed ({} bytes) is no WakuMessage: {e}",
                m.data.len()
            ),
        ),
    }];
    out.extend(judge_fields(&m, pubsub_topic));
    out
}

/// RELAY-006 (topic), RELAY-003 (no `from`) and RELAY-005 (no `seqno`) of a
/// message the target relayed.
pub(crate) fn judge_fields(m: &libp2p::gossipsub::Message, pubsub_topic: &str) -> Vec<Outcome> {
    vec![
        Outcome::judge(
            "RELAY-006",
            m.topic.as_str() == pubsub_topic,
            format!("gossipsub topic {}", m.topic),
        ),
        Outcome::judge(
            "RELAY-003",
            m.source.is_none(),
            format!("from = {:?}", m.source),
        ),
        Outcome::judge(
            "RELAY-005",
            m.sequence_number.is_none(),
            format!("seqno = {:?}", m.sequence_number),
        ),
    ]
}

/// How the runner sees what the target accepted: a hash lookup in its
/// store, or the pushes of a filter subscription.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Observer {
    Store,
    Filter,
}

impl Observer {
    fn name(self) -> &'static str {
        match self {
            Observer::Store => "found in the target's store",
            Observer::Filter => "pushed by the target's filter",
        }
    }
}

/// Whether the target accepted the message of `hash`, as `observer` sees
/// it within the run's wait. Filter pushes of other messages read
/// meanwhile are kept in `seen`.
async fn accepted(
    ctx: &mut Ctx<'_>,
    observer: Observer,
    hash: &[u8; 32],
    seen: &mut Vec<[u8; 32]>,
) -> Result<bool, String> {
    let deadline = tokio::time::Instant::now() + ctx.wait();
    loop {
        match observer {
            Observer::Store => {
                if stored(ctx, hash).await? {
                    return Ok(true);
                }
                if tokio::time::Instant::now() > deadline {
                    return Ok(false);
                }
                ctx.session.settle(Duration::from_millis(100)).await;
            }
            Observer::Filter => {
                if seen.contains(hash) {
                    return Ok(true);
                }
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let Some(push) = ctx.session.next_push(left).await else {
                    return Ok(false);
                };
                if let Some(h) = filter::pushed(&push).and_then(|(t, m)| hash_of(&t, &m)) {
                    seen.push(h);
                }
            }
        }
    }
}

/// What the target does with what we relay: a valid message is taken, an
/// oversize one is not (seen through its store, else its filter).
async fn to_target(ctx: &mut Ctx<'_>, pubsub_topic: &str) -> Vec<Outcome> {
    let mut out = Vec::new();
    let topic = ctx.content_topic("relay-in");
    let observer = if ctx.serves(Proto::Store) {
        Observer::Store
    } else if ctx.serves(Proto::FilterSubscribe) {
        match filter::subscribe(ctx, pubsub_topic, &topic).await {
            Ok(200) => Observer::Filter,
            other => {
                for id in ["NET-018", "NET-020"] {
                    out.push(Outcome::not_checkable(
                        id,
                        format!("filter subscription to watch the target failed: {other:?}"),
                    ));
                }
                return out;
            }
        }
    } else {
        for id in ["NET-018", "NET-020"] {
            out.push(Outcome::not_checkable(
                id,
                "needs a way to see what the target accepted: it serves no store or filter",
            ));
        }
        return out;
    };
    let mut seen = Vec::new();
    let valid = message(&topic, b"valid relay message", 0);
    let Some(valid_hash) = hash_of(pubsub_topic, &valid) else {
        return out;
    };
    if let Err(e) = ctx
        .session
        .relay_publish(pubsub_topic, valid.encode_to_vec())
    {
        out.push(Outcome::not_checkable("NET-020", format!("publish: {e}")));
        return out;
    }
    match accepted(ctx, observer, &valid_hash, &mut seen).await {
        Ok(true) => out.push(Outcome::pass(
            "NET-020",
            format!(
                "a valid message we relayed was accepted ({})",
                observer.name()
            ),
        )),
        Ok(false) => {
            out.push(Outcome::fail(
                "NET-020",
                format!(
                    "a valid message we relayed was not accepted: not {} within {:?}",
                    observer.name(),
                    ctx.wait()
                ),
            ));
            return out;
        }
        Err(e) => {
            out.push(Outcome::not_checkable("NET-020", e));
            return out;
        }
    }
    let oversize = message(&topic, &vec![0x33; lightpush::MAX_MESSAGE_SIZE + 1], 0);
    let marker = message(&topic, b"after the oversize message", 1_000_000);
    let (Some(oversize_hash), Some(marker_hash)) = (
        hash_of(pubsub_topic, &oversize),
        hash_of(pubsub_topic, &marker),
    ) else {
        return out;
    };
    // Apart, so the marker does not share a gossipsub frame with the
    // oversize message (a target may drop the whole frame).
    let mut published = ctx
        .session
        .relay_publish(pubsub_topic, oversize.encode_to_vec());
    if published.is_ok() {
        ctx.session.settle(Duration::from_millis(300)).await;
        published = ctx
            .session
            .relay_publish(pubsub_topic, marker.encode_to_vec());
    }
    if let Err(e) = published {
        out.push(Outcome::not_checkable("NET-018", format!("publish: {e}")));
        return out;
    }
    let marker_seen = accepted(ctx, observer, &marker_hash, &mut seen).await;
    let oversize_seen = match observer {
        Observer::Store => stored(ctx, &oversize_hash).await,
        Observer::Filter => {
            // Pushes in flight behind the marker get a moment to arrive.
            while let Some(push) = ctx.session.next_push(Duration::from_millis(300)).await {
                if let Some(h) = filter::pushed(&push).and_then(|(t, m)| hash_of(&t, &m)) {
                    seen.push(h);
                }
            }
            Ok(seen.contains(&oversize_hash))
        }
    };
    out.push(match (marker_seen, oversize_seen) {
        (Ok(true), Ok(false)) => Outcome::pass(
            "NET-018",
            format!(
                "a 150 KiB + 1 payload message was not accepted; the valid one relayed after it was ({})",
                observer.name()
            ),
        ),
        (Ok(true), Ok(true)) => Outcome::fail(
            "NET-018",
            format!(
                "a message over 150 KiB we relayed was accepted ({})",
                observer.name()
            ),
        ),
        (Ok(false), _) => Outcome::not_checkable(
            "NET-018",
            "the valid message relayed after the oversize one was not accepted either",
        ),
        (Err(e), _) | (_, Err(e)) => Outcome::not_checkable("NET-018", e),
    });
    out
}

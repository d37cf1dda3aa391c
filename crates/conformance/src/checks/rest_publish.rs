//! With `--rest`: the target publishes a message the runner hands to its
//! nwaku-style REST API (`POST /relay/v1/messages/{topic}`), and the
//! message must reach the runner over relay like any other it publishes:
//! data decoding to that WakuMessage, the shard as topic, no `from` and no
//! `seqno` (RELAY-003/004/005/006).

use waku_core::proto::message::v1::WakuMessage;

use super::{Ctx, hash_of, message};
use crate::report::Outcome;

/// The REST API's JSON form of `message` (payload in base64, timestamp in
/// nanoseconds).
fn json_of(message: &WakuMessage) -> String {
    serde_json::json!({
        "payload": data_encoding::BASE64.encode(&message.payload),
        "contentTopic": message.content_topic,
        "timestamp": message.timestamp,
    })
    .to_string()
}

/// Publishes through the REST API and judges what reaches the runner.
pub async fn run(ctx: &mut Ctx<'_>, pubsub_topic: &str) -> Vec<Outcome> {
    let Some(base) = ctx.options.rest.clone() else {
        return Vec::new();
    };
    let sent = message(&ctx.content_topic("rest-out"), b"published through REST", 0);
    let wanted = hash_of(pubsub_topic, &sent);
    let path = format!(
        "/relay/v1/messages/{}",
        crate::rest::path_segment(pubsub_topic)
    );
    match crate::rest::post_json(&base, &path, &json_of(&sent), ctx.wait()).await {
        Ok((200, _)) => {}
        Ok((status, body)) => {
            return vec![Outcome::not_checkable(
                "RELAY-004",
                format!(
                    "POST {path} answered {status} {:?}",
                    String::from_utf8_lossy(&body)
                ),
            )];
        }
        Err(e) => return vec![Outcome::not_checkable("RELAY-004", e)],
    }
    if let Some(m) = super::relayed(ctx, wanted).await {
        let mut out = vec![Outcome::pass(
            "RELAY-004",
            format!(
                "a message published with POST {path} reached us ({} bytes of data decoding to it)",
                m.data.len()
            ),
        )];
        out.extend(super::relay::judge_fields(&m, pubsub_topic));
        return out;
    }
    vec![Outcome::fail(
        "RELAY-004",
        format!(
            "a message published with POST {path} (answered 200) did not reach us within {:?}",
            ctx.wait()
        ),
    )]
}

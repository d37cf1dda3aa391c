//! The checks a request passes before its message is handed to the node.

use waku_core::proto::message::v1 as pb;
use waku_core::{Timestamp, ValidationError, WakuMessage};

use crate::StatusCode;
use crate::config::ServiceConfig;

/// A request that may be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Admitted {
    /// Where to publish (given, or derived from the content topic).
    pub pubsub_topic: String,
    /// The message.
    pub message: WakuMessage,
}

/// A request answered with an error without reaching the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The code.
    pub status: StatusCode,
    /// Why, for `status_desc`.
    pub description: String,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            status,
            description: description.into(),
        }
    }
}

/// Checks, in order: a message is present (400); its serialized size
/// (413); its structure, i.e. `meta` length (420); the pubsub topic, given
/// and not blank (400) or derived from the content topic with the
/// configured mapper (400 without a mapper or for an unmappable topic); that
/// the topic is served (421); the timestamp window (420).
pub(crate) fn admit(
    config: &ServiceConfig,
    pubsub_topic: Option<String>,
    message: Option<pb::WakuMessage>,
    now: Timestamp,
) -> Result<Admitted, Refusal> {
    use prost::Message as _;

    let wire = message.ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "no message"))?;
    let size = wire.encoded_len();
    if let Err(e) = config.validator.check_size(size) {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("message size exceeds maximum: {e}"),
        ));
    }
    let message = WakuMessage::try_from(wire)
        .map_err(|e| Refusal::new(StatusCode::INVALID_MESSAGE, e.to_string()))?;
    // With a pubsub topic, any content topic goes, as nwaku publishes it
    // (relay publishes free-form content topics too, and the upstream
    // interop suite pushes such); only a request that needs the content
    // topic to find its shard refuses one that does not parse (below).
    let pubsub_topic = match pubsub_topic {
        Some(topic) if topic.trim().is_empty() => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "pubsub topic must not be empty",
            ));
        }
        Some(topic) => topic,
        None => {
            let mapper = config.shard_mapper.as_ref().ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "pubsub topic required: this node does not autoshard",
                )
            })?;
            mapper
                .shard_for(&message.content_topic)
                .map_err(|e| {
                    Refusal::new(
                        StatusCode::BAD_REQUEST,
                        format!("invalid content topic: {e}"),
                    )
                })?
                .pubsub_topic()
        }
    };
    if !config.served_topics.serves(&pubsub_topic) {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_PUBSUB_TOPIC,
            format!("pubsub topic {pubsub_topic} is not served"),
        ));
    }
    config
        .validator
        .check_timestamp(&message, now)
        .map_err(|e: ValidationError| Refusal::new(StatusCode::INVALID_MESSAGE, e.to_string()))?;
    Ok(Admitted {
        pubsub_topic,
        message,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use waku_core::now_nanos;
    use waku_sharding::{AutoSharding, NetworkConfig};

    use super::*;
    use crate::ServedTopics;

    fn wire(content_topic: &str) -> pb::WakuMessage {
        WakuMessage {
            timestamp: Some(now_nanos()),
            ..WakuMessage::new(&b"hi"[..], content_topic)
        }
        .into()
    }

    #[test]
    fn malformed_content_topics_pass_with_a_pubsub_topic_and_fail_without() {
        let with_topic = ServiceConfig::default();
        let autosharded = ServiceConfig::default()
            .with_shard_mapper(std::sync::Arc::new(AutoSharding(NetworkConfig::TWN)));
        let now = now_nanos();
        for topic in ["invalid", "/app//x/y", "x/app/1/n/e", "Hello World!"] {
            assert!(
                admit(&with_topic, Some("t".into()), Some(wire(topic)), now).is_ok(),
                "{topic} refused with a pubsub topic"
            );
            let refusal = admit(&autosharded, None, Some(wire(topic)), now)
                .err()
                .unwrap_or_else(|| panic!("{topic} autosharded"));
            assert_eq!(refusal.status.0, 400, "{topic}");
        }
    }

    #[test]
    fn codes_in_order() {
        let config = ServiceConfig::default();
        let now = now_nanos();
        let code = |r: Result<Admitted, Refusal>| r.err().map(|e| e.status.0);
        assert_eq!(code(admit(&config, Some("t".into()), None, now)), Some(400));
        assert_eq!(
            code(admit(
                &config,
                Some(" ".into()),
                Some(wire("/a/1/b/c")),
                now
            )),
            Some(400)
        );
        assert_eq!(
            code(admit(&config, None, Some(wire("/a/1/b/c")), now)),
            Some(400)
        );
        let old = pb::WakuMessage {
            timestamp: Some(1),
            ..wire("/a/1/b/c")
        };
        assert_eq!(
            code(admit(&config, Some("t".into()), Some(old), now)),
            Some(420)
        );
        let served = ServiceConfig::default().with_served_topics(ServedTopics::only(["x"]));
        assert_eq!(
            code(admit(
                &served,
                Some("t".into()),
                Some(wire("/a/1/b/c")),
                now
            )),
            Some(421)
        );
        let auto =
            ServiceConfig::default().with_shard_mapper(Arc::new(AutoSharding(NetworkConfig::TWN)));
        let ok = admit(&auto, None, Some(wire("/app/1/chat/proto")), now).unwrap();
        assert_eq!(ok.pubsub_topic, "/waku/2/rs/1/4");
        assert_eq!(
            code(admit(&auto, None, Some(wire("nonsense")), now)),
            Some(400)
        );
    }
}

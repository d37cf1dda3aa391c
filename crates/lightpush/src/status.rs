//! Lightpush status codes and the failures the publish hook reports.

use std::fmt;

/// A lightpush v3 `status_code`.
///
/// The codes are nwaku's (the v3 text lists a subset). One divergence:
/// "no peers to relay" is [`StatusCode::NO_PEERS_TO_RELAY`] = 505, as nwaku
/// answers, while the v3 text gives 503 for it; we keep 503 for
/// [`StatusCode::SERVICE_UNAVAILABLE`] (the service cannot take the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(pub u32);

impl StatusCode {
    /// The message was published; `relay_peer_count` says to how many peers.
    pub const SUCCESS: Self = Self(200);
    /// The request could not be decoded or misses a field it needs.
    pub const BAD_REQUEST: Self = Self(400);
    /// The message is larger than the service accepts.
    pub const PAYLOAD_TOO_LARGE: Self = Self(413);
    /// The message breaks a validation rule (timestamp, `meta`, relay rules).
    pub const INVALID_MESSAGE: Self = Self(420);
    /// The service does not publish on that pubsub topic.
    pub const UNSUPPORTED_PUBSUB_TOPIC: Self = Self(421);
    /// The peer sent more requests than its rate allows.
    pub const TOO_MANY_REQUESTS: Self = Self(429);
    /// Something failed inside the service node.
    pub const INTERNAL_SERVER_ERROR: Self = Self(500);
    /// The service cannot take requests now (overloaded or not ready).
    pub const SERVICE_UNAVAILABLE: Self = Self(503);
    /// RLN is on and no proof could be attached to the message.
    pub const OUT_OF_RLN_PROOF: Self = Self(504);
    /// Relay has no peer to send the message to (nwaku's code; the v3 text
    /// says 503).
    pub const NO_PEERS_TO_RELAY: Self = Self(505);

    /// Whether the code is in the 2xx success range.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<StatusCode> for u32 {
    fn from(code: StatusCode) -> Self {
        code.0
    }
}

/// nwaku's legacy lightpush answer when relay reached no peer.
pub const NOT_PUBLISHED_TO_ANY_PEER: &str = "not_published_to_any_peer";

/// Why the node could not publish a message handed to it by
/// [`Event::PublishRequest`](crate::service::Event::PublishRequest); passed to
/// [`Service::publish_result`](crate::service::Behaviour::publish_result).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishFailure {
    /// Relay has no peer on the topic (answered 505, with nwaku's text:
    /// see [`PublishFailure::description`]).
    #[error("No peers for topic, skipping publish")]
    NoPeers,
    /// Relay's validation refused the message (answered 420).
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// The node does not relay on that pubsub topic (answered 421).
    #[error("unsupported pubsub topic")]
    UnsupportedPubsubTopic,
    /// The node cannot publish now (answered 503).
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// No RLN proof could be attached (answered 504).
    #[error("out of RLN proof: {0}")]
    OutOfRlnProof(String),
    /// Anything else that went wrong inside the node (answered 500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl PublishFailure {
    /// The text answered over `version`: nwaku's words, which differ for
    /// the legacy protocol's "no peers" (`not_published_to_any_peer`).
    pub fn description(&self, version: crate::Version) -> String {
        match (self, version) {
            (Self::NoPeers, crate::Version::V2) => NOT_PUBLISHED_TO_ANY_PEER.to_owned(),
            _ => self.to_string(),
        }
    }

    /// The status code this failure is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoPeers => StatusCode::NO_PEERS_TO_RELAY,
            Self::InvalidMessage(_) => StatusCode::INVALID_MESSAGE,
            Self::UnsupportedPubsubTopic => StatusCode::UNSUPPORTED_PUBSUB_TOPIC,
            Self::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::OutOfRlnProof(_) => StatusCode::OUT_OF_RLN_PROOF,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

//! Filter status codes and request kinds.

use std::fmt;

use crate::proto::FilterSubscribeType;

/// A filter `status_code`. Any code outside 2xx is an error (12/WAKU2-FILTER;
/// js-waku treats it so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(pub u32);

impl StatusCode {
    /// The request was honoured.
    pub const OK: Self = Self(200);
    /// The request is malformed or its criteria are invalid (no pubsub
    /// topic, no content topic, more content topics than allowed).
    pub const BAD_REQUEST: Self = Self(400);
    /// Nothing to ping or unsubscribe: the peer has no such subscription.
    pub const NOT_FOUND: Self = Self(404);
    /// The peer sent more requests than its rate allows.
    pub const TOO_MANY_REQUESTS: Self = Self(429);
    /// The service is full: too many subscribers, or too many criteria for
    /// this peer.
    pub const SERVICE_UNAVAILABLE: Self = Self(503);

    /// Whether the code is in the 2xx success range.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }

    /// The name nwaku gives the code (`"NOT_FOUND"` for 404), which starts
    /// its `status_desc` (`"NOT_FOUND: peer has no subscriptions"`); `None`
    /// for codes nwaku's filter does not answer with.
    pub(crate) fn name(self) -> Option<&'static str> {
        match self {
            Self::OK => Some("OK"),
            Self::BAD_REQUEST => Some("BAD_REQUEST"),
            Self::NOT_FOUND => Some("NOT_FOUND"),
            Self::TOO_MANY_REQUESTS => Some("TOO_MANY_REQUESTS"),
            Self::SERVICE_UNAVAILABLE => Some("SERVICE_UNAVAILABLE"),
            _ => None,
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The four filter-subscribe request types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// Does the service still hold subscriptions for us?
    Ping,
    /// Add (or refresh) criteria.
    Subscribe,
    /// Remove criteria.
    Unsubscribe,
    /// Remove every criterion.
    UnsubscribeAll,
}

impl RequestKind {
    /// The wire enum value.
    pub fn wire(self) -> FilterSubscribeType {
        match self {
            Self::Ping => FilterSubscribeType::SubscriberPing,
            Self::Subscribe => FilterSubscribeType::Subscribe,
            Self::Unsubscribe => FilterSubscribeType::Unsubscribe,
            Self::UnsubscribeAll => FilterSubscribeType::UnsubscribeAll,
        }
    }

    /// The kind of a wire value; `None` for values outside the enum.
    pub fn from_wire(value: i32) -> Option<Self> {
        match FilterSubscribeType::try_from(value).ok()? {
            FilterSubscribeType::SubscriberPing => Some(Self::Ping),
            FilterSubscribeType::Subscribe => Some(Self::Subscribe),
            FilterSubscribeType::Unsubscribe => Some(Self::Unsubscribe),
            FilterSubscribeType::UnsubscribeAll => Some(Self::UnsubscribeAll),
        }
    }
}

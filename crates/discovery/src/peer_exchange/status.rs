//! The status codes of a peer-exchange response.

use std::fmt;

/// A peer-exchange response status: HTTP-like codes, as nwaku writes them
/// in field 10 of the response (not in the 34/WAKU2-PEER-EXCHANGE text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(pub u32);

impl StatusCode {
    /// The request was answered (possibly with no peers).
    pub const SUCCESS: Self = Self(200);
    /// The request could not be read.
    pub const BAD_REQUEST: Self = Self(400);
    /// The response could not be read (reported by clients only).
    pub const BAD_RESPONSE: Self = Self(401);
    /// The requester is over its rate limit.
    pub const TOO_MANY_REQUESTS: Self = Self(429);
    /// The service cannot answer; also how nwaku reads an old-style answer
    /// with neither a status nor peers.
    pub const SERVICE_UNAVAILABLE: Self = Self(503);
    /// The service could not be reached (reported by clients only).
    pub const DIAL_FAILURE: Self = Self(599);

    /// Whether this is [`StatusCode::SUCCESS`].
    pub fn is_success(self) -> bool {
        self == Self::SUCCESS
    }

    /// nwaku's name for the code, if it has one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::SUCCESS => "SUCCESS",
            Self::BAD_REQUEST => "BAD_REQUEST",
            Self::BAD_RESPONSE => "BAD_RESPONSE",
            Self::TOO_MANY_REQUESTS => "TOO_MANY_REQUESTS",
            Self::SERVICE_UNAVAILABLE => "SERVICE_UNAVAILABLE",
            Self::DIAL_FAILURE => "DIAL_FAILURE",
            _ => return None,
        })
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} {name}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

//! The service side: serves `/vac/waku/lightpush/3.0.0` and the legacy
//! `/vac/waku/lightpush/2.0.0-beta1`, checks every request and hands the
//! admitted ones to the caller to publish.

mod behaviour;

pub use crate::config::ServiceConfig as Config;
pub use behaviour::{Behaviour, Event, LEGACY_TOO_MANY_REQUESTS, PublishId, UNKNOWN_REQUEST_ID};

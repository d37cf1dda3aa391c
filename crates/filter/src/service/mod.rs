//! The service side: serves `/vac/waku/filter-subscribe/2.0.0-beta1` and
//! pushes matching messages on `/vac/waku/filter-push/2.0.0-beta1`.

mod behaviour;
mod recent;

pub use crate::config::{DEFAULT_RATE_LIMIT, ServiceConfig as Config};
pub use behaviour::{
    Behaviour, Event, PushFailure, REDIAL_BACKOFF, RemovalReason, UNKNOWN_REQUEST_ID,
};

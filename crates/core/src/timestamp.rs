//! Waku timestamps: nanoseconds since the Unix epoch, as carried by
//! `WakuMessage.timestamp`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds since the Unix epoch (the unit of `WakuMessage.timestamp`).
pub type Timestamp = i64;

/// The node's clock as a Waku timestamp. A clock before 1970 reads as 0 and
/// a clock after the year 2262 saturates at `i64::MAX`.
pub fn now_nanos() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

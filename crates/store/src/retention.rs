//! Retention policies, as nwaku's `--store-message-retention-policy`:
//! `time:<seconds>`, `capacity:<count>`, `size:<N>MB` / `size:<N>GB`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use waku_core::{Timestamp, now_nanos};

use crate::message_store::{MessageStore, StoreError};

/// How often [`run_retention`] applies a policy by default.
pub const DEFAULT_RETENTION_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// How soon [`run_retention`] tries again after a failure.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(60);

/// What the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionPolicy {
    /// Messages whose timestamp is at most this old.
    Time(Duration),
    /// At most this many messages (the newest).
    Capacity(u64),
    /// At most this many bytes as the backend measures them (the newest
    /// messages). `MB` and `GB` are binary: 2^20 and 2^30 bytes.
    Size(u64),
}

/// Why a policy string is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid retention policy {0:?}: use time:<seconds>, capacity:<count> or size:<N>MB|GB")]
pub struct RetentionParseError(String);

impl FromStr for RetentionPolicy {
    type Err = RetentionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || RetentionParseError(s.to_owned());
        let (kind, value) = s.split_once(':').ok_or_else(err)?;
        match kind.trim().to_ascii_lowercase().as_str() {
            "time" => {
                let secs: u64 = value.trim().parse().map_err(|_| err())?;
                Ok(Self::Time(Duration::from_secs(secs)))
            }
            "capacity" => Ok(Self::Capacity(value.trim().parse().map_err(|_| err())?)),
            "size" => {
                let v = value.trim().to_ascii_lowercase();
                let (digits, unit) = if let Some(d) = v.strip_suffix("gb") {
                    (d, 1u64 << 30)
                } else if let Some(d) = v.strip_suffix("mb") {
                    (d, 1u64 << 20)
                } else {
                    return Err(err());
                };
                let n: u64 = digits.trim().parse().map_err(|_| err())?;
                n.checked_mul(unit).map(Self::Size).ok_or_else(err)
            }
            _ => Err(err()),
        }
    }
}

impl fmt::Display for RetentionPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Time(d) => write!(f, "time:{}", d.as_secs()),
            Self::Capacity(n) => write!(f, "capacity:{n}"),
            Self::Size(b) if b % (1 << 30) == 0 => write!(f, "size:{}GB", b >> 30),
            Self::Size(b) => write!(f, "size:{}MB", b >> 20),
        }
    }
}

impl RetentionPolicy {
    /// Applies the policy once, with our clock; returns how many messages
    /// were deleted.
    pub async fn apply(&self, store: &dyn MessageStore) -> Result<u64, StoreError> {
        self.apply_at(store, now_nanos()).await
    }

    /// Applies the policy once as if our clock read `now`.
    pub async fn apply_at(
        &self,
        store: &dyn MessageStore,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        match *self {
            Self::Time(keep) => {
                let keep = i64::try_from(keep.as_nanos()).unwrap_or(i64::MAX);
                store.delete_older_than(now.saturating_sub(keep)).await
            }
            Self::Capacity(max) => {
                let count = store.count().await?;
                if count <= max {
                    return Ok(0);
                }
                store.delete_oldest(count - max).await
            }
            Self::Size(max) => {
                let mut deleted = 0;
                loop {
                    let size = store.size_bytes().await?;
                    if size <= max {
                        return Ok(deleted);
                    }
                    let count = store.count().await?;
                    if count == 0 {
                        return Ok(deleted);
                    }
                    // Delete the share of messages that is over the limit
                    // (at least one), then measure again.
                    let over =
                        (u128::from(size - max) * u128::from(count)).div_ceil(u128::from(size));
                    let n = u64::try_from(over).unwrap_or(count).clamp(1, count);
                    let gone = store.delete_oldest(n).await?;
                    if gone == 0 {
                        return Ok(deleted);
                    }
                    deleted += gone;
                }
            }
        }
    }
}

/// Applies `policy` to `store` every `interval`, forever (first run right
/// away). Spawn it on the node's runtime; drop the task to stop it.
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use waku_store::{RetentionPolicy, DEFAULT_RETENTION_INTERVAL, open_store, run_retention};
/// let store = open_store("sqlite://store.sqlite3").await?;
/// let policy: RetentionPolicy = "time:172800".parse()?;
/// tokio::spawn(run_retention(store, policy, DEFAULT_RETENTION_INTERVAL));
/// # Ok(()) }
/// ```
pub async fn run_retention(
    store: Arc<dyn MessageStore>,
    policy: RetentionPolicy,
    interval: Duration,
) {
    loop {
        let pause = match policy.apply(store.as_ref()).await {
            Ok(n) => {
                tracing::debug!(%policy, deleted = n, "retention policy applied");
                interval
            }
            Err(e) => {
                tracing::warn!(%policy, error = %e, "retention policy failed");
                RETRY_AFTER_ERROR.min(interval)
            }
        };
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_like_nwaku() {
        assert_eq!(
            "time:3600".parse(),
            Ok(RetentionPolicy::Time(Duration::from_secs(3600)))
        );
        assert_eq!(
            "capacity:50000".parse(),
            Ok(RetentionPolicy::Capacity(50_000))
        );
        assert_eq!("size:30GB".parse(), Ok(RetentionPolicy::Size(30 << 30)));
        assert_eq!("size:512mb".parse(), Ok(RetentionPolicy::Size(512 << 20)));
        for bad in [
            "",
            "time",
            "time:x",
            "size:10",
            "size:10TB",
            "count:5",
            "capacity:-1",
        ] {
            assert!(bad.parse::<RetentionPolicy>().is_err(), "{bad}");
        }
        for s in ["time:60", "capacity:7", "size:2GB", "size:300MB"] {
            assert_eq!(
                s.parse::<RetentionPolicy>()
                    .map(|p| p.to_string())
                    .ok()
                    .as_deref(),
                Some(s)
            );
        }
    }
}

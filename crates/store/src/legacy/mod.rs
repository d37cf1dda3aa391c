//! The legacy store protocol ([`Behaviour`], [`Event`]) `/vac/waku/store/2.0.0-beta4`, served from the
//! same [`MessageStore`](crate::MessageStore) as v3 (Status clients still
//! use it).
//!
//! Differences from v3 kept for compatibility:
//! - the cursor is an `Index` (digest = sha256(content_topic || payload),
//!   sender time, pubsub topic); the service finds the entry it names among
//!   the messages of that pubsub topic and timestamp;
//! - `end_time` is inclusive, as in nwaku's legacy archive;
//! - within one timestamp, entries are ordered by the deterministic message
//!   hash shared with v3 (the legacy text orders them by digest);
//! - errors are the legacy enum: a bad request (unknown cursor, more than
//!   ten content topics) is `INVALID_CURSOR`, as nwaku answers, a backend
//!   failure `SERVICE_UNAVAILABLE`, the rate limit `TOO_MANY_REQUESTS`.

mod behaviour;
mod convert;
mod types;

pub use behaviour::{Behaviour, Event};
pub use convert::answer_query;
pub use types::{Cursor, Page, Query};

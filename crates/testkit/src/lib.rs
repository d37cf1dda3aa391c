//! Test and bench support shared by the Waku protocol crates (filter,
//! lightpush, metadata, store): a swarm running in its own tokio task
//! ([`actor`]) and request-response peers that write and read raw bytes,
//! standing in for foreign clients such as js-waku ([`raw`]), and lookups in
//! the copied js-waku vectors ([`vectors`]).
//!
//! Dev-only: used as a `[dev-dependencies]` entry, never published, not for
//! production code.
// Test support panics on broken setup by design, like the tests using it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod actor;
pub mod raw;
pub mod vectors;

pub use actor::{DEADLINE, Peer, swarm, swarm_with_identity, swarm_with_idle_timeout};
pub use raw::{Raw, RawCodec, RawRequest, raw};

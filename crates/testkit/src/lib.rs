#![doc = include_str!("../README.md")]
// Test support panics on broken setup by design, like the tests using it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod actor;
pub mod go_waku;
pub mod js_waku;
pub mod raw;
pub mod vectors;

pub use actor::{DEADLINE, Peer, swarm, swarm_with_identity, swarm_with_idle_timeout};
pub use raw::{Raw, RawCodec, RawRequest, raw};

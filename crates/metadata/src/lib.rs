#![doc = include_str!("../README.md")]

mod behaviour;
mod codec;
mod config;
mod event;
mod peer;
pub mod proto;

pub use behaviour::Behaviour;
pub use codec::{MAX_FRAME_SIZE, PROTOCOL};
pub use config::{Config, ShardSet};
pub use event::{Event, Origin, QueryError, RejectReason};
pub use peer::PeerMetadata;

#[cfg(test)]
mod wire_tests;

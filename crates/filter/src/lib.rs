#![doc = include_str!("../README.md")]

pub mod client;
mod codec;
mod config;
mod keep_alive;
pub mod proto;
pub mod service;
mod status;
mod subscriptions;

pub use codec::{PUSH_PROTOCOL, SUBSCRIBE_PROTOCOL};
pub use status::{RequestKind, StatusCode};
pub use waku_core::RateLimit;

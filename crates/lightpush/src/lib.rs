#![doc = include_str!("../README.md")]

pub mod client;
mod codec;
mod config;
pub mod proto;
mod served;
pub mod service;
mod status;
mod validate;

pub use codec::{PROTOCOL_V2, PROTOCOL_V3, Version};
pub use served::ServedTopics;
pub use status::{NOT_PUBLISHED_TO_ANY_PEER, PublishFailure, StatusCode};
pub use waku_core::RateLimit;

//! # waku-lightpush
//!
//! Lightpush for Waku v2: a light node hands a message to a service node,
//! which publishes it through relay and says how it went.
//!
//! - [`Service`]: serves `/vac/waku/lightpush/3.0.0` (WAKU-LIGHTPUSH v3) and
//!   the legacy `/vac/waku/lightpush/2.0.0-beta1` (19/WAKU2-LIGHTPUSH). It
//!   checks every request (rate, size, topic, timestamp) and hands the
//!   admitted ones to the node as [`ServiceEvent::PublishRequest`]; the node
//!   publishes (this crate does not depend on relay) and answers with
//!   [`Service::publish_result`].
//! - [`Client`]: pushes messages to a service node, v3 first with a fallback
//!   to v2, and reports [`ClientEvent`]s.
//! - [`rate_limit`]: nwaku's `--rate-limit` syntax and per-peer token
//!   buckets, re-exported from [`waku_core::rate_limit`] (which the store
//!   and filter services use too) so existing paths keep working.
//!
//! ```no_run
//! use std::sync::Arc;
//! use waku_lightpush::{PublishFailure, Service, ServiceConfig, ServiceEvent};
//! use waku_sharding::{AutoSharding, NetworkConfig};
//!
//! let mut service = Service::new(
//!     ServiceConfig::default().with_shard_mapper(Arc::new(AutoSharding(NetworkConfig::TWN))),
//! );
//! // In the node's event loop, on SwarmEvent::Behaviour(.. ServiceEvent ..):
//! # let event: ServiceEvent = todo!();
//! if let ServiceEvent::PublishRequest { id, pubsub_topic, message, .. } = event {
//!     // relay.publish(&pubsub_topic, message) -> number of peers reached
//! #   let _ = (pubsub_topic, message);
//!     let reached: u32 = 3;
//!     let result = if reached == 0 { Err(PublishFailure::NoPeers) } else { Ok(reached) };
//!     service.publish_result(id, result);
//! }
//! ```

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
pub use status::{PublishFailure, StatusCode};
pub use waku_core::RateLimit;

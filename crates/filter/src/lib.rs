//! # waku-filter
//!
//! 12/WAKU2-FILTER (version 2) for Waku v2: light nodes subscribe to content
//! topics at a service node, which pushes them every matching message.
//!
//! - [`Service`]: serves `/vac/waku/filter-subscribe/2.0.0-beta1` with
//!   nwaku's limits ([`ServiceConfig`]) and pushes on
//!   `/vac/waku/filter-push/2.0.0-beta1` over the subscriber's own
//!   connection. The crate does not depend on relay: the node feeds each
//!   relayed message to [`Service::push`].
//! - [`Client`]: subscribe, unsubscribe, unsubscribe-all, ping, and the
//!   pushed messages as [`ClientEvent::Message`] (only those matching our
//!   subscriptions at the pushing peer).
//!
//! ```no_run
//! use waku_core::WakuMessage;
//! use waku_filter::{Service, ServiceConfig};
//!
//! let mut filter = Service::new(ServiceConfig::default());
//! // In the node's event loop, for every message relay delivers:
//! let message = WakuMessage::new(&b"hi"[..], "/app/1/chat/proto");
//! let pushed = filter.push("/waku/2/rs/1/4", &message);
//! # let _ = pushed;
//! ```

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

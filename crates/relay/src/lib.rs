//! # waku-relay
//!
//! 11/WAKU2-RELAY for Waku v2: libp2p gossipsub configured the way nwaku,
//! go-waku and js-waku expect, with the message validation rules of
//! 64/WAKU2-NETWORK and a pluggable validator pipeline.
//!
//! - [`Behaviour`]: a `NetworkBehaviour` wrapping `gossipsub::Behaviour`. It
//!   negotiates only `/vac/waku/relay/2.0.0`, publishes StrictNoSign messages
//!   (no `from`, `seqno`, `signature` or `key`), identifies messages by the
//!   SHA-256 of their `data`, validates every received message before it is
//!   delivered or forwarded, and reports the outcome to gossipsub so rejected
//!   messages lower their sender's score.
//! - [`Config`]: message size and timestamp limits, nwaku's gossipsub
//!   ([`GossipsubParams`]) and scoring ([`ScoringConfig`]) parameters, and
//!   the validators to install.
//! - [`validation`]: the pipeline, the [`ShardValidator`] trait and the
//!   [`Verdict`] a validator returns.
//! - [`ProtectedShardValidator`] (nwaku's signed shards) and
//!   [`RateLimitValidator`] (64/WAKU2-NETWORK free bandwidth).
//! - [`Metrics`] / [`ValidationCounts`]: outcome counters.
//!
//! ## Topics that are not static shards
//!
//! Any pubsub topic string can be subscribed to and published on (for
//! example the legacy `/waku/2/default-waku/proto`). Such messages go through
//! the same built-in checks; validators are attached to topics by string
//! ([`ValidatorScope::Topic`]) or to all topics ([`ValidatorScope::AllTopics`]),
//! and [`MessageContext::shard`] is `None` for them. Restricting a node to its
//! cluster's shards is the node's decision, not this crate's.
//!
//! ## Example
//!
//! ```
//! use waku_core::{WakuMessage, now_nanos};
//! use waku_relay::{Behaviour, Config, RateLimitValidator, ValidatorScope};
//! use waku_sharding::RelayShard;
//!
//! let shard = RelayShard::new(1, 0);
//! let config = Config::default()
//!     .with_validator(ValidatorScope::AllTopics, RateLimitValidator::free_bandwidth());
//! let mut relay = Behaviour::new(config).unwrap();
//! relay.subscribe(&shard).unwrap();
//!
//! let mut message = WakuMessage::new(&b"hi"[..], "/my-app/1/chat/proto");
//! message.timestamp = Some(now_nanos());
//! // Not connected to anyone yet: nobody to publish to.
//! assert!(matches!(
//!     relay.publish(&shard, message),
//!     Err(waku_relay::PublishError::NoPeers(_))
//! ));
//! ```
//!
//! Put the relay into a `libp2p::Swarm` (alone or inside a derived
//! behaviour) and handle [`Event::Message`].

mod behaviour;
mod config;
mod counts;
#[cfg(feature = "metrics")]
mod metrics;
mod protected_shard;
mod rate_limit;
mod slow_peers;
mod topic;
pub mod validation;

pub use behaviour::{Behaviour, Event, PublishError, SubscribeError};
pub use config::{
    Config, ConfigError, GossipsubParams, MAX_IDS_PER_CONTROL, MAX_INBOUND_RPC_SIZE,
    RELAY_PROTOCOL_ID, RPC_OVERHEAD_MARGIN, ScoringConfig, message_id,
};
pub use counts::ValidationCounts;
#[cfg(feature = "metrics")]
pub use metrics::Metrics;
pub use protected_shard::{
    KeyError, PROTECTED_SHARD_WINDOW, ProtectedShardValidator, SigningKey, VerifyingKey,
    parse_public_key_hex, protected_shard_digest, sign_for_protected_shard,
};
pub use rate_limit::{FREE_BANDWIDTH_BYTES_PER_SEC, RateLimitValidator, RateUnit};
pub use topic::PubsubTopicName;
pub use validation::{MessageContext, Outcome, ShardValidator, ValidatorScope, Verdict, reason};

/// Re-export of the gossipsub crate this relay is built on (score
/// parameter types, `Event`, ...).
pub use libp2p::gossipsub;

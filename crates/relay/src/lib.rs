#![doc = include_str!("../README.md")]

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
    Config, ConfigError, GossipsubParams, MAX_IDS_PER_CONTROL, MAX_INBOUND_RPC_SIZE, PX_PEERS,
    RELAY_PROTOCOL_ID, RPC_OVERHEAD_MARGIN, ScoringConfig, message_id,
};
pub use counts::ValidationCounts;
#[cfg(feature = "metrics")]
pub use metrics::{Metrics, TopicHealth};
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

//! The relay validation pipeline (64/WAKU2-NETWORK "Message Validation").
//!
//! Every message gossipsub hands to [`crate::Behaviour`] goes through, in order:
//!
//! 1. size: the encoded `WakuMessage` (the pubsub `data`) is at most
//!    [`crate::Config::max_message_size`], else **Reject**
//!    ([`reason::TOO_LARGE`]); checked before decoding;
//! 2. decoding as a 14/WAKU2-MESSAGE (including the 64-byte `meta` limit),
//!    else **Reject** ([`reason::UNDECODABLE`]);
//!    a message without a content topic is malformed as well
//!    ([`reason::MISSING_CONTENT_TOPIC`], as nwaku's decoder requires it);
//! 3. timestamp within [`crate::Config::max_timestamp_skew`] of the
//!    node's clock, else **Reject** ([`reason::TIMESTAMP_OUT_OF_WINDOW`]); a
//!    message without a timestamp passes this step, as in nwaku;
//! 4. the registered [`ShardValidator`]s whose [`ValidatorScope`] covers the
//!    message's pubsub topic, in registration order; the first verdict other
//!    than [`Verdict::Accept`] decides.
//!
//! The outcome is reported to gossipsub as `Accept` (deliver and forward),
//! `Reject` (drop and apply the P₄ score penalty to the sender) or `Ignore`
//! (drop without penalty).
//!
//! Reasons are `&'static str` labels (they become metric label values): keep
//! them short, fixed and snake_case; log details with `tracing` instead.

use libp2p::PeerId;
use waku_core::{MessageHash, Timestamp, WakuMessage};
use waku_sharding::RelayShard;

/// Reason labels used by the built-in checks and validators.
pub mod reason {
    /// The message passed every check.
    pub const VALID: &str = "valid";
    /// The pubsub `data` is not a decodable `WakuMessage`.
    pub const UNDECODABLE: &str = "undecodable";
    /// The encoded `WakuMessage` is larger than the configured limit.
    pub const TOO_LARGE: &str = "too_large";
    /// The message has no (or an empty) content topic; nwaku's decoder
    /// refuses such messages, so they are treated as malformed.
    pub const MISSING_CONTENT_TOPIC: &str = "missing_content_topic";
    /// The timestamp is too far from the node's clock.
    pub const TIMESTAMP_OUT_OF_WINDOW: &str = "timestamp_out_of_window";
    /// Protected shard: the message has no timestamp.
    pub const PROTECTED_NO_TIMESTAMP: &str = "protected_shard_no_timestamp";
    /// Protected shard: the timestamp is outside the signed-message window.
    pub const PROTECTED_STALE: &str = "protected_shard_stale";
    /// Protected shard: `meta` does not hold a 64-byte compact signature.
    pub const PROTECTED_NO_SIGNATURE: &str = "protected_shard_no_signature";
    /// Protected shard: the signature does not verify under the shard key.
    pub const PROTECTED_BAD_SIGNATURE: &str = "protected_shard_bad_signature";
    /// The shard's rate limit (free bandwidth) is used up.
    pub const RATE_LIMITED: &str = "rate_limited";
}

/// What a validator decides about a message (the gossipsub v1.1 extended
/// validator outcomes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid: deliver to local subscribers and forward.
    Accept,
    /// Invalid: drop, and penalise the peer that sent it.
    Reject(&'static str),
    /// Unwanted but not provably invalid: drop without penalty.
    Ignore(&'static str),
}

impl Verdict {
    /// The outcome class of this verdict.
    pub fn outcome(&self) -> Outcome {
        match self {
            Verdict::Accept => Outcome::Accept,
            Verdict::Reject(_) => Outcome::Reject,
            Verdict::Ignore(_) => Outcome::Ignore,
        }
    }

    /// The reason label ([`reason::VALID`] for [`Verdict::Accept`]).
    pub fn reason(&self) -> &'static str {
        match self {
            Verdict::Accept => reason::VALID,
            Verdict::Reject(r) | Verdict::Ignore(r) => r,
        }
    }
}

/// The three validation outcomes, without reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Delivered and forwarded.
    Accept,
    /// Dropped with a score penalty for the sender.
    Reject,
    /// Dropped without penalty.
    Ignore,
}

impl Outcome {
    /// The metric label value: `accept`, `reject` or `ignore`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Accept => "accept",
            Outcome::Reject => "reject",
            Outcome::Ignore => "ignore",
        }
    }
}

/// Everything a validator may look at.
#[derive(Debug, Clone, Copy)]
pub struct MessageContext<'a> {
    /// The pubsub topic the message travels on.
    pub pubsub_topic: &'a str,
    /// The static shard, when the topic is `/waku/2/rs/<cluster>/<shard>`.
    pub shard: Option<RelayShard>,
    /// The decoded message.
    pub message: &'a WakuMessage,
    /// Its deterministic hash on `pubsub_topic`.
    pub hash: &'a MessageHash,
    /// Length of its protobuf encoding (the pubsub `data`), in bytes.
    pub encoded_len: usize,
    /// The peer that forwarded it to us; `None` for a message this node
    /// publishes (publishing runs the same checks).
    pub source: Option<&'a PeerId>,
    /// The node's clock when validating (ns since the Unix epoch).
    pub now: Timestamp,
}

/// A message check that a node adds to the relay pipeline, for example DoS
/// protection or application rules.
///
/// Validators run synchronously inside the swarm task: keep them fast (no
/// I/O, no blocking). Closures `FnMut(&MessageContext) -> Verdict + Send`
/// implement this trait.
pub trait ShardValidator: Send {
    /// Judges one message.
    fn validate(&mut self, ctx: &MessageContext<'_>) -> Verdict;
}

impl<F> ShardValidator for F
where
    F: FnMut(&MessageContext<'_>) -> Verdict + Send,
{
    fn validate(&mut self, ctx: &MessageContext<'_>) -> Verdict {
        self(ctx)
    }
}

/// Which messages a registered validator sees.
///
/// Topics are matched as strings, so a validator can guard any pubsub topic,
/// static shard or not (for example the legacy `/waku/2/default-waku/proto`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValidatorScope {
    /// Messages on every pubsub topic.
    AllTopics,
    /// Messages on this pubsub topic only.
    Topic(String),
}

impl ValidatorScope {
    /// Messages on `shard` only.
    pub fn shard(shard: &RelayShard) -> Self {
        Self::Topic(shard.to_string())
    }

    /// Whether a message on `pubsub_topic` is in scope.
    pub fn covers(&self, pubsub_topic: &str) -> bool {
        match self {
            Self::AllTopics => true,
            Self::Topic(t) => t == pubsub_topic,
        }
    }
}

/// The registered validators, in order.
#[derive(Default)]
pub(crate) struct Validators {
    entries: Vec<(ValidatorScope, Box<dyn ShardValidator>)>,
}

impl Validators {
    pub(crate) fn push(&mut self, scope: ValidatorScope, validator: Box<dyn ShardValidator>) {
        self.entries.push((scope, validator));
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Runs the validators in scope; the first non-accept verdict wins.
    pub(crate) fn run(&mut self, ctx: &MessageContext<'_>) -> Verdict {
        for (scope, validator) in &mut self.entries {
            if !scope.covers(ctx.pubsub_topic) {
                continue;
            }
            let verdict = validator.validate(ctx);
            if verdict != Verdict::Accept {
                return verdict;
            }
        }
        Verdict::Accept
    }
}

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(scope, _)| scope))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(topic: &'a str, msg: &'a WakuMessage, hash: &'a MessageHash) -> MessageContext<'a> {
        MessageContext {
            pubsub_topic: topic,
            shard: topic.parse().ok(),
            message: msg,
            hash,
            encoded_len: 0,
            source: None,
            now: 0,
        }
    }

    #[test]
    fn first_non_accept_verdict_wins_and_scope_is_respected() {
        let mut v = Validators::default();
        v.push(
            ValidatorScope::Topic("/other".into()),
            Box::new(|_: &MessageContext<'_>| Verdict::Reject("other")),
        );
        v.push(
            ValidatorScope::AllTopics,
            Box::new(|_: &MessageContext<'_>| Verdict::Accept),
        );
        v.push(
            ValidatorScope::shard(&RelayShard::new(1, 0)),
            Box::new(|_: &MessageContext<'_>| Verdict::Ignore("first")),
        );
        v.push(
            ValidatorScope::AllTopics,
            Box::new(|_: &MessageContext<'_>| Verdict::Reject("second")),
        );
        let msg = WakuMessage::default();
        let hash = MessageHash::default();
        assert_eq!(
            v.run(&ctx("/waku/2/rs/1/0", &msg, &hash)),
            Verdict::Ignore("first")
        );
        assert_eq!(
            v.run(&ctx("/waku/2/rs/1/1", &msg, &hash)),
            Verdict::Reject("second")
        );
        assert_eq!(v.len(), 4);
    }

    #[test]
    fn verdict_labels() {
        assert_eq!(Verdict::Accept.reason(), reason::VALID);
        assert_eq!(Verdict::Ignore("x").outcome(), Outcome::Ignore);
        assert_eq!(Outcome::Reject.as_str(), "reject");
    }
}

//! Relay configuration: message limits, gossipsub parameters (nwaku's),
//! peer scoring and the validators to install.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::gossipsub::{
    self, MessageId, PeerScoreParams, PeerScoreThresholds, TopicScoreParams, ValidationMode,
    Version,
};
use sha2::{Digest, Sha256};
use waku_core::{DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_TIMESTAMP_SKEW, MessageValidator};
use waku_sharding::RelayShard;

use crate::protected_shard::{ProtectedShardValidator, VerifyingKey};
use crate::validation::{ShardValidator, ValidatorScope, Validators};

/// The only protocol id the relay negotiates: `/vac/waku/relay/2.0.0`
/// (11/WAKU2-RELAY). The gossipsub defaults (`/meshsub/1.1.0`,
/// `/meshsub/1.0.0`) are not offered.
pub const RELAY_PROTOCOL_ID: &str = waku_core::protocol_id::RELAY;

/// Bytes allowed on top of [`Config::max_message_size`] for one
/// gossipsub RPC frame: the pubsub envelope (topic, field tags, lengths) and
/// control messages (IHAVE/IWANT/GRAFT/PRUNE) sharing the frame.
pub const RPC_OVERHEAD_MARGIN: usize = 64 * 1024;

/// Largest gossipsub RPC frame, and largest control part of one, that we
/// accept (1 MiB). go-libp2p-pubsub (go-waku) batches control messages into
/// RPCs of up to 1 MiB and js-libp2p-gossipsub accepts 4 MiB; gossipsub's
/// own default control limit (16 KiB) would make us reset the stream of a
/// go-waku peer whose IHAVE lists 5 000 ids, and the peer's queue to us
/// would then stay full for good. Message size stays limited by
/// [`Config::max_message_size`] through validation.
pub const MAX_INBOUND_RPC_SIZE: usize = 1024 * 1024;

/// Most message ids we put in one IHAVE, and ask for in IWANTs per peer
/// and heartbeat (400). Each id costs 34 bytes on the wire (tag, length,
/// 32-byte SHA-256), so an IHAVE or IWANT of ours stays under 14 KiB: below
/// the smallest control limit a deployed peer applies (rust-libp2p's
/// default 16 KiB), far below nwaku's 150 KiB frame limit. gossipsub's own
/// default (5 000 ids, 170 KB) is what wedged relay after bursts.
pub const MAX_IDS_PER_CONTROL: usize = 400;

/// Why a relay configuration cannot be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// gossipsub refused the parameters (mesh degrees, history, ...).
    #[error("invalid gossipsub parameters: {0}")]
    Gossipsub(String),
    /// The peer scoring parameters are inconsistent.
    #[error("invalid peer scoring parameters: {0}")]
    Scoring(String),
    /// The message size limit is zero.
    #[error("the maximum message size must be positive")]
    ZeroMessageSize,
}

/// Gossipsub parameters, defaulting to nwaku's (`waku_relay/protocol.nim`,
/// also listed in 29/WAKU2-CONFIG).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GossipsubParams {
    /// D: target mesh degree (6).
    pub mesh_n: usize,
    /// D_low: below this the mesh is refilled at the heartbeat (4).
    pub mesh_n_low: usize,
    /// D_high: above this the mesh is pruned at the heartbeat (8).
    pub mesh_n_high: usize,
    /// D_score: peers kept by score when pruning (6).
    pub mesh_n_score: usize,
    /// D_out: minimum outbound peers in the mesh (3).
    pub mesh_outbound_min: usize,
    /// D_lazy: minimum peers to gossip IHAVE to (6).
    pub gossip_lazy: usize,
    /// Fraction of non-mesh peers to gossip to (0.25).
    pub gossip_factor: f64,
    /// Heartbeat period (1 s).
    pub heartbeat_interval: Duration,
    /// Delay before the first heartbeat (100 ms; nim-libp2p starts at once).
    pub heartbeat_initial_delay: Duration,
    /// Heartbeats of messages kept in the message cache (6).
    pub history_length: usize,
    /// Heartbeats of messages advertised in IHAVE gossip (3).
    pub history_gossip: usize,
    /// How long fanout state of a topic we publish to but are not
    /// subscribed to is kept (60 s).
    pub fanout_ttl: Duration,
    /// How long seen message ids are remembered to drop duplicates (2 min).
    pub seen_ttl: Duration,
    /// Publish own messages to every subscribed peer above the publish
    /// score threshold, not only mesh peers (on).
    pub flood_publish: bool,
    /// Backoff after a PRUNE (1 min).
    pub prune_backoff: Duration,
    /// Backoff after unsubscribing (5 s).
    pub unsubscribe_backoff: Duration,
    /// Most message ids per IHAVE, and per peer and heartbeat in IWANTs
    /// ([`MAX_IDS_PER_CONTROL`]).
    pub max_ids_per_control: usize,
    /// Messages queued for one peer before further ones to it are dropped
    /// (1 024, as nim-libp2p and go-waku).
    pub send_queue_len: usize,
    /// A peer whose send queue overflowed in this many heartbeats in a row
    /// is disconnected, so that a stuck connection is dropped (and re-dialled
    /// by whoever keeps it) instead of holding relay to it for ever (5;
    /// `None` never disconnects). nim-libp2p disconnects such peers too.
    pub drop_slow_peer_after: Option<u32>,
}

impl Default for GossipsubParams {
    fn default() -> Self {
        Self {
            mesh_n: 6,
            mesh_n_low: 4,
            mesh_n_high: 8,
            mesh_n_score: 6,
            mesh_outbound_min: 3,
            gossip_lazy: 6,
            gossip_factor: 0.25,
            heartbeat_interval: Duration::from_secs(1),
            heartbeat_initial_delay: Duration::from_millis(100),
            history_length: 6,
            history_gossip: 3,
            fanout_ttl: Duration::from_secs(60),
            seen_ttl: Duration::from_secs(120),
            flood_publish: true,
            prune_backoff: Duration::from_secs(60),
            unsubscribe_backoff: Duration::from_secs(5),
            max_ids_per_control: MAX_IDS_PER_CONTROL,
            send_queue_len: 1024,
            drop_slow_peer_after: Some(5),
        }
    }
}

/// Gossipsub v1.1 peer scoring: global parameters, thresholds, and the
/// parameters applied to every topic the relay subscribes to.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScoringConfig {
    /// Global parameters (IP colocation, behaviour penalty, decay, ...).
    /// Topic entries are filled in by [`crate::Behaviour::subscribe`] from
    /// [`Self::topic_params`].
    pub params: PeerScoreParams,
    /// Gossip, publish and graylist thresholds.
    pub thresholds: PeerScoreThresholds,
    /// Parameters of each subscribed topic; P₄ (invalid messages) is what
    /// turns a rejected message into a penalty for its sender.
    pub topic_params: TopicScoreParams,
}

impl ScoringConfig {
    /// Exempts `ip` from the IP-colocation penalty (for example 127.0.0.1
    /// for a network of nodes on one machine).
    pub fn with_ip_colocation_whitelist(mut self, ip: std::net::IpAddr) -> Self {
        self.params.ip_colocation_factor_whitelist.insert(ip);
        self
    }

    /// nwaku's scoring: P₁ 0.01/s capped at 10, P₂ weight 1 (cap 10, decay
    /// 0.5), P₃ off, P₄ weight -100 (decay 0.5), P₆ -50 over 5 peers per IP,
    /// P₇ -10 (decay 0.986), no slow-peer penalty (as nim-libp2p), decay
    /// interval 12 s, scores retained 10 min;
    /// thresholds gossip -100, publish -1000, graylist -10000.
    pub fn nwaku() -> Self {
        let params = PeerScoreParams {
            topics: HashMap::new(),
            app_specific_weight: 0.0,
            ip_colocation_factor_weight: -50.0,
            ip_colocation_factor_threshold: 5.0,
            behaviour_penalty_weight: -10.0,
            behaviour_penalty_decay: 0.986,
            decay_interval: Duration::from_secs(12),
            decay_to_zero: 0.01,
            retain_score: Duration::from_secs(600),
            // nim-libp2p has no slow-peer penalty (it disconnects such
            // peers, as we do: `GossipsubParams::drop_slow_peer_after`).
            // gossipsub's -0.2 per dropped message let a burst of our own
            // sink a healthy peer below the publish threshold, and relay
            // then refused to publish to it for up to a decay interval.
            slow_peer_weight: 0.0,
            ..PeerScoreParams::default()
        };
        let thresholds = PeerScoreThresholds {
            gossip_threshold: -100.0,
            publish_threshold: -1000.0,
            graylist_threshold: -10000.0,
            opportunistic_graft_threshold: 0.0,
            // Peer exchange is taken from any peer not in debt (go-waku
            // leaves it at 0; gossipsub's default, 10, would ignore every
            // peer for its first minutes).
            accept_px_threshold: 0.0,
        };
        let topic_params = TopicScoreParams {
            topic_weight: 1.0,
            time_in_mesh_weight: 0.01,
            time_in_mesh_quantum: Duration::from_secs(1),
            time_in_mesh_cap: 10.0,
            first_message_deliveries_weight: 1.0,
            first_message_deliveries_decay: 0.5,
            first_message_deliveries_cap: 10.0,
            mesh_message_deliveries_weight: 0.0,
            mesh_message_deliveries_decay: 0.0,
            mesh_message_deliveries_cap: 0.0,
            mesh_message_deliveries_threshold: 0.0,
            mesh_message_deliveries_window: Duration::ZERO,
            mesh_message_deliveries_activation: Duration::ZERO,
            mesh_failure_penalty_weight: 0.0,
            mesh_failure_penalty_decay: 0.0,
            invalid_message_deliveries_weight: -100.0,
            invalid_message_deliveries_decay: 0.5,
        };
        Self {
            params,
            thresholds,
            topic_params,
        }
    }
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self::nwaku()
    }
}

/// Everything [`crate::Behaviour::new`] needs.
///
/// `Config::default()` is nwaku's relay: 150 KiB messages, a 20 s
/// timestamp window, nwaku's gossipsub and scoring parameters, no extra
/// validators.
#[derive(Debug)]
#[non_exhaustive]
pub struct Config {
    pub(crate) max_message_size: usize,
    pub(crate) max_timestamp_skew: Duration,
    pub(crate) gossipsub: GossipsubParams,
    pub(crate) scoring: Option<ScoringConfig>,
    pub(crate) validators: Validators,
    pub(crate) peer_exchange: bool,
}

/// Peers named in one gossipsub peer-exchange PRUNE at most (sent and
/// taken), as go-libp2p-pubsub's and nim-libp2p's `PrunePeers`.
pub const PX_PEERS: usize = 16;

impl Default for Config {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_timestamp_skew: DEFAULT_MAX_TIMESTAMP_SKEW,
            gossipsub: GossipsubParams::default(),
            scoring: Some(ScoringConfig::nwaku()),
            validators: Validators::default(),
            peer_exchange: false,
        }
    }
}

impl Config {
    /// Largest encoded `WakuMessage` accepted or published, in bytes
    /// (default 150 KiB, `waku_core::DEFAULT_MAX_MESSAGE_SIZE`).
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Largest distance between a message timestamp and the node's clock
    /// (default 20 s).
    pub fn with_max_timestamp_skew(mut self, skew: Duration) -> Self {
        self.max_timestamp_skew = skew;
        self
    }

    /// Gossipsub peer exchange (nwaku's `--relay-peer-exchange`, off by
    /// default): a PRUNE we send names up to [`PX_PEERS`] other peers of the
    /// topic with the signed peer records identify brought for them
    /// ([`crate::Behaviour::set_signed_peer_record`]), and the peers a PRUNE
    /// names to us come out as [`crate::Event::PeerExchange`] once their
    /// records verify.
    pub fn with_peer_exchange(mut self, on: bool) -> Self {
        self.peer_exchange = on;
        self
    }

    /// Gossipsub parameters (default: nwaku's, [`GossipsubParams::default`]).
    pub fn with_gossipsub(mut self, params: GossipsubParams) -> Self {
        self.gossipsub = params;
        self
    }

    /// Peer scoring (default: nwaku's, [`ScoringConfig::nwaku`]); `None`
    /// disables scoring (not recommended: rejected messages then cost their
    /// sender nothing).
    pub fn with_scoring(mut self, scoring: Option<ScoringConfig>) -> Self {
        self.scoring = scoring;
        self
    }

    /// The gossipsub parameters in force.
    pub fn gossipsub(&self) -> &GossipsubParams {
        &self.gossipsub
    }

    /// The peer scoring in force, if any.
    pub fn scoring(&self) -> Option<&ScoringConfig> {
        self.scoring.as_ref()
    }

    /// Adds a validator run on messages in `scope`, after the built-in
    /// size, decoding and timestamp checks and after validators added before.
    pub fn with_validator(
        mut self,
        scope: ValidatorScope,
        validator: impl ShardValidator + 'static,
    ) -> Self {
        self.add_validator(scope, Box::new(validator));
        self
    }

    /// Adds a boxed validator (see [`Self::with_validator`]).
    pub fn add_validator(&mut self, scope: ValidatorScope, validator: Box<dyn ShardValidator>) {
        self.validators.push(scope, validator);
    }

    /// Protects `shard` (nwaku's `--protected-shard`): only messages signed
    /// by `key` are accepted on it (see [`ProtectedShardValidator`]).
    pub fn with_protected_shard(self, shard: RelayShard, key: VerifyingKey) -> Self {
        self.with_validator(
            ValidatorScope::shard(&shard),
            ProtectedShardValidator::new(shard, key),
        )
    }

    /// Number of validators added so far.
    pub fn validator_count(&self) -> usize {
        self.validators.len()
    }

    /// The size and timestamp checks of this configuration.
    pub fn message_validator(&self) -> MessageValidator {
        MessageValidator {
            max_message_size: self.max_message_size,
            max_timestamp_skew: self.max_timestamp_skew,
        }
    }

    /// Largest gossipsub RPC frame accepted or sent:
    /// [`MAX_INBOUND_RPC_SIZE`], or the maximum message size plus
    /// [`RPC_OVERHEAD_MARGIN`] when that is larger.
    pub fn max_transmit_size(&self) -> usize {
        self.max_message_size
            .saturating_add(RPC_OVERHEAD_MARGIN)
            .max(MAX_INBOUND_RPC_SIZE)
    }

    /// The gossipsub configuration of this relay: protocol id
    /// [`RELAY_PROTOCOL_ID`] only, anonymous (StrictNoSign) validation,
    /// message id = SHA-256 of the `data` field, manual validation.
    pub fn gossipsub_config(&self) -> Result<gossipsub::Config, ConfigError> {
        if self.max_message_size == 0 {
            return Err(ConfigError::ZeroMessageSize);
        }
        let p = &self.gossipsub;
        let mut builder = gossipsub::ConfigBuilder::default();
        builder
            .protocol_id(RELAY_PROTOCOL_ID, Version::V1_1)
            .validation_mode(ValidationMode::Anonymous)
            .validate_messages()
            .message_id_fn(message_id)
            .max_transmit_size(self.max_transmit_size())
            .mesh_n(p.mesh_n)
            .mesh_n_low(p.mesh_n_low)
            .mesh_n_high(p.mesh_n_high)
            .retain_scores(p.mesh_n_score)
            .mesh_outbound_min(p.mesh_outbound_min)
            .gossip_lazy(p.gossip_lazy)
            .gossip_factor(p.gossip_factor)
            .heartbeat_interval(p.heartbeat_interval)
            .heartbeat_initial_delay(p.heartbeat_initial_delay)
            .history_length(p.history_length)
            .history_gossip(p.history_gossip)
            .fanout_ttl(p.fanout_ttl)
            .duplicate_cache_time(p.seen_ttl)
            .flood_publish(p.flood_publish)
            .prune_backoff(p.prune_backoff)
            .unsubscribe_backoff(p.unsubscribe_backoff)
            .max_control_message_size(self.max_transmit_size())
            .max_control_messages_sent(p.max_ids_per_control.max(1))
            // The codec's own limit (500) otherwise disagrees with the
            // configuration's (5 000).
            .max_publish_messages(5000)
            .connection_handler_queue_len(p.send_queue_len.max(1));
        if self.peer_exchange {
            builder.do_px().prune_peers(PX_PEERS);
        }
        let config = builder
            .build()
            .map_err(|e| ConfigError::Gossipsub(e.to_string()))?;
        // gossipsub only checks the mesh inequalities of per-topic settings.
        if !(p.mesh_outbound_min <= p.mesh_n_low
            && p.mesh_n_low <= p.mesh_n
            && p.mesh_n <= p.mesh_n_high
            && p.mesh_outbound_min * 2 <= p.mesh_n)
        {
            return Err(ConfigError::Gossipsub(
                "mesh degrees must satisfy D_out <= D_low <= D <= D_high and 2 D_out <= D".into(),
            ));
        }
        Ok(config)
    }
}

/// The gossipsub message id of Waku: SHA-256 of the `data` field (the encoded
/// `WakuMessage`), as nwaku, go-waku and js-waku compute it.
pub fn message_id(message: &gossipsub::Message) -> MessageId {
    MessageId(Sha256::digest(&message.data).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_builds_with_nwaku_parameters() {
        let config = Config::default();
        let g = config.gossipsub_config().unwrap();
        assert_eq!(g.mesh_n(), 6);
        assert_eq!(g.mesh_n_low(), 4);
        assert_eq!(g.mesh_n_high(), 8);
        assert_eq!(g.retain_scores(), 6);
        assert_eq!(g.mesh_outbound_min(), 3);
        assert_eq!(g.gossip_lazy(), 6);
        assert_eq!(g.heartbeat_interval(), Duration::from_secs(1));
        assert_eq!(g.history_length(), 6);
        assert_eq!(g.history_gossip(), 3);
        assert_eq!(g.fanout_ttl(), Duration::from_secs(60));
        assert_eq!(g.duplicate_cache_time(), Duration::from_secs(120));
        assert!(g.flood_publish());
        assert!(g.validate_messages());
        assert!(matches!(g.validation_mode(), ValidationMode::Anonymous));
        assert_eq!(g.max_transmit_size(), MAX_INBOUND_RPC_SIZE);
        assert_eq!(g.max_control_message_size(), MAX_INBOUND_RPC_SIZE);
        assert_eq!(g.max_control_messages_sent(), MAX_IDS_PER_CONTROL);
        assert_eq!(g.connection_handler_queue_len(), 1024);
        let scoring = config.scoring.unwrap();
        scoring.params.validate().unwrap();
        scoring.thresholds.validate().unwrap();
        scoring.topic_params.validate().unwrap();
    }

    #[test]
    fn message_id_is_sha256_of_data() {
        let m = gossipsub::Message {
            source: None,
            data: b"abc".to_vec(),
            sequence_number: None,
            topic: gossipsub::TopicHash::from_raw("/waku/2/rs/1/0"),
        };
        assert_eq!(
            hex::encode(message_id(&m).0),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn inconsistent_mesh_degrees_are_refused() {
        let mut config = Config::default();
        config.gossipsub.mesh_n_low = 7;
        assert!(matches!(
            config.gossipsub_config(),
            Err(ConfigError::Gossipsub(_))
        ));
    }
}

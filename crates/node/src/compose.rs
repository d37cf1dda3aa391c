//! Turning the node's configuration into its protocol behaviours: which
//! protocols run, with which settings (nwaku's defaults and flags), over
//! which message store.

use std::sync::Arc;

use prometheus_client::registry::Registry;
use tracing::{info, warn};
use waku_metadata::{Behaviour as Metadata, Config as MetadataConfig, ShardSet};
use waku_sharding::RelayShard;

use crate::behaviour::Protocols;
use crate::config::NodeConfig;
use crate::node::NodeError;

/// The protocols built from a configuration, and what the event loop keeps
/// of them.
pub(crate) struct Composed {
    /// The behaviours to put in the swarm.
    pub(crate) protocols: Protocols,
    /// The shards metadata announces (relay's subscriptions).
    pub(crate) announced_shards: ShardSet,
    /// The message store, with `--store`.
    pub(crate) store: Option<Arc<dyn waku_store::MessageStore>>,
    /// The topics the lightpush service accepts, with `--lightpush`.
    pub(crate) served_topics: Option<waku_lightpush::ServedTopics>,
}

/// Builds every protocol `config` asks for; relay's metrics go into
/// `registry` when there is one. The store services query through stores
/// that time their queries into `timings`.
pub(crate) async fn protocols(
    config: &NodeConfig,
    registry: Option<&mut Registry>,
    timings: &crate::service_metrics::ServiceTimings,
) -> Result<Composed, NodeError> {
    let relay = relay(config, registry)?;
    let announced_shards = ShardSet::new();
    if relay.is_some() {
        announced_shards.replace(config.shards.iter().copied())?;
    }
    let metadata =
        Metadata::new(MetadataConfig::new(config.cluster_id).with_shards(announced_shards.clone()));
    let store = match &config.store {
        Some(settings) => {
            let store = waku_store::open_store_with_max_connections(
                &settings.db_url,
                settings.max_db_connections,
            )
            .await?;
            info!(url = %redact(&settings.db_url), "store: archiving relayed messages");
            Some(store)
        }
        None => None,
    };
    // The store clients are always there (as nwaku mounts them): without
    // `--storenode`, REST queries go to a known peer that serves the store.
    let store_behaviour = Some(match &store {
        Some(db) => waku_store::Behaviour::new(
            timings.archive_store(db.clone(), config.store.as_ref().is_some_and(|s| s.legacy)),
            store_config(config),
        ),
        None => waku_store::Behaviour::client(store_config(config)),
    });
    let legacy_store = match (&store, &config.store) {
        (Some(db), Some(settings)) if settings.legacy => Some(waku_store::legacy::Behaviour::new(
            timings.legacy_store(db.clone()),
            legacy_store_config(config),
        )),
        // A client for store nodes that serve only legacy (go-waku).
        _ => Some(waku_store::legacy::Behaviour::client(legacy_store_config(
            config,
        ))),
    };
    let served_topics = config.lightpush.then(|| {
        waku_lightpush::ServedTopics::only(
            config
                .shards
                .iter()
                .map(|s| RelayShard::new(config.cluster_id, *s).to_string()),
        )
    });
    let lightpush = served_topics.as_ref().map(|served| {
        waku_lightpush::service::Behaviour::new(lightpush_config(config, served.clone()))
    });
    let filter = config
        .filter
        .map(|f| waku_filter::service::Behaviour::new(filter_config(config, f)));
    let protocols = Protocols {
        relay,
        metadata,
        store: store_behaviour,
        legacy_store,
        filter,
        // The clients run always, as nwaku mounts them: without
        // `--filternode`/`--lightpushnode` they ask a peer chosen from the
        // peer book (see service_peers.rs).
        filter_client: Some(waku_filter::client::Behaviour::new(
            waku_filter::client::Config::default()
                .with_max_message_size(config.max_message_size)
                .with_request_timeout(crate::handle::FILTER_REQUEST_TIMEOUT),
        )),
        lightpush,
        lightpush_client: Some(waku_lightpush::client::Behaviour::new(
            waku_lightpush::client::Config::default(),
        )),
        peer_exchange: config.peer_exchange.then(|| {
            use waku_discovery::peer_exchange::service;
            service::Behaviour::new(
                service::Config::default().with_rate_limit(
                    config
                        .rate_limits
                        .for_protocol("px")
                        .unwrap_or(waku_core::RateLimit::UNLIMITED),
                ),
            )
        }),
        peer_exchange_client: config.peer_exchange_node.as_ref().map(|_| {
            use waku_discovery::peer_exchange::client;
            client::Behaviour::new(client::Config::default())
        }),
        signed_peer_record: config.relay_peer_exchange,
    };
    Ok(Composed {
        protocols,
        announced_shards,
        store,
        served_topics,
    })
}

/// Logs, for each protocol this node runs, the line nwaku logs when it
/// mounts it (operators' tooling greps for them).
pub(crate) fn log_mounted(config: &NodeConfig) {
    for topic in &config.content_topics {
        if let Err(crate::topic_shards::TopicShardError::Disabled) =
            config.topic_shards.shard(topic)
        {
            tracing::warn!(
                "--content-topic {topic} is not subscribed: static sharding \
                 (--num-shards-in-network 0) gives content topics no shard unless \
                 --content-topic-shard maps them"
            );
        }
    }
    let mut lines = vec![
        "Created WakuMetadata protocol",
        "mounting libp2p ping protocol",
    ];
    if config.relay {
        lines.push("mounting relay protocol");
    }
    if config.peer_exchange {
        lines.push("mounting waku peer exchange");
    }
    if config.peer_exchange_node.is_some() {
        lines.push("mounting waku peer exchange client");
    }
    if let Some(store) = &config.store {
        lines.push("mounting waku store protocol");
        if store.legacy {
            lines.push("mounting waku legacy store protocol");
        }
    }
    if config.storenode.is_some() {
        lines.push("mounting legacy store client");
    }
    if config.filter.is_some() {
        lines.push("mounting filter protocol");
        if !config.relay {
            warn!("--filter without relay: the filter service has nothing to push");
        }
    }
    // The filter and lightpush clients always run, as nwaku's.
    lines.push("mounting filter client");
    if config.lightpush {
        lines.extend(["mounting light push", "mounting legacy light push"]);
    }
    lines.extend([
        "mounting light push client",
        "mounting legacy light push client",
    ]);
    for line in lines {
        info!("{line}");
    }
}

/// The timestamp window of relay and lightpush: none, as in nwaku, whose
/// relay takes any timestamp (only the archive keeps its 20 s window; see
/// NET-027's deviation). The crates default to the RFC's 20 s.
const NO_TIMESTAMP_WINDOW: std::time::Duration = std::time::Duration::MAX;

/// Relay with our size limit, protected shards and shard subscriptions.
fn relay(
    config: &NodeConfig,
    registry: Option<&mut Registry>,
) -> Result<Option<waku_relay::Behaviour>, NodeError> {
    if !config.relay {
        return Ok(None);
    }
    // Peers on loopback are processes of this machine: as the connection
    // limits do (peer_manager.rs), the IP-colocation score penalty leaves
    // them out. With it, a node with more than five local peers scored them
    // all below zero (below graylisting past 19), formed no mesh and relayed
    // nothing: the upstream suite's 21-node e2e test, whose nodes each have
    // a container address under nwaku.
    let scoring = waku_relay::ScoringConfig::nwaku()
        .with_ip_colocation_whitelist(std::net::Ipv4Addr::LOCALHOST.into())
        .with_ip_colocation_whitelist(std::net::Ipv6Addr::LOCALHOST.into());
    let mut relay_config = waku_relay::Config::default()
        .with_scoring(Some(scoring))
        .with_peer_exchange(config.relay_peer_exchange)
        .with_max_message_size(config.max_message_size)
        .with_max_timestamp_skew(NO_TIMESTAMP_WINDOW);
    for protected in &config.protected_shards {
        let key = k256::ecdsa::VerifyingKey::from_sec1_bytes(&protected.public_key)
            .map_err(NodeError::ProtectedShardKey)?;
        if !config.shards.contains(&protected.shard.shard) {
            warn!(
                shard = %protected.shard,
                "--protected-shard names a shard this node does not subscribe to: it only checks messages it relays"
            );
        }
        relay_config = relay_config.with_protected_shard(protected.shard, key);
    }
    for (shard, limit) in &config.shard_rate_limits {
        if !config.shards.contains(&shard.shard) {
            warn!(
                %shard,
                "--relay-shard-rate-limit names a shard this node does not subscribe to: it only limits messages it relays"
            );
        }
        let per_second = f64::from(limit.volume) / limit.period.as_secs_f64();
        relay_config = relay_config.with_validator(
            waku_relay::ValidatorScope::shard(shard),
            waku_relay::RateLimitValidator::messages_per_second(per_second, limit.volume),
        );
    }
    let relay = match registry {
        Some(registry) => waku_relay::Behaviour::new_with_metrics(relay_config, registry),
        None => waku_relay::Behaviour::new(relay_config),
    };
    let mut relay = relay?;
    for shard in &config.shards {
        relay.subscribe(&RelayShard::new(config.cluster_id, *shard))?;
    }
    Ok(Some(relay))
}

/// Store v3 service/client settings: nwaku defaults plus the per-peer
/// `--rate-limit storev3:` (falling back to `store:`, then the global one).
fn store_config(config: &NodeConfig) -> waku_store::Config {
    store_config_for(config, "storev3")
}

/// Legacy store service settings: like [`store_config`] with
/// `--rate-limit storev2:`.
fn legacy_store_config(config: &NodeConfig) -> waku_store::Config {
    store_config_for(config, "storev2")
}

/// Store settings with the rate limit `--rate-limit` gives `protocol`.
fn store_config_for(config: &NodeConfig, protocol: &str) -> waku_store::Config {
    waku_store::Config::default().with_rate_limit(
        config
            .rate_limits
            .for_protocol(protocol)
            .unwrap_or(waku_core::RateLimit::UNLIMITED),
    )
}

/// Filter service settings from the flags.
fn filter_config(
    config: &NodeConfig,
    f: crate::config::FilterSettings,
) -> waku_filter::service::Config {
    waku_filter::service::Config::default()
        .with_max_peers(f.max_peers)
        .with_max_criteria_per_peer(f.max_criteria)
        .with_subscription_timeout(f.subscription_timeout)
        .with_rate_limit(
            config
                .rate_limits
                .for_protocol("filter")
                .unwrap_or(waku_filter::service::DEFAULT_RATE_LIMIT),
        )
}

/// Lightpush service settings: our size and timestamp limits, the topics
/// relay serves, autosharding when configured, `--rate-limit lightpush:`.
fn lightpush_config(
    config: &NodeConfig,
    served: waku_lightpush::ServedTopics,
) -> waku_lightpush::service::Config {
    let mut lightpush = waku_lightpush::service::Config::default()
        .with_validator(waku_core::MessageValidator {
            max_message_size: config.max_message_size,
            max_timestamp_skew: NO_TIMESTAMP_WINDOW,
        })
        .with_served_topics(served)
        .with_rate_limit(
            config
                .rate_limits
                .for_protocol("lightpush")
                .unwrap_or(waku_core::RateLimit::UNLIMITED),
        );
    if !config.topic_shards.is_off() {
        lightpush = lightpush.with_shard_mapper(Arc::new(config.topic_shards.clone()));
    }
    lightpush
}

/// A database URL with its password hidden, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

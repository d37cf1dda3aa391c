//! The node's validated configuration, built from [`Cli`] flags.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

use libp2p::{Multiaddr, PeerId, identity::Keypair, multiaddr::Protocol};
use waku_core::{DEFAULT_MAX_MESSAGE_SIZE, RateLimit};
use waku_sharding::{ClusterId, MAX_SHARD_INDEX, NetworkConfig, RelayShard, ShardId};

use crate::cli::Cli;
use crate::topic_shards::{TopicShardEntry, TopicShardError, TopicShards};

/// A flag whose value cannot be used, with the reason.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("--{flag}: {reason}")]
pub struct ConfigError {
    /// The flag's name without the leading dashes.
    pub flag: &'static str,
    /// What is wrong with its value.
    pub reason: String,
}

fn bad(flag: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        flag,
        reason: reason.into(),
    }
}

/// Secure WebSocket key and certificate files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WssFiles {
    /// PEM private key.
    pub key: PathBuf,
    /// PEM certificate chain.
    pub cert: PathBuf,
}

/// A shard whose messages must be signed by a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedShard {
    /// The shard.
    pub shard: RelayShard,
    /// The secp256k1 public key (SEC1 bytes, compressed or not).
    pub public_key: Vec<u8>,
}

/// The store service's settings.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// The database URL.
    pub db_url: String,
    /// The retention policy.
    pub retention: waku_store::RetentionPolicy,
    /// Whether the legacy protocol is served too.
    pub legacy: bool,
    /// Database connections at most (PostgreSQL's pool, SQLite's
    /// concurrent queries).
    pub max_db_connections: usize,
}

/// The filter service's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterSettings {
    /// Subscription lifetime without refresh.
    pub subscription_timeout: std::time::Duration,
    /// Subscribers served at most.
    pub max_peers: usize,
    /// Criteria per subscriber at most.
    pub max_criteria: usize,
}

/// Everything the node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node identity (secp256k1).
    pub keypair: Keypair,
    /// Listening IP address.
    pub listen_address: IpAddr,
    /// TCP port.
    pub tcp_port: u16,
    /// WebSocket port, when WebSocket is enabled.
    pub websocket_port: Option<u16>,
    /// Secure WebSocket files, when wss is enabled (served on the WebSocket port).
    pub wss: Option<WssFiles>,
    /// Extra PEM certificates trusted when dialling `wss` peers, besides the
    /// web PKI roots (library use: private deployments and tests; no flag).
    pub wss_trust: Vec<PathBuf>,
    /// Cluster id.
    pub cluster_id: ClusterId,
    /// Autosharding network, unless `--num-shards-in-network` is 0
    /// ([`NetworkConfig::for_cluster`]: without a count 8 shards on cluster
    /// 1, 1 elsewhere, as nwaku).
    pub autosharding: Option<NetworkConfig>,
    /// Which shard carries a content topic (`--content-topic-shard`, then
    /// autosharding).
    pub topic_shards: TopicShards,
    /// Shards relay subscribes to.
    pub shards: BTreeSet<ShardId>,
    /// Content topics given with `--content-topic`.
    pub content_topics: Vec<String>,
    /// Peers to dial and keep connected.
    pub staticnodes: Vec<(PeerId, Multiaddr)>,
    /// discv5 discovery, with `--discv5-discovery`.
    pub discv5: Option<Discv5Settings>,
    /// DNS trees whose records bootstrap discv5 and are dialled
    /// (`--dns-discovery-url`), and the servers asked for them.
    pub dns_discovery: Option<DnsDiscoverySettings>,
    /// Connection limits (`--max-connections`, `--relay-service-ratio`,
    /// `--max-relay-peers`, `--ip-colocation-limit`).
    pub peer_limits: crate::peer_manager::PeerLimits,
    /// Disconnected peers remembered at most (`--peer-store-capacity`).
    pub peer_store_capacity: usize,
    /// The file peers are kept in across restarts (`--peer-persistence`,
    /// `--peer-persistence-path`).
    pub peer_persistence: Option<std::path::PathBuf>,
    /// Gossipsub peer exchange (`--relay-peer-exchange`).
    pub relay_peer_exchange: bool,
    /// Whether the peer-exchange service runs (`--peer-exchange`).
    pub peer_exchange: bool,
    /// The peer-exchange service asked for peers (`--peer-exchange-node`).
    pub peer_exchange_node: Option<(PeerId, Multiaddr)>,
    /// Largest serialized message.
    pub max_message_size: usize,
    /// Shards whose messages must be signed.
    pub protected_shards: Vec<ProtectedShard>,
    /// Per-shard relay rate limits (`--relay-shard-rate-limit`).
    pub shard_rate_limits: Vec<(RelayShard, RateLimit)>,
    /// Whether relay runs.
    pub relay: bool,
    /// The store service, when `--store` is set.
    pub store: Option<StoreSettings>,
    /// The store peer to query (`--storenode`).
    pub storenode: Option<(PeerId, Multiaddr)>,
    /// The filter service, when `--filter` is set.
    pub filter: Option<FilterSettings>,
    /// The filter service peer (`--filternode`).
    pub filternode: Option<(PeerId, Multiaddr)>,
    /// Whether the lightpush service runs.
    pub lightpush: bool,
    /// The lightpush service peer (`--lightpushnode`).
    pub lightpushnode: Option<(PeerId, Multiaddr)>,
    /// Per-peer rate limits by protocol.
    pub rate_limits: crate::rate_limits::RateLimitSettings,
    /// REST API address, when enabled.
    pub rest: Option<std::net::SocketAddr>,
    /// Whether the `/admin` REST routes are served.
    pub rest_admin: bool,
    /// Capacity of the relay REST message cache.
    pub rest_relay_cache_capacity: usize,
    /// Metrics server address, when enabled.
    pub metrics: Option<std::net::SocketAddr>,
    /// The public IP to advertise (`--nat=extip:IP`).
    pub ext_ip: Option<IpAddr>,
    /// `tracing` filter directive for the log level.
    pub log_filter: String,
    /// Changes the log level at run time (`POST /admin/v1/log-level`);
    /// set by the binary once its subscriber is installed.
    pub log_control: Option<crate::LogControl>,
}

/// Parses nwaku's message size notation: a number with an optional unit
/// (B, KB, KiB, MB, MiB; case-insensitive).
pub fn parse_msg_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let value: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 150KiB"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "kib" => 1024,
        "mb" | "mib" => 1024 * 1024,
        other => return Err(format!("unknown size unit {other:?} (use B, KiB or MiB)")),
    };
    let size = value
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))?;
    if size == 0 {
        return Err("the size must be above 0".into());
    }
    Ok(size)
}

/// Parses nwaku's `--nat` values; only `extip:IP` changes what we advertise.
fn parse_nat(value: &str) -> Result<Option<IpAddr>, String> {
    match value.to_ascii_lowercase().as_str() {
        "any" | "none" | "upnp" | "pmp" => Ok(None),
        other => match other.strip_prefix("extip:") {
            Some(ip) => ip
                .parse()
                .map(Some)
                .map_err(|_| format!("{ip:?} is not an IP address")),
            None => Err(format!(
                "{value:?}: expected any, none, upnp, pmp or extip:IP"
            )),
        },
    }
}

/// Our crates, whose logs follow `--log-level`; libp2p's stay at `warn`.
const LOGGED_CRATES: &[&str] = &[
    "wakunode",
    "waku_node",
    "waku_relay",
    "waku_metadata",
    "waku_core",
    "waku_sharding",
    "waku_enr",
    "waku_filter",
    "waku_lightpush",
    "waku_store",
];

/// Maps nwaku log levels to a `tracing` filter directive.
pub fn log_filter(level: &str) -> Result<String, String> {
    let filter = match level.to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        // chronicles' NOTICE sits between INFO and WARN; nothing of ours
        // logs at it, so it lets through what WARN does (no INF lines, as
        // with nwaku at NOTICE).
        "NOTICE" | "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        other => {
            return Err(format!(
                "unknown log level {other:?} (TRACE, DEBUG, INFO, NOTICE, WARN, ERROR, FATAL)"
            ));
        }
    };
    // Other crates (libp2p, discv5, ...) log at warn, or less when the
    // level asked for is stricter: at ERROR no WRN line may appear.
    let mut directive = String::from(if filter == "error" { "error" } else { "warn" });
    for krate in LOGGED_CRATES {
        directive.push_str(&format!(",{krate}={filter}"));
    }
    Ok(directive)
}

fn parse_nodekey(hex_key: Option<&str>) -> Result<Keypair, ConfigError> {
    let Some(text) = hex_key else {
        return Ok(Keypair::generate_secp256k1());
    };
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mut bytes = hex::decode(digits).map_err(|_| bad("nodekey", "not hex"))?;
    let secret = libp2p::identity::secp256k1::SecretKey::try_from_bytes(&mut bytes)
        .map_err(|_| bad("nodekey", "not a secp256k1 private key (64 hex characters)"))?;
    Ok(libp2p::identity::secp256k1::Keypair::from(secret).into())
}

fn parse_peer_addr(flag: &'static str, text: &str) -> Result<(PeerId, Multiaddr), ConfigError> {
    let addr: Multiaddr = text
        .parse()
        .map_err(|e| bad(flag, format!("{text:?}: {e}")))?;
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Ok((peer, addr)),
        _ => Err(bad(flag, format!("{text:?} must end with /p2p/<peer id>"))),
    }
}

/// One `--relay-shard-rate-limit <shard>:<volume>/<period>`.
fn parse_shard_rate_limit(
    cluster: ClusterId,
    text: &str,
) -> Result<(RelayShard, RateLimit), ConfigError> {
    const FLAG: &str = "relay-shard-rate-limit";
    let (shard, limit) = text
        .split_once(':')
        .ok_or_else(|| bad(FLAG, format!("{text:?} is not <shard>:<volume>/<period>")))?;
    let shard: ShardId = shard
        .parse()
        .map_err(|_| bad(FLAG, format!("{shard:?} is not a shard index")))?;
    let shard = RelayShard::try_new(cluster, shard).map_err(|e| bad(FLAG, e.to_string()))?;
    let limit: RateLimit = limit.parse().map_err(|e| bad(FLAG, format!("{e}")))?;
    if limit.is_unlimited() {
        return Err(bad(
            FLAG,
            format!("{text:?}: volume and period must be above 0"),
        ));
    }
    Ok((shard, limit))
}

fn parse_protected_shard(cluster: ClusterId, text: &str) -> Result<ProtectedShard, ConfigError> {
    let (shard, key) = text
        .split_once(':')
        .ok_or_else(|| bad("protected-shard", format!("{text:?} is not shard:pubkey")))?;
    let shard: ShardId = shard
        .parse()
        .map_err(|_| bad("protected-shard", format!("{shard:?} is not a shard index")))?;
    let shard =
        RelayShard::try_new(cluster, shard).map_err(|e| bad("protected-shard", e.to_string()))?;
    let digits = key.strip_prefix("0x").unwrap_or(key);
    let public_key = hex::decode(digits)
        .map_err(|_| bad("protected-shard", format!("public key {key:?} is not hex")))?;
    k256::ecdsa::VerifyingKey::from_sec1_bytes(&public_key).map_err(|_| {
        bad(
            "protected-shard",
            format!("{key:?} is not a secp256k1 public key"),
        )
    })?;
    Ok(ProtectedShard { shard, public_key })
}

/// The autosharding network (none with static sharding), the content topic
/// policy and the shards to subscribe to, from `--cluster-id`,
/// `--num-shards-in-network`, `--content-topic-shard`, `--shard` and
/// `--content-topic`.
fn sharding(
    cli: &Cli,
) -> Result<(Option<NetworkConfig>, TopicShards, BTreeSet<ShardId>), ConfigError> {
    // As nwaku: cluster 1 is The Waku Network, always autosharded over
    // its 8 shards (another `--num-shards-in-network` is ignored, with a
    // warning from `Cli`); elsewhere autosharding unless
    // `--num-shards-in-network 0`, over 1 shard without a count.
    let autosharding = match cli.num_shards_in_network {
        _ if cli.cluster_id == NetworkConfig::TWN.cluster_id => Some(NetworkConfig::TWN),
        Some(0) => None,
        count => Some(
            NetworkConfig::for_cluster(cli.cluster_id, count)
                .map_err(|e| bad("num-shards-in-network", e.to_string()))?,
        ),
    };
    let entries = cli
        .content_topic_shards
        .iter()
        .map(|e| e.parse::<TopicShardEntry>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| bad("content-topic-shard", reason))?;
    let dedicated: BTreeSet<ShardId> = entries.iter().map(|e| e.shard).collect();
    let topic_shards = TopicShards::new(
        autosharding,
        crate::topic_shards::table(cli.cluster_id, &entries),
    );
    let mut shards = BTreeSet::new();
    for shard in &cli.shards {
        let in_range = match autosharding {
            Some(net) => *shard < net.num_shards || dedicated.contains(shard),
            None => *shard <= MAX_SHARD_INDEX,
        };
        if !in_range {
            return Err(bad(
                "shard",
                match autosharding {
                    Some(net) => format!(
                        "{shard} is outside 0..={} (autosharding over {} shards; \
                         --num-shards-in-network 0 selects static sharding, \
                         --content-topic-shard names dedicated shards)",
                        net.num_shards - 1,
                        net.num_shards
                    ),
                    None => format!("{shard} is outside 0..={MAX_SHARD_INDEX}"),
                },
            ));
        }
        shards.insert(*shard);
    }
    // As nwaku, static sharding leaves content topics without a shard out
    // (the node logs a warning for each, see `compose::log_mounted`).
    for topic in &cli.content_topics {
        match topic_shards.shard(topic) {
            Ok(shard) => {
                shards.insert(shard.shard);
            }
            Err(TopicShardError::Disabled) => {}
            Err(TopicShardError::Mapping(e)) => return Err(bad("content-topic", e.to_string())),
        }
    }
    // Without `--shard`, every autoshard (content topics add nothing new).
    if let Some(net) = autosharding
        && cli.shards.is_empty()
    {
        shards.extend(0..net.num_shards);
    }
    // Dedicated shards come on top: a relay node of The Waku Network still
    // relays at least one of its shards (64/WAKU2-NETWORK).
    let twn = NetworkConfig::TWN;
    if cli.relay && cli.cluster_id == twn.cluster_id && !shards.iter().any(|s| *s < twn.num_shards)
    {
        return Err(bad(
            "shard",
            format!(
                "a relay node of The Waku Network relays at least one of its shards 0..={}",
                twn.num_shards - 1
            ),
        ));
    }
    Ok((autosharding, topic_shards, shards))
}

/// Refuses services that cannot run as configured: lightpush without relay
/// (nwaku refuses it too), filter limits of 0. The filter service starts
/// without relay, as in nwaku, though it then has nothing to push.
fn check_services(cli: &Cli) -> Result<(), ConfigError> {
    if cli.lightpush && !cli.relay {
        return Err(bad(
            "lightpush",
            "the lightpush service needs relay (--relay=true)",
        ));
    }
    if !cli.filter {
        return Ok(());
    }
    for (flag, value) in [
        (
            "filter-subscription-timeout",
            usize::try_from(cli.filter_subscription_timeout).unwrap_or(usize::MAX),
        ),
        ("filter-max-peers-to-serve", cli.filter_max_peers_to_serve),
        ("filter-max-criteria", cli.filter_max_criteria),
    ] {
        if value == 0 {
            return Err(bad(flag, "must be at least 1"));
        }
    }
    Ok(())
}

/// The WSS key and certificate, read now so that an unusable file is a bad
/// flag (exit code 2) rather than a failure to start.
fn wss_files(cli: &Cli) -> Result<Option<WssFiles>, ConfigError> {
    if !cli.websocket_secure_support {
        return Ok(None);
    }
    let required = |flag: &'static str, path: &Option<PathBuf>| {
        path.clone()
            .ok_or_else(|| bad(flag, "required with --websocket-secure-support"))
    };
    let files = WssFiles {
        key: required("websocket-secure-key-path", &cli.websocket_secure_key_path)?,
        cert: required(
            "websocket-secure-cert-path",
            &cli.websocket_secure_cert_path,
        )?,
    };
    crate::transport::load_tls(Some(&files), &[]).map_err(|e| match e {
        crate::transport::TransportError::TlsFile { flag, path, reason } => {
            bad(flag, format!("{path}: {reason}"))
        }
        other => bad("websocket-secure-support", other.to_string()),
    })?;
    Ok(Some(files))
}

/// The archive's settings with `--store`.
fn store_settings(cli: &Cli) -> Result<Option<StoreSettings>, ConfigError> {
    if !cli.store {
        return Ok(None);
    }
    cli.store_message_db_url
        .parse::<waku_store::StoreUrl>()
        .map_err(|e| bad("store-message-db-url", e.to_string()))?;
    let max_db_connections = match cli.store_max_num_db_connections {
        0 => return Err(bad("store-max-num-db-connections", "must be at least 1")),
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    Ok(Some(StoreSettings {
        db_url: cli.store_message_db_url.clone(),
        retention: cli
            .store_message_retention_policy
            .parse()
            .map_err(|e| bad("store-message-retention-policy", format!("{e}")))?,
        legacy: cli.legacy_store,
        max_db_connections,
    }))
}

/// `port` moved by `--ports-shift`; 0 (a free port) stays 0.
fn shifted(flag: &'static str, port: u16, shift: u16) -> Result<u16, ConfigError> {
    if port == 0 {
        return Ok(0);
    }
    port.checked_add(shift).ok_or_else(|| {
        bad(
            "ports-shift",
            format!("--{flag} {port} shifted by {shift} is above 65535"),
        )
    })
}

/// An optional `--<flag> <multiaddr>/p2p/<peer id>`.
fn optional_peer(
    flag: &'static str,
    text: Option<&str>,
) -> Result<Option<(PeerId, Multiaddr)>, ConfigError> {
    text.map(|s| parse_peer_addr(flag, s)).transpose()
}

impl TryFrom<&Cli> for NodeConfig {
    type Error = ConfigError;

    fn try_from(cli: &Cli) -> Result<Self, Self::Error> {
        let keypair = parse_nodekey(cli.nodekey.as_deref())?;
        let (autosharding, topic_shards, shards) = sharding(cli)?;
        check_services(cli)?;
        let shift = cli.ports_shift;
        let staticnodes = cli
            .staticnodes
            .iter()
            .map(|s| parse_peer_addr("staticnode", s))
            .collect::<Result<_, _>>()?;
        let protected_shards = cli
            .protected_shards
            .iter()
            .map(|s| parse_protected_shard(cli.cluster_id, s))
            .collect::<Result<_, _>>()?;
        let shard_rate_limits = cli
            .relay_shard_rate_limits
            .iter()
            .map(|s| parse_shard_rate_limit(cli.cluster_id, s))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            keypair,
            listen_address: cli.listen_address,
            tcp_port: shifted("tcp-port", cli.tcp_port, shift)?,
            websocket_port: (cli.websocket_support || cli.websocket_secure_support)
                .then(|| shifted("websocket-port", cli.websocket_port, shift))
                .transpose()?,
            wss: wss_files(cli)?,
            wss_trust: Vec::new(),
            cluster_id: cli.cluster_id,
            autosharding,
            topic_shards,
            shards,
            content_topics: cli.content_topics.clone(),
            staticnodes,
            discv5: discv5_settings(cli)?,
            dns_discovery: dns_discovery_settings(cli)?,
            peer_limits: crate::peer_manager::PeerLimits::new(
                cli.max_connections,
                &cli.relay_service_ratio,
                cli.max_relay_peers,
                cli.ip_colocation_limit,
            )
            .map_err(|e| bad("relay-service-ratio", e.to_string()))?,
            peer_store_capacity: cli.peer_store_capacity,
            relay_peer_exchange: cli.relay_peer_exchange,
            peer_persistence: cli
                .peer_persistence
                .then(|| cli.peer_persistence_path.clone()),
            peer_exchange: cli.peer_exchange,
            peer_exchange_node: optional_peer(
                "peer-exchange-node",
                cli.peer_exchange_node.as_deref(),
            )?,
            max_message_size: parse_msg_size(&cli.max_msg_size)
                .map_err(|reason| bad("max-msg-size", reason))?,
            protected_shards,
            shard_rate_limits,
            relay: cli.relay,
            store: store_settings(cli)?,
            filter: cli.filter.then_some(FilterSettings {
                subscription_timeout: std::time::Duration::from_secs(
                    cli.filter_subscription_timeout,
                ),
                max_peers: cli.filter_max_peers_to_serve,
                max_criteria: cli.filter_max_criteria,
            }),
            filternode: optional_peer("filternode", cli.filternode.as_deref())?,
            lightpush: cli.lightpush,
            lightpushnode: optional_peer("lightpushnode", cli.lightpushnode.as_deref())?,
            rate_limits: crate::rate_limits::RateLimitSettings::parse(&cli.rate_limits)
                .map_err(|e| bad("rate-limit", e.to_string()))?,
            storenode: optional_peer("storenode", cli.storenode.as_deref())?,
            rest: cli
                .rest
                .then(|| shifted("rest-port", cli.rest_port, shift))
                .transpose()?
                .map(|port| std::net::SocketAddr::new(cli.rest_address, port)),
            rest_admin: cli.rest_admin,
            rest_relay_cache_capacity: cli.rest_relay_cache_capacity,
            metrics: cli
                .metrics_server
                .then(|| shifted("metrics-server-port", cli.metrics_server_port, shift))
                .transpose()?
                .map(|port| std::net::SocketAddr::new(cli.metrics_server_address, port)),
            ext_ip: parse_nat(&cli.nat).map_err(|reason| bad("nat", reason))?,
            log_filter: log_filter(&cli.log_level).map_err(|reason| bad("log-level", reason))?,
            log_control: None,
        })
    }
}

/// DNS discovery settings (`--dns-discovery-url`, `--dns-addrs-name-server`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DnsDiscoverySettings {
    /// The trees to walk.
    pub urls: Vec<waku_discovery::dns::TreeUrl>,
    /// The DNS servers asked.
    pub name_servers: Vec<std::net::SocketAddr>,
}

/// `--dns-discovery-url` and `--dns-addrs-name-server` into settings;
/// `None` without a URL. A URL or server that does not parse names its flag.
fn dns_discovery_settings(cli: &Cli) -> Result<Option<DnsDiscoverySettings>, ConfigError> {
    if cli.dns_discovery_urls.iter().all(|u| u.trim().is_empty()) {
        return Ok(None);
    }
    let urls = cli
        .dns_discovery_urls
        .iter()
        .filter(|u| !u.trim().is_empty())
        .map(|u| {
            u.trim()
                .parse()
                .map_err(|e| bad("dns-discovery-url", format!("{u}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let name_servers = cli
        .dns_addrs_name_servers
        .iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<std::net::SocketAddr>()
                .or_else(|_| {
                    s.parse::<IpAddr>()
                        .map(|ip| std::net::SocketAddr::new(ip, 53))
                })
                .map_err(|_| {
                    bad(
                        "dns-addrs-name-server",
                        format!("{s}: not an IP or IP:port"),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(DnsDiscoverySettings { urls, name_servers }))
}

/// discv5 settings (`--discv5-*`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Discv5Settings {
    /// UDP port (`--discv5-udp-port`, after `--ports-shift`).
    pub udp_port: u16,
    /// Records contacted first (`--discv5-bootstrap-node`).
    pub bootstrap: Vec<waku_enr::WakuEnr>,
    /// The `--discv5-bootstrap-node` values that did not decode, with why.
    pub invalid_bootstrap: Vec<String>,
    /// Whether peers' view of our address updates the ENR.
    pub enr_auto_update: bool,
}

/// `--discv5-*` into settings: `None` without `--discv5-discovery`; a
/// bootstrap record that does not decode is skipped with a warning.
fn discv5_settings(cli: &Cli) -> Result<Option<Discv5Settings>, ConfigError> {
    if !cli.discv5_discovery {
        return Ok(None);
    }
    // As nwaku (waku_discv5.nim), a record that does not decode is skipped
    // with a warning (logged when discv5 starts), not fatal: the other
    // records still bootstrap.
    let mut bootstrap = Vec::new();
    let mut invalid_bootstrap = Vec::new();
    for text in &cli.discv5_bootstrap_nodes {
        match waku_enr::WakuEnr::decode(text.trim()) {
            Ok(enr) => bootstrap.push(enr),
            Err(e) => invalid_bootstrap.push(format!("{text}: {e}")),
        }
    }
    Ok(Some(Discv5Settings {
        udp_port: shifted("discv5-udp-port", cli.discv5_udp_port, cli.ports_shift)?,
        bootstrap,
        invalid_bootstrap,
        enr_auto_update: cli.discv5_enr_auto_update,
    }))
}

impl NodeConfig {
    /// The default maximum message size (nwaku's 150 KiB).
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = DEFAULT_MAX_MESSAGE_SIZE;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn nwaku_levels_map_to_tracing_levels_with_notice_above_info() {
        let level_of = |name: &str| {
            let directive = log_filter(name).unwrap();
            directive
                .split(',')
                .find_map(|d| d.strip_prefix("waku_node="))
                .unwrap()
                .to_owned()
        };
        assert_eq!(level_of("info"), "info");
        assert_eq!(level_of("NOTICE"), "warn");
        assert_eq!(level_of("Warn"), "warn");
        assert_eq!(level_of("FATAL"), "error");
        // Dependencies follow a stricter level too.
        assert!(log_filter("ERROR").unwrap().starts_with("error,"));
        assert!(log_filter("DEBUG").unwrap().starts_with("warn,"));
        assert!(log_filter("LOUD").is_err());
    }

    #[test]
    fn message_sizes_in_nwaku_notation() {
        assert_eq!(parse_msg_size("150KiB"), Ok(153_600));
        assert_eq!(parse_msg_size("1MiB"), Ok(1_048_576));
        assert_eq!(parse_msg_size("2048"), Ok(2048));
        assert_eq!(parse_msg_size("10kb"), Ok(10_240));
        assert!(parse_msg_size("abc").is_err());
        assert!(parse_msg_size("10GB").is_err());
        assert!(parse_msg_size("0").is_err());
    }

    #[test]
    fn ports_shift_moves_every_listening_port_but_free_ones() {
        let config = |args: &[&str]| {
            let mut all = vec!["wakunode"];
            all.extend_from_slice(args);
            let (cli, _) = Cli::try_parse_from_with_warnings(all).unwrap();
            NodeConfig::try_from(&cli)
        };
        let shifted = config(&[
            "--ports-shift=2",
            "--websocket-support",
            "--metrics-server",
            "--rest-port=0",
        ])
        .unwrap();
        assert_eq!(shifted.tcp_port, 60002);
        assert_eq!(shifted.websocket_port, Some(8002));
        assert_eq!(shifted.rest.map(|a| a.port()), Some(0));
        assert_eq!(shifted.metrics.map(|a| a.port()), Some(8010));
        let err = config(&["--ports-shift=10", "--tcp-port=65530"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("--tcp-port 65530 shifted by 10 is above 65535"),
            "{err}"
        );
    }
}

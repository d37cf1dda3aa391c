//! Command-line flags of `wakunode`, named as nwaku names them so operators'
//! scripts keep working.

mod preset;
pub mod sources;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches, Parser};

pub use preset::Preset;

/// `wakunode` command-line flags (nwaku names and defaults).
///
/// Boolean flags accept nwaku's forms: `--relay`, `--relay=true`, `--relay=false`.
#[derive(Debug, Clone, Parser)]
#[command(name = "wakunode", version, about = "A Waku v2 node")]
pub struct Cli {
    /// TOML file of flags, keyed by their long names (`cluster-id = 42`,
    /// `shard = [0, 1]`); flags on the command line and `WAKUNODE2_*`
    /// environment variables take precedence.
    #[arg(long)]
    pub config_file: Option<PathBuf>,

    /// A network's settings: `twn` (The Waku Network: cluster 1, 8
    /// autoshards, 150 KiB messages). Overrides the flags it sets, with a
    /// warning.
    #[arg(long, default_value = "")]
    pub preset: String,

    /// Added to every listening port (TCP, WebSocket, REST, metrics) that is
    /// not 0, to run several nodes on one host.
    #[arg(long, default_value_t = 0)]
    pub ports_shift: u16,

    /// P2P node private key as 64 hex characters (secp256k1); random when absent.
    #[arg(long)]
    pub nodekey: Option<String>,

    /// Listening address for the libp2p transports.
    #[arg(long, default_value = "0.0.0.0")]
    pub listen_address: IpAddr,

    /// TCP listening port (0 picks a free one).
    #[arg(long, default_value_t = 60000)]
    pub tcp_port: u16,

    /// Enable the WebSocket transport.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub websocket_support: bool,

    /// WebSocket listening port (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub websocket_port: u16,

    /// Enable secure WebSocket (wss) with the key and certificate below.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub websocket_secure_support: bool,

    /// Secure WebSocket private key file (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long)]
    pub websocket_secure_key_path: Option<PathBuf>,

    /// Secure WebSocket certificate chain file (PEM).
    #[arg(long)]
    pub websocket_secure_cert_path: Option<PathBuf>,

    /// Cluster id the node runs in; peers of another cluster are disconnected.
    #[arg(long, default_value_t = 0)]
    pub cluster_id: u16,

    /// Shard to subscribe to (repeatable; with autosharding below the shard
    /// count). Default: every shard with autosharding, none with static
    /// sharding.
    #[arg(long = "shard")]
    pub shards: Vec<u16>,

    /// Number of shards in the network (autosharding); 0 means static
    /// sharding. Default as nwaku: 1 shard. Cluster 1 (The Waku Network) is
    /// always autosharded over its 8 shards; another value is ignored there
    /// with a warning, as nwaku does.
    #[arg(long)]
    pub num_shards_in_network: Option<u16>,

    /// Content topic whose shard the node subscribes to (repeatable): from
    /// `--content-topic-shard`, else its autoshard; skipped with a warning
    /// under static sharding.
    #[arg(long = "content-topic")]
    pub content_topics: Vec<String>,

    /// A content topic's or application's dedicated shard, as
    /// `/app/1/name/proto=3` or `app=3` (repeatable; not an nwaku flag).
    /// Consulted before autosharding for REST, lightpush and filter requests
    /// without a pubsub topic, and for `--content-topic`; the shards it names
    /// may lie beyond the autosharded ones.
    #[arg(long = "content-topic-shard")]
    pub content_topic_shards: Vec<String>,

    /// Peer multiaddr (with /p2p/<peer id>) to connect to and keep connected (repeatable).
    #[arg(long = "staticnode")]
    pub staticnodes: Vec<String>,

    /// Find peers through discv5 (33/WAKU2-DISCV5) and dial those of our
    /// cluster and shards.
    #[arg(long = "discv5-discovery", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub discv5_discovery: bool,

    /// UDP port of discv5 (shifted by `--ports-shift`).
    #[arg(long = "discv5-udp-port", default_value_t = 9000)]
    pub discv5_udp_port: u16,

    /// ENR (`enr:...`) of a discv5 bootstrap node (repeatable).
    #[arg(long = "discv5-bootstrap-node")]
    pub discv5_bootstrap_nodes: Vec<String>,

    /// Let the addresses peers see us at update our ENR's ip and udp.
    #[arg(long = "discv5-enr-auto-update", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub discv5_enr_auto_update: bool,

    /// Maximum size of a serialized message, e.g. 150KiB, 1MiB, 2048.
    #[arg(long, default_value = "150KiB")]
    pub max_msg_size: String,

    /// Protected shard and the public key (hex, compressed or uncompressed
    /// secp256k1) that signs its messages, as `shard:pubkey` (repeatable).
    #[arg(long = "protected-shard")]
    pub protected_shards: Vec<String>,

    /// Relay rate limit of one shard, `<shard>:<volume>/<period>` (e.g.
    /// `3:10/1s`; repeatable; not an nwaku flag): messages beyond it are
    /// ignored, never forwarded, without penalising their sender. For a
    /// project's dedicated shards, next to `--protected-shard`.
    #[arg(long = "relay-shard-rate-limit")]
    pub relay_shard_rate_limits: Vec<String>,

    /// NAT traversal: `any`, `none`, `upnp`, `pmp` (all without effect here:
    /// the ENR carries the listen address) or `extip:IP` (advertise IP in the ENR).
    #[arg(long, default_value = "any")]
    pub nat: String,

    /// Enable the relay protocol.
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub relay: bool,

    /// Serve the store protocol (archive relayed messages).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub store: bool,

    /// Store service peer to query (multiaddr with /p2p/<peer id>).
    #[arg(long)]
    pub storenode: Option<String>,

    /// Message database: `sqlite://path`, `postgres://user:pass@host:port/db` or `memory://`.
    #[arg(long, default_value = "sqlite://store.sqlite3")]
    pub store_message_db_url: String,

    /// Retention: `time:<seconds>`, `capacity:<count>` or `size:<N>MB|GB`.
    #[arg(long, default_value = "time:172800")]
    pub store_message_retention_policy: String,

    /// Also serve the legacy store protocol (/vac/waku/store/2.0.0-beta4).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub legacy_store: bool,

    /// Database connections at most: the PostgreSQL pool size; for SQLite,
    /// the queries run at once (never more than one less than the cores).
    #[arg(long, default_value_t = 50)]
    pub store_max_num_db_connections: u32,

    /// Serve the filter protocol (push relayed messages to light clients).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub filter: bool,

    /// Filter service peer for this node's filter client (multiaddr with /p2p/<peer id>).
    #[arg(long)]
    pub filternode: Option<String>,

    /// Seconds a filter subscription lives without a refresh.
    #[arg(long, default_value_t = 300)]
    pub filter_subscription_timeout: u64,

    /// Filter subscribers served at most.
    #[arg(long, default_value_t = 1000)]
    pub filter_max_peers_to_serve: usize,

    /// Filter criteria per subscriber at most.
    #[arg(long, default_value_t = 1000)]
    pub filter_max_criteria: usize,

    /// Serve the lightpush protocol (v3 and legacy v2; needs relay).
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub lightpush: bool,

    /// Lightpush service peer for this node's lightpush client (multiaddr with /p2p/<peer id>).
    #[arg(long)]
    pub lightpushnode: Option<String>,

    /// EIP-1459 DNS tree of peers, `enrtree://<key>@<domain>` (repeatable):
    /// its records bootstrap discv5 and are dialled.
    #[arg(long = "dns-discovery-url")]
    pub dns_discovery_urls: Vec<String>,

    /// DNS server asked for `--dns-discovery-url` trees, as an IP (port 53)
    /// or IP:port (repeatable).
    #[arg(long = "dns-addrs-name-server", default_values_t = ["1.1.1.1".to_owned(), "1.0.0.1".to_owned()])]
    pub dns_addrs_name_servers: Vec<String>,

    /// Most connected peers (static nodes and peers added through the
    /// admin API are never refused).
    #[arg(long = "max-connections", default_value_t = 50)]
    pub max_connections: usize,

    /// Split of `--max-connections` between relay and service peers,
    /// `relay:service` adding up to 100.
    #[arg(long = "relay-service-ratio", default_value = "60:40")]
    pub relay_service_ratio: String,

    /// Most relay peers (nwaku's deprecated form of the ratio; wins over it).
    #[arg(long = "max-relay-peers")]
    pub max_relay_peers: Option<usize>,

    /// Most peers behind one IP address (0: no limit; loopback is never
    /// counted).
    #[arg(long = "ip-colocation-limit", default_value_t = 5)]
    pub ip_colocation_limit: usize,

    /// Most disconnected peers remembered (connected and static ones always
    /// are); a departed peer is forgotten after 30 minutes anyway.
    #[arg(long = "peer-store-capacity", default_value_t = 1024)]
    pub peer_store_capacity: usize,

    /// Keep the peers the node talked to in an SQLite file across restarts
    /// and redial them at start.
    #[arg(long = "peer-persistence", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub peer_persistence: bool,

    /// The file `--peer-persistence` keeps peers in (nwaku uses `peers.db`
    /// in the working directory).
    #[arg(long = "peer-persistence-path", default_value = "peers.db")]
    pub peer_persistence_path: std::path::PathBuf,

    /// Serve peer exchange (34/WAKU2-PEER-EXCHANGE) from the peers discv5
    /// finds.
    #[arg(long = "peer-exchange", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub peer_exchange: bool,

    /// Gossipsub peer exchange: when pruning a peer from a shard's mesh,
    /// name other peers of the shard with their signed peer records, dial
    /// the peers others name to us, and send our own signed record over
    /// identify.
    #[arg(long = "relay-peer-exchange", default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub relay_peer_exchange: bool,

    /// Peer exchange service peer to ask for peers (multiaddr with
    /// /p2p/<peer id>), at start and every minute.
    #[arg(long = "peer-exchange-node")]
    pub peer_exchange_node: Option<String>,

    /// Per-peer request rate limit, `[protocol:]volume/period` (e.g.
    /// `lightpush:10/1s`, `store:100/1m`; protocols store, storev2, storev3,
    /// lightpush, filter, px, global; repeatable; without a protocol it
    /// applies to all but filter).
    #[arg(long = "rate-limit")]
    pub rate_limits: Vec<String>,

    /// Serve the REST API.
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub rest: bool,

    /// REST API listening address.
    #[arg(long, default_value = "127.0.0.1")]
    pub rest_address: IpAddr,

    /// REST API port (0 picks a free one).
    #[arg(long, default_value_t = 8645)]
    pub rest_port: u16,

    /// Serve the `/admin` REST routes.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub rest_admin: bool,

    /// Messages the relay REST cache keeps (all topics together).
    #[arg(long, default_value_t = 50)]
    pub rest_relay_cache_capacity: usize,

    /// Serve Prometheus metrics.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub metrics_server: bool,

    /// Metrics server listening address.
    #[arg(long, default_value = "127.0.0.1")]
    pub metrics_server_address: IpAddr,

    /// Metrics server port (0 picks a free one).
    #[arg(long, default_value_t = 8008)]
    pub metrics_server_port: u16,

    /// Log level: TRACE, DEBUG, INFO, NOTICE, WARN, ERROR or FATAL.
    #[arg(long, default_value = "INFO")]
    pub log_level: String,

    /// Log line format: TEXT (`INF <time> <message> topics=... key=value`,
    /// as nwaku) or JSON (one object a line), in any letter case.
    #[arg(long, default_value = "TEXT")]
    pub log_format: String,
}

/// Flags that only matter together with another flag that is off: for each,
/// the flag given (from any source) and the one it needs.
const DEPENDENT_FLAGS: &[(&str, &str)] = &[
    ("legacy_store", "store"),
    ("store_message_db_url", "store"),
    ("store_message_retention_policy", "store"),
    ("store_max_num_db_connections", "store"),
    ("websocket_secure_key_path", "websocket_secure_support"),
    ("websocket_secure_cert_path", "websocket_secure_support"),
    ("filter_subscription_timeout", "filter"),
    ("filter_max_peers_to_serve", "filter"),
    ("filter_max_criteria", "filter"),
    ("peer_persistence_path", "peer_persistence"),
    ("relay_peer_exchange", "relay"),
    ("rest_address", "rest"),
    ("rest_port", "rest"),
    ("rest_admin", "rest"),
    ("rest_relay_cache_capacity", "rest"),
    ("metrics_server_address", "metrics_server"),
    ("metrics_server_port", "metrics_server"),
];

/// nwaku flags for features this node does not have yet (discovery, peer
/// management, RLN, store sync, mix, ...), and whether each takes a value
/// (`--flag=v` or `--flag v`) or is a boolean (`--flag`, `--flag=false`).
/// They are accepted and ignored with a warning, so that command lines,
/// compose files and test suites written for nwaku start this node; flags
/// nwaku does not know either stay an error.
const NWAKU_FLAGS_NOT_YET: &[(&str, bool)] = &[
    ("agent-string", true),
    ("discv5-bits-per-hop", true),
    ("discv5-bucket-ip-limit", true),
    ("discv5-table-ip-limit", true),
    ("dns-discovery", false),
    ("dns4-domain-name", true),
    ("ext-multiaddr", true),
    ("ext-multiaddr-only", false),
    ("keep-alive", false),
    ("metrics-logging", false),
    ("mix", false),
    ("mixkey", true),
    ("mixnode", true),
    ("relay-client", false),
    ("relay-shard-manager", false),
    ("reliability", false),
    ("rendezvous", false),
    ("rest-allow-origin", true),
    ("rln-relay", false),
    ("rln-relay-chain-id", true),
    ("rln-relay-cred-password", true),
    ("rln-relay-cred-path", true),
    ("rln-relay-dynamic", false),
    ("rln-relay-epoch-sec", true),
    ("rln-relay-eth-client-address", true),
    ("rln-relay-eth-contract-address", true),
    ("rln-relay-eth-private-key", true),
    ("rln-relay-membership-index", true),
    ("rln-relay-user-message-limit", true),
    ("store-message-db-migration", false),
    ("store-message-db-vacuum", false),
    ("store-resume", false),
    ("store-sync", false),
    ("store-sync-interval", true),
    ("store-sync-range", true),
    ("store-sync-relay-jitter", true),
];

/// Removes the [`NWAKU_FLAGS_NOT_YET`] from `args` (with their values), and
/// says which were given.
fn strip_flags_not_yet(args: Vec<std::ffi::OsString>) -> (Vec<std::ffi::OsString>, Vec<String>) {
    let mut kept = Vec::with_capacity(args.len());
    let mut ignored = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        let known = text.strip_prefix("--").and_then(|flag| {
            let (name, inline) = match flag.split_once('=') {
                Some((name, _)) => (name, true),
                None => (flag, false),
            };
            NWAKU_FLAGS_NOT_YET
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, takes_value)| (*n, *takes_value, inline))
        });
        let Some((name, takes_value, inline)) = known else {
            kept.push(arg);
            continue;
        };
        if takes_value && !inline {
            // `--flag value`: the value goes too, unless it is the next flag.
            if args
                .peek()
                .is_some_and(|next| !next.to_string_lossy().starts_with("--"))
            {
                args.next();
            }
        }
        ignored.push(format!(
            "--{name} is an nwaku flag for a feature this node does not have yet: ignored"
        ));
    }
    (kept, ignored)
}

impl Cli {
    /// Parses the process arguments, the `WAKUNODE2_*` environment
    /// variables and the `--config-file` like [`Parser::try_parse`], also
    /// returning warnings: a flag given that has no effect because the flag
    /// it depends on is off (for example `--legacy-store` without `--store`;
    /// nwaku accepts such flags silently, an operator should at least be
    /// told), an nwaku flag of a feature this node does not have yet (ignored
    /// rather than refused), an environment variable that names no flag, and
    /// a value a preset overrides.
    pub fn try_parse_with_warnings() -> Result<(Self, Vec<String>), clap::Error> {
        Self::try_parse_from_sources(std::env::args_os(), std::env::vars())
    }

    /// [`Cli::try_parse_with_warnings`] over the given arguments (the first
    /// one is the program name), without environment variables.
    pub fn try_parse_from_with_warnings<I, T>(args: I) -> Result<(Self, Vec<String>), clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::try_parse_from_sources(args, std::iter::empty())
    }

    /// [`Cli::try_parse_with_warnings`] over the given arguments and
    /// environment variables.
    pub fn try_parse_from_sources<I, T>(
        args: I,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Self, Vec<String>), clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let program = args.first().cloned().unwrap_or_else(|| "wakunode".into());
        let (command_line, mut ignored) = strip_flags_not_yet(args);
        let given = parse(command_line.clone(), "")?;
        let mut higher = flags_given(&given);
        higher.extend(flags_named(&ignored));

        let (env, env_file, mut warnings) = sources::env_layer(env, is_flag, &higher);
        let (env_args, env_ignored) = strip_flags_not_yet(with_program(&program, env.args));
        parse(env_args.clone(), "environment: ")?;
        higher.extend(env.flags);

        let file_path = given
            .get_one::<PathBuf>("config_file")
            .cloned()
            .or(env_file.map(PathBuf::from));
        let mut file_args = vec![program];
        let mut file_ignored = Vec::new();
        if let Some(path) = &file_path {
            let file = sources::file_layer(path, is_flag, &higher)
                .map_err(|e| clap::Error::raw(ErrorKind::ValueValidation, format!("{e}\n")))?;
            let (kept, dropped) = strip_flags_not_yet(with_program(&file_args[0], file.args));
            parse(kept.clone(), &format!("config file {}: ", path.display()))?;
            (file_args, file_ignored) = (kept, dropped);
        }

        // Lowest first: no flag is in two layers, so the order only keeps
        // the command line's arguments together at the end.
        let mut merged = file_args;
        merged.extend(env_args.into_iter().skip(1));
        merged.extend(command_line.into_iter().skip(1));
        if let Some(path) = file_path.filter(|_| !higher_has_file(&given)) {
            merged.push(format!("--config-file={}", path.display()).into());
        }
        let matches = parse(merged, "")?;
        let mut cli = <Self as FromArgMatches>::from_arg_matches(&matches)?;

        // A boolean dependent set to false asks for nothing: no warning.
        let set = |id: &str| {
            matches.value_source(id) == Some(ValueSource::CommandLine)
                && !matches!(matches.try_get_one::<bool>(id), Ok(Some(false)))
        };
        let on = |id: &str| matches.get_one::<bool>(id).copied().unwrap_or(false);
        let flag = |id: &str| format!("--{}", id.replace('_', "-"));
        warnings.extend(
            DEPENDENT_FLAGS
                .iter()
                .filter(|(id, needs)| set(id) && !on(needs))
                .map(|(id, needs)| format!("{} has no effect without {}", flag(id), flag(needs))),
        );
        ignored.extend(env_ignored);
        ignored.extend(file_ignored);
        warnings.extend(ignored);
        let preset: Preset = cli.preset.parse().map_err(|e: preset::UnknownPreset| {
            clap::Error::raw(ErrorKind::InvalidValue, format!("{e}\n"))
        })?;
        let explicit = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        warnings.extend(preset.apply(&mut cli, explicit));
        let twn = waku_sharding::NetworkConfig::TWN;
        if cli.cluster_id == twn.cluster_id
            && let Some(count) = cli.num_shards_in_network
            && count != twn.num_shards
        {
            warnings.push(format!(
                "--num-shards-in-network {count} is ignored on cluster 1: The Waku Network is autosharded over {} shards",
                twn.num_shards
            ));
        }
        Ok((cli, warnings))
    }
}

/// Whether the command line named the config file itself.
fn higher_has_file(given: &ArgMatches) -> bool {
    given.value_source("config_file") == Some(ValueSource::CommandLine)
}

/// `args` after the program name `program`.
fn with_program(program: &OsString, args: Vec<OsString>) -> Vec<OsString> {
    std::iter::once(program.clone()).chain(args).collect()
}

/// Parses `args` with the flags' rules; an error's first line gets `source`
/// in front, so that it says where the bad value came from.
fn parse(args: Vec<OsString>, source: &str) -> Result<ArgMatches, clap::Error> {
    Cli::command().try_get_matches_from(args).map_err(|e| {
        if source.is_empty() || e.kind() == ErrorKind::DisplayHelp {
            return e;
        }
        let rendered = e.to_string();
        let first = rendered.lines().next().unwrap_or_default();
        let detail = first.strip_prefix("error: ").unwrap_or(first);
        clap::Error::raw(e.kind(), format!("{source}{detail}\n"))
    })
}

/// Whether `name` is the long name of one of our flags or of an nwaku flag
/// we accept and ignore.
fn is_flag(name: &str) -> bool {
    Cli::command()
        .get_arguments()
        .any(|arg| arg.get_long() == Some(name))
        || NWAKU_FLAGS_NOT_YET.iter().any(|(flag, _)| *flag == name)
}

/// The long names of the flags `matches` got from its arguments.
fn flags_given(matches: &ArgMatches) -> BTreeSet<String> {
    Cli::command()
        .get_arguments()
        .filter(|arg| matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|arg| arg.get_long().map(str::to_owned))
        .collect()
}

/// The flag names in the "ignored" warnings of [`strip_flags_not_yet`].
fn flags_named(warnings: &[String]) -> BTreeSet<String> {
    warnings
        .iter()
        .filter_map(|w| w.split_whitespace().next()?.strip_prefix("--"))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::Cli;

    #[test]
    fn flags_that_need_an_unset_flag_are_reported() {
        let (_, warnings) = Cli::try_parse_from_with_warnings([
            "wakunode",
            "--legacy-store",
            "--store-message-db-url=memory://",
            "--websocket-secure-key-path=/k.pem",
            "--metrics-server-port=9000",
        ])
        .unwrap();
        assert_eq!(
            warnings,
            [
                "--legacy-store has no effect without --store",
                "--store-message-db-url has no effect without --store",
                "--websocket-secure-key-path has no effect without --websocket-secure-support",
                "--metrics-server-port has no effect without --metrics-server",
            ]
        );
    }

    #[test]
    fn nwaku_flags_of_missing_features_are_ignored_with_a_warning() {
        let (cli, warnings) = Cli::try_parse_from_with_warnings([
            "wakunode",
            "--discv5-bits-per-hop",
            "1",
            "--cluster-id",
            "42",
            "--keep-alive=true",
            "--discv5-table-ip-limit=10",
            "--rln-relay-eth-client-address",
            "http://127.0.0.1:8545",
            "--metrics-logging=false",
            "--store-sync",
            "--relay",
        ])
        .unwrap();
        // The values went with their flags; the flags around them still parse.
        assert_eq!(cli.cluster_id, 42);
        assert!(cli.relay);
        let named: Vec<&str> = warnings
            .iter()
            .filter_map(|w| w.split_whitespace().next())
            .collect();
        assert_eq!(
            named,
            [
                "--discv5-bits-per-hop",
                "--keep-alive",
                "--discv5-table-ip-limit",
                "--rln-relay-eth-client-address",
                "--metrics-logging",
                "--store-sync",
            ]
        );
        assert!(
            warnings[0].ends_with("does not have yet: ignored"),
            "{warnings:?}"
        );
        // A flag nwaku does not know either stays an error.
        for refused in ["--no-such-flag", "--preset=nope"] {
            assert!(
                Cli::try_parse_from_with_warnings(["wakunode", refused]).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_shard_count_for_the_waku_network_is_reported_as_ignored() {
        let (_, warnings) = Cli::try_parse_from_with_warnings([
            "wakunode",
            "--cluster-id=1",
            "--num-shards-in-network=0",
        ])
        .unwrap();
        assert_eq!(
            warnings,
            [
                "--num-shards-in-network 0 is ignored on cluster 1: The Waku Network is autosharded over 8 shards"
            ]
        );
        for quiet in [
            &["wakunode", "--cluster-id=1", "--num-shards-in-network=8"][..],
            &["wakunode", "--cluster-id=1"],
            &["wakunode", "--cluster-id=7", "--num-shards-in-network=0"],
        ] {
            let (_, warnings) = Cli::try_parse_from_with_warnings(quiet).unwrap();
            assert!(warnings.is_empty(), "{quiet:?}: {warnings:?}");
        }
    }

    #[test]
    fn boolean_flags_set_to_false_are_not_reported() {
        let (_, warnings) = Cli::try_parse_from_with_warnings([
            "wakunode",
            "--legacy-store=false",
            "--rest=false",
            "--rest-admin=false",
        ])
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn flags_with_their_dependency_set_or_left_default_are_not_reported() {
        let (_, warnings) = Cli::try_parse_from_with_warnings([
            "wakunode",
            "--store",
            "--legacy-store",
            "--store-message-db-url=memory://",
            "--metrics-server=true",
            "--metrics-server-port=9000",
        ])
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_, warnings) =
            Cli::try_parse_from_with_warnings(["wakunode", "--store=false"]).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_flag_comes_from_the_command_line_then_the_environment_then_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("node.toml");
        std::fs::write(
            &file,
            "cluster-id = 5\nshard = [1, 2]\nrelay = false\nrest-port = 9000\n",
        )
        .unwrap();
        let file = file.to_str().unwrap().to_owned();
        let parse = |args: &[&str], vars: &[(&str, &str)]| {
            let mut all = vec!["wakunode", "--config-file", &file];
            all.extend_from_slice(args);
            Cli::try_parse_from_sources(all, env(vars)).unwrap().0
        };
        let cli = parse(&[], &[]);
        assert_eq!(
            (cli.cluster_id, cli.shards.clone(), cli.relay),
            (5, vec![1, 2], false)
        );
        assert_eq!(cli.rest_port, 9000);
        let cli = parse(
            &[],
            &[("WAKUNODE2_CLUSTER_ID", "6"), ("WAKUNODE2_SHARD", "3")],
        );
        assert_eq!((cli.cluster_id, cli.shards.clone()), (6, vec![3]));
        let cli = parse(
            &["--cluster-id=7", "--shard=4", "--shard=5", "--relay"],
            &[("WAKUNODE2_CLUSTER_ID", "6")],
        );
        assert_eq!(
            (cli.cluster_id, cli.shards, cli.relay),
            (7, vec![4, 5], true)
        );
        // The environment can name the file.
        let (cli, _) =
            Cli::try_parse_from_sources(["wakunode"], env(&[("WAKUNODE2_CONFIG_FILE", &file)]))
                .unwrap();
        assert_eq!(cli.cluster_id, 5);
    }

    #[test]
    fn a_bad_value_says_which_source_it_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("node.toml");
        std::fs::write(&file, "cluster-id = \"x\"\n").unwrap();
        let from_file = Cli::try_parse_from_with_warnings([
            "wakunode",
            &format!("--config-file={}", file.display()),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            from_file.starts_with(&format!(
                "error: config file {}: invalid value 'x' for '--cluster-id",
                file.display()
            )),
            "{from_file}"
        );
        let from_env =
            Cli::try_parse_from_sources(["wakunode"], env(&[("WAKUNODE2_TCP_PORT", "-1")]))
                .unwrap_err()
                .to_string();
        assert!(
            from_env.starts_with("error: environment: invalid value '-1' for '--tcp-port"),
            "{from_env}"
        );
        // A flag on the command line hides a bad value below it.
        Cli::try_parse_from_sources(
            ["wakunode", "--tcp-port=1"],
            env(&[("WAKUNODE2_TCP_PORT", "-1")]),
        )
        .unwrap();
    }

    #[test]
    fn unknown_environment_variables_are_warned_about() {
        let (_, warnings) =
            Cli::try_parse_from_sources(["wakunode"], env(&[("WAKUNODE2_NO_SUCH", "1")])).unwrap();
        assert_eq!(
            warnings,
            ["environment variable WAKUNODE2_NO_SUCH names no wakunode flag: ignored"]
        );
    }

    #[test]
    fn the_twn_preset_wins_over_the_flags_it_sets() {
        let (cli, warnings) = Cli::try_parse_from_with_warnings([
            "wakunode",
            "--preset=TWN",
            "--cluster-id=3",
            "--max-msg-size=1MiB",
        ])
        .unwrap();
        assert_eq!(cli.cluster_id, 1);
        assert_eq!(cli.num_shards_in_network, Some(8));
        assert_eq!(cli.max_msg_size, "150KiB");
        assert!(warnings[0].starts_with("--cluster-id 3 is overridden by --preset twn"));
        assert!(warnings[1].starts_with("--max-msg-size 1MiB is overridden by --preset twn"));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("RLN rate limiting is not implemented yet"))
        );
        let (cli, _) = Cli::try_parse_from_with_warnings(["wakunode"]).unwrap();
        assert_eq!(cli.cluster_id, 0);
    }
}

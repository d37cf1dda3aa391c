//! `waku enr decode` and `waku enr encode`.

use std::net::IpAddr;
use std::str::FromStr;

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};
use waku_enr::{Capabilities, Capability, SigningKey, WakuEnr, WakuEnrBuilder};
use waku_sharding::{ClusterId, RelayShards, ShardId};

/// The `waku enr` subcommands.
#[derive(Debug, Subcommand)]
pub enum EnrCommand {
    /// Print an ENR's fields as JSON.
    Decode {
        /// The record, `enr:...`.
        enr: String,
    },
    /// Build and sign an ENR and print it as `enr:...`.
    Encode(EncodeArgs),
}

/// Arguments of `waku enr encode`.
#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// The secp256k1 private key as 64 hex characters.
    #[arg(long)]
    nodekey: String,
    /// The sequence number.
    #[arg(long, default_value_t = 1)]
    seq: u64,
    /// The IP address (v4 or v6).
    #[arg(long)]
    ip: Option<IpAddr>,
    /// The TCP port (libp2p).
    #[arg(long)]
    tcp: Option<u16>,
    /// The UDP port (discv5).
    #[arg(long)]
    udp: Option<u16>,
    /// A multiaddr for the `multiaddrs` field (repeatable), e.g. /dns4/example.org/tcp/443/wss.
    #[arg(long = "multiaddr")]
    multiaddrs: Vec<String>,
    /// Capabilities, comma-separated: relay, store, filter, lightpush, sync, mix.
    #[arg(long)]
    waku2: Option<String>,
    /// The cluster id of the shards advertised.
    #[arg(long, requires = "shards")]
    cluster: Option<ClusterId>,
    /// A shard index (repeatable); needs --cluster.
    #[arg(long = "shard", requires = "cluster")]
    shards: Vec<ShardId>,
}

/// Runs an `enr` subcommand.
pub fn run(command: &EnrCommand) -> Result<String, String> {
    match command {
        EnrCommand::Decode { enr } => decode(enr),
        EnrCommand::Encode(args) => encode(args),
    }
}

fn decode(text: &str) -> Result<String, String> {
    let enr = WakuEnr::decode(text).map_err(|e| format!("invalid ENR: {e}"))?;
    let json =
        serde_json::to_string_pretty(&Value::Object(enr_json(&enr))).map_err(|e| e.to_string())?;
    Ok(format!("{json}\n"))
}

/// The JSON view of a record; absent fields are left out.
fn enr_json(enr: &WakuEnr) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("seq".into(), json!(enr.seq()));
    out.insert("node_id".into(), json!(enr.node_id()));
    out.insert("peer_id".into(), json!(enr.peer_id().to_string()));
    let optional = [
        ("ip", enr.ip4().map(|ip| json!(ip.to_string()))),
        ("tcp", enr.tcp4().map(|p| json!(p))),
        ("udp", enr.udp4().map(|p| json!(p))),
        ("ip6", enr.ip6().map(|ip| json!(ip.to_string()))),
        ("tcp6", enr.tcp6().map(|p| json!(p))),
        ("udp6", enr.udp6().map(|p| json!(p))),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            out.insert(key.into(), value);
        }
    }
    if !enr.multiaddrs().is_empty() {
        let addrs: Vec<String> = enr.multiaddrs().iter().map(ToString::to_string).collect();
        out.insert("multiaddrs".into(), json!(addrs));
    }
    if let Some(caps) = enr.capabilities() {
        let mut waku2 = Map::new();
        waku2.insert("raw".into(), json!(caps.byte()));
        for capability in Capability::ALL {
            waku2.insert(capability.name().into(), json!(caps.contains(capability)));
        }
        out.insert("waku2".into(), Value::Object(waku2));
    }
    if let Some(shards) = enr.shards() {
        out.insert(
            "shards".into(),
            json!({"cluster": shards.cluster, "shards": shards.shards}),
        );
    }
    if let Some(error) = enr.shard_field_error() {
        out.insert("shards_ignored".into(), json!(error.to_string()));
    }
    let dial: Vec<String> = enr
        .dial_addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    if !dial.is_empty() {
        out.insert("dial".into(), json!(dial));
    }
    out
}

fn parse_capabilities(list: &str) -> Result<Capabilities, String> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| Capability::from_str(name).map_err(|e| format!("--waku2: {e}")))
        .collect()
}

fn encode(args: &EncodeArgs) -> Result<String, String> {
    let digits = args.nodekey.strip_prefix("0x").unwrap_or(&args.nodekey);
    let key_bytes = hex::decode(digits).map_err(|e| format!("--nodekey: not hex ({e})"))?;
    let key = SigningKey::from_slice(&key_bytes)
        .map_err(|_| "--nodekey: not a valid secp256k1 private key (32 bytes)".to_owned())?;
    let mut builder = WakuEnrBuilder::new().seq(args.seq);
    if let Some(ip) = args.ip {
        builder = builder.ip(ip);
    }
    match (args.ip, args.tcp, args.udp) {
        (Some(IpAddr::V6(_)), tcp, udp) => {
            if let Some(port) = tcp {
                builder = builder.tcp6(port);
            }
            if let Some(port) = udp {
                builder = builder.udp6(port);
            }
        }
        (_, tcp, udp) => {
            if let Some(port) = tcp {
                builder = builder.tcp(port);
            }
            if let Some(port) = udp {
                builder = builder.udp(port);
            }
        }
    }
    for addr in &args.multiaddrs {
        let parsed = addr
            .parse()
            .map_err(|e| format!("--multiaddr {addr:?}: {e}"))?;
        builder = builder.multiaddr(parsed);
    }
    if let Some(list) = &args.waku2 {
        builder = builder.capabilities(parse_capabilities(list)?);
    }
    if let Some(cluster) = args.cluster {
        builder = builder.shards(RelayShards::new(cluster, args.shards.iter().copied()));
    }
    let enr = builder
        .build(&key)
        .map_err(|e| format!("cannot build ENR: {e}"))?;
    Ok(format!("{}\n", enr.encode()))
}

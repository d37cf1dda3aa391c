//! `waku-conformance`: checks a Waku node over the wire and prints a
//! verdict per requirement; exits 1 when a MUST fails, 2 when the run
//! could not be made.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use libp2p::Multiaddr;
use waku_conformance::{Muxer, Options, Suite};

/// Black-box conformance runner for Waku nodes.
#[derive(Debug, Parser)]
#[command(name = "waku-conformance", version, about)]
struct Cli {
    /// The node to test: a multiaddr ending in /p2p/<peer id> (tcp, ws or
    /// wss).
    #[arg(long)]
    target: Multiaddr,
    /// Stream multiplexer: yamux or mplex.
    #[arg(long, default_value = "yamux")]
    transport: Muxer,
    /// Cluster to claim and test on (default: the target's own, else 0).
    #[arg(long)]
    cluster: Option<u32>,
    /// Shard to test on (repeatable; default: the target's first, else 0).
    #[arg(long = "shard", conflicts_with = "autoshard")]
    shards: Vec<u32>,
    /// The network is autosharded over N shards: test on the shard the
    /// runner's content topics map to.
    #[arg(long, value_name = "N")]
    autoshard: Option<u16>,
    /// Suites to run, comma separated (default: all): metadata, lightpush,
    /// lightpush-v2, store, store-v2, filter, relay, enr, discv5,
    /// peer-exchange.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Suite>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The target's ENR (enr:...), e.g. from its /debug/v1/info, for the
    /// enr and discv5 suites.
    #[arg(long)]
    enr: Option<String>,
    /// The target's nwaku-style REST API, http://host:port (its ENR is read
    /// from /debug/v1/info when --enr is not given).
    #[arg(long)]
    rest: Option<String>,
    /// Also relay a message stamped a minute ago and judge NET-027 (not
    /// forwarded); off by default, as nwaku, go-waku and our node forward
    /// any timestamp.
    #[arg(long)]
    check_timestamps: bool,
    /// A PEM certificate to trust for a wss target (its self-signed
    /// certificate or its CA; repeatable), besides the usual roots.
    #[arg(long = "wss-trust", value_name = "PEM")]
    wss_trust: Vec<PathBuf>,
    /// Seconds one request (or an expected push) may take.
    #[arg(long, default_value_t = 5)]
    timeout_secs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("waku-conformance: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs and reports; `Ok(false)` when a MUST failed.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    let options = Options::new(cli.target)
        .with_muxer(cli.transport)
        .with_network(cli.cluster, cli.shards)
        .with_only(cli.only)
        .with_timestamp_check(cli.check_timestamps)
        .with_timeout(Duration::from_secs(cli.timeout_secs.max(1)));
    let options = match cli.autoshard {
        Some(count) => options.with_autoshard(count),
        None => options,
    };
    let options = match cli.enr {
        Some(enr) => options.with_enr(enr),
        None => options,
    };
    let options = match cli.rest {
        Some(rest) => options.with_rest(rest),
        None => options,
    };
    let options = cli
        .wss_trust
        .into_iter()
        .fold(options, |options, path| options.with_wss_trust(path));
    let report = waku_conformance::run(&options).await?;
    print!("{}", report.to_table());
    if let Some(path) = cli.json {
        std::fs::write(&path, report.to_json()?)
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    Ok(!report.must_failed())
}

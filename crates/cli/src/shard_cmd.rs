//! `waku shard`: autosharding of content topics.

use std::fmt::Write as _;

use clap::Args;
use waku_sharding::{AutoshardError, NetworkConfig};

/// Arguments of `waku shard`.
#[derive(Debug, Args)]
pub struct ShardArgs {
    /// The cluster id.
    #[arg(long, default_value_t = NetworkConfig::TWN.cluster_id)]
    cluster: u16,
    /// The number of shards in the network.
    #[arg(long, default_value_t = NetworkConfig::TWN.num_shards)]
    shards: u16,
    /// Content topics, e.g. /app/1/chat/proto.
    #[arg(required = true)]
    content_topics: Vec<String>,
}

/// Prints one pubsub topic per content topic, in input order; the first
/// invalid topic fails the whole command.
pub fn run(args: &ShardArgs) -> Result<String, String> {
    let network =
        NetworkConfig::new(args.cluster, args.shards).map_err(|e| format!("--shards: {e}"))?;
    let mut out = String::new();
    for topic in &args.content_topics {
        let shard = network.autoshard(topic).map_err(|e| match e {
            // These already name the topic and say why.
            AutoshardError::ContentTopic(_) | AutoshardError::UnsupportedGeneration { .. } => {
                e.to_string()
            }
            _ => format!("content topic {topic:?}: {e}"),
        })?;
        let _ = writeln!(out, "{shard}");
    }
    Ok(out)
}

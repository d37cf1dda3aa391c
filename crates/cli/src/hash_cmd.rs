//! `waku hash`: the deterministic message hash.

use clap::Args;
use waku_core::{WakuMessage, message_hash};

/// Arguments of `waku hash`.
#[derive(Debug, Args)]
pub struct HashArgs {
    /// The pubsub topic the message is published on.
    #[arg(long)]
    pubsub_topic: String,
    /// The message's content topic.
    #[arg(long)]
    content_topic: String,
    /// The payload as hex (may be empty).
    #[arg(long, default_value = "")]
    payload_hex: String,
    /// The `meta` attribute as hex.
    #[arg(long)]
    meta_hex: Option<String>,
    /// The timestamp in nanoseconds since the Unix epoch (absent hashes as 0).
    #[arg(long, allow_negative_numbers = true)]
    timestamp: Option<i64>,
}

fn decode_hex(flag: &str, value: &str) -> Result<Vec<u8>, String> {
    let digits = value.strip_prefix("0x").unwrap_or(value);
    hex::decode(digits).map_err(|e| format!("--{flag}: not hex ({e})"))
}

/// Prints the hash followed by a newline.
pub fn run(args: &HashArgs) -> Result<String, String> {
    let mut message = WakuMessage::new(
        decode_hex("payload-hex", &args.payload_hex)?,
        args.content_topic.clone(),
    );
    message.meta = args
        .meta_hex
        .as_deref()
        .map(|m| decode_hex("meta-hex", m))
        .transpose()?
        .map(Into::into);
    message.timestamp = args.timestamp;
    Ok(format!("{}\n", message_hash(&args.pubsub_topic, &message)))
}

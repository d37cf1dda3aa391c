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
    #[arg(long, default_value = "", conflicts_with = "payload_file")]
    payload_hex: String,
    /// The payload as raw bytes read from this file, or from standard input
    /// with `-` (a 150 KiB payload as hex does not fit in one argument).
    #[arg(long)]
    payload_file: Option<std::path::PathBuf>,
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

/// The payload: the file's bytes (`-`: standard input), else the hex.
fn payload(args: &HashArgs) -> Result<Vec<u8>, String> {
    match args.payload_file.as_deref() {
        None => decode_hex("payload-hex", &args.payload_hex),
        Some(path) if path.as_os_str() == "-" => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                .map_err(|e| format!("--payload-file -: cannot read standard input ({e})"))?;
            Ok(bytes)
        }
        Some(path) => std::fs::read(path)
            .map_err(|e| format!("--payload-file {}: cannot read ({e})", path.display())),
    }
}

/// Prints the hash followed by a newline.
pub fn run(args: &HashArgs) -> Result<String, String> {
    let mut message = WakuMessage::new(payload(args)?, args.content_topic.clone());
    message.meta = args
        .meta_hex
        .as_deref()
        .map(|m| decode_hex("meta-hex", m))
        .transpose()?
        .map(Into::into);
    message.timestamp = args.timestamp;
    Ok(format!("{}\n", message_hash(&args.pubsub_topic, &message)))
}

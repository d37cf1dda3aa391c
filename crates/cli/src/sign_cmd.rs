//! `waku sign`: a message signed for a protected shard (nwaku's
//! `--protected-shard`), printed as the JSON body of nwaku's REST publish
//! routes; `waku sign --public-key` prints the key to put in the node's
//! `--protected-shard <shard>:<public key>`.

use base64::Engine as _;
use clap::Args;
use waku_core::{WakuMessage, now_nanos};
use waku_relay::{SigningKey, sign_for_protected_shard};

/// Arguments of `waku sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The shard's private key as 64 hex characters (secp256k1).
    #[arg(long)]
    key: String,
    /// Print the compressed public key (hex) of `--key` instead of signing.
    #[arg(long, conflicts_with_all = ["pubsub_topic", "content_topic"])]
    public_key: bool,
    /// The protected shard's pubsub topic, e.g. `/waku/2/rs/1/32`.
    #[arg(long, required_unless_present = "public_key")]
    pubsub_topic: Option<String>,
    /// The message's content topic.
    #[arg(long, required_unless_present = "public_key")]
    content_topic: Option<String>,
    /// The payload as UTF-8 text.
    #[arg(long, default_value = "")]
    payload: String,
    /// The timestamp in nanoseconds since the Unix epoch (default: now; the
    /// shard accepts messages within 5 minutes of its clock).
    #[arg(long)]
    timestamp: Option<i64>,
}

fn signing_key(hex_key: &str) -> Result<SigningKey, String> {
    let digits = hex_key.strip_prefix("0x").unwrap_or(hex_key);
    let bytes = hex::decode(digits).map_err(|e| format!("--key: not hex ({e})"))?;
    SigningKey::from_slice(&bytes)
        .map_err(|_| "--key: not a secp256k1 private key (64 hex characters)".to_owned())
}

/// The REST JSON of the signed message, or the public key, with a newline.
pub fn run(args: &SignArgs) -> Result<String, String> {
    let key = signing_key(&args.key)?;
    if args.public_key {
        let point = key.verifying_key().to_encoded_point(true);
        return Ok(format!("{}\n", hex::encode(point.as_bytes())));
    }
    let (Some(topic), Some(content_topic)) = (&args.pubsub_topic, &args.content_topic) else {
        return Err("--pubsub-topic and --content-topic are required to sign".to_owned());
    };
    let mut message = WakuMessage::new(args.payload.clone().into_bytes(), content_topic.clone());
    message.timestamp = Some(args.timestamp.unwrap_or_else(now_nanos));
    sign_for_protected_shard(&key, topic, &mut message);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let json = serde_json::json!({
        "payload": b64(&message.payload),
        "contentTopic": message.content_topic,
        "timestamp": message.timestamp,
        "meta": message.meta.as_deref().map(b64),
    });
    Ok(format!("{json}\n"))
}

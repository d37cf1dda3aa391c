//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use alloy_rlp::{Encodable, Header};
use enr::k256::ecdsa::Signature;
use enr::k256::ecdsa::signature::hazmat::PrehashSigner;
use serde::Deserialize;
use sha3::{Digest, Keccak256};
use waku_enr::SigningKey;

/// The vector file, copied from the shared vectors (see its `source`).
pub const VECTORS: &str = include_str!("../vectors/enr.json");

#[derive(Debug, Deserialize)]
pub struct VectorFile {
    pub source: String,
    pub created: Vec<Created>,
    pub relay_shard_field_encoding: Vec<ShardCase>,
    pub real_enrs: Vec<Real>,
}

#[derive(Debug, Deserialize)]
pub struct Created {
    pub name: String,
    pub private_key_hex: String,
    pub text: String,
    pub rlp_hex: String,
    pub rlp_len: usize,
    pub fields: Fields,
}

#[derive(Debug, Deserialize)]
pub struct Real {
    pub found_in: Vec<String>,
    pub text: String,
    pub ok: bool,
    pub error: Option<String>,
    pub fields: Option<Fields>,
}

#[derive(Debug, Deserialize)]
pub struct Fields {
    pub seq: String,
    pub id: String,
    pub public_key_compressed_hex: String,
    pub node_id: String,
    pub peer_id: String,
    pub ip: Option<String>,
    pub tcp: Option<u16>,
    pub udp: Option<u16>,
    pub ip6: Option<String>,
    pub tcp6: Option<u16>,
    pub udp6: Option<u16>,
    pub waku2_byte: Option<u8>,
    pub multiaddrs_field: Option<Vec<String>>,
    pub rs: Option<ShardInfo>,
    pub rsv: Option<ShardInfo>,
    pub shard_info: Option<ShardInfo>,
    pub location_multiaddrs_with_peer_id: Vec<String>,
    pub signature_hex: String,
    pub kv: Vec<Kv>,
}

#[derive(Debug, Deserialize)]
pub struct ShardInfo {
    #[serde(rename = "clusterId")]
    pub cluster_id: u16,
    pub shards: Vec<u16>,
}

#[derive(Debug, Deserialize)]
pub struct ShardCase {
    pub shard_info: ShardInfo,
    pub format: String,
    pub hex: String,
    pub decoded: ShardInfo,
}

#[derive(Debug, Deserialize)]
pub struct Kv {
    pub key: String,
    pub value_hex: String,
}

pub fn vectors() -> VectorFile {
    serde_json::from_str(VECTORS).unwrap()
}

pub fn key(byte: u8) -> SigningKey {
    SigningKey::from_slice(&[byte; 32]).unwrap()
}

pub fn key_hex(hex_key: &str) -> SigningKey {
    SigningKey::from_slice(&hex::decode(hex_key).unwrap()).unwrap()
}

/// The RLP of a byte string.
pub fn string(bytes: &[u8]) -> Vec<u8> {
    alloy_rlp::encode(bytes)
}

fn list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Header {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(payload);
    out
}

/// A signed record with exactly the given entries (values already RLP items),
/// in the given order, with `id` = `v4` and the key's `secp256k1` added unless
/// `bare` is set. No checks: this writes records our builder refuses to.
pub fn raw_record(key: &SigningKey, seq: u64, entries: &[(&str, Vec<u8>)], bare: bool) -> Vec<u8> {
    let mut entries: Vec<(String, Vec<u8>)> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    if !bare {
        let pk = key.verifying_key().to_sec1_point(true);
        entries.push(("id".into(), string(b"v4")));
        entries.push(("secp256k1".into(), string(pk.as_bytes())));
        entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    let mut items = Vec::new();
    seq.encode(&mut items);
    for (k, v) in &entries {
        k.as_bytes().encode(&mut items);
        items.extend_from_slice(v);
    }
    let digest = Keccak256::digest(list(&items));
    let sig: Signature = key.sign_prehash(digest.as_slice()).unwrap();
    let mut body = string(&sig.to_bytes());
    body.extend_from_slice(&items);
    list(&body)
}

/// The text form of RLP bytes.
pub fn text(bytes: &[u8]) -> String {
    use base64::Engine;
    format!(
        "enr:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The RLP bytes of a text form.
pub fn bytes(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.strip_prefix("enr:").unwrap_or(text))
        .unwrap()
}

//! [`WakuEnr`]: a verified EIP-778 record with its Waku entries decoded.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use alloy_rlp::{Decodable, Encodable, Header};
use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use enr::k256::ecdsa::SigningKey;
use libp2p_identity::PeerId;
use multiaddr::{Multiaddr, Protocol};
use waku_sharding::RelayShards;

use crate::capabilities::{Capabilities, Capability, decode_waku2};
use crate::error::{EnrError, MAX_ENR_SIZE};
use crate::multiaddrs::{MULTIADDRS_KEY, decode_multiaddrs, dial_address};
use crate::shards_field::{RS_KEY, RSV_KEY, decode_bit_vector, decode_index_list};

/// The record type of the `enr` crate this crate wraps (secp256k1, `v4`).
pub type Enr = enr::Enr<SigningKey>;

/// The ENR key of the capability byte.
pub const WAKU2_KEY: &str = "waku2";

/// The prefix of the text form.
pub const TEXT_PREFIX: &str = "enr:";

/// Unpadded base64url that also accepts `=` padding when reading.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A signature-checked Waku ENR (EIP-778 + 31/WAKU2-ENR + the `rs`/`rsv`
/// entries of RELAY-SHARDING).
///
/// The Waku entries are checked and decoded once, when the record is read, so
/// the accessors are cheap and infallible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakuEnr {
    enr: Enr,
    public_key: [u8; 33],
    peer_id: PeerId,
    capabilities: Option<Capabilities>,
    multiaddrs: Vec<Multiaddr>,
    index_list: Option<RelayShards>,
    bit_vector: Option<RelayShards>,
    has_rs: bool,
    has_rsv: bool,
    shard_field_error: Option<EnrError>,
}

impl WakuEnr {
    /// Reads the text form `enr:<base64url>` (the `enr:` prefix may be left
    /// out), verifies the signature and decodes the Waku entries.
    pub fn decode(text: &str) -> Result<Self, EnrError> {
        let text = text.trim();
        let body = text.strip_prefix(TEXT_PREFIX).unwrap_or(text);
        let bytes = BASE64URL
            .decode(body)
            .map_err(|e| EnrError::Base64(e.to_string()))?;
        Self::from_rlp_bytes(&bytes)
    }

    /// Reads the binary (RLP) form of a record, verifies the signature and
    /// decodes the Waku entries.
    pub fn from_rlp_bytes(bytes: &[u8]) -> Result<Self, EnrError> {
        if bytes.len() > MAX_ENR_SIZE {
            return Err(EnrError::TooLarge { size: bytes.len() });
        }
        let mut rest = bytes;
        let enr = Enr::decode(&mut rest).map_err(|e| map_decode_error(e, bytes))?;
        if !rest.is_empty() {
            return Err(EnrError::InvalidRecord(format!(
                "{} bytes after the end of the record",
                rest.len()
            )));
        }
        Self::from_enr(enr)
    }

    /// Wraps a record of the `enr` crate (whose signature it has checked),
    /// decoding the Waku entries.
    pub fn from_enr(enr: Enr) -> Result<Self, EnrError> {
        let public_key = compressed_public_key(&enr)?;
        let peer_id = peer_id_from_public_key(&public_key)?;
        let capabilities = string_value(&enr, WAKU2_KEY)?
            .map(|v| {
                decode_waku2(v).map_err(|reason| EnrError::MalformedField {
                    field: WAKU2_KEY,
                    reason,
                })
            })
            .transpose()?;
        let multiaddrs = match string_value(&enr, MULTIADDRS_KEY)? {
            Some(v) => decode_multiaddrs(v)?,
            None => Vec::new(),
        };
        // A shard entry that does not decode (malformed, or naming a shard
        // above 1023) leaves the record usable without shards, as nwaku reads
        // it; the reason stays available in `shard_field_error`.
        let mut shard_field_error = None;
        let mut lenient =
            |value: Result<Option<&[u8]>, EnrError>,
             decode: fn(&[u8]) -> Result<RelayShards, EnrError>| {
                match value.and_then(|v| v.map(decode).transpose()) {
                    Ok(shards) => shards,
                    Err(e) => {
                        shard_field_error.get_or_insert(e);
                        None
                    }
                }
            };
        let has_rs = enr.get_raw_rlp(RS_KEY).is_some();
        let index_list = lenient(string_value(&enr, RS_KEY), decode_index_list);
        let has_rsv = enr.get_raw_rlp(RSV_KEY).is_some();
        // With both entries present, `rsv` is never looked at (RELAY-SHARDING).
        let bit_vector = if has_rs {
            None
        } else {
            lenient(string_value(&enr, RSV_KEY), decode_bit_vector)
        };
        Ok(Self {
            enr,
            public_key,
            peer_id,
            capabilities,
            multiaddrs,
            index_list,
            bit_vector,
            has_rs,
            has_rsv,
            shard_field_error,
        })
    }

    /// The text form, `enr:` followed by unpadded base64url.
    pub fn encode(&self) -> String {
        self.enr.to_base64()
    }

    /// The binary (RLP) form.
    pub fn to_rlp_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAX_ENR_SIZE);
        self.enr.encode(&mut out);
        out
    }

    /// The size of the binary form in bytes (at most 300).
    pub fn size(&self) -> usize {
        self.enr.size()
    }

    /// The underlying record of the `enr` crate.
    pub fn as_enr(&self) -> &Enr {
        &self.enr
    }

    /// Unwraps the underlying record of the `enr` crate.
    pub fn into_enr(self) -> Enr {
        self.enr
    }

    /// The sequence number.
    pub fn seq(&self) -> u64 {
        self.enr.seq()
    }

    /// The node id (keccak256 of the uncompressed public key) as 64 lowercase
    /// hex digits.
    pub fn node_id(&self) -> String {
        hex::encode(self.enr.node_id().raw())
    }

    /// The node id as bytes.
    pub fn node_id_bytes(&self) -> [u8; 32] {
        self.enr.node_id().raw()
    }

    /// The compressed secp256k1 public key (33 bytes).
    pub fn public_key(&self) -> [u8; 33] {
        self.public_key
    }

    /// The libp2p peer id of the record's secp256k1 key.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The `ip` entry.
    pub fn ip4(&self) -> Option<Ipv4Addr> {
        self.enr.ip4()
    }

    /// The `tcp` entry.
    pub fn tcp4(&self) -> Option<u16> {
        self.enr.tcp4()
    }

    /// The `udp` entry.
    pub fn udp4(&self) -> Option<u16> {
        self.enr.udp4()
    }

    /// The `ip6` entry.
    pub fn ip6(&self) -> Option<Ipv6Addr> {
        self.enr.ip6()
    }

    /// The `tcp6` entry (as written; see [`WakuEnr::dial_addresses`] for the
    /// EIP-778 fallback to `tcp`).
    pub fn tcp6(&self) -> Option<u16> {
        self.enr.tcp6()
    }

    /// The `udp6` entry.
    pub fn udp6(&self) -> Option<u16> {
        self.enr.udp6()
    }

    /// The `waku2` capabilities, if the record has the entry.
    pub fn capabilities(&self) -> Option<Capabilities> {
        self.capabilities
    }

    /// Whether the `waku2` entry has `capability` set.
    pub fn supports(&self, capability: Capability) -> bool {
        self.capabilities.is_some_and(|c| c.contains(capability))
    }

    /// Whether a node found through discv5 is kept: its record has a `waku2`
    /// entry with at least one flag set (31/WAKU2-ENR).
    pub fn is_waku_node(&self) -> bool {
        self.capabilities.is_some_and(|c| !c.is_empty())
    }

    /// The entries of the `multiaddrs` field as stored (empty without it).
    /// Circuit-relay entries appear without their `/p2p-circuit` suffix; see
    /// [`WakuEnr::dial_addresses`].
    pub fn multiaddrs(&self) -> &[Multiaddr] {
        &self.multiaddrs
    }

    /// The shards the node is in, from `rs` or `rsv`.
    ///
    /// `None` without either entry, for a record carrying both, which
    /// RELAY-SHARDING says to ignore ([`WakuEnr::index_list_shards`] still
    /// reads `rs` from such a record), and when the entry does not decode
    /// ([`WakuEnr::shard_field_error`] says why).
    pub fn shards(&self) -> Option<RelayShards> {
        if self.has_conflicting_shard_fields() {
            return None;
        }
        self.index_list.clone().or_else(|| self.bit_vector.clone())
    }

    /// The `rs` entry, also when the record carries `rsv` too. The `rsv` of
    /// such a record is never read.
    pub fn index_list_shards(&self) -> Option<RelayShards> {
        self.index_list.clone()
    }

    /// Whether the record carries both `rs` and `rsv` (which a node must not do).
    pub fn has_conflicting_shard_fields(&self) -> bool {
        self.has_rs && self.has_rsv
    }

    /// Why the record's `rs` (or, without `rs`, its `rsv`) entry was ignored:
    /// a malformed value ([`EnrError::MalformedField`]) or a shard above 1023
    /// ([`EnrError::ShardOutOfRange`]). The rest of the record is still used,
    /// as nwaku does, so a peer with a bad shard entry can still be dialled.
    pub fn shard_field_error(&self) -> Option<&EnrError> {
        self.shard_field_error.as_ref()
    }

    /// The addresses to dial the node on, each ending in `/p2p/<peer id>`:
    ///
    /// 1. `/ip4/<ip>/tcp/<tcp>` when the record has `ip` and `tcp`;
    /// 2. `/ip6/<ip6>/tcp/<tcp6>` when it has `ip6` and `tcp6` (or `tcp`, which
    ///    EIP-778 says `tcp6` defaults to);
    /// 3. every `multiaddrs` entry, in order, completed by
    ///    [`dial_address`](crate::multiaddrs::dial_address): a circuit-relay
    ///    entry gets `/p2p-circuit` before the peer id, and an entry already
    ///    ending in the peer id is not given a second one.
    pub fn dial_addresses(&self) -> Vec<Multiaddr> {
        let p2p = Protocol::P2p(self.peer_id);
        let mut out = Vec::with_capacity(2 + self.multiaddrs.len());
        if let (Some(ip), Some(tcp)) = (self.ip4(), self.tcp4()) {
            out.push(
                Multiaddr::empty()
                    .with(Protocol::Ip4(ip))
                    .with(Protocol::Tcp(tcp))
                    .with(p2p.clone()),
            );
        }
        if let (Some(ip), Some(tcp)) = (self.ip6(), self.tcp6().or_else(|| self.tcp4())) {
            out.push(
                Multiaddr::empty()
                    .with(Protocol::Ip6(ip))
                    .with(Protocol::Tcp(tcp))
                    .with(p2p),
            );
        }
        out.extend(
            self.multiaddrs
                .iter()
                .map(|a| dial_address(a, &self.peer_id)),
        );
        out
    }
}

impl FromStr for WakuEnr {
    type Err = EnrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::decode(s)
    }
}

impl fmt::Display for WakuEnr {
    /// The text form (`enr:...`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl TryFrom<Enr> for WakuEnr {
    type Error = EnrError;

    fn try_from(enr: Enr) -> Result<Self, Self::Error> {
        Self::from_enr(enr)
    }
}

impl From<WakuEnr> for Enr {
    fn from(record: WakuEnr) -> Self {
        record.enr
    }
}

/// The peer id of a compressed secp256k1 public key.
pub(crate) fn peer_id_from_public_key(compressed: &[u8]) -> Result<PeerId, EnrError> {
    let key = libp2p_identity::secp256k1::PublicKey::try_from_bytes(compressed)
        .map_err(|e| EnrError::InvalidRecord(format!("invalid secp256k1 public key: {e}")))?;
    Ok(libp2p_identity::PublicKey::from(key).to_peer_id())
}

/// The record's public key in compressed form.
fn compressed_public_key(enr: &Enr) -> Result<[u8; 33], EnrError> {
    // Usually stored compressed already (the `enr` crate has checked the point).
    if let Ok(Some(stored)) = string_value(enr, "secp256k1")
        && let Ok(compressed) = <[u8; 33]>::try_from(stored)
    {
        return Ok(compressed);
    }
    let point = enr.public_key().to_sec1_point(true);
    point.as_bytes().try_into().map_err(|_| {
        EnrError::InvalidRecord("secp256k1 public key does not compress to 33 bytes".to_string())
    })
}

/// The value of a byte-string entry, without its RLP header.
fn string_value<'a>(enr: &'a Enr, key: &'static str) -> Result<Option<&'a [u8]>, EnrError> {
    let Some(mut raw) = enr.get_raw_rlp(key) else {
        return Ok(None);
    };
    let header = Header::decode(&mut raw).map_err(|e| EnrError::MalformedField {
        field: key,
        reason: format!("bad RLP: {e}"),
    })?;
    if header.list {
        return Err(EnrError::MalformedField {
            field: key,
            reason: "expected a byte string, found an RLP list".to_string(),
        });
    }
    Ok(Some(&raw[..header.payload_length.min(raw.len())]))
}

/// Maps a decoding error of the `enr` crate onto [`EnrError`].
fn map_decode_error(error: alloy_rlp::Error, bytes: &[u8]) -> EnrError {
    match error {
        alloy_rlp::Error::Custom("Invalid Signature") if has_id_entry(bytes) => {
            EnrError::BadSignature
        }
        alloy_rlp::Error::Custom("Invalid Signature") => {
            EnrError::InvalidRecord("no `id` entry (identity scheme)".to_string())
        }
        alloy_rlp::Error::Custom("Unknown signature") => {
            EnrError::InvalidRecord("no `secp256k1` public key".to_string())
        }
        alloy_rlp::Error::Custom("Invalid Secp256k1 Signature") => {
            EnrError::InvalidRecord("invalid `secp256k1` public key".to_string())
        }
        alloy_rlp::Error::Custom("enr exceeds max size") => {
            EnrError::TooLarge { size: bytes.len() }
        }
        other => EnrError::InvalidRecord(other.to_string()),
    }
}

/// Whether a record that decoded as far as its signature has an `id` entry
/// (the `enr` crate only rejects ids other than `v4`, not a missing one).
fn has_id_entry(bytes: &[u8]) -> bool {
    fn keys_have_id(mut buf: &[u8]) -> Option<bool> {
        let mut payload = Header::decode_bytes(&mut buf, true).ok()?;
        let _signature = Header::decode_bytes(&mut payload, false).ok()?;
        let _seq = u64::decode(&mut payload).ok()?;
        while !payload.is_empty() {
            let key = Header::decode_bytes(&mut payload, false).ok()?;
            if key == b"id" {
                return Some(true);
            }
            let value = Header::decode(&mut payload).ok()?;
            payload = payload.get(value.payload_length..)?;
        }
        Some(false)
    }
    keys_have_id(bytes).unwrap_or(false)
}

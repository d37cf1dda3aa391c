//! [`WakuEnrBuilder`]: writes and signs a Waku ENR.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use alloy_rlp::{Encodable, Header};
use enr::k256::ecdsa::signature::hazmat::PrehashSigner;
use enr::k256::ecdsa::{Signature, SigningKey};
use multiaddr::{Multiaddr, Protocol};
use sha3::{Digest, Keccak256};
use waku_sharding::RelayShards;

use crate::capabilities::Capabilities;
use crate::error::{EnrError, MAX_ENR_SIZE};
use crate::multiaddrs::{MULTIADDRS_KEY, encode_multiaddrs, to_stored_form};
use crate::record::{WAKU2_KEY, WakuEnr, peer_id_from_public_key};
use crate::shards_field::encode_shards;

/// Collects the fields of a Waku ENR, then signs it with
/// [`build`](WakuEnrBuilder::build).
///
/// What it writes:
/// - `id` = `v4` and the compressed `secp256k1` key of the signing key;
/// - `ip`/`ip6`, `tcp`/`udp`/`tcp6`/`udp6` as canonical RLP integers;
/// - `multiaddrs` only when there is at least one address the EIP-778 keys
///   cannot express: a multiaddr that is exactly `/ip4|ip6/<addr>/tcp|udp/<port>`
///   goes into the EIP-778 keys instead when they are free (or already hold the
///   same values);
/// - `waku2` with the defined bits only (0 to 5);
/// - `rs` for fewer than 64 shards, else `rsv` (see
///   [`preferred_encoding`](crate::shards_field::preferred_encoding)), never both.
///
/// The signature is deterministic (RFC 6979 over keccak256 of the content), so
/// the same key and fields always give the same record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakuEnrBuilder {
    seq: u64,
    ip4: Option<Ipv4Addr>,
    ip6: Option<Ipv6Addr>,
    tcp4: Option<u16>,
    udp4: Option<u16>,
    tcp6: Option<u16>,
    udp6: Option<u16>,
    multiaddrs: Vec<Multiaddr>,
    capabilities: Option<Capabilities>,
    shards: Option<RelayShards>,
}

impl Default for WakuEnrBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl WakuEnrBuilder {
    /// An empty builder with sequence number 1.
    pub fn new() -> Self {
        Self {
            seq: 1,
            ip4: None,
            ip6: None,
            tcp4: None,
            udp4: None,
            tcp6: None,
            udp6: None,
            multiaddrs: Vec::new(),
            capabilities: None,
            shards: None,
        }
    }

    /// Sets the sequence number (default 1). A node republishing a changed
    /// record must raise it.
    #[must_use]
    pub fn seq(mut self, seq: u64) -> Self {
        self.seq = seq;
        self
    }

    /// Sets `ip` (for an IPv4 address) or `ip6` (for an IPv6 one).
    #[must_use]
    pub fn ip(mut self, ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(ip) => self.ip4 = Some(ip),
            IpAddr::V6(ip) => self.ip6 = Some(ip),
        }
        self
    }

    /// Sets `tcp`.
    #[must_use]
    pub fn tcp(mut self, port: u16) -> Self {
        self.tcp4 = Some(port);
        self
    }

    /// Sets `udp`.
    #[must_use]
    pub fn udp(mut self, port: u16) -> Self {
        self.udp4 = Some(port);
        self
    }

    /// Sets `tcp6`.
    #[must_use]
    pub fn tcp6(mut self, port: u16) -> Self {
        self.tcp6 = Some(port);
        self
    }

    /// Sets `udp6`.
    #[must_use]
    pub fn udp6(mut self, port: u16) -> Self {
        self.udp6 = Some(port);
        self
    }

    /// Adds one multiaddr. It must not carry the node's own `/p2p/` id, except
    /// at the end of a circuit-relay address
    /// (`.../p2p/<relay>/p2p-circuit/p2p/<own id>`), which is stored without its
    /// `/p2p-circuit` suffix.
    #[must_use]
    pub fn multiaddr(mut self, addr: Multiaddr) -> Self {
        self.multiaddrs.push(addr);
        self
    }

    /// Adds several multiaddrs, as [`multiaddr`](WakuEnrBuilder::multiaddr).
    #[must_use]
    pub fn multiaddrs(mut self, addrs: impl IntoIterator<Item = Multiaddr>) -> Self {
        self.multiaddrs.extend(addrs);
        self
    }

    /// Sets the `waku2` capabilities.
    #[must_use]
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Sets the shards the node is in (written as `rs` or `rsv`).
    #[must_use]
    pub fn shards(mut self, shards: RelayShards) -> Self {
        self.shards = Some(shards);
        self
    }

    /// Signs the record with `key`.
    ///
    /// Fails with [`EnrError::TooLarge`] (giving the size it would have) when
    /// the record exceeds 300 bytes, and with [`EnrError::OwnPeerId`] /
    /// [`EnrError::InvalidMultiaddr`] / [`EnrError::ShardOutOfRange`] (a shard
    /// above 1023) / [`EnrError::UnencodableShards`] for fields that cannot be
    /// written.
    pub fn build(&self, key: &SigningKey) -> Result<WakuEnr, EnrError> {
        let point = key.verifying_key().to_sec1_point(true);
        let public_key = point.as_bytes();
        let peer_id = peer_id_from_public_key(public_key)?;

        let mut fields = self.clone();
        fields.multiaddrs = Vec::with_capacity(self.multiaddrs.len());
        for addr in &self.multiaddrs {
            let stored = to_stored_form(addr, &peer_id)?;
            if !fields.absorb_plain_endpoint(&stored) {
                fields.multiaddrs.push(stored);
            }
        }

        // Keys sorted by their bytes, values as RLP items.
        let mut content: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
        content.insert("id", rlp_string(b"v4"));
        content.insert("secp256k1", rlp_string(public_key));
        if let Some(ip) = fields.ip4 {
            content.insert("ip", rlp_string(&ip.octets()));
        }
        if let Some(ip) = fields.ip6 {
            content.insert("ip6", rlp_string(&ip.octets()));
        }
        for (name, port) in [
            ("tcp", fields.tcp4),
            ("udp", fields.udp4),
            ("tcp6", fields.tcp6),
            ("udp6", fields.udp6),
        ] {
            if let Some(port) = port {
                content.insert(name, alloy_rlp::encode(port));
            }
        }
        if !fields.multiaddrs.is_empty() {
            let value = encode_multiaddrs(&fields.multiaddrs)?;
            content.insert(MULTIADDRS_KEY, rlp_string(&value));
        }
        if let Some(capabilities) = fields.capabilities {
            content.insert(WAKU2_KEY, rlp_string(&[capabilities.defined_only().byte()]));
        }
        if let Some(shards) = &fields.shards {
            let (encoding, value) = encode_shards(shards)?;
            content.insert(encoding.key(), rlp_string(&value));
        }

        let mut items = Vec::with_capacity(MAX_ENR_SIZE);
        self.seq.encode(&mut items);
        for (name, value) in &content {
            name.as_bytes().encode(&mut items);
            items.extend_from_slice(value);
        }
        let signed = rlp_list(&items);
        let digest = Keccak256::digest(&signed);
        let signature: Signature = key
            .sign_prehash(digest.as_slice())
            .map_err(|e| EnrError::Signing(e.to_string()))?;

        let mut body = rlp_string(&signature.to_bytes());
        body.extend_from_slice(&items);
        let record = rlp_list(&body);
        if record.len() > MAX_ENR_SIZE {
            return Err(EnrError::TooLarge { size: record.len() });
        }
        WakuEnr::from_rlp_bytes(&record)
    }

    /// Like [`build`](WakuEnrBuilder::build), for a record published through
    /// discv5: fails with [`EnrError::NoCapabilities`] unless at least one
    /// defined `waku2` flag is set.
    pub fn build_for_discv5(&self, key: &SigningKey) -> Result<WakuEnr, EnrError> {
        match self.capabilities {
            Some(c) if !c.defined_only().is_empty() => self.build(key),
            _ => Err(EnrError::NoCapabilities),
        }
    }

    /// Moves a plain `/ip4|ip6/<addr>/tcp|udp/<port>` multiaddr into the
    /// EIP-778 keys when they are free or already say the same; returns whether
    /// it did.
    fn absorb_plain_endpoint(&mut self, addr: &Multiaddr) -> bool {
        let mut parts = addr.iter();
        let (Some(ip), Some(transport), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        match (ip, transport) {
            (Protocol::Ip4(ip), Protocol::Tcp(port)) => {
                absorb(&mut self.ip4, ip, &mut self.tcp4, port)
            }
            (Protocol::Ip4(ip), Protocol::Udp(port)) => {
                absorb(&mut self.ip4, ip, &mut self.udp4, port)
            }
            (Protocol::Ip6(ip), Protocol::Tcp(port)) => {
                absorb(&mut self.ip6, ip, &mut self.tcp6, port)
            }
            (Protocol::Ip6(ip), Protocol::Udp(port)) => {
                absorb(&mut self.ip6, ip, &mut self.udp6, port)
            }
            _ => false,
        }
    }
}

/// Stores `ip` and `port` in their slots when each is empty or equal.
fn absorb<T: PartialEq + Copy>(
    ip_slot: &mut Option<T>,
    ip: T,
    port_slot: &mut Option<u16>,
    port: u16,
) -> bool {
    let fits = |slot: Option<T>, v: T| slot.is_none_or(|s| s == v);
    if fits(*ip_slot, ip) && port_slot.is_none_or(|p| p == port) {
        *ip_slot = Some(ip);
        *port_slot = Some(port);
        true
    } else {
        false
    }
}

/// `bytes` as an RLP byte string.
fn rlp_string(bytes: &[u8]) -> Vec<u8> {
    alloy_rlp::encode(bytes)
}

/// `payload` (already encoded items) wrapped in an RLP list header.
fn rlp_list(payload: &[u8]) -> Vec<u8> {
    let header = Header {
        list: true,
        payload_length: payload.len(),
    };
    let mut out = Vec::with_capacity(header.length() + payload.len());
    header.encode(&mut out);
    out.extend_from_slice(payload);
    out
}

//! Helpers shared by the tests: deterministic keys and ENRs, and swarms
//! over 127.0.0.1 TCP (noise, yamux) in their own tasks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};

use libp2p::identity::Keypair;
use waku_discovery::dns::SigningKey;
use waku_enr::{WakuEnr, WakuEnrBuilder};

/// The secp256k1 key number `n` (never zero, always valid).
pub fn key(n: u32) -> SigningKey {
    let mut secret = [0x11u8; 32];
    secret[28..].copy_from_slice(&n.to_be_bytes());
    SigningKey::from_slice(&secret).unwrap()
}

/// The ENR of node `n`: 127.0.0.1, TCP port 10 000 + n.
pub fn enr(n: u32) -> WakuEnr {
    WakuEnrBuilder::new()
        .ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .tcp(10_000 + (n % 50_000) as u16)
        .build(&key(n))
        .unwrap()
}

/// The ENRs of nodes `from..to`.
pub fn enrs(range: std::ops::Range<u32>) -> Vec<WakuEnr> {
    range.map(enr).collect()
}

/// The libp2p identity of node `n` (its peer id is the one of `enr(n)`).
pub fn identity(n: u32) -> Keypair {
    let secret =
        libp2p::identity::secp256k1::SecretKey::try_from_bytes(key(n).to_bytes().to_vec()).unwrap();
    Keypair::from(libp2p::identity::secp256k1::Keypair::from(secret))
}

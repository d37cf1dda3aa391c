//! A fake discv5 peer: the `discv5` crate serving a given record at the
//! record's own UDP endpoint, with a chosen protocol id, so the discv5
//! suite can be shown to pass against a sound one and fail against one
//! speaking Ethereum's id or none at all.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use discv5::{ConfigBuilder, Discv5, Enr, ListenConfig, ProtocolIdentity};
use enr::CombinedKey;
use waku_enr::{Capabilities, Capability, SigningKey, WakuEnrBuilder};

/// Waku's protocol id.
pub const WAKU: [u8; 6] = *b"d5waku";
/// Ethereum's protocol id (the `discv5` crate's default).
pub const ETHEREUM: [u8; 6] = *b"discv5";

/// A UDP port on loopback free a moment ago.
pub fn free_udp_port() -> u16 {
    let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    socket.local_addr().unwrap().port()
}

/// A Waku record of the node with `secret` on loopback: udp `udp` (none
/// when `None`), waku2 relay (none when `waku2` is false); `enr:...`.
pub fn record(secret: &[u8; 32], udp: Option<u16>, waku2: bool) -> String {
    let key = SigningKey::from_slice(secret).unwrap();
    let mut builder = WakuEnrBuilder::new()
        .ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .tcp(1);
    if let Some(port) = udp {
        builder = builder.udp(port);
    }
    if waku2 {
        builder = builder.capabilities(Capabilities::empty().with(Capability::Relay));
    }
    builder.build(&key).unwrap().encode()
}

/// `count` records of random nodes with a UDP endpoint, for a table.
pub fn strangers(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let secret: [u8; 32] = rand::random();
            record(&secret, Some(40_000 + u16::try_from(i).unwrap()), true)
        })
        .collect()
}

/// Starts discv5 speaking `protocol_id` (version 1) at the UDP endpoint
/// of `record` (signed with `secret`), serving that record, with the
/// records of `table` in its routing table. Keep the value alive.
pub async fn serve(
    secret: &[u8; 32],
    record: &str,
    protocol_id: [u8; 6],
    table: &[String],
) -> Discv5 {
    let local: Enr = record.parse().unwrap();
    let udp = local.udp4_socket().expect("the record has ip + udp");
    let mut secret = *secret;
    let key = CombinedKey::secp256k1_from_bytes(&mut secret).unwrap();
    let mut config = ConfigBuilder::new(ListenConfig::from_ip(IpAddr::V4(*udp.ip()), udp.port()));
    config
        .protocol_identity(ProtocolIdentity {
            protocol_id,
            protocol_version: 1u16.to_be_bytes(),
        })
        .disable_enr_update();
    let mut discv5 = Discv5::new(local, key, config.build()).unwrap();
    for other in table {
        discv5.add_enr(other.parse().unwrap()).unwrap();
    }
    discv5.start().await.unwrap();
    discv5
}

/// The UDP endpoint `record` names.
pub fn endpoint(record: &str) -> SocketAddr {
    let parsed: Enr = record.parse().unwrap();
    SocketAddr::V4(parsed.udp4_socket().unwrap())
}

//! The fake node's own ENR, as the defects say.

use std::net::{IpAddr, Ipv4Addr};

use libp2p::identity;
use waku_enr::{Capabilities, Capability, SigningKey, WakuEnrBuilder};
use waku_sharding::RelayShards;

use super::Faults;

/// The record of the node with `key`, listening on TCP `port`, in shard 0
/// of `cluster`; `enr:...`.
pub fn record(
    faults: &Faults,
    key: &identity::secp256k1::Keypair,
    port: u16,
    cluster: u32,
) -> String {
    let secret = if faults.enr_other_key {
        [7u8; 32]
    } else {
        key.secret().to_bytes()
    };
    let signing = SigningKey::from_slice(&secret).unwrap();
    let mut caps = Capabilities::empty()
        .with(Capability::Relay)
        .with(Capability::Store)
        .with(Capability::Filter)
        .with(Capability::Lightpush);
    if faults.enr_claims_sync {
        caps = caps.with(Capability::Sync);
    }
    let shard = if faults.enr_other_shards { 5 } else { 0 };
    let mut builder = WakuEnrBuilder::new()
        .ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .tcp(port)
        .udp(port)
        .shards(RelayShards::new(u16::try_from(cluster).unwrap(), [shard]));
    if !faults.enr_udp_without_waku2 {
        builder = builder.capabilities(caps);
    }
    builder.build(&signing).unwrap().encode()
}

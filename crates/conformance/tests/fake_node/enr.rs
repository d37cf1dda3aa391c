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
    if faults.enr_unassigned_bit || faults.enr_multiaddr_with_own_id {
        let waku2 = caps.byte() | if faults.enr_unassigned_bit { 0x40 } else { 0 };
        return raw(key, port, cluster, waku2, faults.enr_multiaddr_with_own_id);
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

/// The record of [`record`] built field by field, as our builder refuses
/// to write it: waku2 = `waku2` (unassigned bits too) and, with
/// `own_id`, a `multiaddrs` entry ending in the node's own `/p2p/` id, as
/// ENR-007 says a writer should not.
fn raw(
    key: &identity::secp256k1::Keypair,
    port: u16,
    cluster: u32,
    waku2: u8,
    own_id: bool,
) -> String {
    let peer = libp2p::PeerId::from(identity::PublicKey::from(key.public().clone()));
    let addr: libp2p::Multiaddr = format!("/dns4/example.org/tcp/443/wss/p2p/{peer}")
        .parse()
        .unwrap();
    let bytes = addr.to_vec();
    let mut multiaddrs = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    multiaddrs.extend_from_slice(&bytes);
    let cluster = u16::try_from(cluster).unwrap();
    let mut rs = cluster.to_be_bytes().to_vec();
    rs.push(1);
    rs.extend_from_slice(&0u16.to_be_bytes());
    let secret = enr::k256::ecdsa::SigningKey::from_slice(&key.secret().to_bytes()).unwrap();
    let mut builder = enr::Builder::default();
    builder
        .ip4(Ipv4Addr::LOCALHOST)
        .tcp4(port)
        .udp4(port)
        .add_value("waku2", &[waku2].as_slice())
        .add_value("rs", &rs.as_slice());
    if own_id {
        builder.add_value("multiaddrs", &multiaddrs.as_slice());
    }
    let record: enr::Enr<enr::k256::ecdsa::SigningKey> = builder.build(&secret).unwrap();
    record.to_base64()
}

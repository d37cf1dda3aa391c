#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Random fields -> build -> text -> decode -> the same fields.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use multiaddr::Multiaddr;
use proptest::prelude::*;
use waku_enr::{Capabilities, EnrError, SigningKey, WakuEnr, WakuEnrBuilder};
use waku_sharding::RelayShards;

#[derive(Debug, Clone)]
struct Fields {
    seq: u64,
    ip4: Option<Ipv4Addr>,
    ip6: Option<Ipv6Addr>,
    tcp: Option<u16>,
    udp: Option<u16>,
    tcp6: Option<u16>,
    udp6: Option<u16>,
    capabilities: Option<u8>,
    shards: Option<(u16, BTreeSet<u16>)>,
    multiaddrs: Vec<Multiaddr>,
}

fn multiaddr() -> impl Strategy<Value = Multiaddr> {
    prop_oneof![
        ("[a-z]{1,12}", any::<u16>(), prop::bool::ANY).prop_map(|(host, port, secure)| {
            let ws = if secure { "wss" } else { "ws" };
            format!("/dns4/{host}.example.org/tcp/{port}/{ws}")
                .parse()
                .unwrap()
        }),
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| format!(
            "/ip4/{}/tcp/{port}/ws",
            Ipv4Addr::from(ip)
        )
        .parse()
        .unwrap()),
        ("[a-z]{1,8}", any::<u16>()).prop_map(|(host, port)| format!(
            "/dns6/{host}.net/udp/{port}/quic-v1"
        )
        .parse()
        .unwrap()),
    ]
}

fn shards() -> impl Strategy<Value = (u16, BTreeSet<u16>)> {
    prop_oneof![
        // Small sets (rs), any shard index there is (0 to 1023).
        (any::<u16>(), prop::collection::btree_set(0u16..1024, 0..20)),
        // Large sets (rsv).
        (
            any::<u16>(),
            prop::collection::btree_set(0u16..1024, 64..400)
        ),
    ]
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        (
            0u64..u64::MAX,
            prop::option::of(any::<[u8; 4]>()),
            prop::option::of(any::<[u8; 16]>()),
            prop::option::of(any::<u16>()),
            prop::option::of(any::<u16>()),
            prop::option::of(any::<u16>()),
            prop::option::of(any::<u16>()),
        ),
        prop::option::of(0u8..64),
        prop::option::of(shards()),
        prop::collection::vec(multiaddr(), 0..3),
    )
        .prop_map(
            |((seq, ip4, ip6, tcp, udp, tcp6, udp6), capabilities, shards, multiaddrs)| Fields {
                seq,
                ip4: ip4.map(Ipv4Addr::from),
                ip6: ip6.map(Ipv6Addr::from),
                tcp,
                udp,
                tcp6,
                udp6,
                capabilities,
                shards,
                multiaddrs,
            },
        )
}

fn builder(f: &Fields) -> WakuEnrBuilder {
    let mut b = WakuEnrBuilder::new().seq(f.seq);
    if let Some(ip) = f.ip4 {
        b = b.ip(IpAddr::V4(ip));
    }
    if let Some(ip) = f.ip6 {
        b = b.ip(IpAddr::V6(ip));
    }
    for (port, set) in [
        (
            f.tcp,
            WakuEnrBuilder::tcp as fn(WakuEnrBuilder, u16) -> WakuEnrBuilder,
        ),
        (f.udp, WakuEnrBuilder::udp),
        (f.tcp6, WakuEnrBuilder::tcp6),
        (f.udp6, WakuEnrBuilder::udp6),
    ] {
        if let Some(port) = port {
            b = set(b, port);
        }
    }
    if let Some(byte) = f.capabilities {
        b = b.capabilities(Capabilities::from_byte(byte));
    }
    if let Some((cluster, set)) = &f.shards {
        b = b.shards(RelayShards::new(*cluster, set.iter().copied()));
    }
    b.multiaddrs(f.multiaddrs.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn build_encode_decode_keeps_every_field(f in fields(), secret in any::<[u8; 32]>()) {
        let Ok(key) = SigningKey::from_slice(&secret) else {
            return Ok(()); // zero or above the curve order
        };
        let record = match builder(&f).build(&key) {
            Ok(record) => record,
            Err(EnrError::TooLarge { size }) => {
                prop_assert!(size > 300);
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(e.to_string())),
        };
        prop_assert!(record.size() <= 300);
        let text = record.encode();
        let read = WakuEnr::decode(&text).unwrap();
        prop_assert_eq!(&read, &record);
        prop_assert_eq!(read.encode(), text);
        prop_assert_eq!(read.seq(), f.seq);
        prop_assert_eq!(read.ip4(), f.ip4);
        prop_assert_eq!(read.ip6(), f.ip6);
        prop_assert_eq!(read.tcp4(), f.tcp);
        prop_assert_eq!(read.udp4(), f.udp);
        prop_assert_eq!(read.tcp6(), f.tcp6);
        prop_assert_eq!(read.udp6(), f.udp6);
        prop_assert_eq!(read.capabilities().map(Capabilities::byte), f.capabilities);
        prop_assert_eq!(
            read.shards(),
            f.shards.as_ref().map(|(c, s)| RelayShards::new(*c, s.iter().copied()))
        );
        prop_assert_eq!(read.multiaddrs(), f.multiaddrs.as_slice());
        let dial = read.dial_addresses();
        let expected = usize::from(f.ip4.is_some() && f.tcp.is_some())
            + usize::from(f.ip6.is_some() && (f.tcp6.is_some() || f.tcp.is_some()))
            + f.multiaddrs.len();
        prop_assert_eq!(dial.len(), expected);
        let p2p = format!("/p2p/{}", read.peer_id());
        for addr in dial {
            prop_assert!(addr.to_string().ends_with(&p2p));
        }
    }

    #[test]
    fn decoding_never_panics(data in prop::collection::vec(any::<u8>(), 0..320)) {
        let _ = WakuEnr::from_rlp_bytes(&data);
    }
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! 31/WAKU2-ENR requirements (specs/31-enr.toml), one test or more each.

mod common;

use std::str::FromStr;

use common::{key, key_hex, raw_record, string, vectors};
use multiaddr::{Multiaddr, Protocol};
use waku_enr::multiaddrs::{decode_multiaddrs, dial_address};
use waku_enr::{
    Capabilities, Capability, EnrError, SigningKey, WAKU2_KEY, WakuEnr, WakuEnrBuilder,
};

fn ma(s: &str) -> Multiaddr {
    s.parse().unwrap()
}

/// The value of an entry, without its RLP header.
fn entry(record: &WakuEnr, key: &str) -> Option<Vec<u8>> {
    let mut raw = record.as_enr().get_raw_rlp(key)?;
    Some(
        alloy_rlp::Header::decode_bytes(&mut raw, false)
            .unwrap()
            .to_vec(),
    )
}

// spec: ENR-001
#[test]
fn records_are_eip778_both_ways() {
    let v = vectors();
    // Records written by js-waku and nwaku are read and verified.
    for text in v
        .created
        .iter()
        .map(|c| &c.text)
        .chain(v.real_enrs.iter().filter(|r| r.ok).map(|r| &r.text))
    {
        WakuEnr::decode(text).unwrap();
    }
    // Ours are byte-identical to js-waku's for the same key and fields...
    let c = &v.created[0];
    let ours = WakuEnrBuilder::new()
        .seq(5)
        .ip("127.0.0.1".parse().unwrap())
        .tcp(60000)
        .udp(9000)
        .capabilities(Capabilities::RELAY)
        .build(&key_hex(&c.private_key_hex))
        .unwrap();
    assert_eq!(ours.encode(), c.text);
    // ...and the `enr` crate, an independent EIP-778 implementation, reads them.
    let rich = WakuEnrBuilder::new()
        .ip("192.0.2.7".parse().unwrap())
        .tcp(30303)
        .udp(9000)
        .multiaddr(ma("/dns4/node.example.org/tcp/8000/wss"))
        .capabilities(Capabilities::RELAY | Capabilities::FILTER)
        .shards(waku_sharding::RelayShards::new(1, 0..8))
        .build(&key(9))
        .unwrap();
    let plain = enr::Enr::<SigningKey>::from_str(&rich.encode()).unwrap();
    assert!(plain.verify());
    assert_eq!(plain.id().as_deref(), Some("v4"));
    assert_eq!(plain.tcp4(), Some(30303));
    assert_eq!(plain.node_id().raw(), rich.node_id_bytes());
}

// spec: ENR-002, ENR-003, ENR-004
#[test]
fn multiaddrs_entry_is_length_prefixed_big_endian() {
    let a = ma("/dns4/node-01.example.org/tcp/443/wss");
    let b = ma("/dns6/a.b/tcp/8000/ws");
    let record = WakuEnrBuilder::new()
        .multiaddrs([a.clone(), b.clone()])
        .build(&key(1))
        .unwrap();
    let value = entry(&record, "multiaddrs").unwrap();
    let (la, lb) = (a.as_ref().len(), b.as_ref().len());
    let mut expected = (la as u16).to_be_bytes().to_vec();
    expected.extend_from_slice(a.as_ref());
    expected.extend_from_slice(&(lb as u16).to_be_bytes());
    expected.extend_from_slice(b.as_ref());
    assert_eq!(value, expected);
    assert_eq!(record.multiaddrs(), [a.clone(), b]);
    // A 2-byte big-endian prefix, never a varint: 0x01 0x00 is 256, not 1.
    let long = ma(&format!("/dns4/{}.org/tcp/1", "x".repeat(250)));
    assert!(long.as_ref().len() >= 256);
    let mut value = (long.as_ref().len() as u16).to_be_bytes().to_vec();
    value.extend_from_slice(long.as_ref());
    assert_eq!(decode_multiaddrs(&value).unwrap(), [long]);
    // A truncated prefix or a length past the end fails.
    assert!(decode_multiaddrs(&[0x00]).is_err());
    let mut past = (la as u16 + 1).to_be_bytes().to_vec();
    past.extend_from_slice(a.as_ref());
    assert!(decode_multiaddrs(&past).is_err());
    let signed = raw_record(&key(1), 1, &[("multiaddrs", string(&past))], false);
    assert!(matches!(
        WakuEnr::from_rlp_bytes(&signed),
        Err(EnrError::MalformedField {
            field: "multiaddrs",
            ..
        })
    ));
}

// spec: ENR-005
#[test]
fn secp256k1_key_is_present_and_required() {
    let k = key(2);
    let record = WakuEnrBuilder::new().build(&k).unwrap();
    let pk = entry(&record, "secp256k1").unwrap();
    assert_eq!(pk.len(), 33);
    assert_eq!(pk, k.verifying_key().to_sec1_point(true).as_bytes());
    let without = raw_record(&k, 1, &[("id", string(b"v4"))], true);
    assert!(matches!(
        WakuEnr::from_rlp_bytes(&without),
        Err(EnrError::InvalidRecord(_))
    ));
    // The js-waku record whose key entry was renamed is refused too.
    let renamed = vectors()
        .real_enrs
        .into_iter()
        .find(|r| r.error.as_deref() == Some("Failed to verify ENR: No public key"))
        .unwrap();
    assert!(matches!(
        WakuEnr::decode(&renamed.text),
        Err(EnrError::InvalidRecord(_))
    ));
}

// spec: ENR-006
#[test]
fn peer_id_comes_from_the_secp256k1_key() {
    let secret = [3u8; 32];
    let record = WakuEnrBuilder::new()
        .build(&SigningKey::from_slice(&secret).unwrap())
        .unwrap();
    let sk = libp2p_identity::secp256k1::SecretKey::try_from_bytes(secret).unwrap();
    let kp = libp2p_identity::secp256k1::Keypair::from(sk);
    let expected = libp2p_identity::PublicKey::from(kp.public().clone()).to_peer_id();
    assert_eq!(record.peer_id(), expected);
    for c in vectors().created {
        let r = WakuEnr::decode(&c.text).unwrap();
        assert_eq!(r.peer_id().to_string(), c.fields.peer_id);
    }
}

// spec: ENR-007
#[test]
fn stored_multiaddrs_carry_no_own_peer_id() {
    let k = key(4);
    let me = WakuEnrBuilder::new().build(&k).unwrap().peer_id();
    let relay = WakuEnrBuilder::new().build(&key(5)).unwrap().peer_id();
    let circuit = ma(&format!(
        "/ip4/1.2.3.4/tcp/55555/p2p/{relay}/p2p-circuit/p2p/{me}"
    ));
    let record = WakuEnrBuilder::new()
        .multiaddr(ma("/dns4/a.example.org/tcp/443/wss"))
        .multiaddr(circuit)
        .build(&k)
        .unwrap();
    for addr in record.multiaddrs() {
        assert!(!addr.iter().any(|p| p == Protocol::P2p(me)), "{addr}");
    }
    // Only the circuit-relay address keeps a /p2p/ part: the relay's.
    assert_eq!(
        record.multiaddrs()[1],
        ma(&format!("/ip4/1.2.3.4/tcp/55555/p2p/{relay}"))
    );
    let own = ma(&format!("/dns4/a.example.org/tcp/443/wss/p2p/{me}"));
    assert_eq!(
        WakuEnrBuilder::new().multiaddr(own.clone()).build(&k),
        Err(EnrError::OwnPeerId { addr: own })
    );
}

// spec: ENR-008
#[test]
fn plain_endpoints_use_the_eip778_keys() {
    let record = WakuEnrBuilder::new()
        .multiaddr(ma("/ip4/192.0.2.1/tcp/60000"))
        .multiaddr(ma("/ip4/192.0.2.1/udp/9000"))
        .multiaddr(ma("/ip6/2001:db8::1/tcp/60001"))
        .build(&key(6))
        .unwrap();
    assert_eq!(record.ip4(), Some("192.0.2.1".parse().unwrap()));
    assert_eq!(record.tcp4(), Some(60000));
    assert_eq!(record.udp4(), Some(9000));
    assert_eq!(record.ip6(), Some("2001:db8::1".parse().unwrap()));
    assert_eq!(record.tcp6(), Some(60001));
    assert!(entry(&record, "multiaddrs").is_none());
}

// spec: ENR-009
#[test]
fn multiaddrs_entry_only_for_what_the_keys_cannot_say() {
    let bare = WakuEnrBuilder::new()
        .ip("192.0.2.1".parse().unwrap())
        .tcp(60000)
        .build(&key(7))
        .unwrap();
    assert!(entry(&bare, "multiaddrs").is_none());
    assert!(bare.multiaddrs().is_empty());
    let ws = WakuEnrBuilder::new()
        .ip("192.0.2.1".parse().unwrap())
        .tcp(60000)
        .multiaddr(ma("/ip4/192.0.2.1/tcp/8000/ws"))
        .build(&key(7))
        .unwrap();
    assert_eq!(ws.multiaddrs(), [ma("/ip4/192.0.2.1/tcp/8000/ws")]);
}

// spec: ENR-010
#[test]
fn building_past_300_bytes_fails() {
    let many = (0..5).map(|i| {
        ma(&format!(
            "/dns4/node-{i}.somewhat-long-fleet-name.example.org/tcp/443/wss"
        ))
    });
    let result = WakuEnrBuilder::new()
        .ip("192.0.2.1".parse().unwrap())
        .tcp(60000)
        .multiaddrs(many)
        .build(&key(8));
    assert!(matches!(result, Err(EnrError::TooLarge { size }) if size > 300));
}

// spec: ENR-011
#[test]
fn circuit_relay_addresses_drop_and_regain_p2p_circuit() {
    let k = key(10);
    let me = WakuEnrBuilder::new().build(&k).unwrap().peer_id();
    let relay = WakuEnrBuilder::new().build(&key(11)).unwrap().peer_id();
    let stored = ma(&format!("/ip4/1.2.3.4/tcp/55555/p2p/{relay}"));
    let full = ma(&format!(
        "/ip4/1.2.3.4/tcp/55555/p2p/{relay}/p2p-circuit/p2p/{me}"
    ));
    // Written without /p2p-circuit (given with or without the own id).
    for given in [
        full.clone(),
        ma(&format!("/ip4/1.2.3.4/tcp/55555/p2p/{relay}/p2p-circuit")),
        stored.clone(),
    ] {
        let record = WakuEnrBuilder::new().multiaddr(given).build(&k).unwrap();
        assert_eq!(record.multiaddrs(), std::slice::from_ref(&stored));
        // Read back with /p2p-circuit appended, then the node's id.
        assert_eq!(record.dial_addresses(), std::slice::from_ref(&full));
    }
    assert_eq!(dial_address(&stored, &me), full);
    let plain = ma("/dns4/a.example.org/tcp/443/wss");
    assert_eq!(dial_address(&plain, &me), plain.with(Protocol::P2p(me)));
}

// spec: ENR-012
#[test]
fn only_secp256k1_records_are_accepted() {
    // A record naming the ed25519 scheme key instead of secp256k1.
    let k = key(12);
    let record = raw_record(
        &k,
        1,
        &[("ed25519", string(&[0x11; 32])), ("id", string(b"v4"))],
        true,
    );
    assert!(matches!(
        WakuEnr::from_rlp_bytes(&record),
        Err(EnrError::InvalidRecord(_))
    ));
}

// spec: ENR-013
#[test]
fn waku2_is_one_byte_of_flags() {
    let record = WakuEnrBuilder::new()
        .capabilities(Capabilities::RELAY | Capabilities::STORE)
        .build(&key(13))
        .unwrap();
    assert_eq!(entry(&record, WAKU2_KEY).unwrap(), [0x03]);
    for bad in [vec![], vec![0x01, 0x00]] {
        let signed = raw_record(&key(13), 1, &[("waku2", string(&bad))], false);
        assert!(matches!(
            WakuEnr::from_rlp_bytes(&signed),
            Err(EnrError::MalformedField { field: "waku2", .. })
        ));
    }
}

// spec: ENR-014
#[test]
fn waku2_bit_positions() {
    assert_eq!(Capability::Relay.bit(), 0x01);
    assert_eq!(Capability::Store.bit(), 0x02);
    assert_eq!(Capability::Filter.bit(), 0x04);
    assert_eq!(Capability::Lightpush.bit(), 0x08);
    assert_eq!(Capability::Sync.bit(), 0x10);
    for cap in [
        Capability::Relay,
        Capability::Store,
        Capability::Filter,
        Capability::Lightpush,
        Capability::Sync,
    ] {
        let record = WakuEnrBuilder::new()
            .capabilities(cap.into())
            .build(&key(14))
            .unwrap();
        assert_eq!(entry(&record, WAKU2_KEY).unwrap(), [cap.bit()]);
        let read = WakuEnr::decode(&record.encode()).unwrap();
        assert_eq!(
            read.capabilities().unwrap().iter().collect::<Vec<_>>(),
            [cap]
        );
    }
    // js-waku's 0x0b is relay, store and lightpush.
    let c = &vectors().created[1];
    let read = WakuEnr::decode(&c.text).unwrap();
    assert_eq!(
        read.capabilities().unwrap().names().collect::<Vec<_>>(),
        ["relay", "store", "lightpush"]
    );
}

// spec: ENR-015
#[test]
fn mix_is_bit_5() {
    assert_eq!(Capability::Mix.bit(), 0x20);
    let record = WakuEnrBuilder::new()
        .capabilities("relay,mix".parse().unwrap())
        .build(&key(15))
        .unwrap();
    assert_eq!(entry(&record, WAKU2_KEY).unwrap(), [0x21]);
    assert!(record.supports(Capability::Mix));
}

// spec: ENR-016, ENR-017
#[test]
fn flags_are_exactly_the_advertised_protocols() {
    for (list, byte) in [
        ("relay", 0x01),
        ("store", 0x02),
        ("relay,filter,lightpush", 0x0d),
        ("", 0x00),
    ] {
        let record = WakuEnrBuilder::new()
            .capabilities(list.parse().unwrap())
            .build(&key(16))
            .unwrap();
        assert_eq!(entry(&record, WAKU2_KEY).unwrap(), [byte], "{list}");
    }
}

// spec: ENR-018
#[test]
fn undefined_bits_are_written_as_zero() {
    let record = WakuEnrBuilder::new()
        .capabilities(Capabilities::from_byte(0xff))
        .build(&key(17))
        .unwrap();
    assert_eq!(entry(&record, WAKU2_KEY).unwrap(), [0x3f]);
}

// spec: ENR-019
#[test]
fn waku2_may_be_absent() {
    let record = WakuEnrBuilder::new()
        .ip("192.0.2.1".parse().unwrap())
        .tcp(1)
        .build(&key(18))
        .unwrap();
    assert!(entry(&record, WAKU2_KEY).is_none());
    assert_eq!(record.capabilities(), None);
}

// spec: ENR-020
#[test]
fn discv5_records_need_a_flag() {
    let k = key(19);
    assert_eq!(
        WakuEnrBuilder::new().build_for_discv5(&k),
        Err(EnrError::NoCapabilities)
    );
    assert_eq!(
        WakuEnrBuilder::new()
            .capabilities(Capabilities::from_byte(0xc0))
            .build_for_discv5(&k),
        Err(EnrError::NoCapabilities)
    );
    let record = WakuEnrBuilder::new()
        .capabilities(Capabilities::RELAY)
        .build_for_discv5(&k)
        .unwrap();
    assert!(record.is_waku_node());
}

// spec: ENR-021
#[test]
fn discovered_records_without_flags_are_dropped() {
    let k = key(20);
    let none = WakuEnrBuilder::new().build(&k).unwrap();
    let zero = WakuEnrBuilder::new()
        .capabilities(Capabilities::empty())
        .build(&k)
        .unwrap();
    let relay = WakuEnrBuilder::new()
        .capabilities(Capabilities::RELAY)
        .build(&k)
        .unwrap();
    let kept: Vec<bool> = [&none, &zero, &relay]
        .iter()
        .map(|r| r.is_waku_node())
        .collect();
    assert_eq!(kept, [false, false, true]);
    // The eth2 record among the real ones has no waku2 entry.
    let eth2 = vectors()
        .real_enrs
        .into_iter()
        .find(|r| r.text.contains("ZXRoMp"))
        .unwrap();
    assert!(!WakuEnr::decode(&eth2.text).unwrap().is_waku_node());
}

// spec: ENR-022
#[test]
fn discovered_records_can_be_filtered_on_flags() {
    let stores: Vec<String> = vectors()
        .real_enrs
        .iter()
        .filter(|r| r.ok)
        .map(|r| WakuEnr::decode(&r.text).unwrap())
        .filter(|r| r.supports(Capability::Store))
        .map(|r| r.peer_id().to_string())
        .collect();
    assert_eq!(stores.len(), 5, "{stores:?}");
}

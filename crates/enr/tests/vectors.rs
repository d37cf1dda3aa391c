#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The js-waku vectors (tests/vectors/enr.json): decoding, building, round trips.

mod common;

use std::net::IpAddr;

use common::{Fields, key_hex, vectors};
use multiaddr::Multiaddr;
use waku_enr::shards_field::{decode_index_list, encode_index_list};
use waku_enr::{Capabilities, EnrError, WakuEnr, WakuEnrBuilder};
use waku_sharding::{MAX_SHARD_INDEX, RelayShards};

fn shard_set(info: &common::ShardInfo) -> RelayShards {
    RelayShards::new(info.cluster_id, info.shards.iter().copied())
}

/// Checks every field the vector lists against the decoded record.
fn check_fields(name: &str, record: &WakuEnr, f: &Fields) {
    assert_eq!(record.seq().to_string(), f.seq, "{name}: seq");
    assert_eq!(f.id, "v4", "{name}: id");
    assert_eq!(
        hex::encode(record.public_key()),
        f.public_key_compressed_hex,
        "{name}: public key"
    );
    assert_eq!(record.node_id(), f.node_id, "{name}: node id");
    assert_eq!(record.peer_id().to_string(), f.peer_id, "{name}: peer id");
    assert_eq!(record.ip4().map(|ip| ip.to_string()), f.ip, "{name}: ip");
    assert_eq!(record.tcp4(), f.tcp, "{name}: tcp");
    assert_eq!(record.udp4(), f.udp, "{name}: udp");
    assert_eq!(record.ip6().map(|ip| ip.to_string()), f.ip6, "{name}: ip6");
    assert_eq!(record.tcp6(), f.tcp6, "{name}: tcp6");
    assert_eq!(record.udp6(), f.udp6, "{name}: udp6");
    assert_eq!(
        record.capabilities().map(Capabilities::byte),
        f.waku2_byte,
        "{name}: waku2"
    );
    let multiaddrs: Vec<String> = record.multiaddrs().iter().map(|m| m.to_string()).collect();
    assert_eq!(
        multiaddrs,
        f.multiaddrs_field.clone().unwrap_or_default(),
        "{name}: multiaddrs"
    );
    assert!(f.rsv.is_none(), "{name}: no rsv case among the vectors");
    assert_eq!(
        record.index_list_shards(),
        f.rs.as_ref().map(shard_set),
        "{name}: rs"
    );
    assert_eq!(
        record.shards(),
        f.shard_info.as_ref().map(shard_set),
        "{name}: shards"
    );
    assert_eq!(
        hex::encode(record.as_enr().signature()),
        f.signature_hex,
        "{name}: signature"
    );
    for kv in &f.kv {
        let mut raw = record.as_enr().get_raw_rlp(&kv.key).unwrap();
        let value = alloy_rlp::Header::decode_bytes(&mut raw, false).unwrap();
        assert_eq!(hex::encode(value), kv.value_hex, "{name}: entry {}", kv.key);
    }
    assert_eq!(
        record.as_enr().iter().count(),
        f.kv.len(),
        "{name}: number of entries"
    );
    // js-waku lists ip+udp endpoints too; dial addresses are TCP and multiaddrs.
    let udp_endpoints: Vec<String> = [
        f.ip.as_ref()
            .zip(f.udp)
            .map(|(ip, p)| format!("/ip4/{ip}/udp/{p}/")),
        f.ip6
            .as_ref()
            .zip(f.udp6)
            .map(|(ip, p)| format!("/ip6/{ip}/udp/{p}/")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let expected: Vec<&String> = f
        .location_multiaddrs_with_peer_id
        .iter()
        .filter(|a| !udp_endpoints.iter().any(|u| a.starts_with(u.as_str())))
        .collect();
    let dial: Vec<String> = record
        .dial_addresses()
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert_eq!(
        dial.iter().collect::<Vec<_>>(),
        expected,
        "{name}: dial addresses"
    );
}

#[test]
fn vector_file_keeps_its_source() {
    let v = vectors();
    assert_eq!(v.source, "@waku/enr@0.0.33 + @waku/utils@0.0.27");
    assert_eq!(v.created.len(), 3);
    assert_eq!(v.real_enrs.len(), 11);
}

#[test]
fn created_records_decode_to_their_fields() {
    for c in vectors().created {
        let record = WakuEnr::decode(&c.text).unwrap();
        check_fields(&c.name, &record, &c.fields);
        assert_eq!(hex::encode(record.to_rlp_bytes()), c.rlp_hex, "{}", c.name);
        assert_eq!(record.size(), c.rlp_len, "{}", c.name);
        let no_prefix = c.text.strip_prefix("enr:").unwrap();
        assert_eq!(WakuEnr::decode(no_prefix).unwrap(), record, "{}", c.name);
    }
}

#[test]
fn real_records_decode_to_their_fields() {
    for (i, r) in vectors().real_enrs.iter().enumerate() {
        let name = format!("real #{i} ({})", r.found_in[0]);
        let result = WakuEnr::decode(&r.text);
        if r.ok {
            let record = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            check_fields(&name, &record, r.fields.as_ref().unwrap());
        } else {
            let err = result.expect_err(&name);
            assert!(r.error.is_some(), "{name}");
            eprintln!("{name}: rejected as expected: {err}");
        }
    }
}

#[test]
fn building_created_records_gives_identical_text() {
    for c in vectors().created {
        let f = &c.fields;
        let mut b = WakuEnrBuilder::new().seq(f.seq.parse().unwrap());
        if let Some(ip) = &f.ip {
            b = b.ip(ip.parse::<IpAddr>().unwrap());
        }
        if let Some(ip) = &f.ip6 {
            b = b.ip(ip.parse::<IpAddr>().unwrap());
        }
        if let Some(p) = f.tcp {
            b = b.tcp(p);
        }
        if let Some(p) = f.udp {
            b = b.udp(p);
        }
        if let Some(p) = f.tcp6 {
            b = b.tcp6(p);
        }
        if let Some(p) = f.udp6 {
            b = b.udp6(p);
        }
        for m in f.multiaddrs_field.iter().flatten() {
            b = b.multiaddr(m.parse::<Multiaddr>().unwrap());
        }
        if let Some(byte) = f.waku2_byte {
            b = b.capabilities(Capabilities::from_byte(byte));
        }
        if let Some(rs) = &f.rs {
            b = b.shards(shard_set(rs));
        }
        let built = b.build(&key_hex(&c.private_key_hex)).unwrap();
        assert_eq!(built.encode(), c.text, "{}", c.name);
    }
}

#[test]
fn decode_then_encode_gives_the_same_text() {
    let v = vectors();
    let texts = v
        .created
        .iter()
        .map(|c| &c.text)
        .chain(v.real_enrs.iter().filter(|r| r.ok).map(|r| &r.text));
    for text in texts {
        let record = WakuEnr::decode(text).unwrap();
        assert_eq!(&record.encode(), text);
        assert_eq!(&record.to_string(), text);
        assert_eq!(WakuEnr::decode(&record.encode()).unwrap(), record);
    }
}

#[test]
fn relay_shard_field_cases() {
    let mut out_of_range = 0;
    for case in vectors().relay_shard_field_encoding {
        assert!(case.format.starts_with("rs"), "{}", case.format);
        let shards = shard_set(&case.shard_info);
        let bytes = hex::decode(&case.hex).unwrap();
        // js-waku writes and reads any 2-byte index; we neither write nor
        // read indices above 1023 (a cluster has 1024 shards, see the README;
        // a record carrying one is read without shards, as nwaku does).
        if let Some(&shard) = shards.shards.iter().find(|&&s| s > MAX_SHARD_INDEX) {
            out_of_range += 1;
            let refused = EnrError::ShardOutOfRange { field: "rs", shard };
            assert_eq!(encode_index_list(&shards), Err(refused.clone()));
            assert_eq!(decode_index_list(&bytes), Err(refused));
            continue;
        }
        assert_eq!(hex::encode(encode_index_list(&shards).unwrap()), case.hex);
        assert_eq!(decode_index_list(&bytes).unwrap(), shard_set(&case.decoded));
    }
    assert_eq!(out_of_range, 1, "the cluster 65535 / shard 65535 case");
}

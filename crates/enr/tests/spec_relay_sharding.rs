#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The ENR (`rs`/`rsv`) requirements of RELAY-SHARDING (specs/relay-sharding.toml).

mod common;

use common::{key, raw_record, string};
use waku_enr::shards_field::{
    decode_bit_vector, decode_index_list, encode_bit_vector, encode_index_list,
};
use waku_enr::{EnrError, WakuEnr, WakuEnrBuilder};
use waku_sharding::RelayShards;

fn entry(record: &WakuEnr, key: &str) -> Option<Vec<u8>> {
    let mut raw = record.as_enr().get_raw_rlp(key)?;
    Some(
        alloy_rlp::Header::decode_bytes(&mut raw, false)
            .unwrap()
            .to_vec(),
    )
}

fn built(shards: RelayShards) -> WakuEnr {
    WakuEnrBuilder::new().shards(shards).build(&key(1)).unwrap()
}

/// A signed record carrying both an `rs` and an `rsv` entry.
fn both(rs: &RelayShards, rsv_value: Vec<u8>) -> WakuEnr {
    let bytes = raw_record(
        &key(2),
        1,
        &[
            ("rs", string(&encode_index_list(rs).unwrap())),
            ("rsv", string(&rsv_value)),
        ],
        false,
    );
    WakuEnr::from_rlp_bytes(&bytes).unwrap()
}

// spec: SHARD-006
#[test]
fn fewer_than_64_shards_use_rs() {
    for n in [0u16, 1, 8, 63] {
        let shards = RelayShards::new(1, 0..n);
        let record = built(shards.clone());
        assert_eq!(
            entry(&record, "rs").unwrap(),
            encode_index_list(&shards).unwrap()
        );
        assert!(entry(&record, "rsv").is_none());
        assert_eq!(record.shards(), Some(shards));
    }
}

// spec: SHARD-007
#[test]
fn sixty_four_shards_or_more_use_rsv() {
    for n in [64u16, 100, 1024] {
        let shards = RelayShards::new(1, 0..n);
        let record = built(shards.clone());
        assert_eq!(entry(&record, "rsv").unwrap().len(), 130);
        assert!(entry(&record, "rs").is_none());
        assert_eq!(record.shards(), Some(shards));
    }
}

// spec: SHARD-008
#[test]
fn built_records_never_carry_both() {
    for n in 0..=130u16 {
        let record = built(RelayShards::new(7, (0..n).map(|i| i * 7 % 1024)));
        let rs = entry(&record, "rs").is_some();
        let rsv = entry(&record, "rsv").is_some();
        assert!(rs != rsv, "{n} shards: rs {rs}, rsv {rsv}");
        assert!(!record.has_conflicting_shard_fields());
    }
}

// spec: SHARD-009
#[test]
fn records_with_both_give_no_shards_by_default() {
    let rs = RelayShards::new(1, [0, 1]);
    let record = both(
        &rs,
        encode_bit_vector(&RelayShards::new(1, 0..100)).unwrap(),
    );
    assert!(record.has_conflicting_shard_fields());
    assert_eq!(record.shards(), None);
}

// spec: SHARD-010
#[test]
fn rs_can_still_be_read_from_records_with_both() {
    let rs = RelayShards::new(1, [0, 1]);
    let record = both(
        &rs,
        encode_bit_vector(&RelayShards::new(1, 0..100)).unwrap(),
    );
    assert_eq!(record.index_list_shards(), Some(rs));
}

// spec: SHARD-011
#[test]
fn rsv_of_records_with_both_is_never_used() {
    let rs = RelayShards::new(1, [5]);
    // Even a malformed rsv does not matter: it is not read at all.
    for rsv in [
        encode_bit_vector(&RelayShards::new(2, 0..100)).unwrap(),
        vec![0xff; 7],
    ] {
        let record = both(&rs, rsv);
        assert_eq!(record.index_list_shards(), Some(rs.clone()));
        assert_eq!(record.shards(), None);
    }
}

// spec: SHARD-012
#[test]
fn rs_layout() {
    let shards = RelayShards::new(16, [13, 14, 45]);
    let expected = hex::decode("001003000d000e002d").unwrap();
    assert_eq!(encode_index_list(&shards).unwrap(), expected);
    assert_eq!(entry(&built(shards.clone()), "rs").unwrap(), expected);
    assert_eq!(decode_index_list(&expected).unwrap(), shards);
    // The nwaku record among the vectors: cluster 1, shards 0..7.
    let value = hex::decode("00010800000001000200030004000500060007").unwrap();
    assert_eq!(
        decode_index_list(&value).unwrap(),
        RelayShards::new(1, 0..8)
    );
}

// spec: SHARD-002
#[test]
fn rs_naming_a_shard_above_1023_fails() {
    // Cluster 16, shards 13 and 1024: well formed, but a cluster has 1024
    // shards, so 1024 names none of them.
    let value = hex::decode("001002000d0400").unwrap();
    let refused = EnrError::ShardOutOfRange {
        field: "rs",
        shard: 1024,
    };
    assert_eq!(decode_index_list(&value), Err(refused.clone()));
    // The record itself stays usable without shards (as nwaku reads it).
    let signed = raw_record(&key(3), 1, &[("rs", string(&value))], false);
    let record = WakuEnr::from_rlp_bytes(&signed).unwrap();
    assert_eq!(record.shards(), None);
    assert_eq!(record.shard_field_error(), Some(&refused));
    assert!(
        refused.to_string().contains("shard 1024") && refused.to_string().contains("0 to 1023"),
        "{refused}"
    );
    // The last shard there is still reads, and neither encoder writes 1024.
    let last = hex::decode("00100103ff").unwrap();
    assert_eq!(
        decode_index_list(&last).unwrap(),
        RelayShards::new(16, [1023])
    );
    let too_high = RelayShards::new(16, [13, 1024]);
    assert_eq!(encode_index_list(&too_high), Err(refused));
    assert_eq!(
        encode_bit_vector(&too_high),
        Err(EnrError::ShardOutOfRange {
            field: "rsv",
            shard: 1024
        })
    );
}

// spec: SHARD-013
#[test]
fn malformed_rs_fails() {
    for value in [
        &[][..],
        &[0, 16],
        &[0, 16, 1],
        &[0, 16, 1, 0],
        &[0, 16, 1, 0, 13, 0],
        &[0, 16, 0, 0, 13],
    ] {
        assert!(decode_index_list(value).is_err(), "{value:?}");
        let signed = raw_record(&key(3), 1, &[("rs", string(value))], false);
        let record = WakuEnr::from_rlp_bytes(&signed).unwrap();
        assert_eq!(record.shards(), None, "{value:?}");
        assert!(
            matches!(
                record.shard_field_error(),
                Some(EnrError::MalformedField { field: "rs", .. })
            ),
            "{value:?}"
        );
    }
}

// spec: SHARD-014
#[test]
fn rsv_layout() {
    let mut members: Vec<u16> = (100..161).collect();
    members.extend([0, 13, 14, 45, 1023]);
    let shards = RelayShards::new(16, members);
    assert!(shards.shards.len() >= 64);
    let value = entry(&built(shards.clone()), "rsv").unwrap();
    assert_eq!(value.len(), 130);
    assert_eq!(&value[..2], &[0x00, 0x10]);
    // Shard s is bit s % 8 (least significant first) of flag byte s / 8.
    assert_eq!(value[2], 0b0000_0001); // shard 0
    assert_eq!(value[2 + 1], 0b0110_0000); // shards 13, 14
    assert_eq!(value[2 + 5], 0b0010_0000); // shard 45
    assert_eq!(value[2 + 127], 0b1000_0000); // shard 1023
    for s in 0..1024u16 {
        let bit = value[2 + usize::from(s) / 8] >> (s % 8) & 1 == 1;
        assert_eq!(bit, shards.shards.contains(&s), "shard {s}");
    }
    assert_eq!(decode_bit_vector(&value).unwrap(), shards);
}

// spec: SHARD-015
#[test]
fn rsv_of_other_length_fails() {
    for len in [0usize, 3, 129, 131, 150] {
        assert!(decode_bit_vector(&vec![0; len]).is_err(), "{len}");
        let signed = raw_record(&key(4), 1, &[("rsv", string(&vec![0; len]))], false);
        let record = WakuEnr::from_rlp_bytes(&signed).unwrap();
        assert_eq!(record.shards(), None, "{len}");
        assert!(
            matches!(
                record.shard_field_error(),
                Some(EnrError::MalformedField { field: "rsv", .. })
            ),
            "{len}"
        );
    }
}

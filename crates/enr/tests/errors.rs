#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every way reading or building a record can fail, and the error it gives.

mod common;

use common::{bytes, key, raw_record, string, text, vectors};
use multiaddr::Multiaddr;
use waku_enr::{Capabilities, EnrError, WakuEnr, WakuEnrBuilder};
use waku_sharding::RelayShards;

fn first_created() -> String {
    vectors().created[0].text.clone()
}

#[test]
fn bad_base64() {
    for bad in ["enr:-JK4QJtF6meG!!", "enr:-JK4Q JtF", "enr:AAAAA"] {
        assert!(
            matches!(WakuEnr::decode(bad), Err(EnrError::Base64(_))),
            "{bad}"
        );
    }
}

#[test]
fn bad_rlp() {
    let good = bytes(&first_created());
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x80],                          // a string, not a list
        vec![0xc0],                          // empty list
        good[..good.len() - 1].to_vec(),     // truncated
        [good.clone(), vec![0x01]].concat(), // trailing byte
    ];
    for case in cases {
        let err = WakuEnr::decode(&text(&case)).unwrap_err();
        assert!(
            matches!(err, EnrError::InvalidRecord(_)),
            "{case:02x?}: {err}"
        );
        assert!(matches!(
            WakuEnr::from_rlp_bytes(&case),
            Err(EnrError::InvalidRecord(_))
        ));
    }
}

#[test]
fn unsorted_keys_and_unknown_scheme_are_structure_errors() {
    let k = key(1);
    let unsorted = raw_record(
        &k,
        1,
        &[("waku2", string(&[1])), ("tcp", alloy_rlp::encode(1u16))],
        false,
    );
    // raw_record sorts when it adds id/secp256k1; build one unsorted by hand.
    assert!(WakuEnr::from_rlp_bytes(&unsorted).is_ok());
    let pk = k.verifying_key().to_sec1_point(true);
    let unsorted = raw_record(
        &k,
        1,
        &[("secp256k1", string(pk.as_bytes())), ("id", string(b"v4"))],
        true,
    );
    assert!(matches!(
        WakuEnr::from_rlp_bytes(&unsorted),
        Err(EnrError::InvalidRecord(_))
    ));
    let v5 = raw_record(
        &k,
        1,
        &[("id", string(b"v5")), ("secp256k1", string(pk.as_bytes()))],
        true,
    );
    assert!(matches!(
        WakuEnr::from_rlp_bytes(&v5),
        Err(EnrError::InvalidRecord(_))
    ));
    let no_id = raw_record(&k, 1, &[("secp256k1", string(pk.as_bytes()))], true);
    assert!(matches!(
        WakuEnr::from_rlp_bytes(&no_id),
        Err(EnrError::InvalidRecord(_))
    ));
}

#[test]
fn tampered_signature() {
    let good = bytes(&first_created());
    // f8 92 b8 40 <64 signature bytes> ...
    assert_eq!(&good[..4], &[0xf8, 0x92, 0xb8, 0x40]);
    for at in [4, 20, 4 + 63] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        let err = WakuEnr::decode(&text(&bad)).unwrap_err();
        assert_eq!(err, EnrError::BadSignature, "byte {at}");
    }
}

#[test]
fn tampered_content() {
    let good = bytes(&first_created());
    // The tcp port 60000 (82 ea 60) becomes 60001.
    let at = good
        .windows(3)
        .position(|w| w == [0x82, 0xea, 0x60])
        .unwrap();
    let mut bad = good.clone();
    bad[at + 2] = 0x61;
    assert_eq!(WakuEnr::decode(&text(&bad)), Err(EnrError::BadSignature));
}

#[test]
fn foreign_record_over_300_bytes() {
    let k = key(2);
    let big = raw_record(&k, 1, &[("zzz", string(&[0xab; 200]))], false);
    assert!(big.len() > 300, "{}", big.len());
    assert_eq!(
        WakuEnr::decode(&text(&big)),
        Err(EnrError::TooLarge { size: big.len() })
    );
    // The same kind of record just under the limit is read.
    let fits = raw_record(&k, 1, &[("zzz", string(&[0xab; 150]))], false);
    assert!(fits.len() <= 300);
    assert!(WakuEnr::decode(&text(&fits)).is_ok());
}

#[test]
fn building_over_300_bytes_says_how_big() {
    let addrs: Vec<Multiaddr> = (0..6)
        .map(|i| {
            format!("/dns4/node-{i:02}.a-rather-long-host-name.example.org/tcp/443/wss")
                .parse()
                .unwrap()
        })
        .collect();
    let err = WakuEnrBuilder::new()
        .capabilities(Capabilities::RELAY)
        .multiaddrs(addrs)
        .build(&key(3))
        .unwrap_err();
    let EnrError::TooLarge { size } = err else {
        panic!("{err:?}")
    };
    assert!(size > 300);
    assert!(err.to_string().contains(&size.to_string()), "{err}");
}

fn signed_with(entries: &[(&str, Vec<u8>)]) -> Result<WakuEnr, EnrError> {
    WakuEnr::from_rlp_bytes(&raw_record(&key(4), 1, entries, false))
}

fn malformed_field(result: Result<WakuEnr, EnrError>) -> &'static str {
    match result {
        Err(EnrError::MalformedField { field, .. }) => field,
        other => panic!("expected a malformed field, got {other:?}"),
    }
}

/// The field named by the `MalformedField` that made a record drop its
/// shard entry; the record itself must read, without shards.
fn ignored_shard_field(result: Result<WakuEnr, EnrError>) -> &'static str {
    let record = result.unwrap();
    assert_eq!(record.shards(), None);
    match record.shard_field_error() {
        Some(EnrError::MalformedField { field, .. }) => field,
        other => panic!("expected a malformed shard field, got {other:?}"),
    }
}

#[test]
fn malformed_rs() {
    for value in [
        vec![],
        vec![0, 1],
        vec![0, 1, 2, 0, 1],    // says 2 shards, has 1
        vec![0, 1, 1, 0, 1, 0], // one byte too many
        vec![0, 1, 0, 0],       // count 0 with a trailing byte
    ] {
        assert_eq!(
            ignored_shard_field(signed_with(&[("rs", string(&value))])),
            "rs"
        );
    }
    // An RLP list instead of a byte string.
    assert_eq!(
        ignored_shard_field(signed_with(&[("rs", vec![0xc3, 0x00, 0x01, 0x00])])),
        "rs"
    );
}

#[test]
fn malformed_rsv() {
    for len in [0, 2, 129, 131] {
        assert_eq!(
            ignored_shard_field(signed_with(&[("rsv", string(&vec![0; len]))])),
            "rsv"
        );
    }
}

#[test]
fn malformed_multiaddrs() {
    let ok = Multiaddr::try_from(vec![0x04, 1, 2, 3, 4, 0x06, 0x01, 0xbb])
        .unwrap()
        .to_vec();
    let entry = |len: u16, body: &[u8]| [len.to_be_bytes().as_slice(), body].concat();
    for value in [
        vec![0x00],                                         // truncated prefix
        entry(ok.len() as u16 + 1, &ok),                    // runs past the end
        [entry(ok.len() as u16, &ok), vec![0x00]].concat(), // stray byte
        entry(0, &[]),                                      // empty entry
        entry(3, &[0xff, 0xff, 0xff]),                      // not a multiaddr
    ] {
        assert_eq!(
            malformed_field(signed_with(&[("multiaddrs", string(&value))])),
            "multiaddrs",
            "{value:02x?}"
        );
    }
}

#[test]
fn malformed_waku2() {
    for value in [vec![], vec![1, 2]] {
        assert_eq!(
            malformed_field(signed_with(&[("waku2", string(&value))])),
            "waku2"
        );
    }
}

#[test]
fn builder_refuses_own_peer_id_and_bad_shards() {
    let k = key(5);
    let me = WakuEnrBuilder::new().build(&k).unwrap().peer_id();
    let own: Multiaddr = format!("/dns4/a.example.org/tcp/443/wss/p2p/{me}")
        .parse()
        .unwrap();
    assert!(matches!(
        WakuEnrBuilder::new().multiaddr(own).build(&k),
        Err(EnrError::OwnPeerId { .. })
    ));
    let dangling: Multiaddr = "/ip4/1.2.3.4/tcp/1/p2p-circuit".parse().unwrap();
    assert!(matches!(
        WakuEnrBuilder::new().multiaddr(dangling).build(&k),
        Err(EnrError::InvalidMultiaddr { .. })
    ));
    assert_eq!(
        WakuEnrBuilder::new()
            .shards(RelayShards::new(1, 2000..2300))
            .build(&k),
        Err(EnrError::ShardOutOfRange {
            field: "rsv",
            shard: 2000
        })
    );
    assert_eq!(
        WakuEnrBuilder::new()
            .shards(RelayShards::new(1, [3, 1024]))
            .build(&k),
        Err(EnrError::ShardOutOfRange {
            field: "rs",
            shard: 1024
        })
    );
}

//! `waku enr decode` and `waku enr encode` as a user runs them, against an ENR
//! built by js-waku (`@waku/enr@0.0.33`, from the shared vectors).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::waku;

use base64::Engine as _;
use serde_json::{Value, json};
use sha3::{Digest as _, Keccak256};
use waku_enr::{MAX_ENR_SIZE, SigningKey};

/// js-waku record: key b71c…f291, seq 6, ip 192.168.1.10, tcp 60000, two
/// multiaddrs, waku2 relay+store+lightpush, rs cluster 1 shard 3.
const JS_ENR: &str = "enr:-Mi4QLTWgWwDIhCmaVa6h9_5FCkwmRHDa_X_cFnzyO4XBx2yahBNAxigMRUMg2b3wRT7Sc9vRMWVN151BdA0VzU-vmwGgmlkgnY0gmlwhMCoAQqKbXVsdGlhZGRyc6gAGjYTbm9kZS0wMS5leGFtcGxlLm9yZwYBu94DAAoEwKgBCgYfQN0DgnJzhQABAQADiXNlY3AyNTZrMaEDymNMrg1JrLQB2KTGtv6MVbcNEVv0AHacwUAPMljNMTiDdGNwgupghXdha3UyCw";
const JS_KEY: &str = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
const PEER: &str = "16Uiu2HAmSH2XVgZqYHWucap5kuPzLnt2TsNQkoppVxB5eJGvaXwm";

fn decode(enr: &str) -> Value {
    let o = waku(&["enr", "decode", enr]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn decode_prints_every_present_field() {
    let v = decode(JS_ENR);
    assert_eq!(v["seq"], 6);
    assert_eq!(
        v["node_id"],
        "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7"
    );
    assert_eq!(v["peer_id"], PEER);
    assert_eq!(v["ip"], "192.168.1.10");
    assert_eq!(v["tcp"], 60000);
    for absent in ["udp", "ip6", "tcp6", "udp6"] {
        assert!(v.get(absent).is_none(), "{absent} should be omitted");
    }
    assert_eq!(
        v["multiaddrs"],
        json!([
            "/dns4/node-01.example.org/tcp/443/wss",
            "/ip4/192.168.1.10/tcp/8000/ws"
        ])
    );
    assert_eq!(
        v["waku2"],
        json!({"raw": 11, "relay": true, "store": true, "filter": false,
               "lightpush": true, "sync": false, "mix": false})
    );
    assert_eq!(v["shards"], json!({"cluster": 1, "shards": [3]}));
    assert_eq!(
        v["dial"],
        json!([
            format!("/ip4/192.168.1.10/tcp/60000/p2p/{PEER}"),
            format!("/dns4/node-01.example.org/tcp/443/wss/p2p/{PEER}"),
            format!("/ip4/192.168.1.10/tcp/8000/ws/p2p/{PEER}"),
        ])
    );
}

#[test]
fn encode_reproduces_the_js_waku_record() {
    let o = waku(&[
        "enr",
        "encode",
        "--nodekey",
        JS_KEY,
        "--seq",
        "6",
        "--ip",
        "192.168.1.10",
        "--tcp",
        "60000",
        "--multiaddr",
        "/dns4/node-01.example.org/tcp/443/wss",
        "--multiaddr",
        "/ip4/192.168.1.10/tcp/8000/ws",
        "--waku2",
        "relay,store,lightpush",
        "--cluster",
        "1",
        "--shard",
        "3",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), JS_ENR);
}

#[test]
fn decode_of_encode_round_trips() {
    let o = waku(&[
        "enr",
        "encode",
        "--nodekey",
        &"11".repeat(32),
        "--ip",
        "10.0.0.1",
        "--tcp",
        "60000",
        "--udp",
        "9000",
        "--waku2",
        "relay,filter,mix",
        "--cluster",
        "16",
        "--shard",
        "1",
        "--shard",
        "64",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let v = decode(text.trim());
    assert_eq!(v["ip"], "10.0.0.1");
    assert_eq!(
        (v["tcp"].clone(), v["udp"].clone()),
        (json!(60000), json!(9000))
    );
    assert_eq!(v["waku2"]["raw"], 0x01 | 0x04 | 0x20);
    assert_eq!(v["shards"], json!({"cluster": 16, "shards": [1, 64]}));
    let o = waku(&[
        "enr",
        "encode",
        "--nodekey",
        &"11".repeat(32),
        "--ip",
        "::1",
        "--tcp",
        "1",
    ]);
    let v = decode(String::from_utf8(o.stdout).unwrap().trim());
    assert_eq!(
        (v["ip6"].clone(), v["tcp6"].clone()),
        (json!("::1"), json!(1))
    );
}

#[test]
fn decode_omits_dial_when_there_is_nothing_to_dial() {
    // Only the key: no ip, tcp, udp or multiaddrs.
    let o = waku(&["enr", "encode", "--nodekey", &"22".repeat(32)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = decode(String::from_utf8(o.stdout).unwrap().trim());
    assert!(v["peer_id"].is_string());
    for absent in [
        "ip",
        "tcp",
        "udp",
        "ip6",
        "tcp6",
        "udp6",
        "multiaddrs",
        "waku2",
        "shards",
        "dial",
    ] {
        assert!(v.get(absent).is_none(), "{absent} should be omitted: {v}");
    }
}

/// An RLP byte string (EIP-778 records only need short forms and one
/// long-length form).
fn rlp_string(bytes: &[u8]) -> Vec<u8> {
    match bytes {
        [b] if *b < 0x80 => vec![*b],
        _ => [rlp_header(0x80, bytes.len()), bytes.to_vec()].concat(),
    }
}

fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload = items.concat();
    [rlp_header(0xc0, payload.len()), payload].concat()
}

fn rlp_header(offset: u8, len: usize) -> Vec<u8> {
    if len < 56 {
        return vec![offset + len as u8];
    }
    let digits: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    [vec![offset + 55 + digits.len() as u8], digits].concat()
}

/// A correctly signed v4 record with an extra `note` entry of `note_len`
/// bytes, which makes it as large as wanted (our builder refuses to).
fn signed_record_with_note(note_len: usize) -> String {
    signed_record_with(b"note", &vec![b'n'; note_len])
}

/// A correctly signed v4 record (seq 7) with one extra entry, written as
/// given (our builder refuses bad values). `entry` must sort between `id`
/// and `secp256k1`.
fn signed_record_with(entry: &[u8], value: &[u8]) -> String {
    let key = SigningKey::from_slice(&[0x5a; 32]).unwrap();
    let public = key.verifying_key().to_sec1_point(true);
    let content = vec![
        rlp_string(&[7]), // seq
        rlp_string(b"id"),
        rlp_string(b"v4"),
        rlp_string(entry),
        rlp_string(value),
        rlp_string(b"secp256k1"),
        rlp_string(public.as_bytes()),
    ];
    let digest = Keccak256::digest(rlp_list(&content));
    let (signature, _) = key.sign_prehash_recoverable(&digest);
    let mut record = vec![rlp_string(&signature.to_bytes())];
    record.extend(content);
    let bytes = rlp_list(&record);
    format!(
        "enr:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn rlp_len(text: &str) -> usize {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_start_matches("enr:"))
        .unwrap()
        .len()
}

#[test]
fn decode_refuses_a_signed_record_over_300_bytes() {
    // The same record, small, decodes: the signature and layout are right.
    let small = signed_record_with_note(100);
    assert!(rlp_len(&small) <= MAX_ENR_SIZE);
    assert_eq!(decode(&small)["seq"], 7);

    let big = signed_record_with_note(250);
    let size = rlp_len(&big);
    assert!(size > MAX_ENR_SIZE, "{size}");
    let o = waku(&["enr", "decode", &big]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("{size} bytes")), "{err}");
    assert!(err.contains("300-byte limit"), "{err}");
}

#[test]
fn decode_reads_a_record_with_a_bad_shard_entry_without_shards() {
    // rs: cluster 16, shards 13 and 1024 (a cluster has shards 0 to 1023).
    let record = signed_record_with(b"rs", &[0x00, 0x10, 0x02, 0x00, 0x0d, 0x04, 0x00]);
    let out = decode(&record);
    assert_eq!(out["seq"], 7);
    assert!(out.get("shards").is_none(), "{out}");
    let reason = out["shards_ignored"].as_str().unwrap();
    assert!(reason.contains("1024") && reason.contains("rs"), "{reason}");
    // A good entry has no such field.
    let good = decode(&signed_record_with(b"rs", &[0x00, 0x10, 0x01, 0x00, 0x0d]));
    assert_eq!(good["shards"], json!({"cluster": 16, "shards": [13]}));
    assert!(good.get("shards_ignored").is_none(), "{good}");
}

fn expect_invalid(args: &[&str], needle: &str) {
    let o = waku(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.to_lowercase().contains(needle), "{args:?}: {err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn invalid_records_exit_2_with_the_reason() {
    expect_invalid(&["enr", "decode", "enr:***"], "base64");
    // Valid base64 of bytes that are not RLP.
    expect_invalid(&["enr", "decode", "enr:AAAA"], "rlp");
    // Flip one character inside the signature.
    let mut tampered = JS_ENR.to_owned();
    tampered.replace_range(10..11, if &JS_ENR[10..11] == "A" { "B" } else { "A" });
    expect_invalid(&["enr", "decode", &tampered], "signature");
}

#[test]
fn oversized_records_are_refused_when_building() {
    let mut args = vec!["enr", "encode", "--nodekey", JS_KEY];
    let long: Vec<String> = (0..8)
        .map(|i| format!("/dns4/a-very-long-host-name-number-{i}.example.org/tcp/443/wss"))
        .collect();
    for addr in &long {
        args.push("--multiaddr");
        args.push(addr);
    }
    expect_invalid(&args, "300");
}

#[test]
fn bad_encode_flags_exit_2() {
    expect_invalid(&["enr", "encode", "--nodekey", "zz"], "--nodekey");
    expect_invalid(
        &[
            "enr",
            "encode",
            "--nodekey",
            JS_KEY,
            "--waku2",
            "relay,teleport",
        ],
        "--waku2",
    );
    expect_invalid(
        &["enr", "encode", "--nodekey", JS_KEY, "--multiaddr", "nope"],
        "--multiaddr",
    );
}

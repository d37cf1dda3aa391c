//! `waku hash` and `waku shard` as a user runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};

use common::waku;

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn hash_prints_the_spec_vector() {
    let o = waku(&[
        "hash",
        "--pubsub-topic",
        "/waku/2/default-waku/proto",
        "--content-topic",
        "/waku/2/default-content/proto",
        "--payload-hex",
        "010203045445535405060708",
        "--meta-hex",
        "73757065722d736563726574",
        "--timestamp",
        "1681964442000000000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05\n"
    );
}

#[test]
fn hash_without_timestamp_uses_eight_zero_bytes() {
    let with_zero = waku(&[
        "hash",
        "--pubsub-topic",
        "/waku/2/rs/1/0",
        "--content-topic",
        "/a/1/b/c",
        "--payload-hex",
        "00",
        "--timestamp",
        "0",
    ]);
    let absent = waku(&[
        "hash",
        "--pubsub-topic",
        "/waku/2/rs/1/0",
        "--content-topic",
        "/a/1/b/c",
        "--payload-hex",
        "00",
    ]);
    assert_eq!(stdout(&with_zero), stdout(&absent));
    assert_eq!(stdout(&absent).trim().len(), 64);
}

#[test]
fn hash_with_bad_hex_exits_2() {
    let o = waku(&[
        "hash",
        "--pubsub-topic",
        "/waku/2/rs/1/0",
        "--content-topic",
        "/a/1/b/c",
        "--payload-hex",
        "zz",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--payload-hex"), "{}", stderr(&o));
}

#[test]
fn shard_prints_one_topic_per_line_in_input_order() {
    let o = waku(&[
        "shard",
        "--cluster",
        "1",
        "--shards",
        "8",
        "/toychat/2/huilong/proto",
        "/app/1/chat/proto",
        "/status/1/community/proto",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "/waku/2/rs/1/3\n/waku/2/rs/1/4\n/waku/2/rs/1/5\n"
    );
}

#[test]
fn shard_defaults_to_the_waku_network() {
    let o = waku(&["shard", "/app/1/chat/proto"]);
    assert_eq!(stdout(&o), "/waku/2/rs/1/4\n");
}

#[test]
fn invalid_topic_exits_2_naming_topic_and_reason() {
    let o = waku(&[
        "shard",
        "--cluster",
        "1",
        "--shards",
        "8",
        "/app/1/chat/proto",
        "/app//x/y",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "", "nothing printed for a failed batch");
    assert_eq!(
        stderr(&o),
        "error: content topic \"/app//x/y\": the version field is empty\n"
    );

    let o = waku(&["shard", "/2/app/1/x/y"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: content topic \"/2/app/1/x/y\": generation 2 is not supported (only 0)\n"
    );
}

#[test]
fn bad_flag_value_exits_2() {
    let o = waku(&["shard", "--shards", "0", "/a/1/b/c"]);
    assert_eq!(o.status.code(), Some(2));
    let o = waku(&["shard", "--cluster", "x", "/a/1/b/c"]);
    assert_eq!(o.status.code(), Some(2));
}

// A payload too large for one hex argument comes from a file or stdin; the
// hash is the one of the same bytes given as hex.
#[test]
fn hash_reads_the_payload_from_a_file_or_stdin() {
    use std::io::Write;
    let payload: Vec<u8> = (0..150 * 1024).map(|i| (i % 251) as u8).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.bin");
    std::fs::write(&file, &payload).unwrap();
    let common = [
        "hash",
        "--pubsub-topic",
        "/waku/2/rs/1/4",
        "--content-topic",
        "/app/1/big/proto",
        "--timestamp",
        "1700000000000000000",
    ];
    let from_file = waku(&[&common[..], &["--payload-file", file.to_str().unwrap()]].concat());
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let mut child = Command::new(env!("CARGO_BIN_EXE_waku"))
        .args(common)
        .args(["--payload-file", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&payload).unwrap();
    let from_stdin = child.wait_with_output().unwrap();
    assert!(from_stdin.status.success(), "{}", stderr(&from_stdin));
    assert_eq!(stdout(&from_file), stdout(&from_stdin));
    // The same as the hex form, for a small payload.
    std::fs::write(&file, [1u8, 2, 3]).unwrap();
    let small_file = waku(&[&common[..], &["--payload-file", file.to_str().unwrap()]].concat());
    let small_hex = waku(&[&common[..], &["--payload-hex", "010203"]].concat());
    assert_eq!(stdout(&small_file), stdout(&small_hex));
    // A missing file exits 2 naming the flag; hex and file together are refused.
    let missing = waku(&[&common[..], &["--payload-file", "/nonexistent/p"]].concat());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("--payload-file"),
        "{}",
        stderr(&missing)
    );
    let both = waku(&[&common[..], &["--payload-file", "-", "--payload-hex", "00"]].concat());
    assert_eq!(both.status.code(), Some(2));
}

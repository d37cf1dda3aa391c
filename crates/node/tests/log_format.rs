//! `--log-format`: nwaku's (chronicles') log lines from a `wakunode` process,
//! as text (the default) or JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::NodeProcess;
use serde_json::Value;

/// chronicles' level tags `tracing` levels map to.
const TAGS: [&str; 5] = ["TRC", "DBG", "INF", "WRN", "ERR"];

/// `TAG yyyy-MM-dd HH:mm:ss.fff+00:00 `: what comes before a text line's message.
const PREFIX_LEN: usize = "INF 2023-11-14 22:13:20.123+00:00 ".len();

/// A UTC `yyyy-MM-dd HH:mm:ss.fff+00:00` timestamp (the unit tests check
/// its digits; here the layout is enough).
fn is_timestamp(ts: &str) -> bool {
    let b = ts.as_bytes();
    b.len() == 29
        && [b[4], b[7], b[10], b[13], b[16], b[19]] == *b"-- ::."
        && ts.ends_with("+00:00")
}

/// A node on cluster 7, shard 0, with `args`, and a peer that connects to
/// it, so that it logs DEBUG lines too ("peer metadata").
fn node_with_a_peer(args: &[&str]) -> (NodeProcess, NodeProcess) {
    let mut all = vec!["--cluster-id", "7", "--shard", "0"];
    all.extend_from_slice(args);
    let node = NodeProcess::spawn(&all);
    let tcp = node.tcp_addr().to_string();
    let peer = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &tcp]);
    assert!(
        node.wait_for("Node setup complete", Duration::from_secs(10)),
        "{}",
        node.log()
    );
    assert!(
        node.wait_for("peer metadata", Duration::from_secs(20)),
        "{}",
        node.log()
    );
    (node, peer)
}

#[test]
fn text_is_the_default_with_nwakus_level_tags() {
    let (node, _peer) = node_with_a_peer(&[]);
    let log = node.log();
    let lines: Vec<&str> = log.lines().collect();
    for line in &lines {
        assert!(
            TAGS.iter().any(|tag| line.starts_with(&format!("{tag} "))),
            "{line:?}\n{log}"
        );
        assert!(is_timestamp(&line[4..PREFIX_LEN - 1]), "{line:?}");
    }
    assert!(lines.iter().any(|l| l.starts_with("INF ")), "{log}");
    assert!(lines.iter().any(|l| l.starts_with("DBG ")), "{log}");

    // The message padded to 42 characters, then the topics.
    let setup = lines
        .iter()
        .find(|l| l.contains("Node setup complete"))
        .unwrap();
    assert!(setup.starts_with("INF "), "{setup}");
    assert_eq!(
        &setup[PREFIX_LEN..],
        format!("{:<42} topics=\"waku_node::node\"", "Node setup complete"),
    );
    // The listen addresses are still read from the log.
    assert!(!node.addrs.is_empty());
}

#[test]
fn json_lines_are_objects_with_level_time_message_and_topics() {
    let (node, _peer) = node_with_a_peer(&["--log-format=json"]);
    let log = node.log();
    let mut levels = Vec::new();
    let mut setup = None;
    for line in log.lines() {
        let value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}\n{log}"));
        assert!(line.starts_with("{\"lvl\":\""), "{line}");
        let lvl = value["lvl"].as_str().unwrap();
        assert!(TAGS.contains(&lvl), "{line}");
        assert!(is_timestamp(value["ts"].as_str().unwrap()), "{line}");
        let msg = value["msg"].as_str().unwrap();
        assert!(value["topics"].is_string(), "{line}");
        if msg == "Node setup complete" {
            setup = Some(value.clone());
        }
        levels.push(lvl.to_owned());
    }
    let setup = setup.unwrap_or_else(|| panic!("no Node setup complete:\n{log}"));
    assert_eq!(setup["lvl"], "INF");
    assert_eq!(setup["topics"], "waku_node::node");
    assert!(levels.iter().any(|l| l == "DBG"), "{log}");
    // The listen addresses are read from JSON lines too.
    assert!(!node.addrs.is_empty());
}

#[test]
fn the_format_comes_from_the_environment_in_any_case() {
    let node = NodeProcess::spawn_with_env(
        &["--cluster-id", "7", "--shard", "0"],
        &[("WAKUNODE2_LOG_FORMAT", "Json")],
    );
    assert!(
        node.wait_for("Node setup complete", Duration::from_secs(10)),
        "{}",
        node.log()
    );
    let log = node.log();
    for line in log.lines() {
        let value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}\n{log}"));
        assert!(
            value["lvl"].is_string() && value["msg"].is_string(),
            "{line}"
        );
    }
}

#[test]
fn an_unknown_format_exits_2_naming_the_flag() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wakunode"));
    cmd.args(["--log-format", "xml"]).env_remove("RUST_LOG");
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("WAKUNODE2_")) {
        cmd.env_remove(name);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: invalid value 'xml' for '--log-format': expected TEXT or JSON"
    );
}

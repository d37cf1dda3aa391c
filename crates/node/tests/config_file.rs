//! `wakunode` configured as nwaku's operators configure `wakunode2`: a TOML
//! `--config-file`, `WAKUNODE2_*` environment variables, `--preset`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::NodeProcess;

/// The service-node configuration the README's main command runs.
const SERVICE_NODE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/service-node/wakunode.toml"
);

fn cluster_and_shards(node: &NodeProcess) -> (u16, Vec<u16>) {
    let shards = node.logged_enr().shards().unwrap();
    (shards.cluster, shards.shards.iter().copied().collect())
}

#[test]
fn the_shipped_service_node_config_starts_a_service_node() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("store.sqlite3").display());
    // Only the ports and the database move, so that tests run side by side.
    let node = NodeProcess::spawn(&[
        "--config-file",
        SERVICE_NODE,
        "--websocket-port=0",
        "--metrics-server-port=0",
        "--store-message-db-url",
        &db,
    ]);
    assert!(
        node.wait_for("Node setup complete", Duration::from_secs(10)),
        "{}",
        node.log()
    );
    assert_eq!(cluster_and_shards(&node), (42, vec![0, 1]));
    for line in [
        "mounting relay protocol",
        "mounting waku store protocol",
        "mounting waku legacy store protocol",
        "mounting filter protocol",
        "mounting light push",
        "/ws",
    ] {
        assert!(node.count(line) >= 1, "{line}\n{}", node.log());
    }
    assert!(dir.path().join("store.sqlite3").exists());
}

#[test]
fn flags_beat_environment_beats_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(
        &file,
        "cluster-id = 42\nnum-shards-in-network = 0\nshard = [0, 3]\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let from_file = NodeProcess::spawn(&["--config-file", file]);
    assert_eq!(cluster_and_shards(&from_file), (42, vec![0, 3]));

    // The environment names the file too, and overrides its cluster and
    // its whole shard list.
    let env = [
        ("WAKUNODE2_CONFIG_FILE", file),
        ("WAKUNODE2_CLUSTER_ID", "43"),
        ("WAKUNODE2_SHARD", "5"),
    ];
    let from_env = NodeProcess::spawn_with_env(&[], &env);
    assert_eq!(cluster_and_shards(&from_env), (43, vec![5]));

    let from_flag = NodeProcess::spawn_with_env(&["--cluster-id", "44"], &env);
    assert_eq!(cluster_and_shards(&from_flag), (44, vec![5]));
}

fn run_with_file(toml: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(&file, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .arg("--config-file")
        .arg(&file)
        .env_remove("WAKUNODE2_CLUSTER_ID")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn bad_config_files_exit_2_with_one_line_naming_file_and_key() {
    for (toml, expected) in [
        ("cluster-id = \"abc\"", "--cluster-id"),
        ("clusterid = 1", "unknown key `clusterid`"),
        (
            "shard = [[1]]",
            "key `shard` must be a value or a list of values",
        ),
        ("cluster-id = ", "is not valid TOML"),
        ("rest-port = 70000", "--rest-port"),
    ] {
        let (code, stderr) = run_with_file(toml);
        assert_eq!(code, Some(2), "{toml}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{toml}: {stderr}");
        assert!(stderr.contains("config file"), "{toml}: {stderr}");
        assert!(stderr.contains(expected), "{toml}: {stderr}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .args(["--config-file", "/nonexistent/wakunode.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));
}

#[test]
fn nwaku_keys_of_features_not_here_yet_are_warned_about_in_files_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node.toml");
    std::fs::write(
        &file,
        "cluster-id = 7\npeer-exchange = true\ndiscv5-table-ip-limit = 10\n",
    )
    .unwrap();
    let node = NodeProcess::spawn(&["--config-file", file.to_str().unwrap()]);
    assert!(
        node.wait_for(
            "--discv5-table-ip-limit is an nwaku flag",
            Duration::from_secs(10)
        ),
        "{}",
        node.log()
    );
    assert_eq!(cluster_and_shards(&node).0, 7);
}

#[test]
fn the_twn_preset_sets_the_waku_network_and_says_what_it_overrode() {
    let node = NodeProcess::spawn(&["--preset", "twn", "--cluster-id", "5"]);
    assert_eq!(cluster_and_shards(&node), (1, (0..8).collect()));
    for warning in [
        "--cluster-id 5 is overridden by --preset twn",
        "RLN rate limiting is not implemented yet",
    ] {
        assert!(node.count(warning) == 1, "{warning}\n{}", node.log());
    }
}

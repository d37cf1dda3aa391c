//! nwaku's connection limits over real processes: `--max-connections`
//! holds against peers that keep dialling, and a static node is kept even
//! beyond the limit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, connected, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_holds_and_a_static_node_stays() {
    let kept = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let kept_addr = kept.tcp_addr().to_string();
    let kept_id = kept_addr.rsplit('/').next().unwrap().to_owned();
    let limited = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--rest-admin",
        "--max-connections",
        "2",
        "--staticnode",
        &kept_addr,
    ]);
    let target = limited.tcp_addr().to_string();
    let mut dialers = Vec::new();
    for _ in 0..4 {
        dialers.push(NodeProcess::spawn(&[
            "--cluster-id",
            "7",
            "--shard",
            "0",
            "--staticnode",
            &target,
        ]));
    }
    let rest = limited.rest_addr();
    assert!(
        limited.wait_for(
            "disconnecting peer: max connections reached",
            Duration::from_secs(20)
        ),
        "{}",
        limited.log()
    );
    assert!(
        eventually(Duration::from_secs(10), || async {
            connected(rest).await.iter().any(|p| p.ends_with(&kept_id))
        })
        .await,
        "the static node is not connected\n{}",
        limited.log()
    );
    // Sampled while the dialers keep trying (they redial every 10 s): the
    // limit holds (one more for an instant before it is closed) and the
    // static node is never the one dropped.
    for _ in 0..10 {
        let peers = connected(rest).await;
        assert!(peers.len() <= 3, "{peers:?}");
        assert!(peers.iter().any(|p| p.ends_with(&kept_id)), "{peers:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[test]
fn a_bad_relay_service_ratio_names_the_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .args(["--relay-service-ratio", "70:40"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("relay-service-ratio"), "{stderr}");
}

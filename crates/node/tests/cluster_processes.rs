//! Cluster enforcement between `wakunode` processes (66/WAKU2-METADATA).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, http, start_node};

/// Whether the node's `/admin/v1/peers` lists any peer as connected.
async fn has_connected_peer(node: &NodeProcess) -> bool {
    let (status, body) = http(node.rest_addr(), "GET", "/admin/v1/peers", None).await;
    assert_eq!(status, 200, "{body}");
    let peers: serde_json::Value = serde_json::from_str(&body).unwrap();
    peers
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["connected"] == "Connected")
}

// spec: NET-003
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_cluster_is_disconnected() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--rest-admin"]);
    let tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&[
        "--cluster-id",
        "8",
        "--shard",
        "0",
        "--rest-admin",
        "--staticnode",
        &tcp,
    ]);
    assert!(
        a.wait_for("peer disconnected by metadata", Duration::from_secs(20))
            || b.wait_for("peer disconnected by metadata", Duration::from_secs(1)),
        "A:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    // The connection is gone on both sides, not just reported.
    for node in [&a, &b] {
        let mut gone = false;
        for _ in 0..100 {
            if !has_connected_peer(node).await {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(gone, "A:\n{}\nB:\n{}", a.log(), b.log());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_of_the_same_cluster_stay_connected() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let b = start_node(&["--cluster-id", "7", "--shard", "0"]).await;
    b.dial(a.tcp_addr()).await.unwrap();
    assert!(
        eventually(Duration::from_secs(20), || {
            let b = b.clone();
            async move { b.relay_peers("/waku/2/rs/7/0").await.unwrap() == 1 }
        })
        .await,
        "{}",
        a.log()
    );
    // Metadata has been exchanged by now; the connection is still there.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(b.connected_peers().await.unwrap().len(), 1, "{}", a.log());
    assert_eq!(a.count("peer disconnected by metadata"), 0, "{}", a.log());
}

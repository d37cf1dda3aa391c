//! Cluster enforcement between `wakunode` processes (66/WAKU2-METADATA).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, start_node};

// spec: NET-003
#[test]
fn a_peer_of_another_cluster_is_disconnected() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&["--cluster-id", "8", "--shard", "0", "--staticnode", &tcp]);
    assert!(
        a.wait_for("peer disconnected by metadata", Duration::from_secs(20))
            || b.wait_for("peer disconnected by metadata", Duration::from_secs(1)),
        "A:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    assert!(
        b.wait_for("disconnected", Duration::from_secs(20)),
        "{}",
        b.log()
    );
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

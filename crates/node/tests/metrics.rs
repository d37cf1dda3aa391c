//! The Prometheus metrics server of a `wakunode` process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, http};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_with_nwaku_names() {
    let a = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    assert!(
        a.wait_for(
            "Metrics server listening on http://",
            Duration::from_secs(10)
        ),
        "{}",
        a.log()
    );
    let addr: std::net::SocketAddr = a
        .log()
        .lines()
        .find_map(|l| l.split("Metrics server listening on http://").nth(1))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let tcp = a.tcp_addr().to_string();
    let _b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &tcp]);
    assert!(a.wait_for("connected", Duration::from_secs(20)));

    let (status, body) = http(addr, "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("waku_version{version=\"v"), "{body}");
    assert!(body.contains("libp2p_peers 1"), "{body}");
    assert!(body.contains("libp2p_gossipsub_messages_total"), "{body}");
    assert!(body.contains("# EOF"), "{body}");
    let (status, body) = http(addr, "GET", "/health", None).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
}

#[test]
fn metrics_server_is_off_by_default() {
    let a = NodeProcess::spawn(&["--cluster-id", "7"]);
    assert_eq!(a.count("Metrics server listening"), 0);
}

//! discv5 between `wakunode` processes on loopback: nodes that know one
//! bootstrap ENR find and connect to each other; a node of another cluster
//! is never dialled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, connected, eventually, http};
use serde_json::Value;

/// `GET /debug/v1/info`'s `enrUri`.
async fn enr_uri(rest: std::net::SocketAddr) -> String {
    let (_, body) = http(rest, "GET", "/debug/v1/info", None).await;
    let info: Value = serde_json::from_str(&body).unwrap();
    info["enrUri"].as_str().unwrap().to_owned()
}

// spec: DISC-002, DISC-003
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_nodes_connect_through_one_bootstrap_enr_and_other_clusters_stay_out() {
    let base = [
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--rest-admin",
        "--discv5-discovery",
        "--discv5-udp-port",
        "0",
    ];
    let boot = NodeProcess::spawn(&base);
    let enr = enr_uri(boot.rest_addr()).await;
    let waku_enr = waku_enr::WakuEnr::decode(&enr).unwrap();
    assert!(waku_enr.udp4().is_some_and(|p| p != 0), "{enr}");
    let mut nodes = vec![boot];
    for _ in 0..5 {
        let mut args = base.to_vec();
        args.extend(["--discv5-bootstrap-node", &enr]);
        nodes.push(NodeProcess::spawn(&args));
    }
    let mut stranger_args: Vec<&str> = base.to_vec();
    stranger_args[1] = "8";
    stranger_args.extend(["--discv5-bootstrap-node", &enr]);
    let stranger = NodeProcess::spawn(&stranger_args);

    for (i, node) in nodes.iter().enumerate() {
        let rest = node.rest_addr();
        assert!(
            eventually(Duration::from_secs(60), || async {
                connected(rest).await.len() >= 5
            })
            .await,
            "node {i} connected to {:?}\n{}",
            connected(rest).await,
            node.log()
        );
    }
    let stranger_id = stranger.tcp_addr().to_string();
    let stranger_id = stranger_id.rsplit('/').next().unwrap();
    for node in &nodes {
        let peers = connected(node.rest_addr()).await;
        assert!(!peers.iter().any(|p| p.ends_with(stranger_id)), "{peers:?}");
    }
    assert!(
        connected(stranger.rest_addr()).await.is_empty(),
        "{}",
        stranger.log()
    );
}

#[test]
fn a_bootstrap_record_that_does_not_decode_is_skipped_with_a_warning() {
    // nwaku ignores it too (test suites have passed garbage here).
    let node = NodeProcess::spawn(&["--discv5-discovery", "--discv5-bootstrap-node", "enr:-nope"]);
    assert!(
        node.wait_for("ignoring invalid bootstrap address", Duration::from_secs(5)),
        "{}",
        node.log()
    );
    assert!(node.wait_for("Node setup complete", Duration::from_secs(10)));
}

// A node that only knows a peer-exchange node learns the peers that node
// found through discv5 and connects to them.
// spec: PX-001, PX-005
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_exchange_client_connects_to_the_peers_discv5_found() {
    let base = [
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--rest-admin",
        "--discv5-discovery",
        "--discv5-udp-port",
        "0",
    ];
    let mut server_args = base.to_vec();
    server_args.extend(["--metrics-server", "--metrics-server-port", "0"]);
    let server = NodeProcess::spawn(&server_args);
    let enr = enr_uri(server.rest_addr()).await;
    let mut others = Vec::new();
    for _ in 0..2 {
        let mut args = base.to_vec();
        args.extend(["--discv5-bootstrap-node", &enr]);
        others.push(NodeProcess::spawn(&args));
    }
    // The server has found both through discv5 (and so cached their records).
    let sr = server.rest_addr();
    assert!(
        eventually(Duration::from_secs(30), || async {
            connected(sr).await.len() >= 2
        })
        .await,
        "{}",
        server.log()
    );
    let px_node = server.tcp_addr().to_string();
    let client = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--rest-admin",
        "--peer-exchange-node",
        &px_node,
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    let cr = client.rest_addr();
    for other in &others {
        let id = other.tcp_addr().to_string();
        let id = id.rsplit('/').next().unwrap().to_owned();
        assert!(
            eventually(Duration::from_secs(30), || {
                let id = id.clone();
                async move { connected(cr).await.iter().any(|p| p.ends_with(&id)) }
            })
            .await,
            "client:\n{}",
            client.log()
        );
    }
    assert!(client.count("Retrieved peer info via peer exchange protocol") >= 1);
    // nwaku's peer-exchange families moved on both sides.
    let sample = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (_, client_metrics) = http(client.metrics_addr(), "GET", "/metrics", None).await;
    assert!(
        sample(&client_metrics, "waku_px_peers_received_total ") >= 2.0,
        "{client_metrics}"
    );
    assert!(
        sample(&client_metrics, "waku_px_peers_received_unknown ") >= 2.0,
        "{client_metrics}"
    );
    let (_, server_metrics) = http(server.metrics_addr(), "GET", "/metrics", None).await;
    assert!(
        sample(&server_metrics, "waku_px_peers_sent_total ") >= 2.0,
        "{server_metrics}"
    );
}

/// Joining a shard over REST puts it into the ENR with the next `seq`, with
/// discv5 (which then serves the new record) and without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_joined_over_rest_is_in_the_enr_with_the_next_seq() {
    for discv5 in [true, false] {
        let mut args = vec!["--cluster-id", "7", "--shard", "0"];
        if discv5 {
            args.push("--discv5-discovery");
        }
        let node = NodeProcess::spawn(&args);
        let rest = node.rest_addr();
        let before = waku_enr::WakuEnr::decode(&enr_uri(rest).await).unwrap();
        assert_eq!(
            before.shards(),
            Some(waku_sharding::RelayShards::new(7, [0]))
        );
        let body = serde_json::json!(["/waku/2/rs/7/3"]).to_string();
        let (status, text) = http(rest, "POST", "/relay/v1/subscriptions", Some(&body)).await;
        assert_eq!(status, 200, "{text}");
        let after = waku_enr::WakuEnr::decode(&enr_uri(rest).await).unwrap();
        assert_eq!(
            after.shards(),
            Some(waku_sharding::RelayShards::new(7, [0, 3])),
            "discv5 {discv5}\n{}",
            node.log()
        );
        assert_eq!(after.seq(), before.seq() + 1, "discv5 {discv5}");
        assert_eq!(after.peer_id(), before.peer_id());
        assert!(after.udp4().is_some() == discv5);
    }
}

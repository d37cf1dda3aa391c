//! Relay across separate `wakunode` processes on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, start_node};
use waku_core::{WakuMessage, now_nanos};

const CLUSTER: &str = "7";
const SHARD0: &str = "/waku/2/rs/7/0";

fn message(payload: &str) -> WakuMessage {
    let mut m = WakuMessage::new(payload.as_bytes().to_vec(), "/test/1/relay/proto");
    m.timestamp = Some(now_nanos());
    m
}

// spec: NET-020
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_processes_deliver_to_every_shard_subscriber_once_and_to_nobody_else() {
    // Eight processes on shard 0, two on shard 1; each dials the two before it.
    let mut procs: Vec<NodeProcess> = Vec::new();
    for i in 0..10 {
        let shard = if i < 8 { "0" } else { "1" };
        let mut args = vec!["--cluster-id", CLUSTER, "--shard", shard];
        let peers: Vec<String> = procs
            .iter()
            .rev()
            .take(2)
            .map(|p| p.tcp_addr().to_string())
            .collect();
        for p in &peers {
            args.push("--staticnode");
            args.push(p);
        }
        procs.push(NodeProcess::spawn(&args));
    }
    // The publisher runs in this process and knows only process 0.
    let publisher = start_node(&["--cluster-id", CLUSTER, "--shard", "0"]).await;
    publisher.dial(procs[0].tcp_addr()).await.unwrap();

    // Probe until the far end of the shard-0 chain hears us: the mesh is up.
    let mut probes = 0;
    let ready = eventually(Duration::from_secs(60), || {
        probes += 1;
        let publisher = publisher.clone();
        let last = &procs[7];
        let seen = last.count("relay message delivered") > 0;
        async move {
            if !seen {
                let _ = publisher
                    .publish(SHARD0, message(&format!("probe {probes}")))
                    .await;
            }
            seen
        }
    })
    .await;
    assert!(ready, "mesh never formed:\n{}", procs[7].log());

    let mut hashes = Vec::new();
    for i in 0..5 {
        let hash = publisher
            .publish(SHARD0, message(&format!("real {i}")))
            .await
            .unwrap();
        hashes.push(hash.to_string());
    }
    for hash in &hashes {
        let needle = format!("hash={hash}");
        for (i, p) in procs.iter().enumerate().take(8) {
            assert!(
                p.wait_for(&needle, Duration::from_secs(20)),
                "process {i} missed {hash}"
            );
        }
    }
    // Give stragglers a moment to (wrongly) deliver duplicates, then count.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for hash in &hashes {
        let needle = format!("hash={hash}");
        for (i, p) in procs.iter().enumerate() {
            let expected = usize::from(i < 8);
            assert_eq!(p.count(&needle), expected, "process {i}, message {hash}");
        }
    }
}

/// Tooling adds a peer with `POST /admin/v1/peers` and publishes at once: the
/// answer comes only when the new peer's relay subscriptions are known, so
/// the first message is not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_published_right_after_adding_a_peer_reaches_it() {
    use common::http;
    let args = ["--cluster-id", CLUSTER, "--shard", "0", "--rest-admin"];
    for round in 0..3 {
        let a = NodeProcess::spawn(&args);
        let b = NodeProcess::spawn(&args);
        let body = serde_json::json!([b.tcp_addr().to_string()]).to_string();
        let (status, answer) = http(a.rest_addr(), "POST", "/admin/v1/peers", Some(&body)).await;
        assert_eq!(status, 200, "{answer}");
        let topic = "%2Fwaku%2F2%2Frs%2F7%2F0";
        let publish = serde_json::json!({
            "payload": "Zmlyc3Q=",
            "contentTopic": "/test/1/relay/proto",
            "timestamp": now_nanos(),
        })
        .to_string();
        let path = format!("/relay/v1/messages/{topic}");
        let (status, answer) = http(a.rest_addr(), "POST", &path, Some(&publish)).await;
        assert_eq!(status, 200, "{answer}");
        let arrived = eventually(Duration::from_secs(5), || async {
            let (_, got) = http(b.rest_addr(), "GET", &path, None).await;
            got.contains("Zmlyc3Q=")
        })
        .await;
        assert!(arrived, "round {round}: first message lost\n{}", b.log());
    }
}

/// A hub with eight peers on loopback relays between them: local peers are
/// left out of the IP-colocation score penalty (beyond five peers on one IP
/// it pushed every one of them below zero, out of the mesh, and the hub
/// relayed nothing: the upstream suite's 21-node e2e test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_with_eight_local_peers_keeps_them_in_its_mesh() {
    let hub = NodeProcess::spawn(&["--cluster-id", CLUSTER, "--shard", "0", "--rest-admin"]);
    let hub_addr = hub.tcp_addr().to_string();
    let leaves: Vec<NodeProcess> = (0..8)
        .map(|_| {
            NodeProcess::spawn(&[
                "--cluster-id",
                CLUSTER,
                "--shard",
                "0",
                "--staticnode",
                &hub_addr,
            ])
        })
        .collect();
    let rest = hub.rest_addr();
    // Every leaf joins the hub's mesh with a score of at least 0.
    let meshed = eventually(Duration::from_secs(30), || async move {
        let (_, body) = common::http(rest, "GET", "/admin/v1/peers/mesh/on/0", None).await;
        let mesh: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        mesh["peers"].as_array().is_some_and(|p| {
            p.len() >= 6 && p.iter().all(|peer| peer["score"].as_f64() >= Some(0.0))
        })
    })
    .await;
    let (_, relay) = common::http(rest, "GET", "/admin/v1/peers/relay/on/0", None).await;
    assert!(meshed, "{relay}");
    // A message from one leaf reaches all the others through the hub.
    let from = start_node(&["--cluster-id", CLUSTER, "--shard", "0"]).await;
    from.dial(leaves[0].tcp_addr()).await.unwrap();
    let mut n = 0;
    let everyone = eventually(Duration::from_secs(30), || {
        n += 1;
        let from = from.clone();
        let all = leaves
            .iter()
            .all(|l| l.count("relay message delivered") > 0);
        async move {
            if !all {
                let _ = from.publish(SHARD0, message(&format!("to all {n}"))).await;
            }
            all
        }
    })
    .await;
    assert!(everyone, "{}", hub.log());
}

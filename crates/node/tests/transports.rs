//! The transports a `wakunode` process offers: TCP, WebSocket and secure
//! WebSocket, each carrying relay traffic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, start_node, start_node_with, test_data as data};
use libp2p::Multiaddr;
use waku_core::{WakuMessage, now_nanos};
use waku_node::NodeHandle;

const SHARD: &str = "/waku/2/rs/7/3";

/// Publishes from `client` (connected to `server` at `addr`) until the server
/// logs delivery, proving the transport carries relay traffic.
async fn relay_over(client: &NodeHandle, server: &NodeProcess, addr: Multiaddr) {
    client.dial(addr.clone()).await.unwrap();
    let mut n = 0;
    let delivered = eventually(Duration::from_secs(30), || {
        n += 1;
        let client = client.clone();
        let done = server.count("relay message delivered") > 0;
        async move {
            if !done {
                let mut m = WakuMessage::new(format!("over the wire {n}").into_bytes(), "/t/1/x/p");
                m.timestamp = Some(now_nanos());
                let _ = client.publish(SHARD, m).await;
            }
            done
        }
    })
    .await;
    assert!(delivered, "nothing relayed over {addr}:\n{}", server.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_tcp() {
    let server = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "3"]);
    let client = start_node(&["--cluster-id", "7", "--shard", "3"]).await;
    relay_over(&client, &server, server.tcp_addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_websocket() {
    let server = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "3", "--websocket-support"]);
    let client = start_node(&["--cluster-id", "7", "--shard", "3"]).await;
    relay_over(&client, &server, server.ws_addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_over_secure_websocket_with_certificate_files() {
    let key = data("wss-key.pem");
    let cert = data("wss-cert.pem");
    let server = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "3",
        "--websocket-secure-support=true",
        "--websocket-support",
        "--websocket-secure-key-path",
        key.to_str().unwrap(),
        "--websocket-secure-cert-path",
        cert.to_str().unwrap(),
    ]);
    let wss = server.wss_addr();
    let trusted = data("ca-cert.pem");
    let client = start_node_with(&["--cluster-id", "7", "--shard", "3"], move |c| {
        c.wss_trust.push(trusted);
    })
    .await;
    relay_over(&client, &server, wss).await;
}

#[test]
fn unreadable_or_invalid_certificate_files_fail_with_the_flag() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .args([
            "--tcp-port",
            "0",
            "--websocket-port",
            "0",
            "--websocket-secure-support",
            "--websocket-secure-key-path",
            "/nonexistent/key.pem",
            "--websocket-secure-cert-path",
            data("wss-cert.pem").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    // A bad flag value: exit code 2 and one line naming the flag.
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--websocket-secure-key-path"), "{err}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .args([
            "--tcp-port",
            "0",
            "--websocket-port",
            "0",
            "--websocket-secure-support",
            "--websocket-secure-key-path",
            data("wss-key.pem").to_str().unwrap(),
            // A key is not a certificate.
            "--websocket-secure-cert-path",
            data("wss-key.pem").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--websocket-secure-cert-path"), "{err}");
}

// Identify tells peers who we are and what we speak: the agent string and
// the protocol list, ping included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_reports_the_agent_and_protocols() {
    let server = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "3",
        "--store",
        "--store-message-db-url",
        "memory://",
    ]);
    let client = start_node(&["--cluster-id", "7", "--shard", "3"]).await;
    client.dial(server.tcp_addr()).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut seen = None;
    while seen.is_none() && std::time::Instant::now() < deadline {
        let peers = client.peers().await.unwrap();
        seen = peers.into_iter().find(|p| !p.agent.is_empty());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.is_some(), "{}", server.log());
    let peer = seen.unwrap();
    assert_eq!(peer.agent, waku_node::AGENT_VERSION);
    assert!(peer.agent.starts_with("waku-rs/v"), "{}", peer.agent);
    for protocol in [
        "/ipfs/id/1.0.0",
        "/ipfs/ping/1.0.0",
        "/vac/waku/relay/2.0.0",
        "/vac/waku/metadata/1.0.0",
        "/vac/waku/store-query/3.0.0",
    ] {
        assert!(
            peer.protocols.iter().any(|p| p == protocol),
            "{protocol} missing from {:?}",
            peer.protocols
        );
    }
}

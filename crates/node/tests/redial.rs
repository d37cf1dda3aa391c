//! Peers the operator asked for stay connected: a static node and a peer
//! added through `POST /admin/v1/peers` are dialled again after they
//! restart (nwaku re-dials both).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, http};
use serde_json::{Value, json};

/// A TCP port free right now on 127.0.0.1.
fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port().to_string()
}

/// Whether `rest`'s node lists `peer` as connected.
async fn connected(rest: std::net::SocketAddr, peer: &str) -> bool {
    let (status, body) = http(rest, "GET", "/admin/v1/peers", None).await;
    status == 200
        && serde_json::from_str::<Value>(&body).is_ok_and(|peers| {
            peers.as_array().is_some_and(|list| {
                list.iter().any(|p| {
                    p["connected"] == "Connected"
                        && p["multiaddr"].as_str().is_some_and(|a| a.ends_with(peer))
                })
            })
        })
}

async fn restarted_peer_is_dialled_again(static_node: bool) {
    let port = free_port();
    let b_args = [
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--nodekey",
        "0707070707070707070707070707070707070707070707070707070707070707",
        "--tcp-port",
        &port,
    ];
    let mut b = NodeProcess::spawn(&b_args);
    let b_addr = b.tcp_addr().to_string();
    let b_id = b_addr.rsplit('/').next().unwrap().to_owned();
    let mut a_args = vec!["--cluster-id", "7", "--shard", "0", "--rest-admin"];
    if static_node {
        a_args.extend(["--staticnode", &b_addr]);
    }
    let a = NodeProcess::spawn(&a_args);
    let ra = a.rest_addr();
    if !static_node {
        let (status, body) = http(
            ra,
            "POST",
            "/admin/v1/peers",
            Some(&json!([b_addr]).to_string()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        eventually(Duration::from_secs(20), || connected(ra, &b_id)).await,
        "{}",
        a.log()
    );

    b.terminate();
    assert!(
        eventually(Duration::from_secs(10), || async {
            !connected(ra, &b_id).await
        })
        .await
    );
    let _b = NodeProcess::spawn(&b_args);
    assert!(
        eventually(Duration::from_secs(30), || connected(ra, &b_id)).await,
        "not dialled again:\n{}",
        a.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_node_is_dialled_again_after_a_restart() {
    restarted_peer_is_dialled_again(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_added_through_the_admin_api_is_dialled_again_after_a_restart() {
    restarted_peer_is_dialled_again(false).await;
}

/// `--peer-persistence`: a node that met a peer (added over the admin API)
/// knows it again after a restart, from its `peers.db`, and dials it
/// without being told; a second node's file with garbage in it stops the
/// node with a message naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_peers_are_dialled_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("peers.db");
    let db_arg = db.display().to_string();
    let args = [
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--rest-admin",
        "--peer-persistence",
        "--peer-persistence-path",
        &db_arg,
    ];
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let b_addr = b.tcp_addr().to_string();
    let b_id = b_addr.rsplit('/').next().unwrap().to_owned();
    let mut first = NodeProcess::spawn(&args);
    let body = json!([b_addr]).to_string();
    let (status, text) = http(first.rest_addr(), "POST", "/admin/v1/peers", Some(&body)).await;
    assert_eq!(status, 200, "{text}");
    assert!(connected(first.rest_addr(), &b_id).await);
    // Identify and metadata have been saved once the peer's shards show.
    let rest = first.rest_addr();
    assert!(
        eventually(Duration::from_secs(10), || async move {
            let (_, body) = http(rest, "GET", "/admin/v1/peers", None).await;
            body.contains("\"shards\":[0]")
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.terminate();

    let second = NodeProcess::spawn(&args);
    let rest = second.rest_addr();
    let id = b_id.clone();
    assert!(
        eventually(Duration::from_secs(20), || {
            let id = id.clone();
            async move { connected(rest, &id).await }
        })
        .await,
        "{}",
        second.log()
    );
    assert!(
        second.count("recovered peers from storage") == 1,
        "{}",
        second.log()
    );
    assert!(second.count("dialling a peer found through peer persistence") >= 1);

    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, vec![b'x'; 4096]).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wakunode"))
        .args(["--peer-persistence", "--peer-persistence-path"])
        .arg(&bad)
        .args([
            "--listen-address",
            "127.0.0.1",
            "--tcp-port",
            "0",
            "--rest-port",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("bad.db"), "{all}");
}

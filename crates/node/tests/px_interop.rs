//! A js-waku light node (`@waku/sdk` 0.0.36 with `@waku/discovery` 0.0.13,
//! from `tests/interop`) learns peers through our peer-exchange service:
//! our server found two nodes through discv5, js-waku dials only the
//! server, asks it for peers, and connects to the two over the WebSocket
//! addresses their records carry.
//!
//! What js-waku 0.0.36 requires of the records (read in
//! `tests/interop/node_modules`):
//! - `@waku/discovery/dist/peer-exchange/peer_exchange.js`: every `enr` of
//!   the answer must decode and carry a valid signature
//!   (`EnrDecoder.fromRLP`, all in one `Promise.all`): one bad record and
//!   the whole answer is dropped as "Failed to decode".
//! - `peer_exchange_discovery.js`: no cluster or shard filter; every record
//!   with a secp256k1 key (a peer id) is put in the peer store, with its
//!   `rs`/`rsv` as the peer's shard info, and announced to libp2p.
//! - `@waku/core/dist/lib/connection_manager/dialer.js`
//!   (`Dialer.shouldSkipPeer`): a learnt peer whose `rs`/`rsv` names a
//!   cluster other than the light node's `networkConfig.clusterId` is never
//!   dialled. A record without shard info would be dialled anyway.
//! - The addresses dialled are the record's `ip`+`tcp` and its `multiaddrs`
//!   (`@waku/enr/dist/enr.js`, `getAllLocationMultiaddrs`); a node
//!   js-waku can only reach over WebSocket, so the `multiaddrs` entry with
//!   `/ws` is what makes the connection.
//!
//! - Our side: the js node's metadata (`/vac/waku/metadata/1.0.0`, sent
//!   on connect with `networkConfig.clusterId`) must name our cluster, or
//!   our node hangs up before answering ("peer disconnected by metadata"),
//!   and js-waku reports the cut stream as "Payload is empty".
//!
//! So our nodes run on static cluster 7, shard 0, and the js node is
//! created with `networkConfig: {clusterId: 7}`; shards play no part.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use common::{NodeProcess, http};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use waku_testkit::js_waku::interop_dir;

/// Flags every node here runs with.
const BASE: [&str; 8] = [
    "--cluster-id",
    "7",
    "--shard",
    "0",
    "--websocket-support",
    "--discv5-discovery",
    "--discv5-udp-port",
    "0",
];

/// `GET /debug/v1/info`'s `enrUri`.
async fn enr_uri(rest: std::net::SocketAddr) -> String {
    let (_, body) = http(rest, "GET", "/debug/v1/info", None).await;
    let info: Value = serde_json::from_str(&body).unwrap();
    info["enrUri"].as_str().unwrap().to_owned()
}

/// The peer id at the end of a node's listen address.
fn peer_id(node: &NodeProcess) -> String {
    let addr = node.tcp_addr().to_string();
    addr.rsplit('/').next().unwrap().to_owned()
}

/// Runs `px.mjs` to the end; its exit success and its stdout events.
async fn px(dir: &std::path::Path, args: &[&str]) -> (bool, Vec<Value>) {
    let mut child = tokio::process::Command::new("node")
        .current_dir(dir)
        .arg("px.mjs")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    while let Some(line) = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
        .await
        .expect("js-waku went quiet")
        .unwrap()
    {
        events.push(serde_json::from_str(&line).unwrap());
    }
    (child.wait().await.unwrap().success(), events)
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

// spec: PX-001, PX-002, PX-003, PX-005
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_js_waku_light_node_learns_the_peers_our_discv5_found_and_dials_them() {
    let Some(dir) = interop_dir() else { return };
    let server = NodeProcess::spawn(&BASE);
    let enr = enr_uri(server.rest_addr()).await;
    let others: Vec<NodeProcess> = (0..2)
        .map(|_| {
            let mut args = BASE.to_vec();
            args.extend(["--discv5-bootstrap-node", &enr]);
            NodeProcess::spawn(&args)
        })
        .collect();
    let server_id = peer_id(&server);
    let other_ids: BTreeSet<String> = others.iter().map(peer_id).collect();
    // The server has both records in its peer-exchange cache: discv5 handed
    // them over (the record goes into the cache before this line is logged).
    for id in &other_ids {
        let marker = format!("peer={id}");
        assert!(
            common::eventually(Duration::from_secs(30), || {
                let found = server
                    .log()
                    .lines()
                    .any(|l| l.contains("discv5 candidate") && l.contains(&marker));
                async move { found }
            })
            .await,
            "discv5 never handed {id} over:\n{}",
            server.log()
        );
    }

    let ws = server.ws_addr().to_string();
    let (ok, events) = px(
        &dir,
        &[
            "--peer",
            &ws,
            "--cluster",
            "7",
            "--expect",
            "2",
            "--expect-connected",
            "2",
            "--timeout-ms",
            "60000",
        ],
    )
    .await;
    assert!(ok, "{events:#?}\nserver:\n{}", server.log());
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{events:#?}");

    // Exactly the two other nodes, never the server itself, in every answer
    // the server gave.
    assert_eq!(ids(&done["learnt"]), other_ids, "{events:#?}");
    let answers: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "px_response" && e["from"] == server_id.as_str())
        .collect();
    assert!(!answers.is_empty(), "{events:#?}");
    for answer in &answers {
        assert_eq!(answer["error"], Value::Null, "{answer}");
        let named: BTreeSet<String> = answer["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["peer_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(named, other_ids, "{answer}");
    }

    // Each record as js-waku read it: cluster 7 shard 0, and the node's
    // WebSocket address (from the ENR's `multiaddrs`) among its addresses.
    for other in &others {
        let id = peer_id(other);
        let ws = other.ws_addr().to_string();
        let record = events
            .iter()
            .find(|e| e["event"] == "learnt" && e["peer_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} not learnt: {events:#?}"));
        assert_eq!(record["cluster_id"], 7, "{record}");
        assert_eq!(record["shards"], serde_json::json!([0]), "{record}");
        let addrs: Vec<&str> = record["multiaddrs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(addrs.contains(&ws.as_str()), "{ws} not in {record}");
        // js-waku dialled it, over that address.
        let connected = events
            .iter()
            .find(|e| e["event"] == "peer_connected" && e["peer_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} never connected: {events:#?}"));
        assert_eq!(connected["remote_addr"], ws.as_str(), "{connected}");
    }
    assert_eq!(ids(&done["connected"]), other_ids, "{events:#?}");
}

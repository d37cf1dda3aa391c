//! DNS discovery (EIP-1459) through a real resolver: a small DNS server on
//! loopback serves a tree signed in the test; a node given its
//! `enrtree://` URL and the server as `--dns-addrs-name-server` connects to
//! the node the tree lists, and a tampered tree yields nothing to dial.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use common::{NodeProcess, eventually, http};
use serde_json::Value;
use tokio::net::UdpSocket;
use waku_discovery::dns::{SigningKey, TreeBuilder};
use waku_enr::WakuEnr;

/// A DNS server answering TXT queries for the names in `records` (UDP);
/// every other name gets NXDOMAIN. Runs until the runtime stops.
async fn dns_server(records: HashMap<String, String>) -> SocketAddr {
    // DNS names compare without regard to case.
    let records: HashMap<String, String> = records
        .into_iter()
        .map(|(name, txt)| (name.to_lowercase(), txt))
        .collect();
    let socket = Arc::new(UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap());
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            if let Some(answer) = answer(&buf[..n], &records) {
                let _ = socket.send_to(&answer, from).await;
            }
        }
    });
    addr
}

/// The reply to one DNS query (RFC 1035 wire format): the TXT record of the
/// asked name, split in 255-byte character strings, or NXDOMAIN.
fn answer(query: &[u8], records: &HashMap<String, String>) -> Option<Vec<u8>> {
    if query.len() < 12 {
        return None;
    }
    // The question: labels up to the root label, then type and class.
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*query.get(i)?);
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(i..i + len)?).to_lowercase());
        i += len;
    }
    let question_end = i + 4;
    let question = query.get(12..question_end)?;
    let qtype = u16::from_be_bytes([query[i], query[i + 1]]);
    let name = labels.join(".");
    let txt = records.get(&name).filter(|_| qtype == 16);
    let mut out = Vec::new();
    out.extend_from_slice(&query[..2]); // id
    let rcode = if txt.is_some() { 0 } else { 3 };
    out.extend_from_slice(&[0x81, 0x80 | rcode]); // response, RD, RA
    out.extend_from_slice(&1u16.to_be_bytes()); // one question
    out.extend_from_slice(&u16::from(txt.is_some()).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // no authority, no additional
    out.extend_from_slice(question);
    if let Some(txt) = txt {
        let mut rdata = Vec::new();
        for chunk in txt.as_bytes().chunks(255) {
            rdata.push(u8::try_from(chunk.len()).unwrap());
            rdata.extend_from_slice(chunk);
        }
        out.extend_from_slice(&[0xc0, 0x0c]); // the name, as a pointer to the question
        out.extend_from_slice(&16u16.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&60u32.to_be_bytes());
        out.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}

/// Whether `rest`'s node lists `peer_id` as connected.
async fn connected_to(rest: SocketAddr, peer_id: &str) -> bool {
    let (status, body) = http(rest, "GET", "/admin/v1/peers", None).await;
    status == 200
        && serde_json::from_str::<Value>(&body).is_ok_and(|peers| {
            peers.as_array().is_some_and(|list| {
                list.iter().any(|p| {
                    p["connected"] == "Connected"
                        && p["multiaddr"]
                            .as_str()
                            .is_some_and(|a| a.ends_with(peer_id))
                })
            })
        })
}

async fn enr_of(node: &NodeProcess) -> WakuEnr {
    let (_, body) = http(node.rest_addr(), "GET", "/debug/v1/info", None).await;
    let info: Value = serde_json::from_str(&body).unwrap();
    WakuEnr::decode(info["enrUri"].as_str().unwrap()).unwrap()
}

// spec: DNS-001, DNS-010, DNS-011, DNS-015
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_dials_what_a_dns_tree_lists_through_a_real_resolver() {
    let listed = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let enr = enr_of(&listed).await;
    let key = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let tree = TreeBuilder::new(1)
        .with_enrs([&enr])
        .sign("nodes.example.org", &key)
        .unwrap();
    let server = dns_server(tree.records().into_iter().collect()).await;
    let url = tree.url().to_string();
    let server_arg = server.to_string();
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--rest-admin",
        "--dns-discovery-url",
        &url,
        "--dns-addrs-name-server",
        &server_arg,
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    let listed_id = enr.peer_id().to_string();
    let rest = node.rest_addr();
    assert!(
        eventually(Duration::from_secs(20), || connected_to(rest, &listed_id)).await,
        "{}",
        node.log()
    );
    assert!(node.count("dialling a peer found through DNS discovery") >= 1);
    let (_, peers) = http(rest, "GET", "/admin/v1/peers", None).await;
    let peers: Value = serde_json::from_str(&peers).unwrap();
    let listed = peers
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["multiaddr"].as_str().unwrap().ends_with(&listed_id))
        .unwrap();
    assert_eq!(listed["origin"], "Dns", "{listed}");
    let (_, metrics) = http(node.metrics_addr(), "GET", "/metrics", None).await;
    assert!(
        metrics.contains("\nwaku_dnsdisc_discovered 1\n"),
        "{metrics}"
    );
}

// spec: DNS-014
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_leaf_is_reported_and_not_dialled() {
    let listed = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let other = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let enr = enr_of(&listed).await;
    let key = SigningKey::from_slice(&[0x43; 32]).unwrap();
    let tree = TreeBuilder::new(1)
        .with_enrs([&enr])
        .sign("nodes.example.org", &key)
        .unwrap();
    // The leaf now names another node: its hash no longer matches its name.
    let forged = enr_of(&other).await.encode();
    let records: HashMap<String, String> = tree
        .records()
        .into_iter()
        .map(|(name, txt)| {
            if txt.starts_with("enr:") {
                (name, forged.clone())
            } else {
                (name, txt)
            }
        })
        .collect();
    let server = dns_server(records).await;
    let (url, server_arg) = (tree.url().to_string(), server.to_string());
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--rest-admin",
        "--dns-discovery-url",
        &url,
        "--dns-addrs-name-server",
        &server_arg,
    ]);
    assert!(
        node.wait_for(
            "DNS discovery: part of the tree skipped",
            Duration::from_secs(20)
        ),
        "{}",
        node.log()
    );
    // Refused for its hash, not for a lookup that failed.
    assert!(
        node.log()
            .lines()
            .any(|l| l.contains("part of the tree skipped") && !l.contains("no TXT record")),
        "{}",
        node.log()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let other_id = enr_of(&other).await.peer_id().to_string();
    assert!(!connected_to(node.rest_addr(), &other_id).await);
    assert!(!connected_to(node.rest_addr(), &enr.peer_id().to_string()).await);
}

/// A DNS server on loopback serving a tree that lists `enrs`; the tree's
/// URL and the server's address, as the node's flags take them.
async fn serve_tree(enrs: &[WakuEnr], key_byte: u8) -> (String, String) {
    let key = SigningKey::from_slice(&[key_byte; 32]).unwrap();
    let tree = TreeBuilder::new(1)
        .with_enrs(enrs)
        .sign("nodes.example.org", &key)
        .unwrap();
    let server = dns_server(tree.records().into_iter().collect()).await;
    (tree.url().to_string(), server.to_string())
}

/// The peer ids `rest`'s node is connected to.
async fn connected_peers(rest: SocketAddr) -> Vec<String> {
    common::connected(rest)
        .await
        .iter()
        .filter_map(|a| a.rsplit('/').next().map(str::to_owned))
        .collect()
}

/// Three nodes of shard 0 and one of shard 1 are listed; the node relays
/// both shards with an outbound relay target of one peer
/// (`--max-connections 6`). Without per-shard targets it would stop after
/// its first peer; with them it also dials the shard-1 node, and only one
/// shard-0 node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscribed_shard_gets_its_share_of_outbound_peers() {
    let shard0: Vec<NodeProcess> = (0..3)
        .map(|_| NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]))
        .collect();
    let shard1 = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1"]);
    let mut enrs = Vec::new();
    for node in shard0.iter().chain([&shard1]) {
        enrs.push(enr_of(node).await);
    }
    let (url, server) = serve_tree(&enrs, 0x44).await;
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--shard",
        "1",
        "--max-connections",
        "6",
        "--rest-admin",
        "--dns-discovery-url",
        &url,
        "--dns-addrs-name-server",
        &server,
    ]);
    let rest = node.rest_addr();
    let shard1_id = enrs[3].peer_id().to_string();
    let shard0_ids: Vec<String> = enrs[..3].iter().map(|e| e.peer_id().to_string()).collect();
    assert!(
        eventually(Duration::from_secs(20), || {
            let (shard1_id, shard0_ids) = (shard1_id.clone(), shard0_ids.clone());
            async move {
                let peers = connected_peers(rest).await;
                peers.contains(&shard1_id) && peers.iter().any(|p| shard0_ids.contains(p))
            }
        })
        .await,
        "{}",
        node.log()
    );
    // One peer per shard is the share: the other shard-0 nodes are not
    // dialled, now or by the periodic check.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let peers = connected_peers(rest).await;
    assert_eq!(
        peers.iter().filter(|p| shard0_ids.contains(p)).count(),
        1,
        "{peers:?}\n{}",
        node.log()
    );
}

/// A light node (no relay) that knows service nodes only from a DNS tree
/// asks the one serving the request's shard: its store query and its
/// filter subscription for shard 1 go to the shard-1 node, not to the
/// shard-0 node, without `--storenode` or `--filternode`. A shard neither
/// reported is still answered by one of them (what a peer reported may be
/// stale; nwaku does not filter by shard at all).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_peers_are_chosen_by_the_shard_of_the_request() {
    let service = |shard: &str| {
        NodeProcess::spawn_with_store(&[
            "--cluster-id",
            "7",
            "--shard",
            shard,
            "--filter",
            "--rest-admin",
            "--metrics-server",
            "--metrics-server-port",
            "0",
        ])
    };
    let (s0, s1) = (service("0"), service("1"));
    let enrs = [enr_of(&s0).await, enr_of(&s1).await];
    let (url, server) = serve_tree(&enrs, 0x45).await;
    let light = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--relay=false",
        "--rest-admin",
        "--dns-discovery-url",
        &url,
        "--dns-addrs-name-server",
        &server,
    ]);
    let rest = light.rest_addr();
    let ids: Vec<String> = enrs.iter().map(|e| e.peer_id().to_string()).collect();
    assert!(
        eventually(Duration::from_secs(20), || {
            let ids = ids.clone();
            async move {
                let peers = connected_peers(rest).await;
                ids.iter().all(|id| peers.contains(id))
            }
        })
        .await,
        "{}",
        light.log()
    );
    // Health: the clients have service peers now.
    let (_, health) = http(rest, "GET", "/health", None).await;
    assert!(health.contains(r#"{"Filter Client":"READY"}"#), "{health}");

    let topic = "%2Fwaku%2F2%2Frs%2F7%2F1";
    for _ in 0..3 {
        let path = format!("/store/v3/messages?pubsubTopic={topic}");
        let (status, body) = http(rest, "GET", &path, None).await;
        assert_eq!(status, 200, "{body}\n{}", light.log());
    }
    let queries = |node: &NodeProcess| {
        let addr = node.metrics_addr();
        async move {
            let (_, metrics) = http(addr, "GET", "/metrics", None).await;
            metrics.contains("\nwaku_store_queries_total 3\n")
        }
    };
    assert!(queries(&s1).await, "shard 1's store node was not asked");
    assert!(!queries(&s0).await);
    let path = "/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F7%2F2";
    let (status, body) = http(rest, "GET", path, None).await;
    assert_eq!(status, 200, "{body}");

    let sub = serde_json::json!({
        "requestId": "1",
        "pubsubTopic": "/waku/2/rs/7/1",
        "contentFilters": ["/app/1/chat/proto"],
    })
    .to_string();
    let (status, body) = http(rest, "POST", "/filter/v2/subscriptions", Some(&sub)).await;
    assert_eq!(status, 200, "{body}\n{}", light.log());
    let subscribers = |node: &NodeProcess| {
        let addr = node.rest_addr();
        async move {
            let (_, body) = http(addr, "GET", "/admin/v1/filter/subscriptions", None).await;
            body
        }
    };
    let light_id = light.tcp_addr().to_string();
    let light_id = light_id.rsplit('/').next().unwrap().to_owned();
    assert!(subscribers(&s1).await.contains(&light_id));
    assert!(!subscribers(&s0).await.contains(&light_id));
    // The ping goes to the node holding the subscription.
    let (status, body) = http(rest, "GET", "/filter/v2/subscriptions/2", None).await;
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_malformed_tree_url_or_name_server_names_the_flag() {
    for (flag, value) in [
        ("--dns-discovery-url", "enrtree://nokey"),
        ("--dns-addrs-name-server", "not-an-ip"),
    ] {
        let mut args = vec![flag, value];
        if flag == "--dns-addrs-name-server" {
            args.extend([
                "--dns-discovery-url",
                "enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im",
            ]);
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wakunode"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&flag[2..]), "{flag}: {stderr}");
    }
}

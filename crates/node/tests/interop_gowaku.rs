//! go-waku v0.10.3 (the Go implementation, built from the Go module proxy
//! by `tests/interop-go/build-gowaku.sh`) as a real foreign peer of our
//! `wakunode`: relay both ways on a static cluster and on The Waku
//! Network's autoshards, connections kept (metadata), cluster mismatch,
//! go-waku as a client of our store, filter and lightpush, our node as a
//! client of its filter, legacy lightpush and legacy store, and its ENR.
//!
//! go-waku looks up NTP servers and tries UPnP at start: every test runs in
//! its own network (and pid) namespace with only loopback up. A test run
//! outside one re-runs itself under `unshare --net --pid`, so go-waku and
//! our node share that namespace's loopback and are killed with it.
//!
//! The binary is read from `WAKU_GOWAKU_BIN`, else `target/gowaku/waku`.
//! Without it the tests print `SKIPPED` and pass, unless
//! `WAKU_GOWAKU_REQUIRED=1` (CI), where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{NodeProcess, eventually, http};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use waku_enr::{Capabilities, WakuEnr};
use waku_testkit::go_waku::in_own_namespace;

const SHARD: &str = "/waku/2/rs/42/0";
const SHARD_PATH: &str = "%2Fwaku%2F2%2Frs%2F42%2F0";
const CT: &str = "/gowaku/1/interop/proto";
const CT_PATH: &str = "%2Fgowaku%2F1%2Finterop%2Fproto";
/// go-waku's ports inside the namespace (each test has its own).
const GO_TCP: u16 = 60000;
const GO_REST: u16 = 8645;

/// A go-waku node on 127.0.0.1, REST on [`GO_REST`], TCP on [`GO_TCP`];
/// killed when dropped.
struct GoWaku {
    _child: tokio::process::Child,
    rest: SocketAddr,
    /// Its TCP listen address with `/p2p/<id>`.
    addr: String,
    enr: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl GoWaku {
    async fn spawn(args: &[&str]) -> Self {
        let bin = std::env::var_os("WAKU_GOWAKU_BIN").expect("set by in_own_namespace");
        let nodekey = hex::encode(rand::random::<[u8; 32]>());
        let mut child = tokio::process::Command::new(bin)
            .args([
                &format!("--nodekey={nodekey}"),
                "--address=127.0.0.1",
                &format!("--tcp-port={GO_TCP}"),
                "--rest",
                "--rest-address=127.0.0.1",
                &format!("--rest-port={GO_REST}"),
                "--rest-admin",
                "--log-level=DEBUG",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let outputs: [Box<dyn tokio::io::AsyncRead + Unpin + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for out in outputs {
            let lines = lines.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(out).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let rest: SocketAddr = format!("127.0.0.1:{GO_REST}").parse().unwrap();
        let info = Arc::new(Mutex::new(Value::Null));
        let ready = eventually(Duration::from_secs(30), || {
            let info = info.clone();
            async move {
                match tokio::time::timeout(
                    Duration::from_secs(2),
                    try_http(rest, "GET", "/debug/v1/info", None),
                )
                .await
                {
                    Ok(Some((200, body))) => {
                        *info.lock().unwrap() = serde_json::from_str(&body).unwrap_or(Value::Null);
                        true
                    }
                    _ => false,
                }
            }
        })
        .await;
        let log = || lines.lock().unwrap().join("\n");
        assert!(ready, "go-waku did not start:\n{}", log());
        let info = info.lock().unwrap().clone();
        let addr = info["listenAddresses"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .find(|a| a.contains("/tcp/") && !a.contains("/ws"))
            })
            .unwrap_or_else(|| panic!("no TCP address in {info}"))
            .to_owned();
        let enr = info["enrUri"].as_str().unwrap_or_default().to_owned();
        GoWaku {
            _child: child,
            rest,
            addr,
            enr,
            lines,
        }
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn peer_id(&self) -> &str {
        self.addr.rsplit('/').next().unwrap()
    }
}

/// `http`, but `None` when the connection is refused (not listening yet).
async fn try_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Option<(u16, String)> {
    tokio::net::TcpStream::connect(addr).await.ok()?;
    Some(http(addr, method, path, body).await)
}

fn payload(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn now_ns() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

fn message(text: &str) -> Value {
    json!({"payload": payload(text), "contentTopic": CT, "timestamp": now_ns()})
}

/// Payloads (decoded) in a REST message list.
fn payloads(list: &Value) -> Vec<String> {
    use base64::Engine;
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["payload"].as_str())
                .filter_map(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Publishes `text` on SHARD through `rest` every 300 ms until `read`
/// (a GET returning a message list, drained on read by both
/// implementations) shows it; false after 30 s.
async fn relays(
    from: SocketAddr,
    publish_path: &str,
    to: SocketAddr,
    read: &str,
    text: &str,
) -> bool {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    eventually(Duration::from_secs(30), || {
        let seen = seen.clone();
        async move {
            let (status, body) =
                http(from, "POST", publish_path, Some(&message(text).to_string())).await;
            if status != 200 {
                eprintln!("publish answered {status}: {body}");
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let (_, body) = http(to, "GET", read, None).await;
            let got = payloads(&serde_json::from_str(&body).unwrap_or(Value::Null));
            seen.lock().unwrap().extend(got);
            seen.lock().unwrap().iter().any(|p| p == text)
        }
    })
    .await
}

/// Reads `path` (a message list drained on read) at `rest` until every
/// payload of `texts` has shown up; false after 20 s.
async fn drained_all(rest: SocketAddr, path: &str, texts: &[&str]) -> bool {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    eventually(Duration::from_secs(20), || {
        let seen = seen.clone();
        async move {
            let (_, body) = http(rest, "GET", path, None).await;
            let mut seen = seen.lock().unwrap();
            seen.extend(payloads(
                &serde_json::from_str(&body).unwrap_or(Value::Null),
            ));
            texts.iter().all(|t| seen.iter().any(|p| p == t))
        }
    })
    .await
}

/// The filter client behind `subscriber` subscribes to CT on SHARD at its
/// filter node, `publisher` relays `texts`, and the pushes are read from
/// `read` at `subscriber`; false when they do not all arrive.
async fn filter_round(
    subscriber: SocketAddr,
    publisher: SocketAddr,
    read: &str,
    texts: &[&str],
) -> bool {
    let sub =
        json!({"requestId": "interop-1", "contentFilters": [CT], "pubsubTopic": SHARD}).to_string();
    let (status, text) = http(subscriber, "POST", "/filter/v2/subscriptions", Some(&sub)).await;
    assert_eq!(status, 200, "filter subscription: {text}");
    let publish = format!("/relay/v1/messages/{SHARD_PATH}");
    for text in texts {
        let body = message(text).to_string();
        let (status, answer) = http(publisher, "POST", &publish, Some(&body)).await;
        assert_eq!(status, 200, "{answer}");
    }
    drained_all(subscriber, read, texts).await
}

/// Subscribes both nodes' REST caches to `topic` through `route`
/// (`/relay/v1/subscriptions` or `/relay/v1/auto/subscriptions`).
async fn subscribe_both(rests: [SocketAddr; 2], route: &str, topic: &str) {
    let body = json!([topic]).to_string();
    for rest in rests {
        let (status, text) = http(rest, "POST", route, Some(&body)).await;
        assert_eq!(status, 200, "{route} at {rest}: {text}");
    }
}

/// The peers `rest` (either implementation) lists as connected.
async fn connected_peers(rest: SocketAddr) -> Vec<String> {
    let (status, body) = http(rest, "GET", "/admin/v1/peers", None).await;
    assert_eq!(status, 200, "{body}");
    let peers: Value = serde_json::from_str(&body).unwrap();
    peers
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["connected"] == json!(true) || p["connected"] == json!("Connected"))
                .filter_map(|p| {
                    p["multiaddr"]
                        .as_str()
                        .or_else(|| p["id"].as_str())
                        .or_else(|| p["multiaddrs"][0].as_str())
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn lists(peers: &[String], peer_id: &str) -> bool {
    peers.iter().any(|p| p.contains(peer_id))
}

fn our_peer_id(node: &NodeProcess) -> String {
    node.tcp_addr()
        .to_string()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

// Relay on static cluster 42 both ways; the connection stays up, which it
// did not while our metadata carried shards only in field 2 (go-waku reads
// field 3 and dropped us).
// spec: META-021
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_both_ways_on_a_static_cluster_and_the_connection_stays() {
    if !in_own_namespace("relay_both_ways_on_a_static_cluster_and_the_connection_stays") {
        return;
    }
    let go = GoWaku::spawn(&[
        "--cluster-id=42",
        &format!("--pubsub-topic={SHARD}"),
        "--min-relay-peers-to-publish=0",
    ])
    .await;
    let ours = NodeProcess::spawn(&[
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--rest-admin",
        "--staticnode",
        &go.addr,
    ]);
    let (gr, or) = (go.rest, ours.rest_addr());
    subscribe_both([gr, or], "/relay/v1/subscriptions", SHARD).await;
    let path = format!("/relay/v1/messages/{SHARD_PATH}");

    assert!(
        relays(or, &path, gr, &path, "from rust").await,
        "go-waku never got our message\nours:\n{}\ngo-waku:\n{}",
        ours.log(),
        go.log()
    );
    assert!(
        relays(gr, &path, or, &path, "from go").await,
        "we never got go-waku's message\nours:\n{}",
        ours.log()
    );
    // Metadata exchanged both ways: after a while, still connected on both
    // sides.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let ours_id = our_peer_id(&ours);
    assert!(
        lists(&connected_peers(gr).await, &ours_id),
        "go-waku dropped us:\n{}",
        go.log()
    );
    assert!(
        lists(&connected_peers(or).await, go.peer_id()),
        "{}\n{}",
        http(or, "GET", "/admin/v1/peers", None).await.1,
        ours.log()
    );
    assert!(
        relays(or, &path, gr, &path, "still flowing").await,
        "relay stopped after the metadata exchange"
    );
}

// The Waku Network's autosharding (cluster 1, 8 shards) through the
// content-topic routes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_both_ways_on_cluster_1_autosharding() {
    if !in_own_namespace("relay_both_ways_on_cluster_1_autosharding") {
        return;
    }
    let go = GoWaku::spawn(&[
        "--cluster-id=1",
        &format!("--content-topic={CT}"),
        "--min-relay-peers-to-publish=0",
    ])
    .await;
    let ours = NodeProcess::spawn(&["--cluster-id", "1", "--staticnode", &go.addr]);
    let (gr, or) = (go.rest, ours.rest_addr());
    subscribe_both([gr, or], "/relay/v1/auto/subscriptions", CT).await;
    let read = format!("/relay/v1/auto/messages/{CT_PATH}");
    assert!(
        relays(or, "/relay/v1/auto/messages", gr, &read, "auto from rust").await,
        "go-waku never got our message\nours:\n{}\ngo-waku:\n{}",
        ours.log(),
        go.log()
    );
    assert!(
        relays(gr, "/relay/v1/auto/messages", or, &read, "auto from go").await,
        "we never got go-waku's message\nours:\n{}",
        ours.log()
    );
}

// A go-waku node of another cluster is disconnected (metadata), on both
// sides.
// spec: META-017
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_waku_node_of_another_cluster_is_disconnected() {
    if !in_own_namespace("a_go_waku_node_of_another_cluster_is_disconnected") {
        return;
    }
    let go = GoWaku::spawn(&["--cluster-id=43", "--pubsub-topic=/waku/2/rs/43/0"]).await;
    let ours = NodeProcess::spawn(&[
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--rest-admin",
        "--staticnode",
        &go.addr,
    ]);
    assert!(
        ours.wait_for("peer disconnected by metadata", Duration::from_secs(20)),
        "{}",
        ours.log()
    );
    let (gr, or) = (go.rest, ours.rest_addr());
    let ours_id = our_peer_id(&ours);
    let (ours_id, go_id) = (ours_id.as_str(), go.peer_id());
    assert!(
        eventually(Duration::from_secs(10), || async move {
            !lists(&connected_peers(or).await, go_id) && !lists(&connected_peers(gr).await, ours_id)
        })
        .await
    );
}

// go-waku as a client of our services: legacy and v3 store queries, a
// filter subscription fed by what our node relays, and a legacy lightpush.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_waku_uses_our_store_filter_and_lightpush() {
    if !in_own_namespace("go_waku_uses_our_store_filter_and_lightpush") {
        return;
    }
    let ours = NodeProcess::spawn_with_store(&[
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--legacy-store",
        "--filter",
        "--lightpush",
    ]);
    let our_addr = ours.tcp_addr().to_string();
    let go = GoWaku::spawn(&[
        "--cluster-id=42",
        &format!("--pubsub-topic={SHARD}"),
        "--min-relay-peers-to-publish=0",
        &format!("--staticnode={our_addr}"),
        &format!("--storenode={our_addr}"),
        &format!("--filternode={our_addr}"),
        &format!("--lightpushnode={our_addr}"),
    ])
    .await;
    let (gr, or) = (go.rest, ours.rest_addr());
    assert!(
        common::relay_ready(or, Duration::from_secs(30)).await,
        "{}",
        ours.log()
    );

    // Filter: go-waku subscribes at our node, we relay, it gets the push.
    let filter_read = format!("/filter/v2/messages/{SHARD_PATH}/{CT_PATH}");
    let got_pushes = filter_round(gr, or, &filter_read, &["stored one", "stored two"]).await;
    assert!(
        got_pushes,
        "go-waku got no filter push\nours:\n{}\ngo-waku:\n{}",
        ours.log(),
        go.log()
    );

    // Legacy store, then v3 store, asked by go-waku of our node.
    let peer = our_addr.replace('/', "%2F");
    let legacy = format!(
        "/store/v1/messages?peerAddr={peer}&pubsubTopic={SHARD_PATH}&contentTopics={CT_PATH}&pageSize=10"
    );
    let stored = Arc::new(Mutex::new(Vec::new()));
    let archived = eventually(Duration::from_secs(20), || {
        let legacy = legacy.clone();
        let stored = stored.clone();
        async move {
            let (status, body) = http(gr, "GET", &legacy, None).await;
            let got =
                payloads(&serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)["messages"]);
            let done = status == 200 && got.len() == 2;
            *stored.lock().unwrap() = got;
            done
        }
    })
    .await;
    let stored = stored.lock().unwrap().clone();
    assert!(
        archived,
        "legacy store through go-waku: {stored:?}\n{}",
        go.log()
    );
    assert_eq!(stored, ["stored one", "stored two"]);
    let v3 = format!(
        "/store/v3/messages?peerAddr={peer}&pubsubTopic={SHARD_PATH}&contentTopics={CT_PATH}&includeData=true"
    );
    let (status, body) = http(gr, "GET", &v3, None).await;
    assert_eq!(status, 200, "{body}\n{}", go.log());
    let answer: Value = serde_json::from_str(&body).unwrap();
    let messages = answer["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(messages.len(), 2, "{answer}");

    // Legacy lightpush from go-waku: our node relays and archives it.
    let push = json!({"pubsubTopic": SHARD, "message": message("pushed by go")}).to_string();
    let (status, text) = http(gr, "POST", "/lightpush/v1/message", Some(&push)).await;
    assert_eq!(status, 200, "{text}\n{}", go.log());
    let local = format!("/store/v1/messages?pubsubTopic={SHARD_PATH}&contentTopics={CT_PATH}");
    assert!(
        eventually(Duration::from_secs(20), || {
            let local = local.clone();
            async move {
                let (_, body) = http(or, "GET", &local, None).await;
                payloads(&serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)["messages"])
                    .iter()
                    .any(|p| p == "pushed by go")
            }
        })
        .await,
        "{}",
        ours.log()
    );
}

// Our node as a client of go-waku's services: its filter, its legacy
// lightpush (our REST lightpush v3 falls back to legacy; a second push
// within go-waku's 1 s rate limit is 429) and its legacy store (both our
// REST store routes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_use_go_wakus_filter_legacy_lightpush_and_legacy_store() {
    if !in_own_namespace("we_use_go_wakus_filter_legacy_lightpush_and_legacy_store") {
        return;
    }
    let go = GoWaku::spawn(&[
        "--cluster-id=42",
        &format!("--pubsub-topic={SHARD}"),
        "--min-relay-peers-to-publish=0",
        "--store",
        "--store-message-db-url=sqlite3://:memory:",
        "--filter",
        "--lightpush",
    ])
    .await;
    let ours = NodeProcess::spawn(&[
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--staticnode",
        &go.addr,
        "--storenode",
        &go.addr,
        "--filternode",
        &go.addr,
        "--lightpushnode",
        &go.addr,
    ]);
    let (gr, or) = (go.rest, ours.rest_addr());
    assert!(
        common::relay_ready(or, Duration::from_secs(30)).await,
        "{}",
        ours.log()
    );

    // Filter: we subscribe at go-waku; go-waku relays; we get the push.
    let filter_read = format!("/filter/v2/messages/{CT_PATH}");
    let got_pushes = filter_round(or, gr, &filter_read, &["go one", "go two"]).await;
    assert!(
        got_pushes,
        "no push from go-waku\nours:\n{}\ngo-waku:\n{}",
        ours.log(),
        go.log()
    );

    // Legacy store of go-waku, through both of our REST store routes.
    let legacy =
        format!("/store/v1/messages?pubsubTopic={SHARD_PATH}&contentTopics={CT_PATH}&pageSize=1");
    let (status, body) = http(or, "GET", &legacy, None).await;
    assert_eq!(status, 200, "{body}\n{}", ours.log());
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(payloads(&page["messages"]), ["go one"], "{page}");
    assert!(page["cursor"]["digest"]["data"].is_string(), "{page}");
    let v3 = format!(
        "/store/v3/messages?pubsubTopic={SHARD_PATH}&contentTopics={CT_PATH}&includeData=true&pageSize=1"
    );
    let (status, body) = http(or, "GET", &v3, None).await;
    assert_eq!(status, 200, "{body}\n{}", ours.log());
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["statusCode"], 200, "{page}");
    let first = page["messages"][0].clone();
    assert_eq!(payloads(&json!([first["message"]])), ["go one"], "{page}");
    let cursor = page["paginationCursor"].as_str().unwrap().to_owned();
    let (status, body) = http(or, "GET", &format!("{v3}&cursor={cursor}"), None).await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        payloads(&json!([page["messages"][0]["message"]])),
        ["go two"],
        "{page}"
    );

    // Legacy lightpush through go-waku: no invented relay peer count; the
    // second push within go-waku's 1 s limit is a 429.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let push = json!({"pubsubTopic": SHARD, "message": message("pushed by rust")}).to_string();
    let (status, text) = http(or, "POST", "/lightpush/v3/message", Some(&push)).await;
    assert_eq!(status, 200, "{text}\n{}", ours.log());
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert!(answer.get("relayPeerCount").is_none(), "{answer}");
    assert!(answer["statusDesc"].is_string(), "{answer}");
    // go-waku allows one push per second: of the next pushes sent back to
    // back, one is refused, and that refusal is 429 (not 500).
    let mut answers = Vec::new();
    for i in 0..5 {
        let push =
            json!({"pubsubTopic": SHARD, "message": message(&format!("again {i}"))}).to_string();
        let (status, text) = http(or, "POST", "/lightpush/v3/message", Some(&push)).await;
        answers.push((status, text));
        if status == 429 {
            break;
        }
    }
    assert!(
        answers.iter().any(|(status, _)| *status == 429),
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .all(|(status, _)| matches!(status, 200 | 429)),
        "{answers:?}"
    );
}

// go-waku's ENR read by our crate: its cluster and shard, its services,
// its TCP port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_wakus_enr_reads() {
    if !in_own_namespace("go_wakus_enr_reads") {
        return;
    }
    let go = GoWaku::spawn(&[
        "--cluster-id=42",
        &format!("--pubsub-topic={SHARD}"),
        "--store",
        "--store-message-db-url=sqlite3://:memory:",
        "--filter",
        "--lightpush",
    ])
    .await;
    let enr = WakuEnr::decode(&go.enr).unwrap_or_else(|e| panic!("{e}: {}", go.enr));
    assert_eq!(enr.peer_id().to_string(), go.peer_id());
    assert_eq!(enr.tcp4(), Some(GO_TCP));
    let shards = enr.shards().expect("rs");
    assert!(
        shards.contains(&waku_sharding::RelayShard::new(42, 0)),
        "{shards:?}"
    );
    let caps = enr.capabilities().expect("waku2");
    assert!(
        caps.contains_all(
            Capabilities::RELAY
                | Capabilities::STORE
                | Capabilities::FILTER
                | Capabilities::LIGHTPUSH
        ),
        "{caps}"
    );
}

// discv5 with go-waku both ways: go-waku's enrUri bootstraps our node, which
// then finds and dials it; our enrUri bootstraps go-waku, which finds and
// dials us. Both sides speak d5waku and read each other's records.
// spec: DISC-001, DISC-002
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discv5_with_go_waku_both_ways() {
    if !in_own_namespace("discv5_with_go_waku_both_ways") {
        return;
    }
    let go_args = [
        "--cluster-id=42",
        "--pubsub-topic=/waku/2/rs/42/0",
        "--discv5-discovery",
        "--discv5-udp-port=9100",
    ];
    let our_args = [
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--rest-admin",
        "--discv5-discovery",
        "--discv5-udp-port",
        "0",
    ];

    // go-waku bootstraps us.
    let go = GoWaku::spawn(&go_args).await;
    let go_enr = WakuEnr::decode(&go.enr).unwrap();
    assert!(go_enr.udp4().is_some(), "{}", go.enr);
    let mut args = our_args.to_vec();
    args.extend(["--discv5-bootstrap-node", &go.enr]);
    let ours = NodeProcess::spawn(&args);
    let (or, go_id) = (ours.rest_addr(), go.peer_id().to_owned());
    assert!(
        eventually(Duration::from_secs(30), || {
            let go_id = go_id.clone();
            async move { lists(&connected_peers(or).await, &go_id) }
        })
        .await,
        "ours:\n{}\ngo-waku:\n{}",
        ours.log(),
        go.log()
    );
    assert!(ours.count("dialling a peer found through discv5") >= 1);
    drop(ours);
    drop(go);

    // We bootstrap go-waku.
    let ours = NodeProcess::spawn(&our_args);
    let (_, body) = http(ours.rest_addr(), "GET", "/debug/v1/info", None).await;
    let info: Value = serde_json::from_str(&body).unwrap();
    let our_enr = info["enrUri"].as_str().unwrap().to_owned();
    let mut args = go_args.to_vec();
    let bootstrap = format!("--discv5-bootstrap-node={our_enr}");
    args.push(&bootstrap);
    let go = GoWaku::spawn(&args).await;
    let (gr, ours_id) = (go.rest, our_peer_id(&ours));
    assert!(
        eventually(Duration::from_secs(30), || {
            let ours_id = ours_id.clone();
            async move { lists(&connected_peers(gr).await, &ours_id) }
        })
        .await,
        "go-waku:\n{}\nours:\n{}",
        go.log(),
        ours.log()
    );
}

/// `GET /debug/v1/info`'s `enrUri` of our node.
async fn our_enr(node: &NodeProcess) -> String {
    let (_, body) = http(node.rest_addr(), "GET", "/debug/v1/info", None).await;
    let info: Value = serde_json::from_str(&body).unwrap();
    info["enrUri"].as_str().unwrap().to_owned()
}

// Peer exchange with go-waku: our node asks go-waku (whose cache its own
// discv5 fills, bootstrapped from our node) and connects to the peer go-waku
// found. The other way cannot be driven from go-waku v0.10.3's command line:
// `--peer-exchange-node` asks for `Relay().Params().D` peers before relay has
// its parameters, i.e. for 0 (cmd/waku/node.go), and a request for 0 gets
// none from nwaku, go-waku or us; js-waku's client covers that side
// (px_interop.rs).
// spec: PX-001, PX-002
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_peer_exchange_client_learns_peers_from_go_waku() {
    if !in_own_namespace("our_peer_exchange_client_learns_peers_from_go_waku") {
        return;
    }
    let ours = [
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--rest-admin",
        "--discv5-discovery",
        "--discv5-udp-port",
        "0",
    ];
    let server = NodeProcess::spawn(&ours);
    let server_enr = our_enr(&server).await;
    let mut args = ours.to_vec();
    args.extend(["--discv5-bootstrap-node", &server_enr]);
    let found = NodeProcess::spawn(&args);
    let go = GoWaku::spawn(&[
        "--cluster-id=42",
        "--pubsub-topic=/waku/2/rs/42/0",
        "--peer-exchange",
        "--discv5-discovery",
        "--discv5-udp-port=9100",
        &format!("--discv5-bootstrap-node={server_enr}"),
    ])
    .await;
    let asker = NodeProcess::spawn(&[
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--rest-admin",
        "--peer-exchange-node",
        &go.addr,
    ]);
    let ar = asker.rest_addr();
    let ids = [our_peer_id(&server), our_peer_id(&found)];
    assert!(
        eventually(Duration::from_secs(45), || {
            let ids = ids.clone();
            async move {
                let peers = connected_peers(ar).await;
                ids.iter().any(|id| lists(&peers, id))
            }
        })
        .await,
        "our node did not reach a peer go-waku's peer exchange named\nours:\n{}\ngo-waku:\n{}",
        asker.log(),
        go.log()
    );
    assert!(asker.count("Retrieved peer info via peer exchange protocol") >= 1);
}

/// A go-waku node with gossipsub peer exchange, subscribed to [`SHARD`].
async fn go_waku_with_relay_px() -> GoWaku {
    let go = GoWaku::spawn(&[
        "--cluster-id=42",
        &format!("--pubsub-topic={SHARD}"),
        "--relay-peer-exchange",
    ])
    .await;
    let body = json!([SHARD]).to_string();
    let (status, text) = http(go.rest, "POST", "/relay/v1/subscriptions", Some(&body)).await;
    assert_eq!(status, 200, "{text}");
    go
}

/// Our node with gossipsub peer exchange on [`SHARD`], dialling `peers`.
fn ours_with_relay_px(peers: &[&str]) -> NodeProcess {
    let mut args = vec![
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--relay-peer-exchange",
        "--rest-admin",
    ];
    for peer in peers {
        args.extend(["--staticnode", peer]);
    }
    NodeProcess::spawn(&args)
}

/// Whether `rest`'s node (either implementation) is connected to every
/// one of `ids` within 20 s.
async fn connected_to_all(rest: SocketAddr, ids: &[&str]) -> bool {
    let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    eventually(Duration::from_secs(20), || {
        let ids = ids.clone();
        async move {
            let peers = connected_peers(rest).await;
            ids.iter().all(|id| lists(&peers, id))
        }
    })
    .await
}

/// Makes the node at `rest` leave [`SHARD`], once heartbeats have grafted
/// its peers into its mesh: its PRUNEs carry peer exchange.
async fn leave_shard_after_meshing(rest: SocketAddr) {
    tokio::time::sleep(Duration::from_secs(4)).await;
    let body = json!([SHARD]).to_string();
    let (status, text) = http(rest, "DELETE", "/relay/v1/subscriptions", Some(&body)).await;
    assert_eq!(status, 200, "{text}");
}

// Gossipsub peer exchange (`--relay-peer-exchange` on every node): go-waku
// meshes with two of our nodes, then leaves the shard. Its PRUNE to one of
// them names the other with the signed peer record our identify gave it;
// our node verifies the record and dials the peer it had never heard of.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_wakus_relay_peer_exchange_leads_us_to_another_of_our_nodes() {
    if !in_own_namespace("go_wakus_relay_peer_exchange_leads_us_to_another_of_our_nodes") {
        return;
    }
    let go = go_waku_with_relay_px().await;
    let (b, c) = (
        ours_with_relay_px(&[&go.addr]),
        ours_with_relay_px(&[&go.addr]),
    );
    let (b_id, c_id) = (our_peer_id(&b), our_peer_id(&c));
    assert!(
        connected_to_all(go.rest, &[&b_id, &c_id]).await,
        "go-waku:\n{}",
        go.log()
    );
    assert!(!lists(&connected_peers(c.rest_addr()).await, &b_id));

    leave_shard_after_meshing(go.rest).await;
    let met = connected_to_all(c.rest_addr(), &[&b_id]).await;
    assert!(met, "ours:\n{}\ngo-waku:\n{}", c.log(), go.log());
    assert!(c.count("adding exchanged peers") >= 1, "{}", c.log());
    assert!(c.count("dialling a peer found through relay peer exchange") >= 1);
}

// The other way: our node meshes with go-waku and another of our nodes,
// then leaves the shard; its PRUNE names the other node with the record
// that node's identify gave us, and go-waku dials it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_relay_peer_exchange_leads_go_waku_to_another_of_our_nodes() {
    if !in_own_namespace("our_relay_peer_exchange_leads_go_waku_to_another_of_our_nodes") {
        return;
    }
    let go = go_waku_with_relay_px().await;
    let b = ours_with_relay_px(&[]);
    let b_addr = b.tcp_addr().to_string();
    let a = ours_with_relay_px(&[&go.addr, &b_addr]);
    let b_id = our_peer_id(&b);
    assert!(
        connected_to_all(a.rest_addr(), &[&b_id, go.peer_id()]).await,
        "{}",
        a.log()
    );
    assert!(!lists(&connected_peers(go.rest).await, &b_id));

    leave_shard_after_meshing(a.rest_addr()).await;
    let met = connected_to_all(go.rest, &[&b_id]).await;
    assert!(met, "go-waku:\n{}\nours:\n{}", go.log(), a.log());
}

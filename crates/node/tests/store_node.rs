//! The store on a `wakunode` process: relayed and own messages are
//! archived, queried over REST (our archive or a `--storenode`), and by a
//! js-waku light node over `/ws`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{NodeProcess, eventually, http, relay_ready};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

const TOPIC: &str = "/waku/2/rs/7/1";
const CT: &str = "/store/1/chat/proto";

fn enc(t: &str) -> String {
    t.replace('/', "%2F")
}

/// Publishes on TOPIC/CT through `rest`, with an explicit timestamp
/// (nanoseconds) when one is given.
async fn publish(rest: std::net::SocketAddr, payload_b64: &str, timestamp_ns: Option<u64>) {
    let mut body = json!({"payload": payload_b64, "contentTopic": CT});
    if let Some(t) = timestamp_ns {
        body["timestamp"] = json!(t);
    }
    let (status, text) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{}", enc(TOPIC)),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

/// Waits until the store behind `rest` answers `params` with at least `n`
/// messages.
async fn wait_archived(rest: std::net::SocketAddr, params: &str, n: usize) -> bool {
    eventually(Duration::from_secs(30), || async move {
        let (_, body) = http(rest, "GET", &format!("/store/v3/messages?{params}"), None).await;
        serde_json::from_str::<Value>(&body)
            .map(|v| v["messages"].as_array().map_or(0, Vec::len) >= n)
            .unwrap_or(false)
    })
    .await
}

async fn query(rest: std::net::SocketAddr, params: &str) -> Value {
    let (status, body) = http(rest, "GET", &format!("/store/v3/messages?{params}"), None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archives_relayed_messages_and_answers_rest_queries_locally_and_via_storenode() {
    let a = NodeProcess::spawn_with_store(&["--cluster-id", "7", "--shard", "1"]);
    let a_tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--staticnode",
        &a_tcp,
        "--storenode",
        &a_tcp,
    ]);
    let (ra, rb) = (a.rest_addr(), b.rest_addr());

    // Once B sees A as a relay peer, B publishes and A archives what it relays.
    assert!(relay_ready(rb, Duration::from_secs(30)).await);
    for p in ["b25l", "dHdv", "dGhyZWU="] {
        publish(rb, p, None).await;
    }
    let params = format!(
        "pubsubTopic={}&contentTopics={}&includeData=true",
        enc(TOPIC),
        enc(CT)
    );
    assert!(wait_archived(ra, &params, 3).await, "A:\n{}", a.log());

    let local = query(ra, &params).await;
    assert_eq!(local["statusCode"], 200);
    assert_eq!(local["requestId"], "");
    let first = &local["messages"][0];
    assert!(first["messageHash"].as_str().unwrap().starts_with("0x"));
    assert_eq!(first["messageHash"].as_str().unwrap().len(), 66);
    assert_eq!(first["pubsubTopic"], TOPIC);
    assert_eq!(first["message"]["contentTopic"], CT);

    // Hashes only by default; page size 1 gives a cursor.
    let page = query(
        ra,
        &format!(
            "pubsubTopic={}&contentTopics={}&pageSize=1",
            enc(TOPIC),
            enc(CT)
        ),
    )
    .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert!(page["messages"][0].get("message").is_none());
    let cursor = page["paginationCursor"].as_str().unwrap();
    let next = query(
        ra,
        &format!(
            "pubsubTopic={}&contentTopics={}&pageSize=1&cursor={cursor}",
            enc(TOPIC),
            enc(CT)
        ),
    )
    .await;
    assert_ne!(
        next["messages"][0]["messageHash"],
        page["messages"][0]["messageHash"]
    );

    // Hash lookup.
    let hash = first["messageHash"].as_str().unwrap();
    let by_hash = query(ra, &format!("hashes={hash}&includeData=true")).await;
    assert_eq!(by_hash["messages"][0]["messageHash"], hash);

    // B has no archive: it asks its --storenode (A) over the store protocol.
    let remote = query(rb, &params).await;
    assert_eq!(remote["statusCode"], 200, "{remote}");
    assert_eq!(
        remote["messages"].as_array().unwrap().len(),
        local["messages"].as_array().unwrap().len()
    );
    assert_eq!(remote["requestId"].as_str().unwrap().len(), 20);

    // Bad input: 400 with the reason.
    let (status, body) = http(ra, "GET", "/store/v3/messages?hashes=zz", None).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = http(
        ra,
        "GET",
        &format!("/store/v3/messages?hashes={hash}&contentTopics={}", enc(CT)),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_store_or_storenode_rest_queries_get_412() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1"]);
    let (status, body) = http(
        a.rest_addr(),
        "GET",
        "/store/v3/messages?pubsubTopic=x",
        None,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (412, "No suitable service peer & no discovery method")
    );
}

/// A `peerAddr` that does not serve the store protocol is nwaku's dial
/// failure (500, `PEER_DIAL_FAILURE: <peer>`), on v3 and legacy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_without_store_is_a_peer_dial_failure() {
    let relay_only = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1"]);
    let a = NodeProcess::spawn_with_store(&["--cluster-id", "7", "--shard", "1"]);
    let peer = relay_only.tcp_addr().to_string();
    let peer_id = peer.rsplit('/').next().unwrap().to_owned();
    for route in ["/store/v3/messages", "/store/v1/messages"] {
        let path = format!("{route}?peerAddr={}&pubsubTopic={}", enc(&peer), enc(TOPIC));
        let (status, body) = http(a.rest_addr(), "GET", &path, None).await;
        assert_eq!(status, 500, "{route}: {body}");
        assert!(
            body.contains(&format!("PEER_DIAL_FAILURE: {peer_id}")),
            "{route}: {body}"
        );
    }
}

#[test]
fn bad_store_flags_exit_2() {
    for (args, flag) in [
        (
            &["--store", "--store-message-db-url", "mysql://x"][..],
            "--store-message-db-url",
        ),
        (
            &["--store", "--store-message-retention-policy", "forever"][..],
            "--store-message-retention-policy",
        ),
        (&["--storenode", "/ip4/1.2.3.4/tcp/1"][..], "--storenode"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wakunode"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag));
    }
}

/// A js-waku light node (`@waku/sdk` 0.0.36) queries our store over `/ws`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_waku_light_node_queries_our_store() {
    let Some(dir) = waku_testkit::js_waku::interop_dir() else {
        return;
    };
    let a = NodeProcess::spawn_with_store(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--websocket-support",
    ]);
    let rest = a.rest_addr();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // The time range [now - 5 s, now + 5 s) holds three of five messages:
    // "before" is 10 s old and "after" 10 s ahead (both inside the store's
    // 20 s acceptance window), so a service ignoring the range returns five.
    let (start_ms, end_ms) = (now_ms - 5_000, now_ms + 5_000);
    for (payload, at_ms) in [
        ("YmVmb3Jl", now_ms - 10_000),
        ("b25l", now_ms),
        ("dHdv", now_ms + 1),
        ("dGhyZWU=", now_ms + 2),
        ("YWZ0ZXI=", now_ms + 10_000),
    ] {
        let at_ns = u64::try_from(at_ms * 1_000_000).unwrap();
        publish(rest, payload, Some(at_ns)).await; // own messages are archived too
    }
    let params = format!("pubsubTopic={}&contentTopics={}", enc(TOPIC), enc(CT));
    assert!(wait_archived(rest, &params, 5).await, "{}", a.log());
    let ws = a.ws_addr().to_string();
    let run = |extra: Vec<String>| {
        let dir = dir.clone();
        let ws = ws.clone();
        async move {
            let mut args: Vec<String> = [
                "light.mjs",
                "--mode",
                "store",
                "--peer",
                &ws,
                "--cluster",
                "7",
                "--shard",
                "1",
                "--content-topic",
                CT,
                "--timeout-ms",
                "60000",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend(extra);
            let mut child = tokio::process::Command::new("node")
                .current_dir(&dir)
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let mut events = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                events.push(serde_json::from_str::<Value>(&line).unwrap());
            }
            let status = child.wait().await.unwrap();
            assert!(status.success(), "{events:?}");
            events
        }
    };
    // By content topic and time range, one message per page.
    let events = run(vec![
        "--start-ms".into(),
        start_ms.to_string(),
        "--end-ms".into(),
        end_ms.to_string(),
        "--page-size".into(),
        "1".into(),
    ])
    .await;
    let received: Vec<&Value> = events.iter().filter(|e| e["event"] == "received").collect();
    assert_eq!(received.len(), 3, "{events:?}");
    let pages = events.iter().filter(|e| e["event"] == "page").count();
    assert!(pages >= 3, "{events:?}");
    let payloads: Vec<&str> = received
        .iter()
        .map(|e| e["payload_hex"].as_str().unwrap())
        .collect();
    assert_eq!(
        payloads,
        [b"one".as_slice(), b"two", b"three"].map(hex::encode),
        "{events:?}"
    );
    // By hash.
    let hash = received[1]["hash_hex"]
        .as_str()
        .unwrap()
        .trim_start_matches("0x")
        .to_owned();
    let events = run(vec!["--hashes".into(), hash.clone()]).await;
    let received: Vec<&Value> = events.iter().filter(|e| e["event"] == "received").collect();
    assert_eq!(received.len(), 1, "{events:?}");
    assert_eq!(received[0]["payload_hex"], hex::encode(b"two"));
}

/// A legacy-store client as a Status client runs it: metadata (the node
/// drops peers that do not answer it) and `/vac/waku/store/2.0.0-beta4`.
#[derive(libp2p::swarm::NetworkBehaviour)]
struct LegacyClient {
    metadata: waku_metadata::Behaviour,
    store: waku_store::legacy::Behaviour,
}

fn legacy_client() -> waku_testkit::actor::Peer<LegacyClient> {
    waku_testkit::actor::Peer::spawn(waku_testkit::actor::swarm(LegacyClient {
        metadata: waku_metadata::Behaviour::new(waku_metadata::Config::new(7)),
        store: waku_store::legacy::Behaviour::client(waku_store::Config::default()),
    }))
}

async fn legacy_query(
    client: &mut waku_testkit::actor::Peer<LegacyClient>,
    node: &NodeProcess,
) -> Result<waku_store::legacy::Page, waku_store::QueryError> {
    let addr = node.tcp_addr();
    let Some(libp2p::multiaddr::Protocol::P2p(peer)) = addr.iter().last() else {
        panic!("no peer id in {addr}");
    };
    client.connect(addr, peer).await;
    let query = waku_store::legacy::Query::content(TOPIC, [CT]);
    let id = client
        .with(move |s| s.behaviour_mut().store.send_query(&peer, &query))
        .await;
    client
        .wait_behaviour("the legacy store answer", |e| match e {
            LegacyClientEvent::Store(waku_store::legacy::Event::QueryResult {
                request_id,
                result,
                ..
            }) if request_id == id => Some(result),
            _ => None,
        })
        .await
}

// `--legacy-store` mounts `/vac/waku/store/2.0.0-beta4` over the same archive;
// without it a legacy client is refused.
// spec: STORE2-001
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_store_flag_serves_the_archive_to_legacy_clients() {
    let with_legacy =
        NodeProcess::spawn_with_store(&["--cluster-id", "7", "--shard", "1", "--legacy-store"]);
    let rest = with_legacy.rest_addr();
    for p in ["b25l", "dHdv"] {
        publish(rest, p, None).await;
    }
    let params = format!("pubsubTopic={}&contentTopics={}", enc(TOPIC), enc(CT));
    assert!(
        wait_archived(rest, &params, 2).await,
        "{}",
        with_legacy.log()
    );
    let mut client = legacy_client();
    let response = legacy_query(&mut client, &with_legacy).await.unwrap();
    let payloads: Vec<&[u8]> = response.messages.iter().map(|m| &m.payload[..]).collect();
    assert_eq!(payloads, [b"one".as_slice(), b"two"]);

    // nwaku's legacy REST route: from our own archive, and from a node whose
    // --storenode it is (asked over the legacy protocol), a page at a time.
    let tcp = with_legacy.tcp_addr().to_string();
    let light = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1", "--storenode", &tcp]);
    for rest in [rest, light.rest_addr()] {
        let path = format!("/store/v1/messages?{params}&pageSize=1");
        let (status, body) = http(rest, "GET", &path, None).await;
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["messages"][0]["payload"], "b25l", "{page}");
        assert_eq!(page["messages"][0]["contentTopic"], CT);
        let cursor = &page["cursor"];
        assert_eq!(cursor["pubsubTopic"], TOPIC, "{page}");
        let digest = cursor["digest"]["data"].as_str().unwrap();
        let next = format!(
            "{path}&senderTime={}&storeTime={}&digest={}",
            cursor["senderTime"],
            cursor["storeTime"],
            digest
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        );
        let (status, body) = http(rest, "GET", &next, None).await;
        assert_eq!(status, 200, "{body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["messages"][0]["payload"], "dHdv", "{page}");
    }
    let (status, body) = http(
        light.rest_addr(),
        "GET",
        "/store/v1/messages?pageSize=x",
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let v3_only = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--store",
        "--store-message-db-url",
        "memory://",
    ]);
    let mut client = legacy_client();
    let refused = legacy_query(&mut client, &v3_only).await;
    assert!(
        matches!(refused, Err(waku_store::QueryError::UnsupportedProtocol)),
        "{refused:?}"
    );
}

// Without --storenode and without an archive, a REST store query goes to a
// connected peer that serves the store, as nwaku picks one from its peer
// store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_storenode_a_connected_store_peer_is_asked() {
    let a = NodeProcess::spawn_with_store(&["--cluster-id", "7", "--shard", "1"]);
    let a_tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1", "--staticnode", &a_tcp]);
    let (ra, rb) = (a.rest_addr(), b.rest_addr());
    assert!(relay_ready(rb, Duration::from_secs(30)).await);
    publish(rb, "cGVlcg==", None).await;
    let params = format!(
        "pubsubTopic={}&contentTopics={}&includeData=true",
        enc(TOPIC),
        enc(CT)
    );
    assert!(wait_archived(ra, &params, 1).await, "A:\n{}", a.log());
    let remote = query(rb, &params).await;
    assert_eq!(remote["statusCode"], 200, "{remote}");
    assert_eq!(remote["messages"].as_array().unwrap().len(), 1, "{remote}");
}

// A store node's refusal reaches the REST client as nwaku shows it: 200
// with the node's statusCode and statusDesc, or 429 for its rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_nodes_refusals_are_answered_like_nwaku() {
    let a = NodeProcess::spawn_with_store(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--rate-limit",
        "store:2/1m",
    ]);
    let a_tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1", "--storenode", &a_tcp]);
    let rb = b.rest_addr();
    let unknown = format!("0x{}", "ab".repeat(32));
    let (status, body) = http(
        rb,
        "GET",
        &format!(
            "/store/v3/messages?pubsubTopic={}&cursor={unknown}",
            enc(TOPIC)
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["statusCode"], 400, "{body}");
    assert!(
        answer["statusDesc"]
            .as_str()
            .unwrap()
            .contains("cursor not found"),
        "{body}"
    );
    assert_eq!(answer["messages"], json!([]), "{body}");
    // The second query of the minute is over A's limit of 2.
    let (status, _) = http(rb, "GET", "/store/v3/messages?pubsubTopic=x", None).await;
    assert_eq!(status, 200);
    let (status, body) = http(rb, "GET", "/store/v3/messages?pubsubTopic=x", None).await;
    assert_eq!((status, body.as_str()), (429, "Request rate limit reached"));
}

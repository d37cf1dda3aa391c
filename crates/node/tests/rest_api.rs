//! nwaku's REST API on a `wakunode` process: debug info, health, admin
//! peers and relay (static and autosharded), with nwaku's shapes and codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{NodeProcess, eventually, http, relay_ready};
use serde_json::{Value, json};
use waku_sharding::NetworkConfig;

fn enc(topic: &str) -> String {
    topic.replace('/', "%2F")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_info_version_and_health() {
    let node = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let rest = node.rest_addr();
    let (status, body) = http(rest, "GET", "/debug/v1/info", None).await;
    assert_eq!(status, 200);
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["listenAddresses"][0], node.tcp_addr().to_string());
    let enr = waku_enr::WakuEnr::decode(info["enrUri"].as_str().unwrap()).unwrap();
    assert_eq!(enr.shards().unwrap().cluster, 7);

    let (status, body) = http(rest, "GET", "/debug/v1/version", None).await;
    // nwaku's release we follow, our version as build metadata.
    assert_eq!(status, 200);
    assert!(
        body.starts_with("v0.36.0+waku-rs.") && body.ends_with(env!("CARGO_PKG_VERSION")),
        "{body}"
    );
    let (status, same) = http(rest, "GET", "/version", None).await;
    assert_eq!((status, same), (200, body));

    let (status, body) = http(rest, "GET", "/health", None).await;
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["nodeHealth"], "READY");
    assert_eq!(
        health["protocolsHealth"][0],
        json!({"Relay": "NOT_READY", "desc": "No connected peers"})
    );
    assert_eq!(health["protocolsHealth"].as_array().unwrap().len(), 15);

    let (status, body) = http(rest, "GET", "/nope", None).await;
    assert_eq!(status, 400, "{body}");
    // Admin routes are off by default: nwaku's 404 naming the flag.
    assert_eq!(
        http(rest, "GET", "/admin/v1/peers", None).await,
        (
            404,
            "/admin endpoints are not available. Please check your configuration: --rest-admin=true"
                .to_owned()
        )
    );
    // A body beyond nwaku's 16 MiB is a bad request, not 413.
    let huge = "x".repeat(16 * 1024 * 1024 + 1);
    assert_eq!(
        http(rest, "POST", "/relay/v1/auto/messages", Some(&huge)).await,
        (400, "Invalid content body".to_owned())
    );
    // Without relay its routes are not available either.
    let no_relay = NodeProcess::spawn(&["--relay=false"]);
    let (status, body) = http(
        no_relay.rest_addr(),
        "POST",
        "/relay/v1/auto/messages",
        Some("{}"),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body.starts_with("/relay endpoints are not available"),
        "{body}"
    );
}

/// The `/health` entries of the node at `rest`, by protocol name.
async fn health_of(rest: std::net::SocketAddr) -> std::collections::HashMap<String, Value> {
    let (status, body) = http(rest, "GET", "/health", None).await;
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    let entries = health["protocolsHealth"].as_array().unwrap();
    assert_eq!(entries.len(), 15, "{body}");
    entries
        .iter()
        .map(|e| {
            let name = e
                .as_object()
                .unwrap()
                .keys()
                .find(|k| *k != "desc")
                .unwrap()
                .clone();
            (name, e.clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_what_runs_and_whether_it_is_ready() {
    let service = NodeProcess::spawn_service(&["--legacy-store"]);
    let s = service.rest_addr();
    let h = health_of(s).await;
    assert_eq!(
        h["Lightpush"],
        json!({"Lightpush": "NOT_READY", "desc": "Node has no relay peers to fullfill push requests"})
    );
    assert_eq!(h["Filter"]["Filter"], "NOT_READY");
    assert_eq!(h["Store"], json!({"Store": "READY"}));
    assert_eq!(h["Legacy Store"], json!({"Legacy Store": "READY"}));
    assert_eq!(h["Store Client"], json!({"Store Client": "READY"}));
    // The clients always run, as nwaku's: ready once a service peer is
    // known (our own store serves the store client).
    assert_eq!(
        h["Filter Client"],
        json!({"Filter Client": "NOT_READY", "desc": "No Filter service peer available yet"})
    );
    assert_eq!(h["Rln Relay"], json!({"Rln Relay": "NOT_MOUNTED"}));

    // With a relay peer, the services that publish or push through relay
    // become ready.
    let tcp = service.tcp_addr().to_string();
    let _peer = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &tcp]);
    assert!(
        eventually(Duration::from_secs(20), || async move {
            let h = health_of(s).await;
            h["Relay"] == json!({"Relay": "READY"})
                && h["Lightpush"] == json!({"Lightpush": "READY"})
                && h["Legacy Lightpush"] == json!({"Legacy Lightpush": "READY"})
                && h["Filter"] == json!({"Filter": "READY"})
        })
        .await
    );

    // A light node: no relay, three clients with their service node.
    let light = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--relay=false",
        "--filternode",
        &tcp,
        "--lightpushnode",
        &tcp,
        "--storenode",
        &tcp,
    ]);
    let h = health_of(light.rest_addr()).await;
    assert_eq!(h["Relay"], json!({"Relay": "NOT_MOUNTED"}));
    assert_eq!(h["Filter"], json!({"Filter": "NOT_MOUNTED"}));
    for client in ["Filter Client", "Lightpush Client", "Store Client"] {
        assert_eq!(h[client], json!({ client: "READY" }), "{client}");
    }
}

// spec: NET-014, NET-020, MSG-005, MSG-012, MSG-016
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_messages_flow_between_two_processes_over_rest() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--rest-admin"]);
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--rest-admin"]);
    let (ra, rb) = (a.rest_addr(), b.rest_addr());
    let peers = json!([b.tcp_addr().to_string()]).to_string();
    let (status, body) = http(ra, "POST", "/admin/v1/peers", Some(&peers)).await;
    assert_eq!(status, 200, "{body}");
    let topic = enc("/waku/2/rs/7/0");

    // Health turns READY once the relay peer is there.
    assert!(relay_ready(ra, Duration::from_secs(20)).await);
    let (_, body) = http(ra, "GET", "/admin/v1/peers", None).await;
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed[0]["connected"], "Connected", "{body}");
    // Exactly the address given, with its `/p2p/<id>` once.
    assert_eq!(
        listed[0]["multiaddr"].as_str().unwrap(),
        b.tcp_addr().to_string(),
        "{body}"
    );

    // Publish on A until B has it (the mesh may need a heartbeat).
    let mut got = Vec::new();
    for i in 0..100 {
        let msg = json!({"payload": "aGVsbG8=", "contentTopic": "/rest/1/chat/proto", "timestamp": 0, "meta": "bWV0YQ"});
        let (status, body) = http(
            ra,
            "POST",
            &format!("/relay/v1/messages/{topic}"),
            Some(&msg.to_string()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (status, body) = http(rb, "GET", &format!("/relay/v1/messages/{topic}"), None).await;
        assert_eq!(status, 200, "{body}");
        got = serde_json::from_str::<Vec<Value>>(&body).unwrap();
        if !got.is_empty() || i == 99 {
            break;
        }
    }
    assert!(!got.is_empty(), "B never received a message");
    let m = &got[0];
    assert_eq!(m["payload"], "aGVsbG8=");
    assert_eq!(m["contentTopic"], "/rest/1/chat/proto");
    assert_eq!(m["meta"], "bWV0YQ==");
    assert_eq!(m["version"], 0);
    assert!(
        m["timestamp"].as_i64().unwrap() > 0,
        "zero timestamp became now"
    );
    assert_eq!(m["proof"], "");
    // The content topic is now known to the cache too; reads drain.
    let (status, _) = http(
        rb,
        "GET",
        &format!("/relay/v1/auto/messages/{}", enc("/rest/1/chat/proto")),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Without a timestamp, A stamps the message with its clock in Unix epoch
    // nanoseconds. Every byte value, under a version with no meaning to
    // Waku, reaches B as sent.
    let payload: Vec<u8> = (0..=255u8).rev().collect();
    let sent = json!({"payload": B64.encode(&payload), "contentTopic": "/rest/1/binary/proto", "version": 7});
    let before = unix_nanos();
    let (status, body) = http(
        ra,
        "POST",
        &format!("/relay/v1/messages/{topic}"),
        Some(&sent.to_string()),
    )
    .await;
    let after = unix_nanos();
    assert_eq!(status, 200, "{body}");
    let mut got = Vec::new();
    for _ in 0..100 {
        let (status, body) = http(rb, "GET", &format!("/relay/v1/messages/{topic}"), None).await;
        assert_eq!(status, 200, "{body}");
        got.extend(serde_json::from_str::<Vec<Value>>(&body).unwrap());
        if got
            .iter()
            .any(|m| m["contentTopic"] == "/rest/1/binary/proto")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let m = got
        .iter()
        .find(|m| m["contentTopic"] == "/rest/1/binary/proto")
        .expect("B never received the binary message");
    assert_eq!(B64.decode(m["payload"].as_str().unwrap()).unwrap(), payload);
    assert_eq!(m["version"], 7);
    let stamped = m["timestamp"].as_i64().unwrap();
    const SECOND: i64 = 1_000_000_000;
    assert!(
        before - SECOND <= stamped && stamped <= after + SECOND,
        "stamped {stamped} ns, test clock {before}..{after} ns"
    );
}

/// The test's clock in nanoseconds since the Unix epoch.
fn unix_nanos() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_nanos()).unwrap()
}

// spec: SHARD-001
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_rest_errors_match_nwaku() {
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--max-msg-size",
        "1KiB",
    ]);
    let rest = node.rest_addr();
    let shard0 = enc("/waku/2/rs/7/0");

    let (status, body) = http(
        rest,
        "POST",
        "/relay/v1/subscriptions",
        Some(r#"["/bad/topic"]"#),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (400, r#"Invalid pubsub topic(s): @["/bad/topic"]"#)
    );
    // No named sharding: a pubsub topic that is not a static shard can be
    // neither subscribed to nor published on.
    let named = "/waku/2/default-waku/proto";
    let (status, body) = http(
        rest,
        "POST",
        "/relay/v1/subscriptions",
        Some(&json!([named, "/waku/2/rs/7/0"]).to_string()),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"Invalid pubsub topic(s): @["/waku/2/default-waku/proto"]"#
        )
    );
    let hi = json!({"payload": "aGk=", "contentTopic": "/a/1/b/c"}).to_string();
    let (status, body) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{}", enc(named)),
        Some(&hi),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "Failed to publish: Node not subscribed to topic: /waku/2/default-waku/proto"
        )
    );
    let (status, body) = http(
        rest,
        "GET",
        &format!("/relay/v1/messages/{}", enc(named)),
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (404, ""));
    let (status, body) = http(rest, "POST", "/relay/v1/subscriptions", Some("not json")).await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with("Invalid content body, could not decode"),
        "{body}"
    );

    let (status, body) = http(
        rest,
        "GET",
        &format!("/relay/v1/messages/{}", enc("/waku/2/rs/7/5")),
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (404, ""));
    let (status, body) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{}", enc("/waku/2/rs/7/5")),
        Some("{}"),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "Failed to publish: Node not subscribed to topic: /waku/2/rs/7/5"
    );

    let (status, body) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{shard0}"),
        Some(r#"{"contentTopic":"/a/1/b/c"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("payload"), "{body}");
    let (status, body) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{shard0}"),
        Some(r#"{"payload":"***","contentTopic":"/a/1/b/c"}"#),
    )
    .await;
    assert_eq!((status, body.as_str()), (400, "Incorrect base64 string"));
    let big = json!({"payload": "A".repeat(2000), "contentTopic": "/a/1/b/c"}).to_string();
    let (status, body) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{shard0}"),
        Some(&big),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.starts_with("Failed to publish:"), "{body}");
    // No peers: nwaku's pubsub route still answers OK.
    let ok = json!({"payload": "aGk=", "contentTopic": "/a/1/b/c"}).to_string();
    let (status, body) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{shard0}"),
        Some(&ok),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "OK"));

    // Static sharding: the auto routes refuse to publish.
    let (status, body) = http(rest, "POST", "/relay/v1/auto/messages", Some(&ok)).await;
    assert_eq!(
        (status, body.as_str()),
        (400, "Failed to publish. Autosharding is disabled")
    );
    let (status, body) = http(
        rest,
        "GET",
        &format!("/relay/v1/auto/messages/{}", enc("/x/1/y/z")),
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (404, "/x/1/y/z"));
}

// spec: NET-033
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autosharded_subscriptions_and_publishing() {
    const CT: &str = "/app/1/chat/proto";
    // The shard the nodes must pick for CT, never given to them below.
    let shard = NetworkConfig::new(7, 8).unwrap().autoshard(CT).unwrap();
    assert_ne!(shard.shard, 0, "B's static shard must differ");
    let a = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--num-shards-in-network",
        "8",
        "--content-topic",
        CT,
    ]);
    let tcp = a.tcp_addr().to_string();
    // B relays shard 0 only until it subscribes by content topic.
    let b = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--num-shards-in-network",
        "8",
        "--shard",
        "0",
        "--staticnode",
        &tcp,
    ]);
    let (ra, rb) = (a.rest_addr(), b.rest_addr());
    let (status, body) = http(
        rb,
        "POST",
        "/relay/v1/auto/subscriptions",
        Some(&json!([CT]).to_string()),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    let ct = enc(CT);
    let msg = json!({"payload": "YXV0bw==", "contentTopic": CT}).to_string();
    let mut received = Vec::new();
    for _ in 0..100 {
        let (status, _) = http(ra, "POST", "/relay/v1/auto/messages", Some(&msg)).await;
        if status == 200 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (status, body) =
                http(rb, "GET", &format!("/relay/v1/auto/messages/{ct}"), None).await;
            assert_eq!(status, 200, "{body}");
            received = serde_json::from_str::<Vec<Value>>(&body).unwrap();
            if !received.is_empty() {
                break;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert!(!received.is_empty(), "A:\n{}\nB:\n{}", a.log(), b.log());
    assert_eq!(received[0]["payload"], "YXV0bw==");

    // B's cache registered the pubsub topic CT's messages arrived on: the
    // autoshard. No other shard carried them (shard 0, B's static shard, is
    // registered from the start and stays empty).
    let again = json!({"payload": "YWdhaW4=", "contentTopic": CT}).to_string();
    let (status, body) = http(ra, "POST", "/relay/v1/auto/messages", Some(&again)).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    let on_shard = format!("/relay/v1/messages/{}", enc(&shard.to_string()));
    let mut payloads = Vec::new();
    for _ in 0..100 {
        let (status, body) = http(rb, "GET", &on_shard, None).await;
        assert_eq!(status, 200, "{body}");
        let got = serde_json::from_str::<Vec<Value>>(&body).unwrap();
        payloads.extend(got.iter().map(|m| m["payload"].clone()));
        if payloads.contains(&json!("YWdhaW4=")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(payloads.contains(&json!("YWdhaW4=")), "{payloads:?}");
    for other in NetworkConfig::new(7, 8).unwrap().shards() {
        if other != shard {
            let path = format!("/relay/v1/messages/{}", enc(&other.to_string()));
            let (status, body) = http(rb, "GET", &path, None).await;
            assert!(
                matches!((status, body.as_str()), (404, "") | (200, "[]")),
                "{other}: {status} {body}"
            );
        }
    }

    let (status, body) = http(
        ra,
        "POST",
        "/relay/v1/auto/messages",
        Some(r#"{"payload":"aGk=","contentTopic":"/2/app/1/x/y"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body.starts_with("Failed to publish. Autosharding error:"),
        "{body}"
    );
}

// nwaku's other admin peer views: connected (all, on a shard), service
// peers, one peer by id, and the statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_connected_service_single_peer_and_stats() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--rest-admin"]);
    let a_tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &a_tcp]);
    let b_id = b
        .tcp_addr()
        .to_string()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let rest = a.rest_addr();
    assert!(
        relay_ready(rest, Duration::from_secs(30)).await,
        "{}",
        a.log()
    );
    let get = |path: String| async move {
        let (status, body) = http(rest, "GET", &path, None).await;
        (
            status,
            serde_json::from_str::<Value>(&body).unwrap_or(Value::String(body)),
        )
    };
    let lists_b = |v: &Value| {
        v.as_array().is_some_and(|a| {
            a.iter()
                .any(|p| p["multiaddr"].as_str().unwrap_or("").ends_with(&b_id))
        })
    };
    // B's shards come with its metadata: wait until A knows them.
    let b_id_ref = &b_id;
    assert!(
        eventually(Duration::from_secs(10), || async move {
            let (_, v) = get("/admin/v1/peers/connected/on/0".into()).await;
            v.as_array().is_some_and(|a| {
                a.iter().any(|p| {
                    p["multiaddr"]
                        .as_str()
                        .unwrap_or("")
                        .ends_with(b_id_ref.as_str())
                })
            })
        })
        .await
    );
    let (status, v) = get("/admin/v1/peers/connected".into()).await;
    assert_eq!(status, 200);
    assert!(lists_b(&v), "{v}");
    let (_, v) = get("/admin/v1/peers/connected/on/5".into()).await;
    assert_eq!(v, json!([]));
    let (status, _) = get("/admin/v1/peers/connected/on/x".into()).await;
    assert_eq!(status, 400);
    let (status, v) = get("/admin/v1/peers/service".into()).await;
    assert_eq!(status, 200);
    assert!(lists_b(&v), "{v}");

    let (status, v) = get(format!("/admin/v1/peer/{b_id}")).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["multiaddr"].as_str().unwrap().ends_with(&b_id));
    assert_eq!(v["connected"], "Connected");
    let stranger = libp2p::PeerId::random();
    let (status, v) = get(format!("/admin/v1/peer/{stranger}")).await;
    assert_eq!(status, 404);
    assert_eq!(
        v,
        Value::String(format!("Peer with ID {stranger} not found"))
    );
    let (status, _) = get("/admin/v1/peer/not-a-peer-id".into()).await;
    assert_eq!(status, 400);

    let (status, stats) = get("/admin/v1/peers/stats".into()).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["Sum"]["Total peers"], 1, "{stats}");
    assert_eq!(stats["By Connectedness"]["Connected"], 1, "{stats}");
    assert_eq!(stats["Relay peers"]["0"], 1, "{stats}");
    assert_eq!(stats["Relay peers"]["Total relay peers"], 1, "{stats}");
    assert_eq!(stats["By Protocols"]["/vac/waku/relay/2.0.0"], 1, "{stats}");
}

// nwaku's run-time log level: ERROR silences the debug lines a new peer
// causes, DEBUG brings them back; a level nwaku does not name is 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_level_changes_at_run_time() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--rest-admin"]);
    let rest = a.rest_addr();
    let a_tcp = a.tcp_addr().to_string();
    let (status, body) = http(rest, "POST", "/admin/v1/log-level/error", None).await;
    assert_eq!(status, 200, "{body}");
    // The POST's own DBG line (logged before the level changed) reaches
    // the log reader through a pipe: let it arrive before counting.
    assert!(
        a.wait_for("/admin/v1/log-level/error", Duration::from_secs(5)),
        "{}",
        a.log()
    );
    let before = a.count("DBG ");
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &a_tcp]);
    assert!(relay_ready(b.rest_addr(), Duration::from_secs(30)).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(a.count("DBG "), before, "{}", a.log());

    let (status, body) = http(rest, "POST", "/admin/v1/log-level/DEBUG", None).await;
    assert_eq!(status, 200, "{body}");
    let c = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &a_tcp]);
    assert!(relay_ready(c.rest_addr(), Duration::from_secs(30)).await);
    assert!(
        a.wait_for("peer metadata", Duration::from_secs(10)),
        "{}",
        a.log()
    );
    let (status, body) = http(rest, "POST", "/admin/v1/log-level/LOUD", None).await;
    assert_eq!(status, 400);
    assert!(body.starts_with("Invalid log-level: LOUD."), "{body}");
}

// Every REST request is logged as nwaku's server logs it: a DBG line when it
// arrives and an INF line when it is answered, so tooling that counts level
// tags after a few requests sees both, and only what the level lets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_requests_are_logged_at_debug_and_info() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--rest-admin"]);
    let rest = a.rest_addr();
    let (status, _) = http(rest, "GET", "/debug/v1/version", None).await;
    assert_eq!(status, 200);
    assert!(
        a.wait_for("REST request served", Duration::from_secs(5)),
        "{}",
        a.log()
    );
    let lines = |tag: &str| {
        a.log()
            .lines()
            .filter(|l| l.starts_with(tag) && l.contains("/debug/v1/version"))
            .count()
    };
    assert_eq!((lines("DBG "), lines("INF ")), (1, 1), "{}", a.log());

    let (status, _) = http(rest, "POST", "/admin/v1/log-level/INFO", None).await;
    assert_eq!(status, 200);
    let (status, _) = http(rest, "GET", "/debug/v1/version", None).await;
    assert_eq!(status, 200);
    assert!(
        eventually(Duration::from_secs(5), || async { lines("INF ") == 2 }).await,
        "{}",
        a.log()
    );
    assert_eq!(lines("DBG "), 1, "{}", a.log());
}

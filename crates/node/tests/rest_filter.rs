//! nwaku's filter REST API (`/filter/v2/*`) on a `wakunode` process with
//! `--filternode`, against a second `wakunode` serving filter, fed by a
//! third that publishes over relay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{NodeProcess, http, relay_ready};
use serde_json::{Value, json};

const SHARD: &str = "/waku/2/rs/7/1";
const TOPIC: &str = "/flt/1/rest/proto";
const TOPIC_PATH: &str = "%2Fflt%2F1%2Frest%2Fproto";

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Publishes `payload_b64` on [`SHARD`] through `publisher`'s relay.
async fn publish(publisher: SocketAddr, payload_b64: &str, content_topic: &str) {
    let body = json!({"payload": payload_b64, "contentTopic": content_topic}).to_string();
    let (status, text) = http(
        publisher,
        "POST",
        "/relay/v1/messages/%2Fwaku%2F2%2Frs%2F7%2F1",
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

/// `GET /admin/v1/filter/subscriptions` on `node`.
async fn admin_subscriptions(node: &NodeProcess) -> (u16, String) {
    http(
        node.rest_addr(),
        "GET",
        "/admin/v1/filter/subscriptions",
        None,
    )
    .await
}

/// Drains `GET /filter/v2/messages/{topic}` until it returns something.
async fn pushed(client: SocketAddr, topic_path: &str) -> Vec<Value> {
    let path = format!("/filter/v2/messages/{topic_path}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, text) = http(client, "GET", &path, None).await;
        assert_eq!(status, 200, "{text}");
        let messages = parse(&text).as_array().unwrap().clone();
        if !messages.is_empty() || tokio::time::Instant::now() > deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// spec: FILTER-011, FILTER-012, FILTER-016, FILTER-018, FILTER-019
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_rest_subscribe_receive_ping_and_unsubscribe() {
    let service = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--filter",
        "--rest-admin",
    ]);
    let service_tcp = service.tcp_addr().to_string();
    let publisher = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--rest-admin",
        "--staticnode",
        &service_tcp,
    ]);
    let client = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--relay=false",
        "--filternode",
        &service_tcp,
    ]);
    let (p, c) = (publisher.rest_addr(), client.rest_addr());
    assert!(
        relay_ready(p, Duration::from_secs(30)).await,
        "{}",
        publisher.log()
    );

    let sub =
        json!({"requestId": "r1", "pubsubTopic": SHARD, "contentFilters": [TOPIC]}).to_string();
    let (status, text) = http(c, "POST", "/filter/v2/subscriptions", Some(&sub)).await;
    assert_eq!(status, 200, "{text}\n{}", client.log());
    assert_eq!(parse(&text), json!({"requestId": "r1", "statusDesc": "OK"}));
    // PUT refreshes the same subscription.
    let (status, _) = http(c, "PUT", "/filter/v2/subscriptions", Some(&sub)).await;
    assert_eq!(status, 200);

    // The service's operator sees the subscription.
    let client_id = client.tcp_addr().to_string();
    let client_id = client_id.rsplit('/').next().unwrap();
    let (status, text) = admin_subscriptions(&service).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        parse(&text),
        json!([{"peerId": client_id, "filterCriteria": [{"pubsubTopic": SHARD, "contentTopic": TOPIC}]}])
    );
    // A node without the filter service says so.
    let (status, text) = admin_subscriptions(&publisher).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("Filter Protocol is not mounted"), "{text}");

    let (status, text) = http(c, "GET", "/filter/v2/subscriptions/p1", None).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(parse(&text), json!({"requestId": "p1", "statusDesc": "OK"}));

    publish(p, "ZmlsdGVy", TOPIC).await;
    let got = pushed(c, TOPIC_PATH).await;
    assert_eq!(got.len(), 1, "{}", client.log());
    assert_eq!(got[0]["payload"], "ZmlsdGVy");
    assert_eq!(got[0]["contentTopic"], TOPIC);
    assert!(got[0].get("proof").is_none(), "{}", got[0]);
    // Reading drained the cache.
    let (status, text) = http(c, "GET", &format!("/filter/v2/messages/{TOPIC_PATH}"), None).await;
    assert_eq!((status, parse(&text)), (200, json!([])));

    // A content topic we never subscribed to.
    let (status, text) = http(
        c,
        "GET",
        "/filter/v2/messages/%2Fother%2F1%2Fx%2Fproto",
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("Not subscribed to topic"), "{text}");

    let (status, text) = http(c, "DELETE", "/filter/v2/subscriptions", Some(&sub)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(parse(&text)["statusDesc"], "OK");
    // Nothing left to unsubscribe: the service's 404 comes through.
    let again =
        json!({"requestId": "r2", "pubsubTopic": SHARD, "contentFilters": [TOPIC]}).to_string();
    let (status, text) = http(c, "DELETE", "/filter/v2/subscriptions", Some(&again)).await;
    assert_eq!(status, 404, "{text}");
    assert_eq!(parse(&text)["requestId"], "r2");
    let (status, text) = http(c, "GET", "/filter/v2/subscriptions/p2", None).await;
    assert_eq!(status, 404, "{text}");
    let all = json!({"requestId": "r3"}).to_string();
    let (status, text) = http(c, "DELETE", "/filter/v2/subscriptions/all", Some(&all)).await;
    assert_eq!(status, 404, "{text}");
    assert_eq!(parse(&text)["requestId"], "r3");

    // Subscribe again, then drop everything at once.
    let (status, _) = http(c, "POST", "/filter/v2/subscriptions", Some(&sub)).await;
    assert_eq!(status, 200);
    let (status, text) = http(c, "DELETE", "/filter/v2/subscriptions/all", Some(&all)).await;
    assert_eq!(
        (status, parse(&text)),
        (200, json!({"requestId": "r3", "statusDesc": "OK"}))
    );
    let (status, _) = http(c, "GET", &format!("/filter/v2/messages/{TOPIC_PATH}"), None).await;
    assert_eq!(status, 400);
}

// spec: FILTER-009
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_rest_refusals_carry_the_service_status() {
    let service = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1", "--filter"]);
    let client = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--num-shards-in-network",
        "0",
        "--relay=false",
        "--filternode",
        &service.tcp_addr().to_string(),
    ]);
    let c = client.rest_addr();

    // A body that does not decode.
    let (status, text) = http(c, "POST", "/filter/v2/subscriptions", Some("{\"x\":1}")).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(parse(&text)["requestId"], "unknown");
    assert!(
        parse(&text)["statusDesc"]
            .as_str()
            .unwrap()
            .starts_with("Failed to decode request"),
        "{text}"
    );
    // The service refuses an empty content topic list with 400.
    let empty = json!({"requestId": "e1", "pubsubTopic": SHARD, "contentFilters": []}).to_string();
    let (status, text) = http(c, "POST", "/filter/v2/subscriptions", Some(&empty)).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(parse(&text)["requestId"], "e1");
    // Static sharding: a pubsub topic is required.
    let no_topic = json!({"requestId": "e2", "contentFilters": [TOPIC]}).to_string();
    let (status, text) = http(c, "POST", "/filter/v2/subscriptions", Some(&no_topic)).await;
    assert_eq!(status, 400, "{text}");
    // The client node survives all of it.
    let ok =
        json!({"requestId": "e3", "pubsubTopic": SHARD, "contentFilters": [TOPIC]}).to_string();
    let (status, text) = http(c, "POST", "/filter/v2/subscriptions", Some(&ok)).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_rest_autoshards_without_a_pubsub_topic() {
    let args = ["--cluster-id", "1", "--num-shards-in-network", "8"];
    let mut service_args = args.to_vec();
    service_args.extend(["--content-topic", TOPIC, "--filter", "--rest-admin"]);
    let service = NodeProcess::spawn(&service_args);
    let service_tcp = service.tcp_addr().to_string();
    let mut client_args = args.to_vec();
    client_args.extend(["--relay=false", "--filternode", &service_tcp]);
    let client = NodeProcess::spawn(&client_args);
    let c = client.rest_addr();

    let other = "/other/1/chat/proto";
    let sub = json!({"requestId": "a1", "contentFilters": [TOPIC, other]}).to_string();
    let (status, text) = http(c, "POST", "/filter/v2/subscriptions", Some(&sub)).await;
    assert_eq!(status, 200, "{text}\n{}", client.log());
    // Each content topic was subscribed on its own autoshard.
    let net = waku_sharding::NetworkConfig::new(1, 8).unwrap();
    let mut expected: Vec<Value> = [TOPIC, other]
        .iter()
        .map(|t| json!({"pubsubTopic": net.autoshard(t).unwrap().to_string(), "contentTopic": t}))
        .collect();
    expected.sort_by_key(ToString::to_string);
    assert_ne!(expected[0]["pubsubTopic"], expected[1]["pubsubTopic"]);
    let (status, text) = admin_subscriptions(&service).await;
    assert_eq!(status, 200, "{text}");
    let mut got = parse(&text)[0]["filterCriteria"]
        .as_array()
        .unwrap()
        .clone();
    got.sort_by_key(ToString::to_string);
    assert_eq!(got, expected);
    let bad = json!({"requestId": "a2", "contentFilters": ["not-a-topic"]}).to_string();
    let (status, text) = http(c, "POST", "/filter/v2/subscriptions", Some(&bad)).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not-a-topic"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_rest_unreachable_service_node_is_504_and_no_filter_peer_is_503() {
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let key = libp2p::identity::Keypair::generate_ed25519();
    let addr = format!(
        "/ip4/127.0.0.1/tcp/{port}/p2p/{}",
        key.public().to_peer_id()
    );
    let client = NodeProcess::spawn(&["--cluster-id", "7", "--relay=false", "--filternode", &addr]);
    let sub =
        json!({"requestId": "d1", "pubsubTopic": SHARD, "contentFilters": [TOPIC]}).to_string();
    let (status, text) = http(
        client.rest_addr(),
        "POST",
        "/filter/v2/subscriptions",
        Some(&sub),
    )
    .await;
    assert_eq!(status, 504, "{text}");
    assert_eq!(parse(&text)["requestId"], "d1");

    let plain = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1"]);
    let (status, text) = http(
        plain.rest_addr(),
        "POST",
        "/filter/v2/subscriptions",
        Some(&sub),
    )
    .await;
    // The filter client always runs (as nwaku's): with no filter peer known
    // and no discovery, nwaku's 503.
    assert_eq!(status, 503, "{text}");
    assert_eq!(parse(&text)["requestId"], "d1");
    assert!(
        text.contains("No suitable service peer & no discovery method"),
        "{text}"
    );
}

/// Subscribes through `client`'s REST API; the HTTP status.
async fn subscribe_status(client: SocketAddr, id: &str, topics: &[&str]) -> u16 {
    let body = json!({"requestId": id, "pubsubTopic": SHARD, "contentFilters": topics}).to_string();
    let (status, text) = http(client, "POST", "/filter/v2/subscriptions", Some(&body)).await;
    assert_eq!(parse(&text)["requestId"], id, "{text}");
    status
}

/// A filter service node on shard 1 of cluster 7 with `extra` flags, and
/// two light nodes using it as their `--filternode`.
fn service_and_two_clients(extra: &[&str]) -> (NodeProcess, NodeProcess, NodeProcess) {
    let mut args = vec!["--cluster-id", "7", "--shard", "1", "--filter"];
    args.extend_from_slice(extra);
    let service = NodeProcess::spawn(&args);
    let tcp = service.tcp_addr().to_string();
    let light =
        || NodeProcess::spawn(&["--cluster-id", "7", "--relay=false", "--filternode", &tcp]);
    let (first, second) = (light(), light());
    (service, first, second)
}

// spec: FILTER-028
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_limit_flags_shape_what_the_service_accepts() {
    let nodes = service_and_two_clients(&[
        "--filter-max-peers-to-serve",
        "1",
        "--filter-max-criteria",
        "2",
        "--filter-subscription-timeout",
        "1",
    ]);
    let (a, b) = (nodes.1.rest_addr(), nodes.2.rest_addr());

    assert_eq!(subscribe_status(a, "l1", &["/l/1/a/proto"]).await, 200);
    // One subscriber at most.
    assert_eq!(subscribe_status(b, "l2", &["/l/1/a/proto"]).await, 503);
    // Two criteria at most per subscriber.
    assert_eq!(
        subscribe_status(a, "l3", &["/l/1/b/proto", "/l/1/c/proto"]).await,
        503
    );
    // Without a refresh the subscription is gone after one second, and
    // then the other client gets the slot.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, text) = http(a, "GET", "/filter/v2/subscriptions/l4", None).await;
    assert_eq!(status, 404, "{text}");
    assert_eq!(subscribe_status(b, "l5", &["/l/1/a/proto"]).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_filter_flag_answers_429_per_peer() {
    let nodes = service_and_two_clients(&["--rate-limit", "filter:2/1h"]);
    let (a, b) = (nodes.1.rest_addr(), nodes.2.rest_addr());
    assert_eq!(subscribe_status(a, "r1", &["/r/1/a/proto"]).await, 200);
    let (status, _) = http(a, "GET", "/filter/v2/subscriptions/r2", None).await;
    assert_eq!(status, 200);
    let (status, text) = http(a, "GET", "/filter/v2/subscriptions/r3", None).await;
    assert_eq!(status, 429, "{text}");
    // Another peer has its own budget.
    assert_eq!(subscribe_status(b, "r4", &["/r/1/a/proto"]).await, 200);
}

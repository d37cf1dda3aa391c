//! The Prometheus metrics server of a `wakunode` process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, http, relay_ready};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_with_nwaku_names() {
    let a = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    let addr = a.metrics_addr();
    let tcp = a.tcp_addr().to_string();
    let _b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &tcp]);
    assert!(a.wait_for("connected", Duration::from_secs(20)));

    let (status, body) = http(addr, "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("waku_version{version=\"v"), "{body}");
    assert!(body.contains("libp2p_peers 1"), "{body}");
    assert!(body.contains("libp2p_gossipsub_messages_total"), "{body}");
    assert!(body.contains("# EOF"), "{body}");
    let (status, body) = http(addr, "GET", "/health", None).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
}

#[test]
fn metrics_server_is_off_by_default() {
    let a = NodeProcess::spawn(&["--cluster-id", "7"]);
    assert_eq!(a.count("Metrics server listening"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_metrics_count_filter_lightpush_store_and_the_archive() {
    let service = NodeProcess::spawn_service(&["--metrics-server", "--metrics-server-port", "0"]);
    let metrics = service.metrics_addr();
    let tcp = service.tcp_addr().to_string();
    let _relay_peer =
        NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &tcp]);
    let light = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--relay=false",
        "--lightpushnode",
        &tcp,
        "--filternode",
        &tcp,
        "--storenode",
        &tcp,
    ]);
    let (s, l) = (service.rest_addr(), light.rest_addr());
    assert!(relay_ready(s, Duration::from_secs(30)).await);

    let sub = json!({"requestId": "m1", "pubsubTopic": "/waku/2/rs/7/0", "contentFilters": ["/m/1/x/proto"]});
    let (status, text) = http(
        l,
        "POST",
        "/filter/v2/subscriptions",
        Some(&sub.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let push = json!({"pubsubTopic": "/waku/2/rs/7/0", "message": {"payload": "bQ==", "contentTopic": "/m/1/x/proto"}});
    let (status, text) = http(l, "POST", "/lightpush/v3/message", Some(&push.to_string())).await;
    assert_eq!(status, 200, "{text}");
    let unserved = json!({"pubsubTopic": "/waku/2/rs/7/5", "message": {"payload": "bQ==", "contentTopic": "/m/1/x/proto"}});
    let (status, text) = http(
        l,
        "POST",
        "/lightpush/v3/message",
        Some(&unserved.to_string()),
    )
    .await;
    assert_eq!(status, 421, "{text}");
    let (status, text) = http(
        l,
        "GET",
        "/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F7%2F0&contentTopics=%2Fm%2F1%2Fx%2Fproto",
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");

    let expected = [
        "waku_filter_requests_total{type=\"SUBSCRIBE\"} 1",
        "waku_filter_subscriptions 1",
        "waku_lightpush_v3_messages_total{type=\"PushRequest\"} 2",
        "waku_lightpush_v3_errors_total{type=\"421\"} 1",
        "waku_store_queries_total 1",
        "waku_archive_messages{type=\"stored\"} 1",
    ];
    let all_there = eventually(Duration::from_secs(10), || async move {
        let body = http(metrics, "GET", "/metrics", None).await.1;
        expected.iter().all(|line| body.lines().any(|l| l == *line))
    })
    .await;
    let body = http(metrics, "GET", "/metrics", None).await.1;
    assert!(all_there, "{body}");
}

/// The entries of a test data list: its non-empty lines that are not
/// `#` comments.
fn data_lines(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The names in `tests/data/nwaku_dashboard_metrics.txt`.
fn dashboard_names() -> Vec<&'static str> {
    data_lines(include_str!("data/nwaku_dashboard_metrics.txt"))
}

// Every family nwaku's dashboard queries for a feature we have has samples
// on a service node with a peer, so the dashboard's panels resolve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nwaku_dashboards_families_have_samples() {
    let service = NodeProcess::spawn_service(&["--metrics-server", "--metrics-server-port", "0"]);
    let metrics = service.metrics_addr();
    let tcp = service.tcp_addr().to_string();
    let peer = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--staticnode",
        &tcp,
        "--store",
        "--store-message-db-url",
        "memory://",
    ]);
    assert!(relay_ready(peer.rest_addr(), Duration::from_secs(30)).await);
    // A relayed message, a store query and a filter subscription later, the
    // gauges are refreshed within 5 s.
    let msg = json!({"payload": "ZGFzaA==", "contentTopic": "/dash/1/board/proto"}).to_string();
    let topic = "%2Fwaku%2F2%2Frs%2F7%2F0";
    let (status, _) = http(
        peer.rest_addr(),
        "POST",
        &format!("/relay/v1/messages/{topic}"),
        Some(&msg),
    )
    .await;
    assert_eq!(status, 200);
    let names = dashboard_names();
    let missing = |body: &str| -> Vec<&str> {
        names
            .iter()
            .copied()
            .filter(|name| {
                !body.lines().any(|l| {
                    l.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
                })
            })
            .collect()
    };
    let found = eventually(Duration::from_secs(15), || async {
        let (_, body) = http(metrics, "GET", "/metrics", None).await;
        missing(&body).is_empty()
    })
    .await;
    let (_, body) = http(metrics, "GET", "/metrics", None).await;
    assert!(found, "families without samples: {:?}", missing(&body));
}

/// The metric lines of `body` as the upstream interop suite reads them
/// (`^(name(?:{labels})?)\s+(number)$`): name with labels, and value.
fn suite_samples(body: &str) -> std::collections::HashMap<String, f64> {
    let mut samples = std::collections::HashMap::new();
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, value)) = line.rsplit_once(char::is_whitespace) else {
            continue;
        };
        let numeric = value.starts_with(|c: char| c.is_ascii_digit())
            && value.chars().all(|c| c.is_ascii_digit() || c == '.')
            && value.matches('.').count() <= 1;
        if numeric
            && !name.contains(char::is_whitespace)
            && let Ok(v) = value.parse::<f64>()
        {
            samples.insert(name.to_owned(), v);
        }
    }
    samples
}

/// The lines of `tests/data/nwaku_initial_zero_metrics.txt`.
fn initial_zero_metrics() -> Vec<&'static str> {
    data_lines(include_str!("data/nwaku_initial_zero_metrics.txt"))
}

// The interop suite's `validate_initial_metrics`: on a node started as the
// suite starts it, every family it lists (for the features we have) is
// there from the start, at 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suites_initial_metrics_are_there_at_zero() {
    // spawn_with_store adds `--store` (with an SQLite archive).
    let node = NodeProcess::spawn_with_store(&[
        "--relay=true",
        "--filter=true",
        "--lightpush=true",
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    let (status, body) = http(node.metrics_addr(), "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    let samples = suite_samples(&body);
    let wrong: Vec<String> = initial_zero_metrics()
        .into_iter()
        .filter(|name| samples.get(*name) != Some(&0.0))
        .map(|name| format!("{name} = {:?}", samples.get(name)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}\n{body}");
}

// Traffic moves them: a relayed message (validation, archive insert, filter
// push), store queries over the network and over REST (v3 and legacy), and
// REST requests for no route.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suites_initial_metrics_move_with_traffic() {
    let service = NodeProcess::spawn_service(&["--metrics-server", "--metrics-server-port", "0"]);
    let metrics = service.metrics_addr();
    let tcp = service.tcp_addr().to_string();
    let relay_peer =
        NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--staticnode", &tcp]);
    let light = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--relay=false",
        "--filternode",
        &tcp,
        "--storenode",
        &tcp,
    ]);
    let (s, l, r) = (
        service.rest_addr(),
        light.rest_addr(),
        relay_peer.rest_addr(),
    );
    assert!(relay_ready(s, Duration::from_secs(30)).await);
    assert!(relay_ready(r, Duration::from_secs(30)).await);

    let sub = json!({"requestId": "t1", "pubsubTopic": "/waku/2/rs/7/0", "contentFilters": ["/t/1/x/proto"]});
    let (status, text) = http(
        l,
        "POST",
        "/filter/v2/subscriptions",
        Some(&sub.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let msg = json!({"payload": "dA==", "contentTopic": "/t/1/x/proto", "timestamp": now as u64});
    let (status, text) = http(
        r,
        "POST",
        "/relay/v1/messages/%2Fwaku%2F2%2Frs%2F7%2F0",
        Some(&msg.to_string()),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let query = "pubsubTopic=%2Fwaku%2F2%2Frs%2F7%2F0&contentTopics=%2Ft%2F1%2Fx%2Fproto";
    let (status, text) = http(l, "GET", &format!("/store/v3/messages?{query}"), None).await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = http(s, "GET", &format!("/store/v1/messages?{query}"), None).await;
    assert_eq!(status, 200, "{text}");
    let (status, _) = http(s, "GET", "/no/such/route", None).await;
    assert_ne!(status, 200);
    let deep = "/x".repeat(70);
    let (status, _) = http(s, "GET", &deep, None).await;
    assert_ne!(status, 200);

    let moved = [
        "libp2p_pubsub_validation_success_total",
        "libp2p_gossipsub_received_total",
        "waku_archive_insert_duration_seconds_count",
        "waku_archive_query_duration_seconds_count",
        "waku_legacy_archive_query_duration_seconds_count",
        "waku_filter_handle_message_duration_seconds_count",
        "presto_server_missing_requests_count",
        "presto_server_invalid_requests_count",
        "waku_total_unique_peers",
        "libp2p_gossipsub_peers_per_topic_gossipsub{topic=\"other\"}",
        "libp2p_gossipsub_peers_per_topic_mesh{topic=\"other\"}",
    ];
    let still = |samples: &std::collections::HashMap<String, f64>| -> Vec<&str> {
        moved
            .iter()
            .copied()
            .filter(|name| samples.get(*name).is_none_or(|v| *v <= 0.0))
            .collect()
    };
    let all_moved = eventually(Duration::from_secs(15), || async {
        let body = http(metrics, "GET", "/metrics", None).await.1;
        still(&suite_samples(&body)).is_empty()
    })
    .await;
    let body = http(metrics, "GET", "/metrics", None).await.1;
    let samples = suite_samples(&body);
    assert!(all_moved, "still at 0: {:?}\n{body}", still(&samples));
    // Inserts go to the v3 archive's histogram without --legacy-store.
    assert_eq!(
        samples.get("waku_legacy_archive_insert_duration_seconds_count"),
        Some(&0.0)
    );
    assert_eq!(
        samples.get("presto_server_invalid_requests_count"),
        Some(&1.0)
    );
}

// The suite's after-traffic checks: configured lightpush and store service
// peers are listed under both versions of their protocol with their
// address without `/p2p/<id>`, and joining shards counts subscriptions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_peers_and_subscriptions_read_as_the_suite_expects() {
    let service = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0", "--lightpush"]);
    let service_addr = service.tcp_addr().to_string();
    let plain = service_addr.rsplit_once("/p2p/").unwrap().0.to_owned();
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--shard",
        "1",
        "--lightpushnode",
        &service_addr,
        "--storenode",
        &service_addr,
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    let (_, body) = http(node.metrics_addr(), "GET", "/metrics", None).await;
    let samples = suite_samples(&body);
    for protocol in [
        "/vac/waku/lightpush/2.0.0-beta1",
        "/vac/waku/lightpush/3.0.0",
        "/vac/waku/store/2.0.0-beta4",
        "/vac/waku/store-query/3.0.0",
    ] {
        let name = format!("waku_service_peers{{protocol=\"{protocol}\",peerId=\"{plain}\"}}");
        assert_eq!(samples.get(&name), Some(&1.0), "{name}\n{body}");
    }
    assert_eq!(
        samples.get("libp2p_pubsub_subscriptions_total"),
        Some(&2.0),
        "{body}"
    );
}

// As nwaku's relay handler sees the node's own publications too, a message
// published over REST counts in the relay message counter and the size
// histogram (in kB of 1000 bytes of payload).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_publications_count_as_relay_messages() {
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    // 2000 bytes of payload: 2.0 kB.
    let payload = base64_of(&[7u8; 2000]);
    let body = json!({"payload": payload, "contentTopic": "/metrics/1/own/proto"}).to_string();
    let (status, answer) = http(
        node.rest_addr(),
        "POST",
        "/relay/v1/messages/%2Fwaku%2F2%2Frs%2F7%2F0",
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (_, text) = http(node.metrics_addr(), "GET", "/metrics", None).await;
    let samples = suite_samples(&text);
    assert_eq!(
        samples.get("waku_histogram_message_size_count"),
        Some(&1.0),
        "{text}"
    );
    assert_eq!(
        samples.get("waku_histogram_message_size_sum"),
        Some(&2.0),
        "{text}"
    );
    assert_eq!(
        samples.get("waku_node_messages_total{type=\"relay\"}"),
        Some(&1.0),
        "{text}"
    );
}

/// Standard base64 of `bytes`.
fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// The node's own dials (static nodes, discovery, admin) count as dial
// attempts: the swarm reports only the dials behaviours start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_own_dials_count_as_attempts() {
    let target = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "0"]);
    let target_addr = target.tcp_addr().to_string();
    let dialler = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "0",
        "--staticnode",
        &target_addr,
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ]);
    assert!(dialler.wait_for("connected", Duration::from_secs(20)));
    let (_, text) = http(dialler.metrics_addr(), "GET", "/metrics", None).await;
    let samples = suite_samples(&text);
    assert!(
        samples
            .get("libp2p_total_dial_attempts_total")
            .is_some_and(|n| *n >= 1.0),
        "{text}"
    );
    assert_eq!(
        samples.get("libp2p_successful_dials_total"),
        Some(&1.0),
        "{text}"
    );
}

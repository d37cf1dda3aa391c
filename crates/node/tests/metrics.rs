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

/// The names in `tests/data/nwaku_dashboard_metrics.txt`.
fn dashboard_names() -> Vec<&'static str> {
    include_str!("data/nwaku_dashboard_metrics.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
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

//! A node with no relay peer yet, as nwaku answers it: publishing through
//! REST succeeds and the message reaches the node's own archive, REST cache
//! (and filter subscribers); lightpush delivers locally, then says nobody
//! took the message, in nwaku's words.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, http};
use serde_json::{Value, json};

/// Autoshard of `CT` on cluster 42 with 8 shards is irrelevant here: the
/// node relays every autoshard by default.
const CT: &str = "/zero/1/peers/proto";

fn enc(topic: &str) -> String {
    topic.replace('/', "%2F")
}

/// Whether the node's own archive holds a message with `payload` (base64).
async fn archived(rest: std::net::SocketAddr, payload: &str) -> bool {
    let (status, body) = http(
        rest,
        "GET",
        &format!(
            "/store/v3/messages?contentTopics={}&includeData=true",
            enc(CT)
        ),
        None,
    )
    .await;
    status == 200
        && serde_json::from_str::<Value>(&body).is_ok_and(|v| {
            v["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|e| e["message"]["payload"] == payload))
        })
}

fn message(payload: &str) -> Value {
    json!({"payload": payload, "contentTopic": CT})
}

// spec: NET-033
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_without_relay_peers_is_ok_and_delivered_locally() {
    let node = NodeProcess::spawn_with_store(&[
        "--cluster-id",
        "42",
        "--num-shards-in-network",
        "8",
        "--lightpush",
    ]);
    let rest = node.rest_addr();

    // The auto route: 200 OK, like the pubsub route.
    let (status, body) = http(
        rest,
        "POST",
        "/relay/v1/auto/subscriptions",
        Some(&json!([CT]).to_string()),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    let (status, body) = http(
        rest,
        "POST",
        "/relay/v1/auto/messages",
        Some(&message("YXV0bw==").to_string()),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "OK"), "{}", node.log());
    assert!(
        eventually(Duration::from_secs(5), || archived(rest, "YXV0bw==")).await,
        "not archived:\n{}",
        node.log()
    );
    let (status, body) = http(
        rest,
        "GET",
        &format!("/relay/v1/auto/messages/{}", enc(CT)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("YXV0bw=="), "{body}");

    // Lightpush v3: delivered locally, then 505 with nwaku's text.
    let push = json!({"message": message("bGlnaHQ=")}).to_string();
    let (status, body) = http(rest, "POST", "/lightpush/v3/message", Some(&push)).await;
    assert_eq!(status, 505, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["statusDesc"], "No peers for topic, skipping publish");
    assert!(
        eventually(Duration::from_secs(5), || archived(rest, "bGlnaHQ=")).await,
        "lightpushed message not archived:\n{}",
        node.log()
    );

    // Legacy lightpush: nwaku's legacy words.
    let push = json!({"message": message("b2xk")}).to_string();
    let (status, body) = http(rest, "POST", "/lightpush/v1/message", Some(&push)).await;
    assert_eq!(
        (status, body.as_str()),
        (
            503,
            "Failed to request a message push: not_published_to_any_peer"
        )
    );

    // Any timestamp is published, as nwaku relays it (NET-027's
    // deviation); only the archive keeps its 20 s window.
    let old = json!({"payload": "b2xkIHRpbWU=", "contentTopic": CT, "timestamp": 1}).to_string();
    let (status, body) = http(rest, "POST", "/relay/v1/auto/messages", Some(&old)).await;
    assert_eq!((status, body.as_str()), (200, "OK"));
    let push = json!({"message": {"payload": "b2xk", "contentTopic": CT, "timestamp": 1}});
    let (status, body) = http(
        rest,
        "POST",
        "/lightpush/v3/message",
        Some(&push.to_string()),
    )
    .await;
    assert_eq!(
        status, 505,
        "an old timestamp is no invalid message: {body}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!archived(rest, "b2xkIHRpbWU=").await);

    // Too large for lightpush: refused before sending, in nwaku's words.
    let big_push = json!({"message": {"payload": "A".repeat(210_000), "contentTopic": CT}});
    let (status, body) = http(
        rest,
        "POST",
        "/lightpush/v1/message",
        Some(&big_push.to_string()),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            503,
            "Failed to request a message push: Message size exceeded maximum of 153600 bytes"
        )
    );

    // Too large: nwaku's text.
    let big = json!({"payload": "A".repeat(210_000), "contentTopic": CT}).to_string();
    let (status, body) = http(rest, "POST", "/relay/v1/auto/messages", Some(&big)).await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "Failed to publish: Message size exceeded maximum of 153600 bytes"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_unsubscribing_a_content_topic_its_messages_are_not_found() {
    let node = NodeProcess::spawn(&["--cluster-id", "42", "--num-shards-in-network", "8"]);
    let rest = node.rest_addr();
    let topics = json!([CT]).to_string();
    let one = message("b25l").to_string();
    let two = message("dHdv").to_string();
    for (method, path, body) in [
        ("POST", "/relay/v1/auto/subscriptions", &topics),
        ("POST", "/relay/v1/auto/messages", &one),
        ("DELETE", "/relay/v1/auto/subscriptions", &topics),
        ("POST", "/relay/v1/auto/messages", &two),
    ] {
        let (status, answer) = http(rest, method, path, Some(body)).await;
        assert_eq!(status, 200, "{method} {path}: {answer}");
    }
    let (status, body) = http(
        rest,
        "GET",
        &format!("/relay/v1/auto/messages/{}", enc(CT)),
        None,
    )
    .await;
    assert_eq!((status, body.as_str()), (404, CT));
}

// A lightpush node that cannot be reached, and filter requests a node
// refuses before sending, answered in the words nwaku's REST clients (and
// the upstream interop suite) expect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_service_nodes_and_bad_filter_bodies() {
    let gone = "/ip4/127.0.0.1/tcp/9/p2p/16Uiu2HAm4v86W3bmT1BiH6oSPzcsSr24iDQpSN5Qa992BCjjwgrD";
    let node = NodeProcess::spawn(&[
        "--cluster-id",
        "42",
        "--relay=false",
        "--lightpushnode",
        gone,
        "--filternode",
        gone,
    ]);
    let rest = node.rest_addr();
    let push = json!({"pubsubTopic": "/waku/2/rs/42/0", "message": message("ZGlhbA==")});
    let (status, body) = http(
        rest,
        "POST",
        "/lightpush/v1/message",
        Some(&push.to_string()),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (503, "Failed to request a message push: dial_failure")
    );
    let extra = json!({"requestId": "1", "pubsubTopic": "/waku/2/rs/42/0",
        "contentFilters": [CT], "extra": 1});
    let (status, body) = http(
        rest,
        "POST",
        "/filter/v2/subscriptions",
        Some(&extra.to_string()),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = http(rest, "GET", "/filter/v2/subscriptions/", None).await;
    assert_eq!((status, body.as_str()), (400, "bad request id"));
}

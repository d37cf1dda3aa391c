//! `POST /lightpush/v3/message` and `/v1/message` on `wakunode` processes:
//! self-hosted (the node serves lightpush) and through `--lightpushnode`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, eventually, http};
use serde_json::{Value, json};

const SHARD: &str = "/waku/2/rs/7/1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lightpush_over_rest_self_hosted_and_via_lightpushnode() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1", "--lightpush"]);
    let a_tcp = a.tcp_addr().to_string();
    let _b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1", "--staticnode", &a_tcp]);
    let c = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--relay=false",
        "--lightpushnode",
        &a_tcp,
    ]);
    let (ra, rc) = (a.rest_addr(), c.rest_addr());
    assert!(
        eventually(Duration::from_secs(30), || async move {
            http(ra, "GET", "/health", None)
                .await
                .1
                .contains(r#"{"Relay":"READY"}"#)
        })
        .await
    );
    let body = json!({"pubsubTopic": SHARD, "message": {"payload": "cHVzaA==", "contentTopic": "/lp/1/rest/proto"}}).to_string();

    let (status, text) = http(ra, "POST", "/lightpush/v3/message", Some(&body)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"relayPeerCount": 1})
    );

    let (status, text) = http(rc, "POST", "/lightpush/v3/message", Some(&body)).await;
    assert_eq!(status, 200, "{text}\n{}", c.log());
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["relayPeerCount"],
        1
    );

    let (status, text) = http(ra, "POST", "/lightpush/v1/message", Some(&body)).await;
    assert_eq!((status, text.as_str()), (200, "OK"));

    // Static sharding needs a pubsub topic: code 420, served as HTTP 500.
    let no_topic =
        json!({"message": {"payload": "cHVzaA==", "contentTopic": "/lp/1/rest/proto"}}).to_string();
    let (status, text) = http(ra, "POST", "/lightpush/v3/message", Some(&no_topic)).await;
    assert_eq!(status, 500, "{text}");
    assert!(text.contains("Pubsub topic must be specified"), "{text}");
    // Unserved shard: 421.
    let other = json!({"pubsubTopic": "/waku/2/rs/7/5", "message": {"payload": "cHVzaA==", "contentTopic": "/lp/1/rest/proto"}}).to_string();
    let (status, text) = http(rc, "POST", "/lightpush/v3/message", Some(&other)).await;
    assert_eq!(status, 421, "{text}");
    // Bad body: 400 with the reason.
    let (status, text) = http(ra, "POST", "/lightpush/v3/message", Some("{}")).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("Invalid push request!"), "{text}");
}

#[test]
fn lightpush_routes_are_absent_without_a_service() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1"]);
    let (status, _) = rt.block_on(http(
        a.rest_addr(),
        "POST",
        "/lightpush/v3/message",
        Some("{}"),
    ));
    assert_eq!(status, 400);
}

//! `POST /lightpush/v3/message` and `/v1/message` on `wakunode` processes:
//! self-hosted (the node serves lightpush) and through `--lightpushnode`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, http, relay_ready};
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
    assert!(relay_ready(ra, Duration::from_secs(30)).await);
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

    // Serving lightpush itself (on shard 5 only) and given a lightpush
    // node, D pushes through the lightpush node, as nwaku does: A takes
    // shard 1, which D's own service would refuse with 421.
    let d = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "5",
        "--lightpush",
        "--lightpushnode",
        &a_tcp,
    ]);
    let (status, text) = http(d.rest_addr(), "POST", "/lightpush/v3/message", Some(&body)).await;
    assert_eq!(status, 200, "{text}\n{}", d.log());
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["relayPeerCount"],
        1
    );

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

// The default sharding is nwaku's (autosharding over one shard): a push
// without a pubsub topic goes to the content topic's autoshard, and a relay
// peer of that shard receives it.
// spec: SHARD-018
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lightpush_without_a_pubsub_topic_is_autosharded_by_default() {
    let a = NodeProcess::spawn(&["--cluster-id", "7", "--lightpush"]);
    let a_tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--staticnode", &a_tcp]);
    let (ra, rb) = (a.rest_addr(), b.rest_addr());
    assert!(relay_ready(ra, Duration::from_secs(30)).await);
    let body =
        json!({"message": {"payload": "YXV0bw==", "contentTopic": "/lp/1/auto/proto"}}).to_string();
    let (status, text) = http(ra, "POST", "/lightpush/v3/message", Some(&body)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"relayPeerCount": 1})
    );
    let shard0 = "/relay/v1/messages/%2Fwaku%2F2%2Frs%2F7%2F0";
    let mut got = Vec::new();
    for _ in 0..200 {
        let (_, text) = http(rb, "GET", shard0, None).await;
        if let Ok(Value::Array(messages)) = serde_json::from_str::<Value>(&text) {
            got.extend(messages);
        }
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!got.is_empty(), "B:\n{}", b.log());
    assert_eq!(got[0]["payload"], "YXV0bw==");
    assert_eq!(got[0]["contentTopic"], "/lp/1/auto/proto");
}

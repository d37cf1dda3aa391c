//! js-waku relay interop: a js-waku relay node (`@waku/sdk` 0.0.27 with
//! `@waku/relay` 0.0.14, from `tests/interop`) dials our node over `/ws` and
//! messages flow both ways on a shard.
//!
//! Needs `npm ci` in `tests/interop`. Without it the test is skipped with a
//! message, unless `WAKU_INTEROP_REQUIRED=1` (set by CI), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::start_node;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use waku_core::{WakuMessage, now_nanos};
use waku_testkit::js_waku::interop_dir;

const CONTENT_TOPIC: &str = "/interop/1/chat/proto";

// spec: RELAY-001, RELAY-004, RELAY-012
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_waku_relay_node_exchanges_messages_with_us_over_websocket() {
    let Some(dir) = interop_dir() else { return };
    let node = start_node(&[
        "--cluster-id",
        "7",
        "--shard",
        "2",
        "--websocket-support",
        "--websocket-port",
        "0",
    ])
    .await;
    let ws = node
        .listen_addrs()
        .iter()
        .find(|a| a.to_string().contains("/ws/"))
        .unwrap()
        .to_string();
    let mut received = node.messages();

    let mut js = Command::new("node")
        .current_dir(&dir)
        .args([
            "relay.mjs",
            "--peer",
            &ws,
            "--cluster",
            "7",
            "--shard",
            "2",
            "--content-topic",
            CONTENT_TOPIC,
            "--send-hex",
            "6a732d746f2d72757374",
            "--expect",
            "1",
            "--timeout-ms",
            "60000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node (Node.js) must be installed");
    let mut lines = BufReader::new(js.stdout.take().unwrap()).lines();

    let mut events = Vec::new();
    let mut sent_ours = false;
    let outcome = tokio::time::timeout(Duration::from_secs(90), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: Value = serde_json::from_str(&line).unwrap();
            if event["event"] == "ready" && !sent_ours {
                let mut m = WakuMessage::new(&b"rust-to-js"[..], CONTENT_TOPIC);
                m.timestamp = Some(now_nanos());
                m.version = Some(0);
                node.publish("/waku/2/rs/7/2", m).await.unwrap();
                sent_ours = true;
            }
            let terminal = matches!(event["event"].as_str(), Some("done" | "timeout" | "error"));
            events.push(event);
            if terminal {
                break;
            }
        }
    })
    .await;
    assert!(outcome.is_ok(), "js-waku did not finish: {events:?}");
    let status = js.wait().await.unwrap();
    assert!(status.success(), "js-waku failed ({status}): {events:?}");

    // js -> rust (our own publication is delivered locally too: skip it)
    let got = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let m = received.recv().await.unwrap();
            if &m.message.payload[..] != b"rust-to-js" {
                return m;
            }
        }
    })
    .await
    .expect("nothing from js-waku");
    assert_eq!(got.pubsub_topic, "/waku/2/rs/7/2");
    assert_eq!(&got.message.payload[..], b"js-to-rust");
    assert_eq!(got.message.content_topic, CONTENT_TOPIC);
    // rust -> js
    let js_got: Vec<&Value> = events.iter().filter(|e| e["event"] == "received").collect();
    assert_eq!(js_got.len(), 1, "{events:?}");
    assert_eq!(js_got[0]["payload_hex"], hex::encode(b"rust-to-js"));
}

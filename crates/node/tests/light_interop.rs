//! A js-waku light node (`@waku/sdk` 0.0.36, from `tests/interop`) uses our
//! node as its lightpush and filter service over `/ws`, with a second relay
//! node present.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{NodeProcess, eventually, http, relay_ready};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use waku_testkit::js_waku::interop_dir;

const SHARD: &str = "/waku/2/rs/7/1";

fn enc(t: &str) -> String {
    t.replace('/', "%2F")
}

/// A service node (lightpush, filter, ws) and a second relay node, meshed.
async fn service_pair() -> (NodeProcess, NodeProcess) {
    let a = NodeProcess::spawn(&[
        "--cluster-id",
        "7",
        "--shard",
        "1",
        "--lightpush",
        "--filter",
        "--websocket-support",
    ]);
    let tcp = a.tcp_addr().to_string();
    let b = NodeProcess::spawn(&["--cluster-id", "7", "--shard", "1", "--staticnode", &tcp]);
    let rest = a.rest_addr();
    assert!(
        relay_ready(rest, Duration::from_secs(30)).await,
        "{}",
        a.log()
    );
    (a, b)
}

fn light(dir: &std::path::Path, ws: &str, args: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut all = vec![
        "light.mjs",
        "--peer",
        ws,
        "--cluster",
        "7",
        "--shard",
        "1",
        "--timeout-ms",
        "60000",
    ];
    all.extend_from_slice(args);
    let mut child = tokio::process::Command::new("node")
        .current_dir(dir)
        .args(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

async fn next_event(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(90), lines.next_line())
        .await
        .expect("js-waku went quiet")
        .unwrap()
        .expect("js-waku ended early");
    serde_json::from_str(&line).unwrap()
}

async fn all_events(mut lines: Lines<BufReader<ChildStdout>>) -> Vec<Value> {
    let mut events = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        events.push(serde_json::from_str(&line).unwrap());
    }
    events
}

// spec: LIGHTPUSH-001, LIGHTPUSH-010
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_waku_lightpush_reports_peers_and_survives_a_413() {
    let Some(dir) = interop_dir() else { return };
    let (a, b) = service_pair().await;
    let ws = a.ws_addr().to_string();
    let (mut child, lines) = light(
        &dir,
        &ws,
        &[
            "--mode",
            "lightpush",
            "--content-topic",
            "/lp/1/chat/proto",
            "--raw-size",
            "163840",
            "--send-hex",
            "6c69676874",
        ],
    );
    let events = all_events(lines).await;
    assert!(child.wait().await.unwrap().success(), "{events:?}");
    let pushed: Vec<&Value> = events.iter().filter(|e| e["event"] == "pushed").collect();
    assert_eq!(pushed.len(), 2, "{events:?}");
    assert_eq!(pushed[0]["success"], false, "{events:?}");
    assert_eq!(pushed[0]["status_code"], 413, "{events:?}");
    assert_eq!(pushed[1]["success"], true, "{events:?}");
    // One connection carried both pushes: the 413 did not cost it.
    let connections = &pushed[0]["connections_before"];
    assert_eq!(connections.as_array().unwrap().len(), 1, "{events:?}");
    for p in &pushed {
        assert_eq!(&p["connections_before"], connections, "{events:?}");
        assert_eq!(&p["connections_after"], connections, "{events:?}");
    }
    assert!(
        pushed[1]["relay_peer_count"].as_u64().unwrap() >= 1,
        "{events:?}"
    );
    // The second relay node got it.
    let rb = b.rest_addr();
    assert!(
        eventually(Duration::from_secs(10), || async move {
            let (_, body) = http(
                rb,
                "GET",
                &format!("/relay/v1/messages/{}", enc(SHARD)),
                None,
            )
            .await;
            body.contains("bGlnaHQ=")
        })
        .await
    );
}

// js-waku names the pubsub topic, so a content topic that is not
// /app/version/name/encoding is published anyway, as nwaku publishes it
// (the upstream interop suite pushes free-form content topics).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_waku_lightpush_with_a_free_form_content_topic_is_published() {
    let Some(dir) = interop_dir() else { return };
    let (a, _b) = service_pair().await;
    let ws = a.ws_addr().to_string();
    let (mut child, lines) = light(
        &dir,
        &ws,
        &[
            "--mode",
            "lightpush",
            "--content-topic",
            "/0abc/app/1/name/proto",
            "--send-hex",
            "00",
        ],
    );
    let events = all_events(lines).await;
    let _ = child.wait().await;
    let pushed: Vec<&Value> = events.iter().filter(|e| e["event"] == "pushed").collect();
    assert_eq!(pushed.len(), 1, "{events:?}");
    assert_eq!(pushed[0]["success"], true, "{events:?}");
    assert_eq!(pushed[0]["status_code"], 200, "{events:?}");
}

// spec: FILTER-019, FILTER-030
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_waku_filter_receives_within_5s_and_nothing_after_unsubscribe() {
    let Some(dir) = interop_dir() else { return };
    let (a, b) = service_pair().await;
    let ws = a.ws_addr().to_string();
    let (mut child, mut lines) = light(
        &dir,
        &ws,
        &[
            "--mode",
            "filter",
            "--content-topic",
            "/ft/1/chat/proto",
            "--unsubscribe-after",
            "1",
            "--quiet-ms",
            "4000",
        ],
    );
    let ready = next_event(&mut lines).await;
    assert_eq!(ready["event"], "ready", "{ready}");
    // Published on the other relay node, relayed to the service, pushed to js.
    let rb = b.rest_addr();
    let body = json!({"payload": "ZmlsdGVy", "contentTopic": "/ft/1/chat/proto"}).to_string();
    let sent = Instant::now();
    let (status, text) = http(
        rb,
        "POST",
        &format!("/relay/v1/messages/{}", enc(SHARD)),
        Some(&body),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let received = next_event(&mut lines).await;
    assert_eq!(received["event"], "received", "{received}");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "push took {:?}",
        sent.elapsed()
    );
    assert_eq!(received["payload_hex"], hex::encode(b"filter"));
    let unsubscribed = next_event(&mut lines).await;
    assert_eq!(unsubscribed["event"], "unsubscribed", "{unsubscribed}");
    // After the unsubscribe, another message must not be pushed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let body = json!({"payload": "YWdhaW4=", "contentTopic": "/ft/1/chat/proto"}).to_string();
    assert_eq!(
        http(
            rb,
            "POST",
            &format!("/relay/v1/messages/{}", enc(SHARD)),
            Some(&body)
        )
        .await
        .0,
        200
    );
    // The service node did get the second message (so nothing arriving at
    // js-waku means nothing was pushed, not that nothing was relayed).
    let ra = a.rest_addr();
    assert!(
        eventually(Duration::from_secs(10), || async move {
            http(
                ra,
                "GET",
                &format!("/relay/v1/messages/{}", enc(SHARD)),
                None,
            )
            .await
            .1
            .contains("YWdhaW4=")
        })
        .await,
        "{}",
        a.log()
    );
    let rest = all_events(lines).await;
    let status = child.wait().await.unwrap();
    assert!(status.success(), "pushed after unsubscribe: {rest:?}");
    assert_eq!(
        rest.last().unwrap()["received_after_unsubscribe"],
        0,
        "{rest:?}"
    );
}

//! Does the store stall relay? Two in-process nodes on loopback: A archives
//! (`--store`, SQLite in a temp dir), B publishes 1 KiB messages to A at a
//! steady rate. Relay delivery latency at A is measured twice: alone, and
//! while 100 concurrent store queries loop against A's REST API.
//!
//! Run: `cargo run --release -p waku-node --example store_under_load`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use waku_core::{WakuMessage, now_nanos};
use waku_node::{Cli, Node, NodeConfig, NodeHandle};

const TOPIC: &str = "/waku/2/rs/7/0";
const RATE_PER_SEC: u64 = 500;
const PHASE: Duration = Duration::from_secs(8);
const QUERIERS: usize = 100;

async fn start(args: &[&str]) -> NodeHandle {
    let mut all = vec![
        "wakunode",
        "--listen-address",
        "127.0.0.1",
        "--tcp-port",
        "0",
        "--cluster-id",
        "7",
        "--shard",
        "0",
    ];
    all.extend_from_slice(args);
    let config = NodeConfig::try_from(&Cli::try_parse_from(all).unwrap()).unwrap();
    let node = Node::start(config).await.unwrap();
    let handle = node.handle();
    tokio::spawn(node.run(std::future::pending()));
    handle
}

async fn get(addr: SocketAddr, path: &str) -> usize {
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return 0;
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let _ = s.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    buf.len()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn phase(a: &NodeHandle, b: &NodeHandle, label: &str) -> Vec<u64> {
    let mut rx = a.messages();
    let collector = tokio::spawn(async move {
        let mut lat = Vec::new();
        let deadline = Instant::now() + PHASE + Duration::from_secs(3);
        while let Ok(Ok(m)) = tokio::time::timeout_at(deadline.into(), rx.recv()).await {
            if m.message.content_topic != "/load/1/relay/proto" {
                continue;
            }
            let sent = i64::from_be_bytes(m.message.payload[..8].try_into().unwrap());
            lat.push(u64::try_from((now_nanos() - sent) / 1000).unwrap_or(0));
        }
        lat
    });
    let interval = Duration::from_nanos(1_000_000_000 / RATE_PER_SEC);
    let mut tick = tokio::time::interval(interval);
    let end = Instant::now() + PHASE;
    let mut sent = 0;
    while Instant::now() < end {
        tick.tick().await;
        let mut payload = now_nanos().to_be_bytes().to_vec();
        payload.resize(1024, 0x5a);
        let mut m = WakuMessage::new(payload, "/load/1/relay/proto");
        m.timestamp = Some(now_nanos());
        if b.publish(TOPIC, m).await.is_ok() {
            sent += 1;
        }
    }
    let mut lat = collector.await.unwrap();
    lat.sort_unstable();
    println!(
        "{label:<32} sent {sent:>5}  delivered {:>5}  latency p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
    );
    lat
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = std::env::temp_dir().join(format!("waku-store-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("a.sqlite3").display());
    let a = start(&["--store", "--store-message-db-url", &db, "--rest-port", "0"]).await;
    let b = start(&["--rest=false"]).await;
    b.connect(a.listen_addrs()[0].clone()).await.unwrap();
    while b.relay_peers(TOPIC).await.unwrap() == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rest_addr = a.rest_addr().unwrap();

    phase(&a, &b, "relay alone").await;

    // The query clients run on their own runtime and thread, as remote
    // clients would: only the server side of the queries loads A's runtime.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let clients = {
        let stop = stop.clone();
        let answered = answered.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut queriers = Vec::new();
                for i in 0..QUERIERS {
                    let stop = stop.clone();
                    let answered = answered.clone();
                    let order = if i % 2 == 0 { "true" } else { "false" };
                    let path = format!(
                        "/store/v3/messages?pubsubTopic=%2Fwaku%2F2%2Frs%2F7%2F0&contentTopics=%2Fload%2F1%2Frelay%2Fproto&pageSize=100&includeData=true&ascending={order}"
                    );
                    queriers.push(tokio::spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            if get(rest_addr, &path).await > 0 {
                                answered.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }));
                }
                for q in queriers {
                    let _ = q.await;
                }
            });
        })
    };
    let started = Instant::now();
    phase(&a, &b, "relay + 100 concurrent queries").await;
    stop.store(true, Ordering::Relaxed);
    let _ = clients.join();
    println!(
        "store queries answered during the loaded phase: {} ({:.0}/s)",
        answered.load(Ordering::Relaxed),
        answered.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

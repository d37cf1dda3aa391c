//! Relay under a lightpush flood, and right after it.
//!
//! Starts two release `wakunode` processes on loopback: B (relay, REST
//! cache of 20,000 messages) and A (relay + lightpush, B as static node).
//! An in-process lightpush v3 client pushes 10,000 messages to A as fast as
//! 64 requests in flight allow, then a steady 100 msg/s for 10 s. B's REST
//! cache is drained every 20 ms. Prints how the flood was answered, how
//! many of the steady messages B received, and how late.
//!
//! The goal (issue 9): B receives every steady message, within 1 s of the
//! flood's end.
//!
//! Run: `cargo bench -p waku-node --bench flood` (or `cargo xtask bench
//! waku-node`). Criterion flags passed by `cargo xtask bench --quick` are
//! ignored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Wakunode, http};
use libp2p::Multiaddr;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use waku_core::{WakuMessage, now_nanos};

use waku_testkit::Peer;

const SHARD: &str = "/waku/2/rs/42/0";
const SHARD_PATH: &str = "%2Fwaku%2F2%2Frs%2F42%2F0";
const FLOOD: usize = 10_000;
const IN_FLIGHT: usize = 64;
const STEADY: usize = 1_000;
const STEADY_EVERY: Duration = Duration::from_millis(10);

/// The pushing client: lightpush, and metadata answered as a cluster-42
/// light node would (the node drops peers that do not).
#[derive(NetworkBehaviour)]
struct Pusher {
    lightpush: waku_lightpush::client::Behaviour,
    metadata: waku_metadata::Behaviour,
}

fn message(text: &str) -> WakuMessage {
    let mut m = WakuMessage::new(text.as_bytes().to_vec(), "/flood/1/bench/proto");
    m.timestamp = Some(now_nanos());
    m
}

/// Drains B's REST cache until `stop`; returns when each payload was seen.
fn watch(
    b: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<HashMap<String, Instant>> {
    std::thread::spawn(move || {
        let mut seen = HashMap::new();
        let path = format!("/relay/v1/messages/{SHARD_PATH}");
        while !stop.load(Ordering::Relaxed) {
            if let Some((200, body)) = http(b, "GET", &path, "") {
                let now = Instant::now();
                let list: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                for m in list.as_array().into_iter().flatten() {
                    let payload = m["payload"].as_str().unwrap_or_default();
                    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(payload) {
                        seen.entry(String::from_utf8_lossy(&bytes).into_owned())
                            .or_insert(now);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        seen
    })
}

/// Outcome counts by label.
#[derive(Default, Debug)]
struct Outcomes(std::collections::BTreeMap<String, usize>);

impl Outcomes {
    fn record(&mut self, event: &waku_lightpush::client::Event) {
        let label = match event {
            waku_lightpush::client::Event::Pushed { .. } => "ok".to_owned(),
            waku_lightpush::client::Event::Refused { status, .. } => {
                format!("refused {}", status.map_or(0, |s| s.0))
            }
            waku_lightpush::client::Event::Failed { error, .. } => format!("failed ({error})"),
            other => format!("{other:?}"),
        };
        *self.0.entry(label).or_default() += 1;
    }
}

/// Pushes `text` to `service` through the client.
async fn push(client: &Peer<Pusher>, service: libp2p::PeerId, text: String) {
    client
        .with(move |s| {
            s.behaviour_mut()
                .lightpush
                .push(&service, Some(SHARD.to_owned()), message(&text));
        })
        .await;
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() {
    let b = Wakunode::start(&["--rest-relay-cache-capacity", "20000"]);
    let a = Wakunode::start(&["--lightpush", "--staticnode", b.listen.as_str()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(a.relay_ready() && b.relay_ready()) {
        assert!(Instant::now() < deadline, "the two nodes did not connect");
        std::thread::sleep(Duration::from_millis(100));
    }
    let subscribe = format!("[\"{SHARD}\"]");
    assert_eq!(
        http(b.rest, "POST", "/relay/v1/subscriptions", &subscribe).map(|r| r.0),
        Some(200)
    );
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(b.rest, stop.clone());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (flood, steady_sent, flood_took, flood_end) = rt.block_on(async {
        let addr: Multiaddr = a.listen.parse().unwrap();
        let Some(libp2p::multiaddr::Protocol::P2p(service)) = addr.iter().last() else {
            panic!("no peer id in {addr}");
        };
        let client = Pusher {
            lightpush: waku_lightpush::client::Behaviour::new(
                waku_lightpush::client::Config::default()
                    .with_max_concurrent_streams(4 * IN_FLIGHT)
                    .with_request_timeout(Duration::from_secs(60)),
            ),
            metadata: waku_metadata::Behaviour::new(waku_metadata::Config::new(42)),
        };
        let mut client = Peer::spawn(waku_testkit::swarm(client));
        client.connect(addr, service).await;

        let mut flood = Outcomes::default();
        let started = Instant::now();
        let (mut sent, mut done) = (0, 0);
        while done < FLOOD {
            while sent < FLOOD && sent - done < IN_FLIGHT {
                push(&client, service, format!("flood {sent}")).await;
                sent += 1;
            }
            if let SwarmEvent::Behaviour(PusherEvent::Lightpush(event)) = client.next().await {
                flood.record(&event);
                done += 1;
            }
        }
        let flood_took = started.elapsed();
        let flood_end = Instant::now();

        let mut steady_sent = HashMap::new();
        let mut tick = tokio::time::interval(STEADY_EVERY);
        let mut steady = Outcomes::default();
        for i in 0..STEADY {
            tick.tick().await;
            let text = format!("steady {i}");
            steady_sent.insert(text.clone(), Instant::now());
            push(&client, service, text).await;
            while let Ok(event) = tokio::time::timeout(Duration::ZERO, client.next()).await {
                if let SwarmEvent::Behaviour(PusherEvent::Lightpush(event)) = event {
                    steady.record(&event);
                }
            }
        }
        println!("flood/steady pushes answered while sending: {:?}", steady.0);
        (flood, steady_sent, flood_took, flood_end)
    });
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    let seen = watcher.join().unwrap();

    let flood_received = (0..FLOOD)
        .filter(|i| seen.contains_key(&format!("flood {i}")))
        .count();
    println!(
        "flood/10k_lightpush: {FLOOD} pushes, {IN_FLIGHT} in flight, in {flood_took:.2?} ({:.0}/s); answers {:?}; B received {flood_received}",
        FLOOD as f64 / flood_took.as_secs_f64(),
        flood.0
    );
    let mut late: Vec<Duration> = steady_sent
        .iter()
        .filter_map(|(text, sent)| {
            seen.get(text)
                .map(|got| got.saturating_duration_since(*sent))
        })
        .collect();
    late.sort();
    let first_after_flood = steady_sent
        .keys()
        .filter_map(|text| seen.get(text))
        .min()
        .map(|t| t.saturating_duration_since(flood_end));
    if late.is_empty() {
        println!("flood/steady_100_per_s: B received none of the {STEADY} steady messages");
        return;
    }
    println!(
        "flood/steady_100_per_s: B received {}/{STEADY} steady messages; the first {:?} after the flood's end; delay p50 {:?} p99 {:?} max {:?} (includes up to 20 ms of REST polling)",
        late.len(),
        first_after_flood.unwrap_or_default(),
        percentile(&late, 0.5),
        percentile(&late, 0.99),
        late[late.len() - 1],
    );
}

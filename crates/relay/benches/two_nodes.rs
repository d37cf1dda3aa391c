//! Two relay nodes over TCP loopback (noise + yamux), 1 KiB payloads:
//!
//! - `two_nodes/deliver_1kb`: messages published by A and delivered by B as
//!   fast as a window of 500 messages in flight allows (criterion reports
//!   the rate in elem/s);
//! - publish-to-delivery latency at a paced 1,000 msg/s (5,000 messages after
//!   500 of warm-up), printed as percentiles: the time from just before
//!   `Relay::publish` in A's swarm task to B's swarm emitting the
//!   `RelayEvent::Message`; measured on fresh nodes (5,000 after 500 of
//!   warm-up), then right after the throughput run in six consecutive
//!   windows of 2,000 messages (2 s each), to see how soon latency is back.
//!
//! Run: `cargo bench -p waku-relay --bench two_nodes`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use waku_core::{WakuMessage, now_nanos};

const SHARD: &str = "/waku/2/rs/1/0";
const PAYLOAD: usize = 1024;
const WINDOW: u64 = 500;

type Command = Box<dyn FnOnce(&mut Swarm<waku_relay::Behaviour>) + Send>;

/// Unique sequence numbers across all runs (gossipsub drops duplicates).
static SEQ: AtomicU64 = AtomicU64::new(0);

struct Pair {
    rt: Runtime,
    a: mpsc::UnboundedSender<Command>,
    b: mpsc::UnboundedSender<Command>,
    /// (delivery instant at B, sequence number).
    delivered: mpsc::UnboundedReceiver<(Instant, u64)>,
}

fn config() -> waku_relay::Config {
    waku_relay::Config::default().with_scoring(Some(
        waku_relay::ScoringConfig::nwaku()
            .with_ip_colocation_whitelist(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ))
}

async fn spawn_node(
    delivered: Option<mpsc::UnboundedSender<(Instant, u64)>>,
) -> (PeerId, Multiaddr, mpsc::UnboundedSender<Command>) {
    let mut relay = waku_relay::Behaviour::new(config()).unwrap();
    relay.subscribe(SHARD).unwrap();
    let mut swarm = waku_testkit::swarm_with_identity(
        Keypair::generate_ed25519(),
        relay,
        Duration::from_secs(600),
    );
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let peer = *swarm.local_peer_id();
    let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(f) => f(&mut swarm),
                    None => break,
                },
                event = swarm.select_next_some() => {
                    if let (SwarmEvent::Behaviour(waku_relay::Event::Message { message, .. }), Some(tx)) =
                        (event, delivered.as_ref())
                    {
                        let now = Instant::now();
                        let seq = u64::from_be_bytes(message.payload[..8].try_into().unwrap());
                        let _ = tx.send((now, seq));
                    }
                }
            }
        }
    });
    (peer, addr, tx)
}

async fn ask<R: Send + 'static>(
    node: &mpsc::UnboundedSender<Command>,
    f: impl FnOnce(&mut Swarm<waku_relay::Behaviour>) -> R + Send + 'static,
) -> R {
    let (tx, rx) = tokio::sync::oneshot::channel();
    node.send(Box::new(move |s| {
        let _ = tx.send(f(s));
    }))
    .unwrap();
    rx.await.unwrap()
}

fn pair() -> Pair {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (delivered_tx, delivered) = mpsc::unbounded_channel();
    let (a, b) = rt.block_on(async {
        let (a_id, _, a) = spawn_node(None).await;
        let (b_id, b_addr, b) = spawn_node(Some(delivered_tx)).await;
        ask(&a, move |s| s.dial(b_addr).unwrap()).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let a_mesh = ask(&a, move |s| s.behaviour().mesh_peers(SHARD).contains(&b_id)).await;
            let b_mesh = ask(&b, move |s| s.behaviour().mesh_peers(SHARD).contains(&a_id)).await;
            if a_mesh && b_mesh {
                break;
            }
            assert!(Instant::now() < deadline, "mesh did not form");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (a, b)
    });
    Pair {
        rt,
        a,
        b,
        delivered,
    }
}

fn message(seq: u64) -> WakuMessage {
    let mut payload = vec![0x5a; PAYLOAD];
    payload[..8].copy_from_slice(&seq.to_be_bytes());
    let mut m = WakuMessage::new(payload, "/bench/1/two-nodes/proto");
    m.timestamp = Some(now_nanos());
    m
}

/// Publishes `n` fresh messages from A's swarm task.
fn publish_batch(a: &mpsc::UnboundedSender<Command>, n: u64) {
    let first = SEQ.fetch_add(n, Ordering::Relaxed);
    a.send(Box::new(move |s| {
        for seq in first..first + n {
            s.behaviour_mut().publish(SHARD, message(seq)).unwrap();
        }
    }))
    .unwrap();
}

fn throughput(c: &mut Criterion, pair: &mut Pair) {
    let mut group = c.benchmark_group("two_nodes");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("deliver_1kb", |bench| {
        bench.iter_custom(|iters| {
            let Pair {
                rt, a, delivered, ..
            } = pair;
            rt.block_on(async {
                let start = Instant::now();
                let (mut sent, mut received) = (0u64, 0u64);
                while received < iters {
                    let room = WINDOW - (sent - received);
                    let n = room.min(iters - sent);
                    if n > 0 && (room >= WINDOW / 2 || sent + n == iters) {
                        publish_batch(a, n);
                        sent += n;
                    }
                    delivered.recv().await.unwrap();
                    received += 1;
                    while received < sent && delivered.try_recv().is_ok() {
                        received += 1;
                    }
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

/// Paced latency over `measured` messages after `warm_up` unmeasured ones.
fn latency(pair: &mut Pair, label: &str, warm_up: usize, measured: usize) {
    let Pair {
        rt, a, delivered, ..
    } = pair;
    let (sent_tx, mut sent_rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let samples = rt.block_on(async {
        while delivered.try_recv().is_ok() {}
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        // After a stall, keep the 1 ms spacing rather than catching up with
        // a burst that would measure queueing instead of latency.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let started = Instant::now();
        let first = SEQ.fetch_add((warm_up + measured) as u64, Ordering::Relaxed);
        for seq in first..first + (warm_up + measured) as u64 {
            tick.tick().await;
            let sent_tx = sent_tx.clone();
            a.send(Box::new(move |s| {
                let t0 = Instant::now();
                s.behaviour_mut().publish(SHARD, message(seq)).unwrap();
                let _ = sent_tx.send((seq, t0));
            }))
            .unwrap();
        }
        let rate = (warm_up + measured) as f64 / started.elapsed().as_secs_f64();
        let mut sent_at = std::collections::HashMap::new();
        let mut latencies = Vec::with_capacity(measured);
        for _ in 0..warm_up + measured {
            let (seq, t0) = sent_rx.recv().await.unwrap();
            sent_at.insert(seq, t0);
        }
        for _ in 0..warm_up + measured {
            let (t1, seq) = tokio::time::timeout(Duration::from_secs(30), delivered.recv())
                .await
                .expect("message lost")
                .unwrap();
            if seq >= first + warm_up as u64 {
                latencies.push(t1.duration_since(sent_at[&seq]));
            }
        }
        (latencies, rate)
    });
    let (samples, rate) = samples;
    let mut sorted = samples;
    sorted.sort();
    let mean = sorted.iter().sum::<Duration>() / sorted.len() as u32;
    println!(
        "two_nodes/latency_1kb_at_1000_per_s ({label}): n={} rate={rate:.0}/s mean={:?} p50={:?} p90={:?} p99={:?} p99.9={:?} max={:?}",
        sorted.len(),
        mean,
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.90),
        percentile(&sorted, 0.99),
        percentile(&sorted, 0.999),
        sorted[sorted.len() - 1],
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let mut pair = pair();
    latency(&mut pair, "fresh nodes", 500, 5000);
    throughput(&mut criterion, &mut pair);
    // Right after the saturation, in consecutive 2 s windows: when is the
    // p99 back under 1 ms?
    let stopped = Instant::now();
    for _ in 0..6 {
        let label = format!(
            "after the throughput run, from {:.1} s",
            stopped.elapsed().as_secs_f64()
        );
        latency(&mut pair, &label, 0, 2000);
    }
    // Keep B's sender alive until the end.
    drop(pair.b);
    criterion.final_summary();
}

//! Filter fan-out on loopback (TCP, noise, yamux): N subscribed clients
//! (1,000 by default, each its own swarm and connection, all in this
//! process), one 1 KiB message fed to the service, time until every client
//! has it.
//!
//! - percentiles over 100 messages (after 10 of warm-up), printed: for each
//!   message, the time from just before `Service::push` in the service's
//!   task until the last client's swarm task emitted the
//!   `ClientEvent::Message` ("all have it"), and, over all deliveries, the
//!   time until each single client had it;
//! - criterion's `filter/fan_out_<N>`, the same "all have it" time.
//!
//! The service, the N clients and the benchmark share one 2-thread tokio
//! runtime, so the numbers include the clients' own work.
//!
//! Run: `cargo bench -p waku-filter --bench fan_out`
//! (`FAN_OUT_CLIENTS=100 cargo bench ...` for another N).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use libp2p::swarm::SwarmEvent;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use waku_core::{WakuMessage, now_nanos};

use waku_testkit::{Peer, swarm};

const TOPIC: &str = "/waku/2/rs/1/4";
const CONTENT: &str = "/app/1/chat/proto";

static SEQ: AtomicU64 = AtomicU64::new(0);

struct Setup {
    server: Peer<waku_filter::service::Behaviour>,
    clients: Vec<Peer<waku_filter::client::Behaviour>>,
    /// (delivery instant, message sequence number).
    delivered: mpsc::UnboundedReceiver<(Instant, u64)>,
}

fn clients() -> usize {
    std::env::var("FAN_OUT_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn setup(n: usize) -> Setup {
    let (server, clients, delivered) = async {
        let config = waku_filter::service::Config::default()
            .with_rate_limit(waku_core::RateLimit::UNLIMITED)
            .with_max_peers(n.max(1000));
        let mut server = Peer::spawn(swarm(waku_filter::service::Behaviour::new(config)));
        let addr = server.listen().await;
        let to = server.id;
        let (tx, delivered) = mpsc::unbounded_channel();
        let mut clients = Vec::with_capacity(n);
        for chunk in 0..n.div_ceil(100) {
            let mut joins = Vec::new();
            for _ in 0..100.min(n - chunk * 100) {
                let addr = addr.clone();
                let tx = tx.clone();
                joins.push(tokio::spawn(async move {
                    let client =
                        waku_filter::client::Behaviour::new(waku_filter::client::Config::default());
                    let mut peer = Peer::spawn_with(swarm(client), move |_, e| {
                        if let SwarmEvent::Behaviour(waku_filter::client::Event::Message {
                            message,
                            ..
                        }) = e
                        {
                            let seq = u64::from_be_bytes(message.payload[..8].try_into().unwrap());
                            let _ = tx.send((Instant::now(), seq));
                        }
                    });
                    peer.connect(addr, to).await;
                    let id = peer
                        .with(move |s| s.behaviour_mut().subscribe(&to, TOPIC, [CONTENT]))
                        .await;
                    let ok = peer
                        .wait_behaviour("the answer", |e| match e {
                            waku_filter::client::Event::Response {
                                request, result, ..
                            } if request == id => Some(result.is_ok()),
                            _ => None,
                        })
                        .await;
                    assert!(ok, "subscribe refused");
                    peer
                }));
            }
            for j in joins {
                clients.push(j.await.unwrap());
            }
        }
        (server, clients, delivered)
    }
    .await;
    Setup {
        server,
        clients,
        delivered,
    }
}

/// Feeds one message; returns the time until all clients had it and each
/// client's delivery time.
async fn one(s: &mut Setup) -> (Duration, Vec<Duration>) {
    let n = s.clients.len();
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut payload = seq.to_be_bytes().to_vec();
    payload.resize(1024, 7);
    let message = WakuMessage {
        timestamp: Some(now_nanos()),
        ..WakuMessage::new(payload, CONTENT)
    };
    let start = s
        .server
        .with(move |sw| {
            let start = Instant::now();
            let pushed = sw.behaviour_mut().push(TOPIC, &message);
            assert_eq!(pushed, n);
            start
        })
        .await;
    let mut each = Vec::with_capacity(n);
    while each.len() < n {
        let (at, got) = tokio::time::timeout(Duration::from_secs(60), s.delivered.recv())
            .await
            .expect("deliveries stalled")
            .unwrap();
        if got == seq {
            each.push(at.saturating_duration_since(start));
        }
    }
    let all = each.iter().copied().max().unwrap_or_default();
    (all, each)
}

/// Per message: time from the first client having it to the last.
fn spread(each: &[Duration]) -> Duration {
    let first = each.iter().copied().min().unwrap_or_default();
    let last = each.iter().copied().max().unwrap_or_default();
    last - first
}

/// Keeps the per-peer event channels from growing without bound.
async fn drain(s: &mut Setup) {
    for c in &mut s.clients {
        c.drain_for(Duration::ZERO).await;
    }
    let failed = s
        .server
        .drain_for(Duration::ZERO)
        .await
        .into_iter()
        .filter(|e| matches!(e, waku_filter::service::Event::PushFailed { .. }))
        .count();
    assert_eq!(failed, 0, "pushes failed");
}

/// CPU time this process (service, clients and the kernel's work on their
/// behalf) has used so far, from `/proc/self/stat` (USER_HZ is 100 on
/// Linux); `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn bench(c: &mut Criterion) {
    let n = clients();
    let t = Instant::now();
    let rt = runtime();
    let mut s = rt.block_on(setup(n));
    println!("{n} clients connected and subscribed in {:?}", t.elapsed());
    let (mut all, mut each, mut spreads) = rt.block_on(async {
        for _ in 0..10 {
            one(&mut s).await;
        }
        drain(&mut s).await;
        let mut all = Vec::new();
        let mut each = Vec::new();
        let mut spreads = Vec::new();
        let cpu_before = process_cpu();
        for _ in 0..100 {
            let (a, e) = one(&mut s).await;
            all.push(a);
            spreads.push(spread(&e));
            each.extend(e);
        }
        if let (Some(before), Some(after)) = (cpu_before, process_cpu()) {
            let per_delivery = (after - before) / u32::try_from(each.len()).unwrap();
            println!(
                "CPU per delivery (service + client + kernel): {per_delivery:?}; on 2 cores {n} deliveries cannot finish in less than {:?}",
                per_delivery * u32::try_from(n).unwrap() / 2
            );
        }
        drain(&mut s).await;
        (all, each, spreads)
    });
    all.sort();
    each.sort();
    spreads.sort();
    println!(
        "beyond the first push (last delivery minus first, per message): p50 {:?}, p99 {:?}",
        percentile(&spreads, 0.5),
        percentile(&spreads, 0.99)
    );
    println!(
        "filter fan-out to {n} clients, 1 KiB, 100 messages: all have it p50 {:?}, p99 {:?}, max {:?}; single delivery p50 {:?}, p99 {:?}",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all[all.len() - 1],
        percentile(&each, 0.5),
        percentile(&each, 0.99)
    );
    let mut group = c.benchmark_group("filter");
    group.sample_size(10);
    let name = format!("fan_out_{n}");
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += one(&mut s).await.0;
                }
                drain(&mut s).await;
                total
            })
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}

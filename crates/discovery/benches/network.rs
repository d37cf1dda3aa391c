//! discv5 on a 50-node loopback network, and the memory of a full
//! peer-exchange cache.
//!
//! Layout: 50 `Discv5Service`s in one process on 127.0.0.1, cluster 1,
//! node `i` relaying shards `i % 8` and `(i + 1) % 8` (every shard is
//! relayed by 12 to 14 nodes), all bootstrapped from node 0 only, with the
//! default lookup pacing (every second for 30 s, then every 30 s). Each
//! node keeps every Waku record of cluster 1 (`RecordFilter::new(1)`), so
//! "full discovery" (every node got a candidate for each of the other 49)
//! can be seen; the per-shard target counts, for each of a node's two
//! shards, the candidates relaying that shard (at least 6 each).
//!
//! - `discv5/50_nodes/full_discovery`, `discv5/50_nodes/shard_target_6`
//!   (criterion, `iter_custom`): one iteration starts a fresh network on a
//!   fresh 2-worker tokio runtime, times it from the start of node 0 until
//!   the condition holds for every node, and shuts the runtime down.
//! - `discv5/50_nodes/idle_traffic` (printed, not timed by criterion): a
//!   network on a current-thread runtime (discv5's byte counters are
//!   process-global and updated with a non-atomic load and store, so one
//!   thread keeps them exact), the bytes of the first 35 s, then of a 60 s
//!   window once the lookups are every 30 s, divided by 50.
//! - `px/cache_memory/1000_records` (printed): resident memory grown by
//!   20 `EnrCache`s of 1 000 freshly decoded records each, per cache, with
//!   a breakdown estimated from type sizes (no counting allocator: the
//!   workspace denies `unsafe_code`).
//!
//! Run: `cargo bench -p waku-discovery --bench network`. A name filter as
//! first argument selects benches and reports as criterion does (substring).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use enr::k256::ecdsa::SigningKey;
use libp2p::PeerId;
use tokio::sync::mpsc;
use waku_discovery::discv5::{Config, Discv5Service, RecordFilter};
use waku_discovery::peer_exchange::service::EnrCache;
use waku_enr::{Capabilities, WakuEnr, WakuEnrBuilder};
use waku_sharding::RelayShards;

const NODES: usize = 50;
const CLUSTER: u16 = 1;
const SHARD_COUNT: u16 = 8;
/// The per-shard relay target: peers sharing each of a node's shards.
const SHARD_TARGET: usize = 6;
/// Goals of the issue.
const DISCOVERY_GOAL: Duration = Duration::from_secs(30);
const TRAFFIC_GOAL_BYTES_PER_S: f64 = 4096.0;
/// An iteration that has not reached its goal by then is cut short.
const GIVE_UP: Duration = Duration::from_secs(120);

fn shards_of(node: usize) -> [u16; 2] {
    let s = (node % SHARD_COUNT as usize) as u16;
    [s, (s + 1) % SHARD_COUNT]
}

fn random_key() -> SigningKey {
    loop {
        if let Ok(key) = SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
            return key;
        }
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The network: services (dropping them stops discv5), their records, and
/// the candidates every node received, as `(node, peer)` events.
struct Network {
    services: Vec<Discv5Service>,
    peers: HashMap<PeerId, usize>,
    events: mpsc::UnboundedReceiver<(usize, PeerId)>,
}

/// Starts node `index` on a free port (another one if the port was taken
/// meanwhile).
async fn start_node(
    index: usize,
    bootstrap: Option<&WakuEnr>,
) -> (
    Discv5Service,
    WakuEnr,
    mpsc::Receiver<waku_discovery::discv5::Candidate>,
) {
    let mut attempt = 0;
    loop {
        let key = random_key();
        let port = free_udp_port();
        let enr = WakuEnrBuilder::new()
            .ip(Ipv4Addr::LOCALHOST.into())
            .tcp(port)
            .udp(port)
            .capabilities(Capabilities::RELAY)
            .shards(RelayShards::new(CLUSTER, shards_of(index)))
            .build_for_discv5(&key)
            .unwrap();
        let config = Config::new(
            SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            RecordFilter::new(CLUSTER),
        )
        .with_bootstrap(bootstrap.cloned());
        match Discv5Service::start(&enr, &key, config).await {
            Ok((service, rx)) => return (service, enr, rx),
            Err(e) if attempt < 5 => {
                eprintln!("node {index}: {e}, another port");
                attempt += 1;
            }
            Err(e) => panic!("node {index}: {e}"),
        }
    }
}

async fn start_network() -> Network {
    let (tx, events) = mpsc::unbounded_channel();
    let mut services = Vec::with_capacity(NODES);
    let mut peers = HashMap::new();
    let mut bootstrap = None;
    for index in 0..NODES {
        let (service, enr, mut rx) = start_node(index, bootstrap.as_ref()).await;
        peers.insert(enr.peer_id(), index);
        if index == 0 {
            bootstrap = Some(enr);
        }
        services.push(service);
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(candidate) = rx.recv().await {
                if tx.send((index, candidate.peer_id)).is_err() {
                    return;
                }
            }
        });
    }
    Network {
        services,
        peers,
        events,
    }
}

/// Which candidates each node has received.
struct Progress {
    seen: Vec<HashSet<usize>>,
    full_at: Vec<Option<Duration>>,
    shard_target_at: Vec<Option<Duration>>,
}

impl Progress {
    fn new() -> Self {
        Self {
            seen: vec![HashSet::new(); NODES],
            full_at: vec![None; NODES],
            shard_target_at: vec![None; NODES],
        }
    }

    fn record(&mut self, node: usize, peer: usize, at: Duration) {
        if node == peer || !self.seen[node].insert(peer) {
            return;
        }
        if self.full_at[node].is_none() && self.seen[node].len() == NODES - 1 {
            self.full_at[node] = Some(at);
        }
        if self.shard_target_at[node].is_none() && self.meets_shard_target(node) {
            self.shard_target_at[node] = Some(at);
        }
    }

    fn meets_shard_target(&self, node: usize) -> bool {
        shards_of(node).iter().all(|shard| {
            self.seen[node]
                .iter()
                .filter(|&&peer| shards_of(peer).contains(shard))
                .count()
                >= SHARD_TARGET
        })
    }

    fn full(&self) -> bool {
        self.full_at.iter().all(Option::is_some)
    }

    fn shard_target(&self) -> bool {
        self.shard_target_at.iter().all(Option::is_some)
    }

    /// Peers some node has not received, with how many nodes lack them.
    fn missing(&self) -> Vec<(usize, usize)> {
        (0..NODES)
            .map(|peer| {
                let lacking = (0..NODES)
                    .filter(|&node| node != peer && !self.seen[node].contains(&peer))
                    .count();
                (peer, lacking)
            })
            .filter(|&(_, lacking)| lacking > 0)
            .collect()
    }

    fn counts(&self) -> Vec<usize> {
        self.seen.iter().map(HashSet::len).collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    FullDiscovery,
    ShardTarget,
}

/// Reads the network's candidates until `goal` holds for every node or
/// `until` passes (measured from `started`).
async fn run_until(
    net: &mut Network,
    progress: &mut Progress,
    started: Instant,
    goal: Goal,
    until: Duration,
) -> bool {
    let reached = |p: &Progress| match goal {
        Goal::FullDiscovery => p.full(),
        Goal::ShardTarget => p.shard_target(),
    };
    let deadline = tokio::time::Instant::from_std(started + until);
    while !reached(progress) {
        match tokio::time::timeout_at(deadline, net.events.recv()).await {
            Ok(Some((node, peer))) => {
                let peer = net.peers[&peer];
                progress.record(node, peer, started.elapsed());
            }
            _ => return false,
        }
    }
    true
}

/// One network on a fresh runtime: the time until `goal` holds everywhere.
fn measure_once(goal: Goal) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let elapsed = runtime.block_on(async {
        let started = Instant::now();
        let mut net = start_network().await;
        let mut progress = Progress::new();
        if run_until(&mut net, &mut progress, started, goal, GIVE_UP).await {
            started.elapsed()
        } else {
            eprintln!(
                "goal not reached within {GIVE_UP:?}; candidates per node: {:?}; \
                 missing (peer: how many nodes lack it): {:?}",
                progress.counts(),
                progress.missing()
            );
            GIVE_UP
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    elapsed
}

fn discovery(c: &mut Criterion) {
    let mut group = c.benchmark_group("discv5/50_nodes");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    for (name, goal) in [
        ("full_discovery".to_owned(), Goal::FullDiscovery),
        (format!("shard_target_{SHARD_TARGET}"), Goal::ShardTarget),
    ] {
        let mut runs = Vec::new();
        group.bench_function(&name, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let t = measure_once(goal);
                        runs.push(t);
                        t
                    })
                    .sum()
            })
        });
        if let Some(slowest) = runs.iter().max() {
            let mut secs: Vec<String> = runs
                .iter()
                .map(|t| format!("{:.1}", t.as_secs_f64()))
                .collect();
            secs.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse().unwrap()));
            println!(
                "discv5/50_nodes/{name}: {} of {} networks within the {DISCOVERY_GOAL:?} goal \
                 (slowest {:.1} s; {GIVE_UP:?} means not reached); runs in s: {}",
                runs.iter().filter(|t| **t <= DISCOVERY_GOAL).count(),
                runs.len(),
                slowest.as_secs_f64(),
                secs.join(", "),
            );
        }
    }
    group.finish();
}

fn summary(label: &str, times: &[Option<Duration>]) {
    let mut secs: Vec<f64> = times.iter().flatten().map(Duration::as_secs_f64).collect();
    secs.sort_by(f64::total_cmp);
    let missing = times.len() - secs.len();
    if secs.is_empty() {
        println!("  {label}: no node got there");
        return;
    }
    println!(
        "  {label}: first node {:.1} s, median {:.1} s, last {:.1} s{}",
        secs[0],
        secs[secs.len() / 2],
        secs[secs.len() - 1],
        if missing > 0 {
            format!(", {missing} nodes never")
        } else {
            String::new()
        }
    );
}

fn rate(bytes: usize, window: Duration) -> f64 {
    bytes as f64 / NODES as f64 / window.as_secs_f64()
}

/// discv5 bytes per node while idle, on a current-thread runtime.
fn idle_traffic() {
    const SETTLE: Duration = Duration::from_secs(35);
    const WINDOW: Duration = Duration::from_secs(60);
    println!(
        "discv5/50_nodes/idle_traffic: {NODES} nodes, bytes in the first {SETTLE:?}, \
         then over {WINDOW:?} of 30 s lookups"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let before = discv5::Discv5::metrics();
        let started = Instant::now();
        let mut net = start_network().await;
        let mut progress = Progress::new();
        run_until(
            &mut net,
            &mut progress,
            started,
            Goal::FullDiscovery,
            SETTLE,
        )
        .await;
        tokio::time::sleep_until(tokio::time::Instant::from_std(started + SETTLE)).await;
        let settled = discv5::Discv5::metrics();
        summary("full discovery", &progress.full_at);
        summary("shard target", &progress.shard_target_at);
        let table: Vec<usize> = net.services.iter().map(Discv5Service::table_len).collect();
        println!(
            "  routing table entries: min {}, max {}",
            table.iter().min().unwrap(),
            table.iter().max().unwrap()
        );
        println!(
            "  first {SETTLE:?} (start, 1 s lookups): out {:.0} B/s, in {:.0} B/s per node",
            rate(settled.bytes_sent - before.bytes_sent, SETTLE),
            rate(settled.bytes_recv - before.bytes_recv, SETTLE),
        );
        tokio::time::sleep(WINDOW).await;
        let after = discv5::Discv5::metrics();
        let out = rate(after.bytes_sent - settled.bytes_sent, WINDOW);
        let inb = rate(after.bytes_recv - settled.bytes_recv, WINDOW);
        let verdict = if out <= TRAFFIC_GOAL_BYTES_PER_S && inb <= TRAFFIC_GOAL_BYTES_PER_S {
            "meets"
        } else {
            "misses"
        };
        println!(
            "  idle, {WINDOW:?} window: out {out:.0} B/s, in {inb:.0} B/s per node \
             ({verdict} the 4 KB/s goal)"
        );
        drop(net);
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
}

/// `VmRSS` of this process in bytes.
fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// A record like a fleet node's: ip, tcp, udp, four capabilities, and the
/// eight shards of cluster 1.
fn fleet_like_record(n: u32) -> WakuEnr {
    WakuEnrBuilder::new()
        .ip(Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8).into())
        .tcp(60000)
        .udp(9000)
        .capabilities(
            Capabilities::RELAY
                | Capabilities::STORE
                | Capabilities::FILTER
                | Capabilities::LIGHTPUSH,
        )
        .shards(RelayShards::new(CLUSTER, 0..SHARD_COUNT))
        .build_for_discv5(&random_key())
        .unwrap()
}

/// The fields of the cache's private entry type, for its size.
#[allow(dead_code)]
struct EntryLayout {
    node: [u8; 32],
    peer: PeerId,
    seq: u64,
    enr: WakuEnr,
    rlp: Vec<u8>,
    added: Instant,
}

fn cache_memory() {
    const RECORDS: usize = 1000;
    const CACHES: usize = 20;
    let wire: Vec<Vec<u8>> = (0..RECORDS as u32)
        .map(|n| fleet_like_record(n).to_rlp_bytes())
        .collect();
    let encoded: usize = wire.iter().map(Vec::len).sum();
    let fill = || {
        let mut cache = EnrCache::new(RECORDS, Duration::from_secs(1800));
        let now = Instant::now();
        for bytes in &wire {
            // Decoded afresh, as records arrive from the network.
            cache.insert(WakuEnr::from_rlp_bytes(bytes).unwrap(), now);
        }
        assert_eq!(cache.len(), RECORDS);
        cache
    };
    drop(fill());
    let before = rss_bytes();
    let caches: Vec<EnrCache> = (0..CACHES).map(|_| fill()).collect();
    let per_cache = (rss_bytes() - before) / CACHES;
    drop(caches);

    let sample = WakuEnr::from_rlp_bytes(&wire[0]).unwrap();
    let entries = RECORDS.next_power_of_two() * size_of::<EntryLayout>();
    let rlp_buffers = RECORDS * sample.to_rlp_bytes().capacity();
    // hashbrown: buckets a power of two at 7/8 load, key + index and one
    // control byte each.
    let buckets = (RECORDS * 8 / 7).next_power_of_two();
    let index = buckets * (32 + size_of::<usize>() + 1);
    println!(
        "px/cache_memory/1000_records: {RECORDS} records of {:.0} bytes (RLP) on average",
        encoded as f64 / RECORDS as f64
    );
    println!(
        "  measured: {:.0} KiB per full cache (VmRSS growth of {CACHES} caches / {CACHES}), \
         {:.0} bytes per record",
        per_cache as f64 / 1024.0,
        per_cache as f64 / RECORDS as f64
    );
    println!(
        "  estimate: entries {:.0} KiB ({} x {} bytes inline), RLP copies {:.0} KiB \
         ({} bytes allocated each), index {:.0} KiB; the rest, {:.0} KiB, is the records' \
         own heap (enr key/value map, signature, shards)",
        entries as f64 / 1024.0,
        RECORDS.next_power_of_two(),
        size_of::<EntryLayout>(),
        rlp_buffers as f64 / 1024.0,
        sample.to_rlp_bytes().capacity(),
        index as f64 / 1024.0,
        per_cache.saturating_sub(entries + rlp_buffers + index) as f64 / 1024.0,
    );
}

/// The name filter criterion would apply: the first free argument.
fn filter() -> Option<String> {
    const WITH_VALUE: &[&str] = &[
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--save-baseline",
        "-s",
        "--baseline",
        "-b",
        "--baseline-lenient",
        "--load-baseline",
        "--color",
        "-c",
        "--output-format",
        "--plotting-backend",
        "--profile-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--format",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        if WITH_VALUE.contains(&args[i].as_str()) {
            i += 2;
        } else if args[i].starts_with('-') {
            i += 1;
        } else {
            return Some(args[i].clone());
        }
    }
    None
}

fn main() {
    let selected = |name: &str| filter().is_none_or(|f| name.contains(&f));
    // First, while the heap has not grown yet: memory freed by the networks
    // would be reused by the caches and hide their growth.
    if selected("px/cache_memory/1000_records") {
        cache_memory();
    }
    let mut criterion = Criterion::default().configure_from_args();
    discovery(&mut criterion);
    criterion.final_summary();
    // The traffic report takes a minute and a half; `cargo test` runs bench
    // targets without `--bench` and skips it.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    if selected("discv5/50_nodes/idle_traffic") {
        if bench_mode {
            idle_traffic();
        } else {
            println!("discv5/50_nodes/idle_traffic: skipped outside `cargo bench`");
        }
    }
}

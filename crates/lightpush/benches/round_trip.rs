//! Lightpush v3 round trip on loopback (TCP, noise, yamux): a client pushes
//! a 1 KiB message, the service checks it and hands it to a stand-in node
//! that answers at once with 1 relay peer, and the client gets the 200.
//!
//! - percentiles of 2,000 sequential round trips (after 200 of warm-up),
//!   printed: the time from just before `Client::push` is queued to the
//!   client's `ClientEvent::Pushed` reaching the benchmark thread (both
//!   swarms run in their own tokio tasks; the two channel hops this adds
//!   cost a few microseconds);
//! - criterion's `lightpush/round_trip_1kb`, the same round trip.
//!
//! Run: `cargo bench -p waku-lightpush --bench round_trip`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use criterion::Criterion;
use libp2p::swarm::SwarmEvent;
use tokio::runtime::Runtime;
use waku_core::{WakuMessage, now_nanos};

use waku_testkit::{Peer, swarm};

const TOPIC: &str = "/waku/2/rs/1/4";

struct Setup {
    rt: Runtime,
    _server: Peer<waku_lightpush::service::Behaviour>,
    server_id: libp2p::PeerId,
    client: Peer<waku_lightpush::client::Behaviour>,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (server, server_id, client) = rt.block_on(async {
        let mut server = Peer::spawn_with(
            swarm(waku_lightpush::service::Behaviour::new(
                waku_lightpush::service::Config::default(),
            )),
            |s, e| {
                if let SwarmEvent::Behaviour(waku_lightpush::service::Event::PublishRequest {
                    id,
                    ..
                }) = e
                {
                    s.behaviour_mut().publish_result(*id, Ok(1));
                }
            },
        );
        let addr = server.listen().await;
        let mut client = Peer::spawn(swarm(waku_lightpush::client::Behaviour::new(
            waku_lightpush::client::Config::default(),
        )));
        client.connect(addr, server.id).await;
        let id = server.id;
        (server, id, client)
    });
    Setup {
        rt,
        _server: server,
        server_id,
        client,
    }
}

fn message() -> WakuMessage {
    WakuMessage {
        timestamp: Some(now_nanos()),
        ..WakuMessage::new(vec![7u8; 1024], "/app/1/chat/proto")
    }
}

async fn round_trip(
    client: &mut Peer<waku_lightpush::client::Behaviour>,
    to: libp2p::PeerId,
) -> Duration {
    let m = message();
    let start = Instant::now();
    let id = client
        .with(move |s| s.behaviour_mut().push(&to, Some(TOPIC.into()), m))
        .await;
    client
        .wait_behaviour("the answer", |e| match e {
            waku_lightpush::client::Event::Pushed { request, .. } if request == id => Some(()),
            waku_lightpush::client::Event::Pushed { .. } => None,
            other => panic!("{other:?}"),
        })
        .await;
    start.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn percentiles(s: &mut Setup) {
    let to = s.server_id;
    let client = &mut s.client;
    let mut samples = s.rt.block_on(async {
        for _ in 0..200 {
            round_trip(client, to).await;
        }
        let mut v = Vec::with_capacity(2000);
        for _ in 0..2000 {
            v.push(round_trip(client, to).await);
        }
        v
    });
    samples.sort();
    println!(
        "lightpush v3 round trip, 1 KiB, loopback, 2000 samples: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        samples[samples.len() - 1]
    );
}

fn bench(c: &mut Criterion) {
    let mut s = setup();
    percentiles(&mut s);
    let to = s.server_id;
    let Setup { rt, client, .. } = &mut s;
    c.bench_function("lightpush/round_trip_1kb", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += round_trip(client, to).await;
                }
                total
            })
        })
    });
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}

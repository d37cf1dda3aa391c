//! Helpers shared by the swarm tests: in-process libp2p nodes over
//! 127.0.0.1 TCP with noise and yamux, and a driver that polls two swarms
//! until a condition holds (20 s at most).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt;
use libp2p::request_response::ProtocolSupport;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, Swarm, SwarmBuilder, noise, ping, tcp, yamux};
use serde_json::Value;
use waku_metadata::{Behaviour, Config, Event, PROTOCOL};
use waku_testkit::raw::{Raw, RawCodec};

/// Longest a test waits for a condition.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The metadata vectors copied from the js-waku run.
pub const VECTORS: &str = include_str!("../vectors/metadata.json");

/// The vector case called `name`.
pub fn vector(name: &str) -> Value {
    waku_testkit::vectors::case(VECTORS, "metadata", name)
}

/// The bytes of hex field `field` of vector `name`.
pub fn vector_bytes(name: &str, field: &str) -> Vec<u8> {
    waku_testkit::vectors::case_bytes(VECTORS, "metadata", name, field)
}

/// A full test node: metadata plus ping (ping shows a connection is alive
/// and gives the tests a clock that is not a sleep).
#[derive(NetworkBehaviour)]
pub struct Node {
    pub metadata: Behaviour,
    pub ping: ping::Behaviour,
}

/// Fast pings, so that "still connected after N pings" is quick to check.
pub fn fast_ping() -> ping::Behaviour {
    ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_millis(300)))
}

/// A swarm running `behaviour`, with a long idle timeout so that only the
/// code under test closes connections.
pub fn swarm<B: NetworkBehaviour>(behaviour: B) -> Swarm<B> {
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| behaviour)
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build()
}

/// A metadata node with `config`.
pub fn node(config: Config) -> Swarm<Node> {
    swarm(Node {
        metadata: Behaviour::new(config),
        ping: fast_ping(),
    })
}

/// Starts listening on 127.0.0.1 and returns the address.
pub async fn listen<B: NetworkBehaviour>(swarm: &mut Swarm<B>) -> Multiaddr {
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    tokio::time::timeout(DEADLINE, async {
        loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                return address;
            }
        }
    })
    .await
    .expect("no listen address")
}

/// An event of one of the two driven swarms; `Tick` when nothing happened
/// for a while (so conditions on state are re-checked).
pub enum Ev<A, B> {
    A(SwarmEvent<A>),
    B(SwarmEvent<B>),
    Tick,
}

/// Polls both swarms, calling `step` on every event (and every 50 ms),
/// until it returns `true`. Panics after [`DEADLINE`] naming `what`.
pub async fn drive<A, B, F>(a: &mut Swarm<A>, b: &mut Swarm<B>, what: &str, mut step: F)
where
    A: NetworkBehaviour,
    B: NetworkBehaviour,
    F: FnMut(&mut Swarm<A>, &mut Swarm<B>, Ev<A::ToSwarm, B::ToSwarm>) -> bool,
{
    let run = async {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            let ev = tokio::select! {
                ev = a.select_next_some() => Ev::A(ev),
                ev = b.select_next_some() => Ev::B(ev),
                _ = tick.tick() => Ev::Tick,
            };
            if step(a, b, ev) {
                return;
            }
        }
    };
    if tokio::time::timeout(DEADLINE, run).await.is_err() {
        panic!("timed out waiting for {what}");
    }
}

/// Polls both swarms until `cond` holds.
pub async fn until<A, B, F>(a: &mut Swarm<A>, b: &mut Swarm<B>, what: &str, mut cond: F)
where
    A: NetworkBehaviour,
    B: NetworkBehaviour,
    F: FnMut(&mut Swarm<A>, &mut Swarm<B>) -> bool,
{
    if cond(a, b) {
        return;
    }
    drive(a, b, what, |a, b, _| cond(a, b)).await;
}

/// The metadata event inside a [`Node`] swarm event, if it is one.
pub fn metadata_event(ev: SwarmEvent<NodeEvent>) -> Option<Event> {
    match ev {
        SwarmEvent::Behaviour(NodeEvent::Metadata(e)) => Some(e),
        _ => None,
    }
}

/// Whether the event is a successful ping on a [`Node`].
pub fn is_ping_ok(ev: &SwarmEvent<NodeEvent>) -> bool {
    matches!(
        ev,
        SwarmEvent::Behaviour(NodeEvent::Ping(ping::Event { result: Ok(_), .. }))
    )
}

/// A raw peer (see [`waku_testkit::raw`]) serving and requesting on the
/// metadata protocol, reading up to 64 KiB until the end of the stream,
/// whose own requests may wait up to `timeout`.
pub fn raw(timeout: Duration) -> Raw {
    waku_testkit::raw(
        [(PROTOCOL, ProtocolSupport::Full)],
        RawCodec {
            read_limit: 64 * 1024,
            ..RawCodec::default()
        },
        timeout,
    )
}

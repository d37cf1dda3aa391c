//! Relay delivery and validation across separate `wakunode` processes on
//! loopback, observed only from the outside: the REST API (publish, drain,
//! the admin relay/mesh peer views with gossipsub scores), `/metrics` and
//! the logs. Invalid messages come from an injector: an in-process plain
//! gossipsub peer speaking the relay protocol id without any Waku
//! validation (plus metadata, so the node keeps it connected).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{NodeProcess, eventually, http};
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity, ValidationMode, Version};
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{Multiaddr, PeerId};
use serde_json::{Value, json};
use waku_core::{WakuMessage, message_hash, now_nanos};
use waku_relay::{RELAY_PROTOCOL_ID, SigningKey, reason, sign_for_protected_shard};
use waku_testkit::Peer;

const CLUSTER: u16 = 7;

/// How long any expected condition may take (the machine may be loaded).
const PATIENCE: Duration = Duration::from_secs(20);

/// The pubsub topic of `shard` in our cluster.
fn topic(shard: u16) -> String {
    format!("/waku/2/rs/{CLUSTER}/{shard}")
}

/// A topic as a REST path segment.
fn enc(topic: &str) -> String {
    topic.replace('/', "%2F")
}

/// A message on a test content topic, stamped now.
fn message(payload: &str) -> WakuMessage {
    let mut m = WakuMessage::new(payload.as_bytes().to_vec(), "/validation/1/test/proto");
    m.timestamp = Some(now_nanos());
    m
}

/// A process's peer id (the `/p2p` part of its listen address).
fn peer_id(node: &NodeProcess) -> PeerId {
    match node.tcp_addr().iter().last() {
        Some(Protocol::P2p(id)) => id,
        _ => panic!("no /p2p in {}", node.tcp_addr()),
    }
}

/// Spawns a `wakunode` on our cluster with `args`.
fn spawn(args: &[&str]) -> NodeProcess {
    let cluster = CLUSTER.to_string();
    let mut all = vec!["--cluster-id", cluster.as_str()];
    all.extend_from_slice(args);
    NodeProcess::spawn(&all)
}

/// `GET path` on `rest`, expecting 200 and JSON.
async fn get_json(rest: SocketAddr, path: &str) -> Value {
    let (status, body) = http(rest, "GET", path, None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// `POST /relay/v1/messages/{topic}` with `m`.
async fn rest_publish(rest: SocketAddr, topic: &str, m: &WakuMessage) {
    let body = json!({
        "payload": B64.encode(&m.payload),
        "contentTopic": m.content_topic,
        "timestamp": m.timestamp,
    });
    let (status, text) = http(
        rest,
        "POST",
        &format!("/relay/v1/messages/{}", enc(topic)),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!((status, text.as_str()), (200, "OK"), "publish on {topic}");
}

/// Drains the REST cache of `topic` on `rest` into `seen`.
async fn drain(rest: SocketAddr, topic: &str, seen: &mut Vec<Value>) {
    let got = get_json(rest, &format!("/relay/v1/messages/{}", enc(topic))).await;
    seen.extend(got.as_array().cloned().unwrap_or_default());
}

/// The payloads (decoded as text) of REST messages.
fn payloads(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            let bytes = B64.decode(m["payload"].as_str().unwrap()).unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        })
        .collect()
}

/// Drains `topic` on `rest` into `seen` until a message with `payload`
/// is among them; panics after [`PATIENCE`].
async fn wait_received(rest: SocketAddr, topic: &str, payload: &str, seen: &mut Vec<Value>) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !payloads(seen).iter().any(|p| p == payload) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{payload:?} never arrived on {topic}; got {:?}",
            payloads(seen)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        drain(rest, topic, seen).await;
    }
}

/// Waits until a message with `payload` arrives on `topic` at `rest`,
/// then 500 ms more, and asserts it is the only message that came.
async fn only_received(rest: SocketAddr, topic: &str, payload: &str) {
    let mut seen = Vec::new();
    wait_received(rest, topic, payload, &mut seen).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain(rest, topic, &mut seen).await;
    assert_eq!(payloads(&seen), [payload]);
}

/// The entry of `peer` in a list of nwaku `WakuPeer`s, found by the
/// `/p2p/<id>` its multiaddr ends with.
fn find_peer<'a>(peers: &'a Value, peer: &PeerId) -> Option<&'a Value> {
    let suffix = format!("/p2p/{peer}");
    peers.as_array()?.iter().find(|p| {
        p["multiaddr"]
            .as_str()
            .is_some_and(|a| a.ends_with(&suffix))
    })
}

/// `GET /admin/v1/peers/{view}/on/{shard}` on `rest`: nwaku's `PeersOfShard`.
async fn peers_on(rest: SocketAddr, view: &str, shard: u16) -> Value {
    let got = get_json(rest, &format!("/admin/v1/peers/{view}/on/{shard}")).await;
    assert_eq!(got["shard"], shard, "{got}");
    got
}

/// Waits until `rest`'s node lists `peer` in its `view` (`relay` or
/// `mesh`) of `shard`.
async fn wait_listed(rest: SocketAddr, view: &str, shard: u16, peer: PeerId) {
    let listed = eventually(PATIENCE, || async move {
        let got = peers_on(rest, view, shard).await;
        find_peer(&got["peers"], &peer).is_some()
    })
    .await;
    assert!(listed, "{peer} never in the {view} peers of shard {shard}");
}

/// A counter of `waku_relay_messages_validated_total` in a metrics page
/// (0 when absent).
fn validated(metrics: &str, outcome: &str, reason: &str) -> u64 {
    let (o, r) = (
        format!("outcome=\"{outcome}\""),
        format!("reason=\"{reason}\""),
    );
    metrics
        .lines()
        .filter(|l| l.starts_with("waku_relay_messages_validated_total{"))
        .filter(|l| l.contains(&o) && l.contains(&r))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// The injector's behaviour: gossipsub on the relay protocol id that
/// accepts and publishes anything, and metadata on our cluster.
#[derive(NetworkBehaviour)]
struct Injector {
    gossipsub: gossipsub::Behaviour,
    metadata: waku_metadata::Behaviour,
}

/// A running injector subscribed to one pubsub topic.
struct RawPeer {
    peer: Peer<Injector>,
    addr: Multiaddr,
    topic: String,
}

impl RawPeer {
    /// Starts an injector listening on 127.0.0.1, subscribed to `topic`
    /// (of shard `shard`).
    async fn spawn(shard: u16) -> Self {
        let keypair = Keypair::generate_ed25519();
        let config = gossipsub::ConfigBuilder::default()
            .protocol_id(RELAY_PROTOCOL_ID, Version::V1_1)
            .validation_mode(ValidationMode::None)
            .message_id_fn(waku_relay::message_id)
            .max_transmit_size(1024 * 1024)
            .heartbeat_initial_delay(Duration::from_millis(100))
            .build()
            .unwrap();
        let shards = waku_metadata::ShardSet::with_shards([shard]).unwrap();
        let behaviour = Injector {
            gossipsub: gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config).unwrap(),
            metadata: waku_metadata::Behaviour::new(
                waku_metadata::Config::new(CLUSTER).with_shards(shards),
            ),
        };
        let swarm = waku_testkit::swarm_with_identity(keypair, behaviour, Duration::from_secs(600));
        let mut peer = Peer::spawn(swarm);
        let addr = peer.listen().await.with(Protocol::P2p(peer.id));
        let topic = topic(shard);
        let t = topic.clone();
        peer.with(move |s| {
            s.behaviour_mut()
                .gossipsub
                .subscribe(&IdentTopic::new(t))
                .unwrap()
        })
        .await;
        Self { peer, addr, topic }
    }

    /// Has the node at `rest` (with `--rest-admin`) dial us, then waits
    /// until each side knows the other is subscribed to our topic.
    async fn connect_from(&self, rest: SocketAddr, node: PeerId, shard: u16) {
        let addrs = json!([self.addr.to_string()]).to_string();
        let (status, body) = http(rest, "POST", "/admin/v1/peers", Some(&addrs)).await;
        assert_eq!(status, 200, "{body}");
        wait_listed(rest, "relay", shard, self.peer.id).await;
        let topic = self.topic.clone();
        let peer = &self.peer;
        let knows = eventually(PATIENCE, || {
            let topic = topic.clone();
            async move {
                peer.with(move |s| {
                    s.behaviour()
                        .gossipsub
                        .all_peers()
                        .any(|(p, ts)| *p == node && ts.iter().any(|t| t.as_str() == topic))
                })
                .await
            }
        })
        .await;
        assert!(knows, "the injector never learnt the node's subscription");
    }

    /// Publishes raw `data` on our topic, without any check.
    async fn send(&self, data: Vec<u8>) {
        let topic = self.topic.clone();
        self.peer
            .with(move |s| {
                s.behaviour_mut()
                    .gossipsub
                    .publish(IdentTopic::new(topic), data)
                    .unwrap()
            })
            .await;
    }
}

/// A process A on one shard (admin REST, metrics), a process B on it with
/// A as static node, and an injector connected to A.
struct InjectedPair {
    a: NodeProcess,
    b: NodeProcess,
    injector: RawPeer,
}

/// Starts an [`InjectedPair`] on `shard`, A with `a_flags` too (B gets
/// none of them); returns once B is in A's mesh.
async fn injected_pair(shard: u16, a_flags: &[&str]) -> InjectedPair {
    let shard_arg = shard.to_string();
    let mut args = vec![
        "--shard",
        shard_arg.as_str(),
        "--rest-admin",
        "--metrics-server",
        "--metrics-server-port",
        "0",
    ];
    args.extend_from_slice(a_flags);
    let a = spawn(&args);
    let a_tcp = a.tcp_addr().to_string();
    let b = spawn(&["--shard", &shard_arg, "--staticnode", &a_tcp]);
    let (ra, injector) = (a.rest_addr(), RawPeer::spawn(shard).await);
    injector.connect_from(ra, peer_id(&a), shard).await;
    wait_listed(ra, "mesh", shard, peer_id(&b)).await;
    InjectedPair { a, b, injector }
}

// spec: NET-020
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_exchange_messages_over_rest_and_only_on_shared_shards() {
    let a = spawn(&["--shard", "0", "--shard", "1", "--rest-admin"]);
    let a_tcp = a.tcp_addr().to_string();
    let b = spawn(&["--shard", "0", "--rest-admin", "--staticnode", &a_tcp]);
    let (ra, rb) = (a.rest_addr(), b.rest_addr());
    let (a_id, b_id) = (peer_id(&a), peer_id(&b));
    let (shard0, shard1) = (topic(0), topic(1));
    wait_listed(ra, "mesh", 0, b_id).await;
    wait_listed(rb, "mesh", 0, a_id).await;

    // The admin relay views, in nwaku's shapes: every subscribed shard, the
    // peer with its score.
    let relay = get_json(ra, "/admin/v1/peers/relay").await;
    let shards: Vec<&Value> = relay
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["shard"])
        .collect();
    assert_eq!(shards.len(), 2, "{relay}");
    assert!(
        shards.contains(&&json!(0)) && shards.contains(&&json!(1)),
        "{relay}"
    );
    for entry in relay.as_array().unwrap() {
        let listed = find_peer(&entry["peers"], &b_id);
        assert_eq!(listed.is_some(), entry["shard"] == 0, "{relay}");
    }
    let mesh = peers_on(ra, "mesh", 0).await;
    let b_entry = find_peer(&mesh["peers"], &b_id).unwrap();
    assert_eq!(b_entry["connected"], "Connected", "{mesh}");
    assert_eq!(b_entry["shards"], json!([0]), "{mesh}");
    assert!(b_entry["score"].is_f64(), "{mesh}");
    assert!(b_entry["protocols"].is_array(), "{mesh}");
    let all_mesh = get_json(ra, "/admin/v1/peers/mesh").await;
    assert_eq!(all_mesh.as_array().unwrap().len(), 2, "{all_mesh}");
    let (status, _) = http(ra, "GET", "/admin/v1/peers/mesh/on/zero", None).await;
    assert_eq!(status, 400);
    // No score in the plain peer list, as in nwaku.
    let peers = get_json(ra, "/admin/v1/peers").await;
    assert!(find_peer(&peers, &b_id).unwrap().get("score").is_none());

    // A -> B, then B -> A.
    let m1 = message("from A");
    rest_publish(ra, &shard0, &m1).await;
    wait_received(rb, &shard0, "from A", &mut Vec::new()).await;
    let m2 = message("from B");
    rest_publish(rb, &shard0, &m2).await;
    wait_received(ra, &shard0, "from B", &mut Vec::new()).await;
    // B's own message entered its cache too (as in nwaku): clear it.
    drain(rb, &shard0, &mut Vec::new()).await;

    // A message on shard 1, which B does not relay, then one more on
    // shard 0: once B has the latter, the former would have arrived too.
    // B neither delivers nor serves shard 1. (That A does not even send it
    // to B is a wire-level fact, checked in waku-relay's ten-node test by an
    // observer that reports every frame it is sent.)
    let m3 = message("shard 1 only");
    rest_publish(ra, &shard1, &m3).await;
    let m4 = message("from A again");
    rest_publish(ra, &shard0, &m4).await;
    only_received(rb, &shard0, "from A again").await;
    let (status, _) = http(
        rb,
        "GET",
        &format!("/relay/v1/messages/{}", enc(&shard1)),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // B delivered exactly A's two shard-0 messages, once each.
    for (m, t, expected) in [(&m1, &shard0, 1), (&m4, &shard0, 1), (&m3, &shard1, 0)] {
        let needle = format!("hash={}", message_hash(t, m));
        assert_eq!(b.count(&needle), expected, "{needle}\n{}", b.log());
    }
    assert_eq!(b.count("relay message delivered"), 2, "{}", b.log());
    assert_eq!(a.count(&format!("hash={}", message_hash(&shard0, &m2))), 1);

    // Without relay, the relay views answer as nwaku's do.
    let light = spawn(&["--relay=false", "--rest-admin"]);
    let (status, body) = http(light.rest_addr(), "GET", "/admin/v1/peers/relay", None).await;
    assert_eq!(
        (status, body.as_str()),
        (503, "Error: Relay Protocol is not mounted to the node")
    );
}

// A stale timestamp is no reason to drop a message for nwaku's relay, nor
// for ours (NET-027's deviation): only the archive keeps its 20 s window.
// spec: NET-011, NET-018, NET-021, NET-022, NET-025, NET-026, NET-027, RELAY-004
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_messages_stop_at_the_first_process_and_stale_ones_pass() {
    let InjectedPair { a, b, injector } = injected_pair(0, &[]).await;
    let (ra, rb, metrics) = (a.rest_addr(), b.rest_addr(), a.metrics_addr());
    let shard0 = topic(0);
    let relay = get_json(ra, "/admin/v1/peers/relay").await;
    let before = find_peer(&relay[0]["peers"], &injector.peer.id).unwrap()["score"]
        .as_f64()
        .unwrap();
    assert!(before >= 0.0, "{relay}");

    injector.send(vec![0xff, 0xff, 0xff, 0x01]).await;
    let mut big = message("");
    big.payload = vec![7u8; 150 * 1024 + 1].into();
    injector.send(big.encode_to_vec()).await;
    let mut stale = message("stale");
    stale.timestamp = Some(now_nanos() - 30_000_000_000);
    injector.send(stale.encode_to_vec()).await;
    injector.send(message("valid").encode_to_vec()).await;

    // B gets the stale and the valid one, which A forwarded after the
    // others: nothing else came before, nothing comes after.
    let mut seen = Vec::new();
    wait_received(rb, &shard0, "valid", &mut seen).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    drain(rb, &shard0, &mut seen).await;
    assert_eq!(payloads(&seen), ["stale", "valid"]);
    assert_eq!(b.count("relay message delivered"), 2, "{}", b.log());

    let (status, page) = http(metrics, "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    for why in [reason::UNDECODABLE, reason::TOO_LARGE] {
        assert_eq!(validated(&page, "reject", why), 1, "{why}\n{page}");
    }
    assert_eq!(
        validated(&page, "reject", reason::TIMESTAMP_OUT_OF_WINDOW),
        0
    );
    assert_eq!(validated(&page, "accept", reason::VALID), 2, "{page}");

    let relay = get_json(ra, "/admin/v1/peers/relay").await;
    let after = find_peer(&relay[0]["peers"], &injector.peer.id).unwrap()["score"]
        .as_f64()
        .unwrap();
    assert!(after < 0.0, "the injector's score is {after}: {relay}");
}

// spec: NET-019, NET-021, NET-022
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protected_shard_process_relays_only_correctly_signed_messages() {
    let shard_key = SigningKey::from_slice(&[11; 32]).unwrap();
    let wrong_key = SigningKey::from_slice(&[12; 32]).unwrap();
    let public = hex::encode(shard_key.verifying_key().to_sec1_bytes());
    let protected = format!("3:{public}");
    // B does not know the key: whatever A forwarded, B would take.
    let InjectedPair { a, b, injector } =
        injected_pair(3, &["--protected-shard", &protected]).await;
    let (ra, rb, metrics) = (a.rest_addr(), b.rest_addr(), a.metrics_addr());
    let shard3 = topic(3);

    injector.send(message("unsigned").encode_to_vec()).await;
    let mut wrong = message("wrong key");
    sign_for_protected_shard(&wrong_key, &shard3, &mut wrong);
    injector.send(wrong.encode_to_vec()).await;
    let mut signed = message("signed");
    sign_for_protected_shard(&shard_key, &shard3, &mut signed);
    injector.send(signed.encode_to_vec()).await;

    only_received(rb, &shard3, "signed").await;
    assert_eq!(b.count("relay message delivered"), 1, "{}", b.log());

    let (_, page) = http(metrics, "GET", "/metrics", None).await;
    assert_eq!(
        validated(&page, "reject", reason::PROTECTED_NO_SIGNATURE),
        1,
        "{page}"
    );
    assert_eq!(
        validated(&page, "reject", reason::PROTECTED_BAD_SIGNATURE),
        1,
        "{page}"
    );
    assert_eq!(validated(&page, "accept", reason::VALID), 1, "{page}");
    let relay = peers_on(ra, "relay", 3).await;
    let score = find_peer(&relay["peers"], &injector.peer.id).unwrap()["score"]
        .as_f64()
        .unwrap();
    assert!(score < 0.0, "the injector's score is {score}: {relay}");
}

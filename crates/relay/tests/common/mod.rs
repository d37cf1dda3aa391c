//! Test support: relay (and other) swarms on 127.0.0.1 TCP with noise and
//! yamux, each driven by its own tokio task and controlled through a handle.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod sniffer;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::StreamExt;
use libp2p::gossipsub::{self, MessageAuthenticity, ValidationMode, Version};
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::{mpsc, oneshot};
use waku_core::{MessageHash, WakuMessage, now_nanos};
use waku_relay::{PubsubTopicName, RELAY_PROTOCOL_ID};

/// How long any condition may take to become true (generous: the test
/// machine may be loaded).
pub const PATIENCE: Duration = Duration::from_secs(20);

type Command<B> = Box<dyn FnOnce(&mut Swarm<B>) + Send>;

/// A running swarm.
pub struct Node<B: NetworkBehaviour> {
    /// Its peer id.
    pub peer_id: PeerId,
    /// Its listen address.
    pub addr: Multiaddr,
    /// Behaviour events, in order.
    pub events: mpsc::UnboundedReceiver<B::ToSwarm>,
    commands: mpsc::UnboundedSender<Command<B>>,
}

impl<B: NetworkBehaviour + Send> Node<B> {
    /// Runs `f` on the swarm (inside its task) and returns the result.
    pub async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Swarm<B>) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Box::new(move |swarm| {
                let _ = tx.send(f(swarm));
            }))
            .expect("swarm task alive");
        rx.await.expect("swarm task answered")
    }

    /// Runs `f` on the behaviour.
    pub async fn behaviour<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut B) -> R + Send + 'static,
    ) -> R {
        self.with(move |s| f(s.behaviour_mut())).await
    }

    /// Dials `other` and waits until the connection is up on both sides.
    pub async fn connect<C: NetworkBehaviour + Send>(&self, other: &Node<C>) {
        let addr = other.addr.clone();
        self.with(move |s| s.dial(addr).unwrap()).await;
        let (me, them) = (self.peer_id, other.peer_id);
        eventually("connection established", || async move {
            self.with(move |s| s.is_connected(&them)).await
                && other.with(move |s| s.is_connected(&me)).await
        })
        .await;
    }

    /// Events received so far, without waiting.
    pub fn drain(&mut self) -> Vec<B::ToSwarm> {
        let mut out = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }
}

/// Starts a swarm with `behaviour` listening on 127.0.0.1.
pub async fn spawn<B>(keypair: Keypair, behaviour: B) -> Node<B>
where
    B: NetworkBehaviour + Send,
{
    let mut swarm = waku_testkit::swarm_with_identity(keypair, behaviour, Duration::from_secs(600));
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let peer_id = *swarm.local_peer_id();
    let (commands, mut command_rx) = mpsc::unbounded_channel::<Command<B>>();
    let (event_tx, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                command = command_rx.recv() => match command {
                    Some(f) => f(&mut swarm),
                    None => break,
                },
                event = swarm.select_next_some() => {
                    if let SwarmEvent::Behaviour(e) = event {
                        let _ = event_tx.send(e);
                    }
                }
            }
        }
    });
    Node {
        peer_id,
        addr,
        events,
        commands,
    }
}

/// The relay configuration for tests: the defaults, except that the IP
/// colocation penalty ignores 127.0.0.1 (every test node shares it).
pub fn relay_config() -> waku_relay::Config {
    waku_relay::Config::default().with_scoring(Some(
        waku_relay::ScoringConfig::nwaku()
            .with_ip_colocation_whitelist(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ))
}

/// A relay node with `config`.
pub async fn spawn_relay(config: waku_relay::Config) -> Node<waku_relay::Behaviour> {
    spawn(
        Keypair::generate_ed25519(),
        waku_relay::Behaviour::new(config).unwrap(),
    )
    .await
}

/// A plain gossipsub node speaking the relay protocol id without any Waku
/// validation: it publishes whatever bytes it is given. `authenticity`
/// decides which of from/seqno/signature/key its messages carry.
pub fn raw_gossipsub(keypair: &Keypair, authenticity: Authenticity) -> gossipsub::Behaviour {
    let (auth, mode) = match authenticity {
        // Accepts anything it receives, so tests can see every field.
        Authenticity::Anonymous => (MessageAuthenticity::Anonymous, ValidationMode::None),
        Authenticity::RandomAuthor => (MessageAuthenticity::RandomAuthor, ValidationMode::None),
        Authenticity::Signed => (
            MessageAuthenticity::Signed(keypair.clone()),
            ValidationMode::Strict,
        ),
    };
    let config = gossipsub::ConfigBuilder::default()
        .protocol_id(RELAY_PROTOCOL_ID, Version::V1_1)
        .validation_mode(mode)
        .message_id_fn(waku_relay::message_id)
        .max_transmit_size(1024 * 1024)
        .heartbeat_initial_delay(Duration::from_millis(100))
        .build()
        .unwrap();
    gossipsub::Behaviour::new(auth, config).unwrap()
}

/// What a raw gossipsub peer puts in its messages.
#[derive(Debug, Clone, Copy)]
pub enum Authenticity {
    /// Nothing (StrictNoSign, like Waku).
    Anonymous,
    /// A random `from` and a `seqno`, no signature.
    RandomAuthor,
    /// `from`, `seqno`, `signature` and `key`.
    Signed,
}

/// A raw gossipsub node.
pub async fn spawn_raw(authenticity: Authenticity) -> Node<gossipsub::Behaviour> {
    let keypair = Keypair::generate_ed25519();
    let behaviour = raw_gossipsub(&keypair, authenticity);
    spawn(keypair, behaviour).await
}

/// Polls `condition` every 50 ms until it holds; panics after [`PATIENCE`].
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if condition().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A message on a content topic, stamped now.
pub fn message(payload: &str) -> WakuMessage {
    let mut m = WakuMessage::new(payload.as_bytes().to_vec(), "/waku-relay-test/1/chat/proto");
    m.timestamp = Some(now_nanos());
    m
}

/// A delivered relay message.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// Pubsub topic.
    pub topic: String,
    /// The message.
    pub message: WakuMessage,
    /// Its hash.
    pub hash: MessageHash,
    /// The forwarding peer.
    pub source: PeerId,
}

/// Keeps only message events.
pub fn messages(events: Vec<waku_relay::Event>) -> Vec<Delivered> {
    events
        .into_iter()
        .filter_map(|e| match e {
            waku_relay::Event::Message {
                pubsub_topic,
                message,
                hash,
                source,
            } => Some(Delivered {
                topic: pubsub_topic,
                message,
                hash,
                source,
            }),
            _ => None,
        })
        .collect()
}

/// Waits until `node` has delivered `n` messages in total (counting those
/// in `seen`), collecting them into `seen`.
pub async fn collect_messages(
    node: &mut Node<waku_relay::Behaviour>,
    seen: &mut Vec<Delivered>,
    n: usize,
) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while seen.len() < n {
        match tokio::time::timeout_at(deadline, node.events.recv()).await {
            Ok(Some(e)) => seen.extend(messages(vec![e])),
            Ok(None) => panic!("event channel closed"),
            Err(_) => panic!(
                "timed out: {} of {n} messages delivered at {}",
                seen.len(),
                node.peer_id
            ),
        }
    }
}

/// Publishes on `topic` (a shard or a topic string), retrying while
/// gossipsub does not yet know a subscribed peer.
pub async fn publish<T: PubsubTopicName + ?Sized>(
    node: &Node<waku_relay::Behaviour>,
    topic: &T,
    msg: WakuMessage,
) -> MessageHash {
    let topic = topic.topic_name().into_owned();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (t, m) = (topic.clone(), msg.clone());
        match node.behaviour(move |r| r.publish(&t, m)).await {
            Ok(hash) => return hash,
            Err(waku_relay::PublishError::NoPeers(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("publish failed: {e}"),
        }
    }
}

/// Waits until `node` has `peer` in its mesh for `topic`.
pub async fn wait_mesh(node: &Node<waku_relay::Behaviour>, topic: &str, peer: PeerId) {
    let t = topic.to_owned();
    eventually("mesh link", || {
        let t = t.clone();
        async move {
            node.behaviour(move |r| r.mesh_peers(&t).contains(&peer))
                .await
        }
    })
    .await;
}

/// Waits until `node` knows `peer` is subscribed to `topic`.
pub async fn wait_relay_peer(node: &Node<waku_relay::Behaviour>, topic: &str, peer: PeerId) {
    let t = topic.to_owned();
    eventually("peer subscription known", || {
        let t = t.clone();
        async move {
            node.behaviour(move |r| {
                r.gossipsub()
                    .all_peers()
                    .any(|(p, topics)| *p == peer && topics.iter().any(|h| h.as_str() == t))
            })
            .await
        }
    })
    .await;
}

/// Waits until a raw gossipsub node knows `peer` is subscribed to `topic`.
pub async fn wait_raw_knows(node: &Node<gossipsub::Behaviour>, topic: &str, peer: PeerId) {
    let t = topic.to_owned();
    eventually("raw peer knows subscription", || {
        let t = t.clone();
        async move {
            node.behaviour(move |g| {
                g.all_peers()
                    .any(|(p, topics)| *p == peer && topics.iter().any(|h| h.as_str() == t))
            })
            .await
        }
    })
    .await;
}

/// Keeps only the messages a raw gossipsub node received.
pub fn raw_messages(events: Vec<gossipsub::Event>) -> Vec<gossipsub::Message> {
    events
        .into_iter()
        .filter_map(|e| match e {
            gossipsub::Event::Message { message, .. } => Some(message),
            _ => None,
        })
        .collect()
}

/// Waits until a raw gossipsub node has received `n` messages in total
/// (counting those in `seen`); it does no validation, so it shows exactly
/// what its peers forward.
pub async fn collect_raw(
    node: &mut Node<gossipsub::Behaviour>,
    seen: &mut Vec<gossipsub::Message>,
    n: usize,
) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while seen.len() < n {
        match tokio::time::timeout_at(deadline, node.events.recv()).await {
            Ok(Some(e)) => seen.extend(raw_messages(vec![e])),
            Ok(None) => panic!("event channel closed"),
            Err(_) => panic!("timed out: {} of {n} messages at the observer", seen.len()),
        }
    }
}

/// A raw gossipsub node subscribed to `topic`, accepting anything: an
/// observer of what its relay peers forward.
pub async fn spawn_observer(topic: &str) -> Node<gossipsub::Behaviour> {
    let node = spawn_raw(Authenticity::Anonymous).await;
    let t = topic.to_owned();
    node.behaviour(move |g| g.subscribe(&gossipsub::IdentTopic::new(t)).unwrap())
        .await;
    node
}

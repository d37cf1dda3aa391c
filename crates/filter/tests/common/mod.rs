//! Helpers shared by the filter tests: peers in their own tasks, the
//! js-waku vectors, and raw-bytes peers standing in for js-waku.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use libp2p::StreamProtocol;
use libp2p::request_response::{OutboundRequestId, ProtocolSupport};
use libp2p::{Multiaddr, PeerId};
use serde_json::Value;
use waku_core::{WakuMessage, now_nanos};

use waku_testkit::raw::{Raw, RawCodec};
pub use waku_testkit::{Peer, swarm};

/// The pubsub topic of the vectors (shard 4 of The Waku Network).
pub const TOPIC: &str = "/waku/2/rs/1/4";
/// The content topic of the vectors.
pub const CONTENT: &str = "/app/1/chat/proto";

/// The filter vectors copied from the js-waku run.
pub const VECTORS: &str = include_str!("../vectors/filter_v2.json");

/// The vector case called `name`.
pub fn vector(name: &str) -> Value {
    waku_testkit::vectors::case(VECTORS, "filter_v2", name)
}

/// The bytes of hex field `field` of vector `name`.
pub fn vector_bytes(name: &str, field: &str) -> Vec<u8> {
    waku_testkit::vectors::case_bytes(VECTORS, "filter_v2", name, field)
}

/// A message stamped now.
pub fn message(content_topic: &str, payload: &[u8]) -> WakuMessage {
    WakuMessage {
        timestamp: Some(now_nanos()),
        ..WakuMessage::new(payload.to_vec(), content_topic)
    }
}

/// A service with `config`, listening on 127.0.0.1.
pub async fn service(
    config: waku_filter::service::Config,
) -> (Peer<waku_filter::service::Behaviour>, Multiaddr) {
    let mut peer = Peer::spawn(swarm(waku_filter::service::Behaviour::new(config)));
    let addr = peer.listen().await;
    (peer, addr)
}

/// The service's settings without a rate limit (tests that are not about
/// it send many requests).
pub fn unlimited() -> waku_filter::service::Config {
    waku_filter::service::Config::default().with_rate_limit(waku_core::RateLimit::UNLIMITED)
}

/// A client connected to the service at `addr` (the client never listens).
pub async fn client(server: PeerId, addr: Multiaddr) -> Peer<waku_filter::client::Behaviour> {
    let mut client = Peer::spawn(swarm(waku_filter::client::Behaviour::new(
        waku_filter::client::Config::default(),
    )));
    client.connect(addr, server).await;
    client
}

/// Runs one request and waits for its outcome.
pub async fn request<F>(
    client: &mut Peer<waku_filter::client::Behaviour>,
    f: F,
) -> Result<(), waku_filter::client::FilterError>
where
    F: FnOnce(&mut waku_filter::client::Behaviour) -> OutboundRequestId + Send + 'static,
{
    let id = client.with(move |s| f(s.behaviour_mut())).await;
    client
        .wait_behaviour("the answer", |e| match e {
            waku_filter::client::Event::Response {
                request, result, ..
            } if request == id => Some(result),
            _ => None,
        })
        .await
}

/// The status of an outcome: 200 for success, the code of a refusal.
pub fn status(result: &Result<(), waku_filter::client::FilterError>) -> u32 {
    match result {
        Ok(()) => 200,
        Err(waku_filter::client::FilterError::Refused { status, .. }) => status.0,
        Err(other) => panic!("no answer: {other}"),
    }
}

/// The code and the description (`status_desc`) of a refusal; panics on
/// anything else.
pub fn refusal(result: &Result<(), waku_filter::client::FilterError>) -> (u32, &str) {
    match result {
        Err(waku_filter::client::FilterError::Refused {
            status,
            description,
        }) => (status.0, description.as_deref().unwrap_or_default()),
        other => panic!("not a refusal: {other:?}"),
    }
}

/// nwaku's answer to a ping, UNSUBSCRIBE or UNSUBSCRIBE_ALL from a peer
/// without subscriptions.
pub const NO_SUBSCRIPTIONS: (u32, &str) = (404, "NOT_FOUND: peer has no subscriptions");

/// Subscribes `client` at `server` to `CONTENT` on `TOPIC`, expecting 200.
pub async fn subscribe(client: &mut Peer<waku_filter::client::Behaviour>, server: PeerId) {
    let result = request(client, move |c| c.subscribe(&server, TOPIC, [CONTENT])).await;
    assert_eq!(status(&result), 200);
}

/// The next pushed message.
pub async fn next_message(
    client: &mut Peer<waku_filter::client::Behaviour>,
) -> (PeerId, String, WakuMessage) {
    client
        .wait_behaviour("a pushed message", |e| match e {
            waku_filter::client::Event::Message {
                peer,
                pubsub_topic,
                message,
            } => Some((peer, pubsub_topic, *message)),
            _ => None,
        })
        .await
}

/// Pushes `message` on `topic` at the service; returns how many pushes
/// started.
pub async fn feed(
    server: &Peer<waku_filter::service::Behaviour>,
    topic: &str,
    message: WakuMessage,
) -> usize {
    let topic = topic.to_owned();
    server
        .with(move |s| s.behaviour_mut().push(&topic, &message))
        .await
}

/// A raw peer (see [`waku_testkit::raw`]) on `protocols`, reading up to
/// 1 MiB; `read_answer`: whether it reads responses. Its requests may wait
/// 10 s.
pub fn raw(
    protocols: impl IntoIterator<Item = (StreamProtocol, ProtocolSupport)>,
    read_answer: bool,
) -> Raw {
    waku_testkit::raw(
        protocols,
        RawCodec {
            read_answer,
            ..RawCodec::default()
        },
        Duration::from_secs(10),
    )
}

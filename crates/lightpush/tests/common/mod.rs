//! Helpers shared by the lightpush tests: peers in their own tasks, the
//! js-waku vectors, and a raw-bytes client standing in for js-waku.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use libp2p::StreamProtocol;
use libp2p::request_response::ProtocolSupport;
use libp2p::swarm::SwarmEvent;
use serde_json::Value;
use waku_core::{MessageValidator, WakuMessage, now_nanos};
use waku_lightpush::PublishFailure;

use waku_testkit::raw::{Raw, RawCodec};
pub use waku_testkit::{Peer, swarm};

/// The lightpush vectors copied from the js-waku run.
pub const VECTORS: &str = include_str!("../vectors/lightpush.json");

/// The vector case called `name`.
pub fn vector(name: &str) -> Value {
    waku_testkit::vectors::case(VECTORS, "lightpush", name)
}

/// The bytes of hex field `field` of vector `name`.
pub fn vector_bytes(name: &str, field: &str) -> Vec<u8> {
    waku_testkit::vectors::case_bytes(VECTORS, "lightpush", name, field)
}

/// A validator that accepts the vectors' 2023 timestamps.
pub fn lenient_validator() -> MessageValidator {
    MessageValidator {
        max_timestamp_skew: Duration::from_secs(100 * 365 * 24 * 3600),
        ..MessageValidator::default()
    }
}

/// A message stamped now.
pub fn message(content_topic: &str, payload: &[u8]) -> WakuMessage {
    WakuMessage {
        timestamp: Some(now_nanos()),
        ..WakuMessage::new(payload.to_vec(), content_topic)
    }
}

/// How the stand-in node answers publish requests.
pub type Answer = fn(&str, &WakuMessage) -> Option<Result<u32, PublishFailure>>;

/// Answers every publish with 3 relay peers.
pub fn three_peers(_: &str, _: &WakuMessage) -> Option<Result<u32, PublishFailure>> {
    Some(Ok(3))
}

/// A service whose stand-in node answers publish requests with `answer`
/// (`None`: leave unanswered), listening on 127.0.0.1.
pub async fn service(
    config: waku_lightpush::service::Config,
    answer: Answer,
) -> (Peer<waku_lightpush::service::Behaviour>, libp2p::Multiaddr) {
    let mut peer = Peer::spawn_with(
        swarm(waku_lightpush::service::Behaviour::new(config)),
        move |s, e| {
            if let SwarmEvent::Behaviour(waku_lightpush::service::Event::PublishRequest {
                id,
                pubsub_topic,
                message,
                ..
            }) = e
                && let Some(result) = answer(pubsub_topic, message)
            {
                assert!(s.behaviour_mut().publish_result(*id, result));
            }
        },
    );
    let addr = peer.listen().await;
    (peer, addr)
}

/// A client connected to `server`.
pub async fn client(
    config: waku_lightpush::client::Config,
    server: &Peer<waku_lightpush::service::Behaviour>,
    addr: libp2p::Multiaddr,
) -> Peer<waku_lightpush::client::Behaviour> {
    let mut client = Peer::spawn(swarm(waku_lightpush::client::Behaviour::new(config)));
    client.connect(addr, server.id).await;
    client
}

/// Pushes and waits for the outcome.
pub async fn push(
    client: &mut Peer<waku_lightpush::client::Behaviour>,
    to: libp2p::PeerId,
    pubsub_topic: Option<&str>,
    message: WakuMessage,
) -> waku_lightpush::client::Event {
    let topic = pubsub_topic.map(str::to_owned);
    let id = client
        .with(move |s| s.behaviour_mut().push(&to, topic, message))
        .await;
    client
        .wait_behaviour("the push outcome", |e| match &e {
            waku_lightpush::client::Event::Pushed { request, .. }
            | waku_lightpush::client::Event::Refused { request, .. }
            | waku_lightpush::client::Event::Failed { request, .. }
                if *request == id =>
            {
                Some(e)
            }
            _ => None,
        })
        .await
}

/// The code of a refusal (`None` for anything else).
pub fn refused_status(event: &waku_lightpush::client::Event) -> Option<u32> {
    match event {
        waku_lightpush::client::Event::Refused { status, .. } => status.map(|s| s.0),
        _ => None,
    }
}

/// A raw client (see [`waku_testkit::raw`]) speaking `protocol`, reading
/// answers of up to 1 MiB until the end of the stream, whose requests may
/// wait up to `timeout`.
pub fn raw(protocol: StreamProtocol, timeout: Duration) -> Raw {
    waku_testkit::raw(
        [(protocol, ProtocolSupport::Outbound)],
        RawCodec::default(),
        timeout,
    )
}

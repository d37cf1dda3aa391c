//! A lightpush client hands a message to a service node, which answers it.
//!
//! Builds two plain `libp2p::Swarm`s (TCP, noise, yamux on 127.0.0.1): a
//! service node running [`waku_lightpush::service::Behaviour`] with
//! autosharding over The Waku Network's shards, and a client running
//! [`waku_lightpush::client::Behaviour`]. The client pushes one message
//! without a pubsub topic; the service derives the shard from the content
//! topic and reports [`waku_lightpush::service::Event::PublishRequest`]. A
//! real node would publish it through relay; here the service answers with
//! `publish_result(id, Ok(1))` (one relay peer reached). The program prints
//! the [`waku_lightpush::client::Event::Pushed`] the client got.
//!
//! Run: `cargo run -p waku-lightpush --example push_client`

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, Swarm, SwarmBuilder, noise, tcp, yamux};
use waku_core::{WakuMessage, now_nanos};
use waku_lightpush::{client, service};
use waku_sharding::{AutoSharding, NetworkConfig};

/// The content topic of the pushed message (autosharded onto a TWN shard).
const CONTENT_TOPIC: &str = "/lightpush-example/1/chat/proto";

/// A swarm over TCP with noise and yamux, running `behaviour`.
fn swarm<B: NetworkBehaviour>(behaviour: B) -> Result<Swarm<B>, Box<dyn Error>> {
    Ok(SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| behaviour)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build())
}

/// Starts listening on a free 127.0.0.1 port and returns the address.
async fn listen<B: NetworkBehaviour>(swarm: &mut Swarm<B>) -> Result<Multiaddr, Box<dyn Error>> {
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            return Ok(address);
        }
    }
}

/// Connects, pushes one message, answers it on the service side and returns
/// a description of the client's outcome.
async fn exchange(
    server: &mut Swarm<service::Behaviour>,
    pusher: &mut Swarm<client::Behaviour>,
) -> Result<String, Box<dyn Error>> {
    let addr = listen(server).await?;
    let server_id = *server.local_peer_id();
    pusher.dial(addr)?;
    let mut pushed_on = None;
    loop {
        tokio::select! {
            event = server.select_next_some() => match event {
                SwarmEvent::Behaviour(service::Event::PublishRequest { id, pubsub_topic, .. }) => {
                    // A node would call relay's publish here and report how
                    // many relay peers got the message.
                    if !server.behaviour_mut().publish_result(id, Ok(1)) {
                        return Err(format!("{id} was abandoned before the answer").into());
                    }
                    pushed_on = Some(pubsub_topic);
                }
                SwarmEvent::Behaviour(service::Event::Refused { status, description, .. }) => {
                    let why = format!("service refused the push: {status} {description}");
                    return Err(why.into());
                }
                _ => {}
            },
            event = pusher.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == server_id => {
                    let mut message = WakuMessage::new(&b"from a light node"[..], CONTENT_TOPIC);
                    // The service refuses messages more than 20 s away from its clock.
                    message.timestamp = Some(now_nanos());
                    // No pubsub topic: the service autoshards the content topic.
                    pusher.behaviour_mut().push(&server_id, None, message);
                }
                SwarmEvent::Behaviour(client::Event::Pushed {
                    peer, version, relay_peer_count, ..
                }) => {
                    let topic = pushed_on.as_deref().unwrap_or("?");
                    return Ok(format!(
                        "{peer} published the message on {topic} over {version:?}, \
                         relay peers: {relay_peer_count:?}"
                    ));
                }
                SwarmEvent::Behaviour(client::Event::Refused { status, description, .. }) => {
                    return Err(format!("push refused: {status:?} {description:?}").into());
                }
                SwarmEvent::Behaviour(client::Event::Failed { error, .. }) => {
                    return Err(error.into());
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error.into()),
                _ => {}
            },
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let config =
        service::Config::default().with_shard_mapper(Arc::new(AutoSharding(NetworkConfig::TWN)));
    let mut server = swarm(service::Behaviour::new(config))?;
    let mut pusher = swarm(client::Behaviour::new(client::Config::default()))?;
    let line = tokio::time::timeout(Duration::from_secs(20), exchange(&mut server, &mut pusher))
        .await
        .map_err(|_| "no lightpush answer within 20 s")??;
    println!("{line}");
    Ok(())
}

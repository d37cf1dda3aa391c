//! A filter light client subscribes at a service node and receives a push.
//!
//! Builds two plain `libp2p::Swarm`s (TCP, noise, yamux on 127.0.0.1): a
//! service node running [`waku_filter::service::Behaviour`] and a light
//! client running [`waku_filter::client::Behaviour`]. The client connects,
//! subscribes to one pubsub topic and content topic, and once the service
//! has accepted the subscription the service side calls `push` with one
//! message (a real node feeds it every message relay delivers). The program
//! prints the [`waku_filter::client::Event::Message`] the client received.
//!
//! Run: `cargo run -p waku-filter --example light_client`

use std::error::Error;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, Swarm, SwarmBuilder, noise, tcp, yamux};
use waku_core::{WakuMessage, now_nanos};
use waku_filter::{client, service};

/// The pubsub topic the client subscribes on (shard 0 of cluster 1).
const PUBSUB_TOPIC: &str = "/waku/2/rs/1/0";
/// The content topic the client subscribes to.
const CONTENT_TOPIC: &str = "/filter-example/1/news/proto";

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

/// Connects, subscribes, pushes one message and returns a description of
/// what the client received.
async fn exchange(
    server: &mut Swarm<service::Behaviour>,
    light: &mut Swarm<client::Behaviour>,
) -> Result<String, Box<dyn Error>> {
    let addr = listen(server).await?;
    let server_id = *server.local_peer_id();
    // The client does not listen: the service pushes over this connection.
    light.dial(addr)?;
    let mut subscription = None;
    loop {
        tokio::select! {
            event = server.select_next_some() => {
                if let SwarmEvent::Behaviour(service::Event::PushFailed { peer, reason }) = event {
                    return Err(format!("push to {peer} failed: {reason}").into());
                }
            }
            event = light.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. }
                    if peer_id == server_id && subscription.is_none() =>
                {
                    let id = light
                        .behaviour_mut()
                        .subscribe(&server_id, PUBSUB_TOPIC, [CONTENT_TOPIC]);
                    subscription = Some(id);
                }
                SwarmEvent::Behaviour(client::Event::Response { request, result, .. })
                    if Some(request) == subscription =>
                {
                    // A refusal (4xx/5xx) or a failed request ends the example.
                    result?;
                    let mut message = WakuMessage::new(&b"filtered news"[..], CONTENT_TOPIC);
                    message.timestamp = Some(now_nanos());
                    // What the node does for every message relay delivers.
                    let pushes = server.behaviour_mut().push(PUBSUB_TOPIC, &message);
                    if pushes != 1 {
                        let why = format!("expected 1 matching subscriber, found {pushes}");
                        return Err(why.into());
                    }
                }
                SwarmEvent::Behaviour(client::Event::Message { peer, pubsub_topic, message }) => {
                    return Ok(format!(
                        "light client received {:?} ({}) on {pubsub_topic} pushed by {peer}",
                        String::from_utf8_lossy(&message.payload),
                        message.content_topic,
                    ));
                }
                SwarmEvent::Behaviour(client::Event::PushDropped { reason, .. }) => {
                    return Err(format!("push dropped: {reason:?}").into());
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error.into()),
                _ => {}
            },
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut server = swarm(service::Behaviour::new(service::Config::default()))?;
    let mut light = swarm(client::Behaviour::new(client::Config::default()))?;
    let line = tokio::time::timeout(Duration::from_secs(20), exchange(&mut server, &mut light))
        .await
        .map_err(|_| "no filter push received within 20 s")??;
    println!("{line}");
    Ok(())
}

//! Two relay nodes on one shard: one publishes a message, the other receives it.
//!
//! Builds two plain `libp2p::Swarm`s (TCP, noise, yamux on 127.0.0.1) whose
//! only behaviour is [`waku_relay::Behaviour`], subscribes both to shard 0 of
//! cluster 1 (`/waku/2/rs/1/0`) and connects them. As soon as the publishing
//! node sees the other one join the shard ([`waku_relay::Event::Subscribed`])
//! it publishes one `WakuMessage`; the program prints what the receiving node
//! got as [`waku_relay::Event::Message`] and exits.
//!
//! Run: `cargo run -p waku-relay --example relay_node`

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, Swarm, SwarmBuilder, noise, tcp, yamux};
use waku_core::{WakuMessage, now_nanos};
use waku_relay::Event;
use waku_sharding::RelayShard;

/// The shard both nodes relay on.
const SHARD: RelayShard = RelayShard::new(1, 0);
/// The content topic of the published message.
const CONTENT_TOPIC: &str = "/relay-example/1/greeting/proto";

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

/// A relay-only node subscribed to [`SHARD`].
fn relay_node() -> Result<Swarm<waku_relay::Behaviour>, Box<dyn Error>> {
    // Both nodes share 127.0.0.1: exempt it from the IP-colocation penalty.
    let scoring = waku_relay::ScoringConfig::nwaku()
        .with_ip_colocation_whitelist(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let config = waku_relay::Config::default().with_scoring(Some(scoring));
    let mut relay = waku_relay::Behaviour::new(config)?;
    relay.subscribe(&SHARD)?;
    swarm(relay)
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

/// Connects the nodes, publishes once the receiver has joined the shard,
/// and returns a description of the delivery.
async fn exchange(
    receiver: &mut Swarm<waku_relay::Behaviour>,
    publisher: &mut Swarm<waku_relay::Behaviour>,
) -> Result<String, Box<dyn Error>> {
    let addr = listen(receiver).await?;
    let receiver_id = *receiver.local_peer_id();
    publisher.dial(addr)?;
    loop {
        tokio::select! {
            event = receiver.select_next_some() => {
                if let SwarmEvent::Behaviour(Event::Message {
                    pubsub_topic, message, source, ..
                }) = event
                {
                    return Ok(format!(
                        "received {:?} ({}) on {pubsub_topic} from {source}",
                        String::from_utf8_lossy(&message.payload),
                        message.content_topic,
                    ));
                }
            }
            event = publisher.select_next_some() => match event {
                // The receiver's subscription reached the publisher: a
                // publication on the shard now has a recipient.
                SwarmEvent::Behaviour(Event::Subscribed { peer, pubsub_topic })
                    if peer == receiver_id && pubsub_topic == SHARD.pubsub_topic() =>
                {
                    let mut message = WakuMessage::new(&b"hello, relay"[..], CONTENT_TOPIC);
                    // Relay refuses messages more than 20 s away from its clock.
                    message.timestamp = Some(now_nanos());
                    publisher.behaviour_mut().publish(&SHARD, message)?;
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error.into()),
                _ => {}
            },
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut receiver = relay_node()?;
    let mut publisher = relay_node()?;
    let line = tokio::time::timeout(
        Duration::from_secs(20),
        exchange(&mut receiver, &mut publisher),
    )
    .await
    .map_err(|_| "no relay message delivered within 20 s")??;
    println!("{line}");
    Ok(())
}

//! A store node fed by its own relay, queried by another node.
//!
//! Builds two plain `libp2p::Swarm`s (TCP, noise, yamux on 127.0.0.1), each
//! running a `waku_relay::Behaviour` and a [`waku_store::Behaviour`] combined
//! with `#[derive(NetworkBehaviour)]`. Node A serves its store from a
//! [`waku_store::MemoryStore`] and writes every message its relay delivers
//! into it through a [`waku_store::Archive`]. Node B (store client only)
//! publishes one message on the shard; once A has archived it, B queries
//! A's store with [`waku_store::StoreQuery::all`] and the program prints how
//! many messages came back.
//!
//! Run: `cargo run -p waku-store --example store_node`

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, Swarm, SwarmBuilder, noise, tcp, yamux};
use waku_core::{WakuMessage, now_nanos};
use waku_relay::Event as RelayEvent;
use waku_store::Event as StoreEvent;
use waku_store::{Archive, MemoryStore, MessageStore, StoreQuery};

/// The shard both nodes relay on (shard 0 of cluster 1).
const SHARD: &str = "/waku/2/rs/1/0";
/// The content topic of the published message.
const CONTENT_TOPIC: &str = "/store-example/1/log/proto";

/// Relay and store side by side; the derive generates `NodeEvent` with the
/// variants `Relay` and `Store`.
#[derive(NetworkBehaviour)]
struct Node {
    relay: waku_relay::Behaviour,
    store: waku_store::Behaviour,
}

/// A node subscribed to [`SHARD`] with the given store behaviour, as a swarm
/// over TCP with noise and yamux.
fn node(store: waku_store::Behaviour) -> Result<Swarm<Node>, Box<dyn Error>> {
    // Both nodes share 127.0.0.1: exempt it from the IP-colocation penalty.
    let scoring = waku_relay::ScoringConfig::nwaku()
        .with_ip_colocation_whitelist(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let mut relay =
        waku_relay::Behaviour::new(waku_relay::Config::default().with_scoring(Some(scoring)))?;
    relay.subscribe(SHARD)?;
    Ok(SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| Node { relay, store })?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build())
}

/// Starts listening on a free 127.0.0.1 port and returns the address.
async fn listen(swarm: &mut Swarm<Node>) -> Result<Multiaddr, Box<dyn Error>> {
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            return Ok(address);
        }
    }
}

/// B publishes through relay, A archives what relay delivers, then B queries
/// A's store; returns a description of the answer.
async fn exchange(
    a: &mut Swarm<Node>,
    b: &mut Swarm<Node>,
    archive: Archive,
) -> Result<String, Box<dyn Error>> {
    let addr = listen(a).await?;
    let a_id = *a.local_peer_id();
    b.dial(addr)?;
    let mut archived = None;
    loop {
        tokio::select! {
            event = a.select_next_some() => {
                // The node's job: every relayed message goes to the archive.
                if let SwarmEvent::Behaviour(NodeEvent::Relay(RelayEvent::Message {
                    pubsub_topic, message, ..
                })) = event
                {
                    let ingested = archive.handle_message(&pubsub_topic, message).await?;
                    archived = Some(ingested.hash());
                    b.behaviour_mut().store.send_query(&a_id, &StoreQuery::all());
                }
            }
            event = b.select_next_some() => match event {
                // A joined the shard: B's publication now has a recipient.
                SwarmEvent::Behaviour(NodeEvent::Relay(RelayEvent::Subscribed {
                    peer, pubsub_topic,
                })) if peer == a_id && pubsub_topic == SHARD => {
                    let mut message = WakuMessage::new(&b"worth keeping"[..], CONTENT_TOPIC);
                    // The store keeps only messages within 20 s of its clock.
                    message.timestamp = Some(now_nanos());
                    b.behaviour_mut().relay.publish(SHARD, message)?;
                }
                SwarmEvent::Behaviour(NodeEvent::Store(StoreEvent::QueryResult {
                    peer_id, result, ..
                })) => {
                    let response = result?;
                    let hash = archived.map(|h| h.to_string()).unwrap_or_default();
                    return Ok(format!(
                        "node A archived relayed message {hash}; \
                         node B's store query to {peer_id} returned {} message(s)",
                        response.messages().count()
                    ));
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => return Err(error.into()),
                _ => {}
            },
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let store: Arc<dyn MessageStore> = Arc::new(MemoryStore::new());
    let archive = Archive::new(Arc::clone(&store));
    let config = waku_store::Config::default();
    let mut a = node(waku_store::Behaviour::new(store, config.clone()))?;
    let mut b = node(waku_store::Behaviour::client(config))?;
    let line = tokio::time::timeout(Duration::from_secs(20), exchange(&mut a, &mut b, archive))
        .await
        .map_err(|_| "no store answer within 20 s")??;
    println!("{line}");
    Ok(())
}

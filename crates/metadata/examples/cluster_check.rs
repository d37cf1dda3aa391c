//! Metadata exchange between two nodes of one cluster, and a node of another
//! cluster being disconnected.
//!
//! Builds plain `libp2p::Swarm`s (TCP, noise, yamux on 127.0.0.1) running
//! only [`waku_metadata::Behaviour`]. Nodes A and B, both on cluster 1 with
//! different shards, connect and tell each other their cluster and shards
//! ([`waku_metadata::Event::Received`]). Then B leaves and node C, on cluster
//! 2, connects to A; A enforces its cluster ([`waku_metadata::Event::Rejected`])
//! and closes the connection. The program prints one line with both outcomes.
//!
//! Run: `cargo run -p waku-metadata --example cluster_check`

use std::error::Error;
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, SwarmBuilder, noise, tcp, yamux};
use waku_metadata::{Behaviour, Config, Event, PeerMetadata, ShardSet};

/// A metadata node with `config`, as a swarm over TCP with noise and yamux.
fn node(config: Config) -> Result<Swarm<Behaviour>, Box<dyn Error>> {
    Ok(SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_behaviour(|_| Behaviour::new(config))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build())
}

/// Starts listening on a free 127.0.0.1 port and returns the address.
async fn listen(swarm: &mut Swarm<Behaviour>) -> Result<Multiaddr, Box<dyn Error>> {
    swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            return Ok(address);
        }
    }
}

/// "cluster 1, shards {0, 4}".
fn describe(metadata: &PeerMetadata) -> String {
    let cluster = match metadata.cluster_id {
        Some(id) => id.to_string(),
        None => "none".to_owned(),
    };
    format!("cluster {cluster}, shards {:?}", metadata.shards)
}

/// The metadata `event` reports about `peer`, if it is such an event.
fn received_from(event: SwarmEvent<Event>, peer: PeerId) -> Option<PeerMetadata> {
    match event {
        SwarmEvent::Behaviour(Event::Received {
            peer_id, metadata, ..
        }) if peer_id == peer => Some(metadata),
        _ => None,
    }
}

/// A and B exchange metadata; returns what each learned about the other.
async fn same_cluster(
    a: &mut Swarm<Behaviour>,
    b: &mut Swarm<Behaviour>,
    addr: Multiaddr,
) -> Result<String, Box<dyn Error>> {
    let (a_id, b_id) = (*a.local_peer_id(), *b.local_peer_id());
    b.dial(addr)?;
    let (mut a_saw, mut b_saw) = (None, None);
    loop {
        tokio::select! {
            event = a.select_next_some() => a_saw = a_saw.or(received_from(event, b_id)),
            event = b.select_next_some() => {
                if let SwarmEvent::OutgoingConnectionError { error, .. } = event {
                    return Err(error.into());
                }
                b_saw = b_saw.or(received_from(event, a_id));
            }
        }
        if let (Some(of_b), Some(of_a)) = (&a_saw, &b_saw) {
            return Ok(format!(
                "A learned B is on {}; B learned A is on {}",
                describe(of_b),
                describe(of_a)
            ));
        }
    }
}

/// C (another cluster) connects to A; returns why A disconnected it.
async fn other_cluster(
    a: &mut Swarm<Behaviour>,
    c: &mut Swarm<Behaviour>,
    addr: Multiaddr,
) -> Result<String, Box<dyn Error>> {
    let c_id = *c.local_peer_id();
    c.dial(addr)?;
    let (mut reason, mut closed) = (None, false);
    while reason.is_none() || !closed {
        tokio::select! {
            event = a.select_next_some() => match event {
                SwarmEvent::Behaviour(Event::Rejected { peer_id, reason: why })
                    if peer_id == c_id =>
                {
                    reason = Some(why.to_string());
                }
                SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. }
                    if peer_id == c_id =>
                {
                    closed = true;
                }
                _ => {}
            },
            event = c.select_next_some() => {
                if let SwarmEvent::OutgoingConnectionError { error, .. } = event {
                    return Err(error.into());
                }
            }
        }
    }
    Ok(format!("A disconnected C ({})", reason.unwrap_or_default()))
}

/// Both scenarios, one after the other; B leaves before C arrives.
async fn scenario(
    mut a: Swarm<Behaviour>,
    mut b: Swarm<Behaviour>,
    mut c: Swarm<Behaviour>,
) -> Result<String, Box<dyn Error>> {
    let addr = listen(&mut a).await?;
    let exchanged = same_cluster(&mut a, &mut b, addr.clone()).await?;
    drop(b);
    let rejected = other_cluster(&mut a, &mut c, addr).await?;
    Ok(format!("{exchanged}; {rejected}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let a = node(Config::new(1).with_shards(ShardSet::with_shards([0, 4])?))?;
    let b = node(Config::new(1).with_shards(ShardSet::with_shards([0, 3])?))?;
    // C does not enforce, so only A's enforcement closes the connection.
    let c = node(
        Config::new(2)
            .with_shards(ShardSet::with_shards([0])?)
            .with_enforce_cluster(false),
    )?;
    let line = tokio::time::timeout(Duration::from_secs(20), scenario(a, b, c))
        .await
        .map_err(|_| "metadata exchange did not finish within 20 s")??;
    println!("{line}");
    Ok(())
}

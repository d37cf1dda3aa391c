//! Peer exchange between a service node and a light client.
//!
//! Builds plain `libp2p::Swarm`s (TCP, noise, yamux on 127.0.0.1). The
//! service runs [`service::Behaviour`] and is fed ten ENRs, as a node would
//! feed it from discv5; the client runs [`client::Behaviour`], connects and
//! asks for four peers. The program prints the addresses it learned.
//!
//! Run: `cargo run -p waku-discovery --example peer_exchange`

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Swarm, SwarmBuilder, noise, tcp, yamux};
use waku_discovery::dns::SigningKey;
use waku_discovery::peer_exchange::{client, service};
use waku_enr::WakuEnrBuilder;

/// A swarm over TCP with noise and yamux running `behaviour`.
fn node<B: NetworkBehaviour>(behaviour: B) -> Result<Swarm<B>, Box<dyn Error>> {
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The service, with ten records to hand out.
    let mut px = service::Behaviour::new(service::Config::default());
    for n in 1..=10u8 {
        let key = SigningKey::from_slice(&[n; 32])?;
        let enr = WakuEnrBuilder::new()
            .ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, n)))
            .tcp(60000)
            .build(&key)?;
        px.add_record(enr);
    }
    let mut server = node(px)?;
    server.listen_on("/ip4/127.0.0.1/tcp/0".parse()?)?;
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = server.select_next_some().await {
            break address;
        }
    };
    let server_id = *server.local_peer_id();

    // The client asks it for four peers.
    let mut light = node(client::Behaviour::new(client::Config::default()))?;
    // The request dials the service with the address we give the swarm.
    light.add_peer_address(server_id, addr);
    light.behaviour_mut().request(&server_id, 4);
    let enrs = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            tokio::select! {
                _ = server.select_next_some() => {}
                event = light.select_next_some() => match event {
                    SwarmEvent::Behaviour(client::Event::Received { enrs, .. }) => return Ok(enrs),
                    SwarmEvent::Behaviour(client::Event::Failed { error, .. }) => return Err(error),
                    _ => {}
                },
            }
        }
    })
    .await??;
    println!("received {} peers:", enrs.len());
    for enr in enrs {
        let addrs: Vec<String> = enr
            .dial_addresses()
            .iter()
            .map(ToString::to_string)
            .collect();
        println!("  {} {}", enr.peer_id(), addrs.join(" "));
    }
    Ok(())
}

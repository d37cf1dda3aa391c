//! Resident memory of one idle relay node.
//!
//! Starts a peer relay in a child process (so its memory is not counted),
//! then builds one relay node here (TCP + noise + yamux, current-thread
//! tokio runtime), subscribes it to a shard, connects it to the peer, lets
//! the mesh form, idles 5 s and prints `VmRSS` / `VmHWM` from
//! `/proc/self/status`.
//!
//! Run: `cargo run --release -p waku-relay --example idle_rss`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, Swarm};

const SHARD: &str = "/waku/2/rs/1/0";

fn swarm() -> Swarm<waku_relay::Behaviour> {
    let config = waku_relay::Config::default().with_scoring(Some(
        waku_relay::ScoringConfig::nwaku()
            .with_ip_colocation_whitelist(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    ));
    let mut relay = waku_relay::Behaviour::new(config).unwrap();
    relay.subscribe(SHARD).unwrap();
    waku_testkit::swarm_with_identity(Keypair::generate_ed25519(), relay, Duration::from_secs(600))
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child mode: listen, print the address, serve until killed by the parent.
async fn peer() {
    let mut swarm = swarm();
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            println!("{address}");
            break;
        }
    }
    loop {
        swarm.select_next_some().await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("--peer") {
        peer().await;
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--peer")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let peer_addr: Multiaddr = line.trim().parse().unwrap();

    let before = status_kib("VmRSS:");
    let mut swarm = swarm();
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    swarm.dial(peer_addr).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut meshed = false;
    while Instant::now() < deadline || !meshed {
        tokio::select! {
            _ = swarm.select_next_some() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        meshed = !swarm.behaviour().mesh_peers(SHARD).is_empty();
        assert!(
            Instant::now() < deadline + Duration::from_secs(20),
            "no mesh peer"
        );
    }
    println!(
        "idle relay node (1 peer in mesh, 5 s idle): VmRSS {} KiB ({:.1} MiB), VmHWM {} KiB, RSS before building the node {} KiB",
        status_kib("VmRSS:"),
        status_kib("VmRSS:") as f64 / 1024.0,
        status_kib("VmHWM:"),
        before
    );
    let _ = child.kill();
    let _ = child.wait();
}

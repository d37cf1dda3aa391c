//! discv5 on loopback: nodes that know one bootstrap record find each
//! other, and the record filter keeps other clusters and other shards out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use enr::k256::ecdsa::SigningKey;
use libp2p::PeerId;
use tokio::sync::mpsc;
use waku_discovery::discv5::{Candidate, Config, Discv5Service, RecordFilter, Rejection};
use waku_enr::{Capabilities, WakuEnr, WakuEnrBuilder};
use waku_sharding::RelayShards;

/// A fresh secp256k1 key.
fn random_key() -> SigningKey {
    loop {
        if let Ok(key) = SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
            return key;
        }
    }
}

/// A UDP port free right now on loopback.
fn free_udp_port() -> u16 {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct TestNode {
    service: Discv5Service,
    candidates: mpsc::Receiver<Candidate>,
    enr: WakuEnr,
}

/// A node on `cluster` relaying `shards`, listening on a free UDP port,
/// keeping what `filter` accepts, bootstrapped from `bootstrap`.
async fn node(
    cluster: u16,
    shards: &[u16],
    filter: RecordFilter,
    bootstrap: Option<&WakuEnr>,
) -> TestNode {
    let key = random_key();
    let port = free_udp_port();
    let enr = WakuEnrBuilder::new()
        .ip(Ipv4Addr::LOCALHOST.into())
        .tcp(port)
        .udp(port)
        .capabilities(Capabilities::RELAY)
        .shards(RelayShards::new(cluster, shards.iter().copied()))
        .build_for_discv5(&key)
        .unwrap();
    let config = Config::new(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), filter)
        .with_bootstrap(bootstrap.cloned())
        .with_lookup_interval(Duration::from_millis(300));
    let (service, candidates) = Discv5Service::start(&enr, &key, config).await.unwrap();
    TestNode {
        service,
        candidates,
        enr,
    }
}

/// Reads candidates for `within` and returns the peers seen.
async fn collect(rx: &mut mpsc::Receiver<Candidate>, seen: &mut HashSet<PeerId>, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(c)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        assert!(
            c.addrs
                .iter()
                .all(|a| a.to_string().ends_with(&c.peer_id.to_string())),
            "{:?}",
            c.addrs
        );
        seen.insert(c.peer_id);
    }
}

// spec: DISC-001, DISC-002, DISC-004
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_nodes_find_each_other_from_one_bootstrap_record() {
    let filter = RecordFilter::new(7);
    let boot = node(7, &[0], filter.clone(), None).await;
    let mut nodes = vec![boot];
    for _ in 0..19 {
        let b = nodes[0].enr.clone();
        nodes.push(node(7, &[0], filter.clone(), Some(&b)).await);
    }
    let all: HashSet<PeerId> = nodes.iter().map(|n| n.enr.peer_id()).collect();
    let mut seen: Vec<HashSet<PeerId>> = vec![HashSet::new(); nodes.len()];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        for (n, s) in nodes.iter_mut().zip(seen.iter_mut()) {
            collect(&mut n.candidates, s, Duration::from_millis(50)).await;
        }
        let done = nodes
            .iter()
            .zip(&seen)
            .all(|(n, s)| s.len() == all.len() - 1 && !s.contains(&n.enr.peer_id()));
        if done {
            return;
        }
    }
    let counts: Vec<usize> = seen.iter().map(HashSet::len).collect();
    panic!("not every node found the other 19: {counts:?}");
}

// spec: DISC-003
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_clusters_and_other_shards_are_never_candidates() {
    let boot = node(7, &[0, 1], RecordFilter::new(7), None).await;
    let b = boot.enr.clone();
    // A dedicated-shard project on shard 5 of cluster 7 keeps only shard 5.
    let mut dedicated = node(7, &[5], RecordFilter::new(7).with_shards([5]), Some(&b)).await;
    let same_shard = node(7, &[5], RecordFilter::new(7), Some(&b)).await;
    let other_shard = node(7, &[1], RecordFilter::new(7), Some(&b)).await;
    let other_cluster = node(8, &[5], RecordFilter::new(8), Some(&b)).await;

    let mut seen = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains(&same_shard.enr.peer_id()) && tokio::time::Instant::now() < deadline {
        collect(
            &mut dedicated.candidates,
            &mut seen,
            Duration::from_millis(200),
        )
        .await;
    }
    // Give the other records time to arrive too, had they passed.
    collect(&mut dedicated.candidates, &mut seen, Duration::from_secs(2)).await;
    assert!(seen.contains(&same_shard.enr.peer_id()), "{seen:?}");
    assert!(!seen.contains(&other_shard.enr.peer_id()));
    assert!(!seen.contains(&other_cluster.enr.peer_id()));
    // The bootstrap node relays shards 0 and 1 only.
    assert!(!seen.contains(&boot.enr.peer_id()));
    drop((other_shard, other_cluster));
}

// spec: DISC-003
#[test]
fn the_filter_names_why_a_record_is_skipped() {
    let key = random_key();
    let build = |caps: Capabilities, cluster: u16, shards: &[u16]| {
        WakuEnrBuilder::new()
            .ip(Ipv4Addr::LOCALHOST.into())
            .tcp(60000)
            .udp(9000)
            .capabilities(caps)
            .shards(RelayShards::new(cluster, shards.iter().copied()))
            .build(&key)
            .unwrap()
    };
    let filter = RecordFilter::new(1).with_shards([0, 1]);
    assert_eq!(
        filter.check(&build(Capabilities::RELAY, 1, &[1, 4])),
        Ok(())
    );
    assert_eq!(
        filter.check(&build(Capabilities::RELAY, 1, &[4])),
        Err(Rejection::NoCommonShard)
    );
    assert_eq!(
        filter.check(&build(Capabilities::RELAY, 2, &[0])),
        Err(Rejection::OtherCluster {
            found: Some(2),
            ours: 1
        })
    );
    let no_waku2 = WakuEnrBuilder::new()
        .ip(Ipv4Addr::LOCALHOST.into())
        .udp(9000)
        .build(&key)
        .unwrap();
    assert_eq!(filter.check(&no_waku2), Err(Rejection::NotWaku));
}

/// A bare discv5 node with protocol id `id`, on a free loopback port.
async fn bare_discv5(id: [u8; 6]) -> discv5::Discv5 {
    let key = random_key();
    let port = free_udp_port();
    let combined = enr::CombinedKey::Secp256k1(key);
    let enr = enr::Enr::builder()
        .ip4(Ipv4Addr::LOCALHOST)
        .udp4(port)
        .build(&combined)
        .unwrap();
    let mut config = discv5::ConfigBuilder::new(discv5::ListenConfig::from_ip(
        Ipv4Addr::LOCALHOST.into(),
        port,
    ));
    config
        .protocol_identity(discv5::ProtocolIdentity {
            protocol_id: id,
            protocol_version: 1u16.to_be_bytes(),
        })
        .request_timeout(Duration::from_millis(500))
        .request_retries(1);
    let mut d = discv5::Discv5::new(enr, combined, config.build()).unwrap();
    d.start().await.unwrap();
    d
}

// spec: DISC-001
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_d5waku_packets_are_answered() {
    let ours = node(7, &[0], RecordFilter::new(7), None).await;
    let ours_enr: discv5::Enr = ours.enr.encode().parse().unwrap();
    let waku = bare_discv5(*b"d5waku").await;
    assert!(waku.send_ping(ours_enr.clone()).await.is_ok());
    let ethereum = bare_discv5(*b"discv5").await;
    assert!(ethereum.send_ping(ours_enr).await.is_err());
    assert_eq!(ours.service.table_len(), 1, "only the d5waku node got in");
}

/// A node that joins a shard writes it into its record: the same field
/// (`rs`), the next `seq`, still signed by its key; a node filtering for
/// that shard now accepts the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_shards_rewrites_the_record_with_the_next_seq() {
    let a = node(7, &[1], RecordFilter::new(7), None).await;
    let before = a.service.local_enr().unwrap();
    let dedicated = RecordFilter::new(7).with_shards([5]);
    assert!(dedicated.check(&before).is_err());

    let after = a.service.set_shards(&RelayShards::new(7, [1, 5])).unwrap();
    assert_eq!(after.seq(), before.seq() + 1);
    assert_eq!(after.shards(), Some(RelayShards::new(7, [1, 5])));
    assert!(!after.has_conflicting_shard_fields());
    assert_eq!(after.peer_id(), before.peer_id());
    assert!(dedicated.check(&after).is_ok());
    assert_eq!(a.service.local_enr(), Some(after));
}

//! Peer exchange over real libp2p swarms on 127.0.0.1 (TCP, noise, yamux).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{enr, enrs, identity};
use libp2p::PeerId;
use waku_core::RateLimit;
use waku_discovery::peer_exchange::{StatusCode, client, service};
use waku_enr::WakuEnr;
use waku_testkit::{Peer, swarm, swarm_with_identity};

type Server = Peer<service::Behaviour>;
type Client = Peer<client::Behaviour>;

async fn server(config: service::Config, records: Vec<WakuEnr>) -> (Server, libp2p::Multiaddr) {
    let mut behaviour = service::Behaviour::new(config);
    for record in records {
        behaviour.add_record(record);
    }
    let mut server = Peer::spawn(swarm(behaviour));
    let addr = server.listen().await;
    (server, addr)
}

async fn connected_client(server: &Server, addr: libp2p::Multiaddr) -> Client {
    let mut client = Peer::spawn(swarm(client::Behaviour::new(client::Config::default())));
    client.connect(addr, server.id).await;
    client
}

async fn ask(client: &mut Client, peer: PeerId, num_peers: u64) -> client::Event {
    let id = client
        .with(move |s| s.behaviour_mut().request(&peer, num_peers))
        .await;
    client
        .wait_behaviour("the peer-exchange answer", |e| match &e {
            client::Event::Received { request, .. } | client::Event::Failed { request, .. }
                if *request == id =>
            {
                Some(e)
            }
            _ => None,
        })
        .await
}

fn received(event: client::Event) -> Vec<WakuEnr> {
    match event {
        client::Event::Received { enrs, skipped, .. } => {
            assert!(skipped.is_empty(), "{skipped:?}");
            enrs
        }
        other => panic!("expected ENRs, got {other:?}"),
    }
}

fn ids(enrs: &[WakuEnr]) -> BTreeSet<[u8; 32]> {
    enrs.iter().map(WakuEnr::node_id_bytes).collect()
}

// spec: PX-001, PX-002, PX-003, PX-006
#[tokio::test]
async fn a_client_gets_verified_enrs_from_the_cache() {
    let fed = enrs(1..11);
    let (mut server, addr) = server(service::Config::default(), fed.clone()).await;
    let mut client = connected_client(&server, addr).await;
    let got = received(ask(&mut client, server.id, 5).await);
    assert_eq!(got.len(), 5);
    assert!(ids(&got).is_subset(&ids(&fed)));
    // The addresses to dial come out of the ENRs.
    assert!(got.iter().all(|e| !e.dial_addresses().is_empty()));
    let answered = server.wait_behaviour("the service event", Some).await;
    assert_eq!(
        answered,
        service::Event::Answered {
            peer: client.id,
            requested: 5,
            sent: 5
        }
    );
}

// spec: PX-010
#[tokio::test]
async fn answers_hold_at_most_num_peers_and_the_configured_maximum() {
    let config = service::Config::default().with_max_peers_per_response(3);
    let (server, addr) = server(config, enrs(1..21)).await;
    let mut client = connected_client(&server, addr).await;
    assert_eq!(received(ask(&mut client, server.id, 100).await).len(), 3);
    assert_eq!(received(ask(&mut client, server.id, 2).await).len(), 2);
    assert_eq!(received(ask(&mut client, server.id, 0).await).len(), 0);
    assert_eq!(
        received(ask(&mut client, server.id, u64::MAX).await).len(),
        3
    );
}

// spec: PX-004, PX-014
#[tokio::test]
async fn an_empty_cache_answers_200_with_no_peers_not_its_connections() {
    let (server, addr) = server(service::Config::default(), Vec::new()).await;
    let mut client = connected_client(&server, addr.clone()).await;
    // Another connected peer: connections are never handed out.
    let _other = connected_client(&server, addr).await;
    assert!(received(ask(&mut client, server.id, 10).await).is_empty());
}

// spec: PX-004
#[tokio::test]
async fn the_requester_never_gets_its_own_record() {
    // The client's libp2p identity is the key of enr(1).
    let (server, addr) = server(service::Config::default(), enrs(1..4)).await;
    let behaviour = client::Behaviour::new(client::Config::default());
    let mut client = Peer::spawn(swarm_with_identity(
        identity(1),
        behaviour,
        Duration::from_secs(300),
    ));
    assert_eq!(client.id, enr(1).peer_id());
    client.connect(addr, server.id).await;
    for _ in 0..5 {
        let got = received(ask(&mut client, server.id, 10).await);
        assert_eq!(ids(&got), ids(&enrs(2..4)));
    }
}

// spec: PX-013, PX-014
#[tokio::test]
async fn a_requester_over_its_rate_gets_429() {
    let config =
        service::Config::default().with_rate_limit(RateLimit::new(2, Duration::from_secs(3600)));
    let (mut server, addr) = server(config, enrs(1..5)).await;
    let mut greedy = connected_client(&server, addr.clone()).await;
    let mut polite = connected_client(&server, addr).await;
    for _ in 0..2 {
        assert_eq!(received(ask(&mut greedy, server.id, 2).await).len(), 2);
    }
    match ask(&mut greedy, server.id, 2).await {
        client::Event::Failed {
            error: client::RequestError::Refused { status, .. },
            ..
        } => assert_eq!(status, StatusCode::TOO_MANY_REQUESTS),
        other => panic!("expected 429, got {other:?}"),
    }
    let greedy_id = greedy.id;
    server
        .wait_behaviour("the refusal", |e| match e {
            service::Event::Refused { peer, status, .. } if peer == greedy_id => Some(status),
            _ => None,
        })
        .await;
    // Another peer has its own budget.
    assert_eq!(received(ask(&mut polite, server.id, 2).await).len(), 2);
}

// spec: PX-008
#[tokio::test]
async fn answers_are_random_samples_of_the_cache() {
    let (server, addr) = server(service::Config::default(), enrs(1..31)).await;
    let mut client = connected_client(&server, addr).await;
    let mut seen = BTreeSet::new();
    for _ in 0..8 {
        let got = received(ask(&mut client, server.id, 5).await);
        assert_eq!(ids(&got).len(), 5, "no repeats within one answer");
        seen.extend(ids(&got));
    }
    assert!(
        seen.len() > 10,
        "only {} distinct records in 8 answers",
        seen.len()
    );
}

// spec: PX-009
#[tokio::test]
async fn records_expire_after_their_ttl() {
    let config = service::Config::default().with_record_ttl(Duration::from_millis(300));
    let (server, addr) = server(config, enrs(1..4)).await;
    let mut client = connected_client(&server, addr).await;
    assert_eq!(received(ask(&mut client, server.id, 10).await).len(), 3);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // One record renewed: only it is left.
    server.with(|s| s.behaviour_mut().add_record(enr(2))).await;
    let got = received(ask(&mut client, server.id, 10).await);
    assert_eq!(ids(&got), ids(&[enr(2)]));
}

// spec: PX-009
#[test]
fn a_full_cache_drops_its_oldest_record() {
    let mut cache = service::EnrCache::new(3, Duration::from_secs(60));
    let t0 = Instant::now();
    for (i, record) in enrs(1..6).into_iter().enumerate() {
        assert!(cache.insert(record, t0 + Duration::from_secs(i as u64)));
    }
    assert_eq!(cache.len(), 3);
    let kept: BTreeSet<_> = cache.records().map(WakuEnr::node_id_bytes).collect();
    assert_eq!(kept, ids(&enrs(3..6)));
    // A record of a node already cached replaces it (no growth).
    assert!(cache.insert(enr(5), t0 + Duration::from_secs(10)));
    assert_eq!(cache.len(), 3);
    // Everything is gone past the age limit.
    assert!(
        cache
            .sample(10, t0 + Duration::from_secs(100), None)
            .is_empty()
    );
    assert!(cache.is_empty());
}

// spec: PX-011
#[test]
fn the_default_cache_holds_at_least_60_records() {
    let config = service::Config::default();
    assert!(config.cache_size() >= 60);
    assert_eq!(config.max_peers_per_response(), 60);
    assert!(config.rate_limit().is_unlimited());
}

// spec: PX-012
#[tokio::test]
async fn a_client_can_ask_several_services_at_once() {
    let (a, a_addr) = server(service::Config::default(), enrs(1..4)).await;
    let (b, b_addr) = server(service::Config::default(), enrs(10..14)).await;
    let mut client = connected_client(&a, a_addr).await;
    client.connect(b_addr, b.id).await;
    let (a_id, b_id) = (a.id, b.id);
    let (ra, rb) = client
        .with(move |s| {
            (
                s.behaviour_mut().request(&a_id, 10),
                s.behaviour_mut().request(&b_id, 10),
            )
        })
        .await;
    let mut got = Vec::new();
    while got.len() < 2 {
        let event = client.wait_behaviour("answers", Some).await;
        if let client::Event::Received { request, enrs, .. } = event {
            got.push((request, enrs.len()));
        }
    }
    got.sort_by_key(|(r, _)| *r);
    let mut want = vec![(ra, 3), (rb, 4)];
    want.sort_by_key(|(r, _)| *r);
    assert_eq!(got, want);
}

//! Two nodes of the same cluster exchange metadata over real swarms.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Ev, drive, is_ping_ok, listen, metadata_event, node, until};
use libp2p::swarm::SwarmEvent;
use waku_metadata::{Config, Event, Origin, PeerMetadata, ShardSet};

fn md(cluster: u32, shards: &[u32]) -> PeerMetadata {
    PeerMetadata::new(Some(cluster), shards.iter().copied())
}

/// Collected `Received` events of one side: (origin, metadata).
type Seen = Vec<(Origin, PeerMetadata)>;

fn record(seen: &mut Seen, ev: Option<Event>) {
    if let Some(Event::Received {
        metadata, origin, ..
    }) = ev
    {
        seen.push((origin, metadata));
    }
}

// spec: META-001, META-004, META-005, META-008, META-014, META-015, NET-002
#[tokio::test]
async fn both_sides_ask_and_remember_each_other() {
    let mut a = node(Config::new(1).with_shards(ShardSet::with_shards([0, 4]).unwrap()));
    let mut b = node(Config::new(1).with_shards(ShardSet::with_shards([2]).unwrap()));
    let addr = listen(&mut a).await;
    b.dial(addr).unwrap();
    let (pa, pb) = (*a.local_peer_id(), *b.local_peer_id());

    let (mut seen_a, mut seen_b) = (Seen::new(), Seen::new());
    drive(&mut a, &mut b, "metadata both ways", |_, _, ev| {
        match ev {
            Ev::A(e) => record(&mut seen_a, metadata_event(e)),
            Ev::B(e) => record(&mut seen_b, metadata_event(e)),
            Ev::Tick => {}
        }
        let has = |s: &Seen, o| s.iter().any(|(origin, _)| *origin == o);
        has(&seen_a, Origin::Request)
            && has(&seen_a, Origin::Response)
            && has(&seen_b, Origin::Request)
            && has(&seen_b, Origin::Response)
    })
    .await;

    // A (the listener, inbound side) asked B and was asked by B, and the
    // other way round: both carried the sender's own metadata.
    for (origin, m) in &seen_a {
        assert_eq!(m, &md(1, &[2]), "{origin:?}");
    }
    for (origin, m) in &seen_b {
        assert_eq!(m, &md(1, &[0, 4]), "{origin:?}");
    }
    assert_eq!(
        a.behaviour().metadata.peer_metadata(&pb),
        Some(&md(1, &[2]))
    );
    assert_eq!(
        b.behaviour().metadata.peer_metadata(&pa),
        Some(&md(1, &[0, 4]))
    );
    assert!(a.is_connected(&pb) && b.is_connected(&pa));
    assert_eq!(
        a.behaviour()
            .metadata
            .peers()
            .map(|(p, _)| *p)
            .collect::<Vec<_>>(),
        [pb]
    );
    assert_eq!(
        b.behaviour()
            .metadata
            .peer_metadata(&pa)
            .unwrap()
            .relay_shards(),
        Some(waku_sharding::RelayShards::new(1, [0, 4]))
    );
}

// spec: META-011, META-014, META-015
#[tokio::test]
async fn served_shards_follow_the_shared_set() {
    let shards_a = ShardSet::with_shards([0, 4]).unwrap();
    let mut a = node(Config::new(1).with_shards(shards_a.clone()));
    let mut b = node(Config::new(1));
    let addr = listen(&mut a).await;
    b.dial(addr).unwrap();
    let pa = *a.local_peer_id();

    // Wait for the answer to B's own request (A's request alone would
    // already fill B's store).
    drive(&mut a, &mut b, "first answer", |_, _, ev| {
        let Ev::B(e) = ev else { return false };
        matches!(metadata_event(e),
            Some(Event::Received { origin: Origin::Response, metadata, .. }) if metadata == md(1, &[0, 4]))
    })
    .await;

    // Relay subscribes to shard 7 and leaves shard 0.
    assert!(shards_a.insert(7).unwrap());
    assert!(shards_a.remove(0));
    assert!(b.behaviour_mut().metadata.refresh(&pa));
    // A second refresh while one is pending is refused.
    assert!(!b.behaviour_mut().metadata.refresh(&pa));
    until(&mut a, &mut b, "refreshed shards", |_, b| {
        b.behaviour().metadata.peer_metadata(&pa) == Some(&md(1, &[4, 7]))
    })
    .await;

    // Our requests follow the set as well.
    shards_a.replace([1, 2, 3]).unwrap();
    let pb = *b.local_peer_id();
    assert!(a.behaviour_mut().metadata.refresh(&pb));
    drive(&mut a, &mut b, "A's request with the new set", |_, _, ev| {
        let Ev::B(e) = ev else { return false };
        matches!(metadata_event(e),
            Some(Event::Received { origin: Origin::Request, metadata, .. }) if metadata == md(1, &[1, 2, 3]))
    })
    .await;
}

// spec: META-016
#[tokio::test]
async fn a_node_without_relay_sends_no_shards() {
    let mut a = node(Config::new(1));
    let mut b = node(Config::new(1));
    let addr = listen(&mut a).await;
    b.dial(addr).unwrap();
    let (pa, pb) = (*a.local_peer_id(), *b.local_peer_id());
    until(&mut a, &mut b, "exchange", |a, b| {
        a.behaviour().metadata.peer_metadata(&pb).is_some()
            && b.behaviour().metadata.peer_metadata(&pa).is_some()
    })
    .await;
    assert_eq!(a.behaviour().metadata.peer_metadata(&pb), Some(&md(1, &[])));
    assert_eq!(b.behaviour().metadata.peer_metadata(&pa), Some(&md(1, &[])));
}

// spec: META-005, META-006
#[tokio::test]
async fn a_second_connection_of_the_same_peer_is_not_asked_again() {
    let mut a = node(Config::new(1));
    let mut b = node(Config::new(1));
    let addr = listen(&mut a).await;
    let (pa, pb) = (*a.local_peer_id(), *b.local_peer_id());
    b.dial(addr.clone()).unwrap();
    until(&mut a, &mut b, "first exchange", |a, b| {
        a.behaviour().metadata.peer_metadata(&pb).is_some()
            && b.behaviour().metadata.peer_metadata(&pa).is_some()
    })
    .await;

    // A second connection to the same peer id.
    b.dial(addr).unwrap();
    let (mut requests_at_a, mut requests_at_b) = (0, 0);
    let mut second = None;
    let mut pings_on_second = 0;
    // Pings on the new connection start when it is established, as a request
    // would: after a few of them, any request would have arrived.
    drive(
        &mut a,
        &mut b,
        "pings over the second connection",
        |_, _, ev| {
            match ev {
                Ev::A(e) => {
                    if let Some(Event::Received {
                        origin: Origin::Request,
                        ..
                    }) = metadata_event(e)
                    {
                        requests_at_a += 1;
                    }
                }
                Ev::B(e) => {
                    if let SwarmEvent::ConnectionEstablished {
                        connection_id,
                        num_established,
                        ..
                    } = &e
                    {
                        assert_eq!(num_established.get(), 2);
                        second = Some(*connection_id);
                    }
                    if let SwarmEvent::Behaviour(common::NodeEvent::Ping(p)) = &e
                        && Some(p.connection) == second
                        && p.result.is_ok()
                    {
                        pings_on_second += 1;
                    }
                    if let Some(Event::Received {
                        origin: Origin::Request,
                        ..
                    }) = metadata_event(e)
                    {
                        requests_at_b += 1;
                    }
                }
                Ev::Tick => {}
            }
            pings_on_second >= 4
        },
    )
    .await;
    assert_eq!((requests_at_a, requests_at_b), (0, 0), "nobody asked again");
}

// spec: META-007
#[tokio::test]
async fn a_peer_is_asked_again_after_reconnecting() {
    let mut a = node(Config::new(1));
    let mut b = node(Config::new(1).with_shards(ShardSet::with_shards([3]).unwrap()));
    let addr = listen(&mut a).await;
    let pb = *b.local_peer_id();
    b.dial(addr.clone()).unwrap();
    let mut responses = 0;
    drive(&mut a, &mut b, "first answer", |_, _, ev| {
        if let Ev::A(e) = ev
            && let Some(Event::Received {
                origin: Origin::Response,
                ..
            }) = metadata_event(e)
        {
            responses += 1;
        }
        responses == 1
    })
    .await;

    a.disconnect_peer_id(pb).unwrap();
    until(&mut a, &mut b, "full disconnect", |a, b| {
        !a.is_connected(&pb) && !b.is_connected(a.local_peer_id())
    })
    .await;
    // What we learnt is kept after the disconnection.
    assert_eq!(
        a.behaviour().metadata.peer_metadata(&pb),
        Some(&md(1, &[3]))
    );

    b.dial(addr).unwrap();
    drive(&mut a, &mut b, "second answer", |_, _, ev| {
        if let Ev::A(e) = ev
            && let Some(Event::Received {
                origin: Origin::Response,
                ..
            }) = metadata_event(e)
        {
            responses += 1;
        }
        responses == 2
    })
    .await;
}

// spec: META-009
#[tokio::test]
async fn expired_metadata_is_refreshed_then_forgotten_after_disconnect() {
    let ttl = Duration::from_millis(800);
    let mut a = node(Config::new(1).with_metadata_ttl(ttl));
    let shards_b = ShardSet::with_shards([1]).unwrap();
    let mut b = node(Config::new(1).with_shards(shards_b.clone()));
    let addr = listen(&mut a).await;
    let pb = *b.local_peer_id();
    b.dial(addr).unwrap();
    until(&mut a, &mut b, "first answer", |a, _| {
        a.behaviour().metadata.peer_metadata(&pb) == Some(&md(1, &[1]))
    })
    .await;

    // B changes its shards; A asks again by itself once the TTL has passed.
    shards_b.replace([1, 2]).unwrap();
    until(&mut a, &mut b, "refresh after the TTL", |a, _| {
        a.behaviour().metadata.peer_metadata(&pb) == Some(&md(1, &[1, 2]))
    })
    .await;

    // Once disconnected, expired metadata is dropped.
    a.disconnect_peer_id(pb).unwrap();
    until(&mut a, &mut b, "expired entry removed", |a, _| {
        !a.is_connected(&pb) && a.behaviour().metadata.peer_metadata(&pb).is_none()
    })
    .await;
}

// spec: META-018, META-019
#[tokio::test]
async fn different_shards_keep_the_peer_and_guide_selection() {
    let mut a = node(Config::new(1).with_shards(ShardSet::with_shards([0]).unwrap()));
    let mut b = node(Config::new(1).with_shards(ShardSet::with_shards([5, 6]).unwrap()));
    let addr = listen(&mut a).await;
    b.dial(addr).unwrap();
    let pb = *b.local_peer_id();
    let mut pings = 0;
    drive(&mut a, &mut b, "exchange, then pings", |a, _, ev| {
        if let Ev::A(e) = &ev
            && is_ping_ok(e)
            && a.behaviour().metadata.peer_metadata(&pb).is_some()
        {
            pings += 1;
        }
        pings >= 5
    })
    .await;
    assert!(
        a.is_connected(&pb),
        "no shard in common is no reason to disconnect"
    );
    let on = |shard| {
        a.behaviour()
            .metadata
            .connected_peers_on_shard(shard)
            .copied()
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(on(5), BTreeSet::from([pb]));
    assert_eq!(on(6), BTreeSet::from([pb]));
    assert!(on(0).is_empty());
}

//! Cluster enforcement (64/WAKU2-NETWORK): peers of another cluster, without
//! a cluster id, or unable to answer are disconnected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Ev, drive, fast_ping, is_ping_ok, listen, metadata_event, node, swarm};
use libp2p::request_response::{self, ProtocolSupport, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Swarm};
use prost::Message as _;
use waku_core::codec::encode_frame;
use waku_metadata::proto::{WakuMetadataRequest, WakuMetadataResponse};
use waku_metadata::{Config, Event, PROTOCOL, QueryError, RejectReason};
use waku_testkit::raw::{Raw, RawCodec, RawRequest, raw};

type FakeEvent = request_response::Event<RawRequest, Vec<u8>>;

/// A peer that speaks the metadata protocol but is driven by the test: it
/// writes and reads the frames itself, as a foreign implementation would.
fn fake() -> Swarm<Raw> {
    swarm(raw(
        [(PROTOCOL, ProtocolSupport::Full)],
        RawCodec::default(),
        Duration::from_secs(10),
    ))
}

/// `request` as the fake writes it.
fn ask(request: &WakuMetadataRequest) -> RawRequest {
    RawRequest::Bytes(encode_frame(request))
}

/// The inbound request inside a fake peer's swarm event.
fn fake_request(
    ev: SwarmEvent<FakeEvent>,
) -> Option<(WakuMetadataRequest, ResponseChannel<Vec<u8>>)> {
    match ev {
        SwarmEvent::Behaviour(request_response::Event::Message {
            message:
                request_response::Message::Request {
                    request: RawRequest::Bytes(bytes),
                    channel,
                    ..
                },
            ..
        }) => Some((
            WakuMetadataRequest::decode_length_delimited(bytes.as_slice()).unwrap(),
            channel,
        )),
        _ => None,
    }
}

fn disconnected<A, B>(a: &Swarm<A>, b: &Swarm<B>) -> bool
where
    A: libp2p::swarm::NetworkBehaviour,
    B: libp2p::swarm::NetworkBehaviour,
{
    !a.is_connected(b.local_peer_id()) && !b.is_connected(a.local_peer_id())
}

fn rejection(ev: Option<Event>, peer: PeerId) -> Option<RejectReason> {
    match ev {
        Some(Event::Rejected { peer_id, reason }) if peer_id == peer => Some(reason),
        _ => None,
    }
}

// spec: META-017, NET-003
#[tokio::test]
async fn a_peer_of_another_cluster_is_disconnected() {
    let mut a = node(Config::new(1));
    let mut b = node(Config::new(2).with_enforce_cluster(false));
    let addr = listen(&mut a).await;
    b.dial(addr).unwrap();
    let pb = *b.local_peer_id();
    let mut reason = None;
    drive(&mut a, &mut b, "rejection and disconnection", |a, b, ev| {
        if let Ev::A(e) = ev
            && let Some(r) = rejection(metadata_event(e), pb)
        {
            assert!(reason.is_none(), "rejected twice");
            reason = Some(r);
        }
        reason.is_some() && disconnected(a, b)
    })
    .await;
    assert!(
        matches!(
            reason,
            Some(RejectReason::ClusterMismatch { ours: 1, theirs: 2 })
        ),
        "{reason:?}"
    );
    // What the peer said is still known.
    assert_eq!(
        a.behaviour()
            .metadata
            .peer_metadata(&pb)
            .unwrap()
            .cluster_id,
        Some(2)
    );
}

// spec: META-017, NET-003
#[tokio::test]
async fn two_enforcing_nodes_of_different_clusters_part() {
    let mut a = node(Config::new(1));
    let mut b = node(Config::new(16));
    let addr = listen(&mut a).await;
    b.dial(addr).unwrap();
    let mut rejections = 0;
    drive(&mut a, &mut b, "disconnection", |a, b, ev| {
        let ev = match ev {
            Ev::A(e) => metadata_event(e),
            Ev::B(e) => metadata_event(e),
            Ev::Tick => None,
        };
        if let Some(Event::Rejected {
            reason: RejectReason::ClusterMismatch { .. },
            ..
        }) = ev
        {
            rejections += 1;
        }
        rejections > 0 && disconnected(a, b)
    })
    .await;
}

// spec: META-012, NET-003
#[tokio::test]
async fn a_peer_answering_without_cluster_id_is_disconnected() {
    let mut a = node(Config::new(1));
    let mut f = fake();
    let addr = listen(&mut a).await;
    f.dial(addr).unwrap();
    let pf = *f.local_peer_id();
    let mut our_request = None;
    let mut reason = None;
    drive(&mut a, &mut f, "rejection and disconnection", |a, f, ev| {
        match ev {
            Ev::A(e) => {
                if let Some(r) = rejection(metadata_event(e), pf) {
                    reason = Some(r);
                }
            }
            Ev::B(e) => {
                if let Some((request, channel)) = fake_request(e) {
                    our_request = Some(request);
                    let empty = WakuMetadataResponse::default();
                    f.behaviour_mut()
                        .send_response(channel, encode_frame(&empty))
                        .unwrap();
                }
            }
            Ev::Tick => {}
        }
        reason.is_some() && disconnected(a, f)
    })
    .await;
    assert!(
        matches!(reason, Some(RejectReason::NoClusterId)),
        "{reason:?}"
    );
    // Our request carried our cluster id.
    assert_eq!(our_request.unwrap().cluster_id, Some(1));
}

// spec: NET-003
#[tokio::test]
async fn a_peer_requesting_without_cluster_id_is_answered_then_disconnected() {
    let mut a = node(Config::new(1));
    let mut f = fake();
    let addr = listen(&mut a).await;
    let pa = *a.local_peer_id();
    f.dial(addr).unwrap();
    let mut asked = false;
    let mut answer = None;
    let mut reason = None;
    drive(
        &mut a,
        &mut f,
        "answer, rejection, disconnection",
        |a, f, ev| {
            match ev {
                Ev::A(e) => {
                    if let Some(r) = rejection(metadata_event(e), *f.local_peer_id()) {
                        reason = Some(r);
                    }
                }
                Ev::B(SwarmEvent::ConnectionEstablished { .. }) if !asked => {
                    asked = true;
                    f.behaviour_mut()
                        .send_request(&pa, ask(&WakuMetadataRequest::default()));
                }
                Ev::B(SwarmEvent::Behaviour(request_response::Event::Message {
                    message: request_response::Message::Response { response, .. },
                    ..
                })) => {
                    answer = Some(
                        WakuMetadataResponse::decode_length_delimited(response.as_slice()).unwrap(),
                    );
                }
                Ev::B(e) => {
                    // The fake answers A's own request correctly: the request
                    // it sent is what gets it rejected.
                    if let Some((_, channel)) = fake_request(e) {
                        let good = WakuMetadataResponse {
                            cluster_id: Some(1),
                            ..Default::default()
                        };
                        f.behaviour_mut()
                            .send_response(channel, encode_frame(&good))
                            .unwrap();
                    }
                }
                Ev::Tick => {}
            }
            reason.is_some() && disconnected(a, f)
        },
    )
    .await;
    assert!(
        matches!(reason, Some(RejectReason::NoClusterId)),
        "{reason:?}"
    );
    // The answer goes out before the connection is closed; whether the peer
    // reads it before it sees the connection close is up to its scheduling.
    if let Some(answer) = answer {
        assert_eq!(answer.cluster_id, Some(1));
    }
}

// spec: NET-003
#[tokio::test]
async fn a_peer_that_never_answers_is_disconnected_after_the_timeout() {
    let mut a = node(Config::new(1).with_request_timeout(Duration::from_secs(1)));
    let mut f = fake();
    let addr = listen(&mut a).await;
    f.dial(addr).unwrap();
    let pf = *f.local_peer_id();
    let mut held = Vec::new();
    let mut reason = None;
    drive(&mut a, &mut f, "timeout rejection", |a, f, ev| {
        match ev {
            Ev::A(e) => reason = rejection(metadata_event(e), pf).or(reason.take()),
            // Keep the channel open without answering.
            Ev::B(e) => held.extend(fake_request(e)),
            Ev::Tick => {}
        }
        reason.is_some() && disconnected(a, f)
    })
    .await;
    assert!(
        matches!(reason, Some(RejectReason::QueryFailed(QueryError::Timeout))),
        "{reason:?}"
    );
    assert_eq!(held.len(), 1);
}

// spec: NET-003
#[tokio::test]
async fn a_peer_that_closes_without_answering_is_disconnected() {
    let mut a = node(Config::new(1));
    let mut f = fake();
    let addr = listen(&mut a).await;
    f.dial(addr).unwrap();
    let pf = *f.local_peer_id();
    let mut reason = None;
    drive(&mut a, &mut f, "rejection", |a, f, ev| {
        match ev {
            Ev::A(e) => reason = rejection(metadata_event(e), pf).or(reason.take()),
            // Dropping the channel closes the stream with no response.
            Ev::B(e) => drop(fake_request(e)),
            Ev::Tick => {}
        }
        reason.is_some() && disconnected(a, f)
    })
    .await;
    assert!(
        matches!(
            reason,
            Some(RejectReason::QueryFailed(QueryError::Stream(_)))
        ),
        "{reason:?}"
    );
}

// spec: NET-002, NET-003
#[tokio::test]
async fn a_peer_without_the_protocol_is_disconnected_when_enforcing() {
    let mut a = node(Config::new(1));
    let mut p = swarm(fast_ping());
    let addr = listen(&mut a).await;
    p.dial(addr).unwrap();
    let pp = *p.local_peer_id();
    let mut reason = None;
    drive(&mut a, &mut p, "rejection", |a, p, ev| {
        if let Ev::A(e) = ev {
            reason = rejection(metadata_event(e), pp).or(reason.take());
        }
        reason.is_some() && disconnected(a, p)
    })
    .await;
    assert!(
        matches!(
            reason,
            Some(RejectReason::QueryFailed(QueryError::UnsupportedProtocol))
        ),
        "{reason:?}"
    );
}

// spec: NET-002
#[tokio::test]
async fn a_peer_without_the_protocol_is_kept_when_not_enforcing() {
    let mut a = node(Config::new(1).with_enforce_cluster(false));
    let mut p = swarm(fast_ping());
    let addr = listen(&mut a).await;
    p.dial(addr).unwrap();
    let pp = *p.local_peer_id();
    let mut failed = false;
    let mut pings_after = 0;
    drive(&mut a, &mut p, "failure, then pings", |_, _, ev| {
        if let Ev::A(e) = ev {
            if failed && is_ping_ok(&e) {
                pings_after += 1;
            }
            match metadata_event(e) {
                Some(Event::QueryFailed {
                    peer_id,
                    error: QueryError::UnsupportedProtocol,
                }) if peer_id == pp => failed = true,
                Some(Event::Rejected { .. }) => panic!("rejected while not enforcing"),
                _ => {}
            }
        }
        pings_after >= 5
    })
    .await;
    assert!(a.is_connected(&pp) && p.is_connected(a.local_peer_id()));
    assert!(a.behaviour().metadata.peer_metadata(&pp).is_none());
}

// spec: NET-003
#[tokio::test]
async fn a_peer_that_showed_our_cluster_is_kept_when_our_request_fails() {
    let mut a = node(Config::new(1).with_request_timeout(Duration::from_secs(3)));
    let mut f = fake();
    let addr = listen(&mut a).await;
    let pa = *a.local_peer_id();
    f.dial(addr).unwrap();
    let pf = *f.local_peer_id();
    let good = WakuMetadataRequest {
        cluster_id: Some(1),
        ..Default::default()
    };
    let mut held = Vec::new();
    let mut failed = false;
    let mut answers_after = 0;
    drive(&mut a, &mut f, "failure, then more answers", |_, f, ev| {
        match ev {
            Ev::A(e) => match metadata_event(e) {
                Some(Event::QueryFailed {
                    peer_id,
                    error: QueryError::Timeout,
                }) if peer_id == pf => {
                    failed = true;
                    f.behaviour_mut().send_request(&pa, ask(&good));
                }
                Some(e @ Event::Rejected { .. }) => panic!("{e:?}"),
                _ => {}
            },
            // The fake tells A its cluster first...
            Ev::B(SwarmEvent::ConnectionEstablished { .. }) => {
                f.behaviour_mut().send_request(&pa, ask(&good));
            }
            // ...keeps A's request unanswered...
            Ev::B(SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            })) => held.push(channel),
            // ...and, once A gave up on it, is still served.
            Ev::B(SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Response { .. },
                ..
            })) if failed => {
                answers_after += 1;
                if answers_after < 3 {
                    f.behaviour_mut().send_request(&pa, ask(&good));
                }
            }
            _ => {}
        }
        answers_after >= 3
    })
    .await;
    assert!(a.is_connected(&pf));
    assert_eq!(held.len(), 1);
}

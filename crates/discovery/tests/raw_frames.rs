//! Peer exchange against a raw peer writing bytes as given: the wire
//! layout, unreadable requests, and answers holding bad records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{enr, enrs};
use futures::StreamExt;
use libp2p::request_response::{self, Message, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use prost::Message as _;
use waku_discovery::peer_exchange::{PROTOCOL, StatusCode, client, service};
use waku_enr::WakuEnr;
use waku_testkit::raw::{Raw, RawCodec, RawRequest};
use waku_testkit::{Peer, swarm};

/// The wire types, written out here from the proto file so that the test
/// does not lean on the crate's private ones.
#[derive(Clone, PartialEq, prost::Message)]
struct PeerInfo {
    #[prost(bytes = "vec", tag = "1")]
    enr: Vec<u8>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Query {
    #[prost(uint64, tag = "1")]
    num_peers: u64,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Response {
    #[prost(message, repeated, tag = "1")]
    peer_infos: Vec<PeerInfo>,
    #[prost(uint32, optional, tag = "10")]
    status_code: Option<u32>,
    #[prost(string, optional, tag = "11")]
    status_desc: Option<String>,
}
#[derive(Clone, PartialEq, prost::Message)]
struct Rpc {
    #[prost(message, optional, tag = "1")]
    query: Option<Query>,
    #[prost(message, optional, tag = "2")]
    response: Option<Response>,
}

fn raw_peer(support: ProtocolSupport) -> Raw {
    waku_testkit::raw(
        [(PROTOCOL, support)],
        RawCodec::default(),
        Duration::from_secs(10),
    )
}

/// Sends `bytes` to the service and returns its whole answer.
async fn send_raw(raw: &mut Peer<Raw>, server: libp2p::PeerId, bytes: Vec<u8>) -> Vec<u8> {
    let id = raw
        .with(move |s| {
            s.behaviour_mut()
                .send_request(&server, RawRequest::Bytes(bytes))
        })
        .await;
    raw.wait_behaviour("the raw answer", |e| match e {
        request_response::Event::Message {
            message:
                Message::Response {
                    request_id,
                    response,
                },
            ..
        } if request_id == id => Some(Ok(response)),
        request_response::Event::OutboundFailure {
            request_id, error, ..
        } if request_id == id => Some(Err(error.to_string())),
        _ => None,
    })
    .await
    .unwrap()
}

fn decode_answer(bytes: &[u8]) -> Response {
    Rpc::decode_length_delimited(bytes)
        .unwrap()
        .response
        .unwrap()
}

async fn service_and_raw_client() -> (Peer<service::Behaviour>, Peer<Raw>) {
    let mut behaviour = service::Behaviour::new(service::Config::default());
    for record in enrs(1..4) {
        behaviour.add_record(record);
    }
    let mut server = Peer::spawn(swarm(behaviour));
    let addr = server.listen().await;
    let mut raw = Peer::spawn(swarm(raw_peer(ProtocolSupport::Outbound)));
    raw.connect(addr, server.id).await;
    (server, raw)
}

// spec: PX-001, PX-002, PX-014
#[tokio::test]
async fn a_well_formed_request_gets_200_and_rlp_enrs() {
    let (server, mut raw) = service_and_raw_client().await;
    // query (field 1) { num_peers (field 1) = 2 }, length-prefixed.
    let answer = send_raw(&mut raw, server.id, vec![0x04, 0x0a, 0x02, 0x08, 0x02]).await;
    let response = decode_answer(&answer);
    assert_eq!(response.status_code, Some(200));
    assert_eq!(response.peer_infos.len(), 2);
    for info in &response.peer_infos {
        WakuEnr::from_rlp_bytes(&info.enr).unwrap();
    }
}

// spec: PX-014, PX-015
#[tokio::test]
async fn an_undecodable_request_gets_400_and_the_service_goes_on() {
    let (server, mut raw) = service_and_raw_client().await;
    // A 5-byte frame that is no protobuf (a field tag of 0).
    let answer = send_raw(
        &mut raw,
        server.id,
        vec![0x05, 0x00, 0xff, 0xff, 0xff, 0xff],
    )
    .await;
    let response = decode_answer(&answer);
    assert_eq!(response.status_code, Some(400));
    assert!(response.peer_infos.is_empty());
    assert!(response.status_desc.is_some());
    // An RPC without a query.
    let empty = Rpc::default().encode_length_delimited_to_vec();
    let response = decode_answer(&send_raw(&mut raw, server.id, empty).await);
    assert_eq!(response.status_code, Some(400));
    // A length prefix over the limit.
    let oversized = vec![0x80, 0x80, 0x04, 0x0a];
    let response = decode_answer(&send_raw(&mut raw, server.id, oversized).await);
    assert_eq!(response.status_code, Some(400));
    // Still serving on the same connection.
    let good = Rpc {
        query: Some(Query { num_peers: 3 }),
        response: None,
    }
    .encode_length_delimited_to_vec();
    let response = decode_answer(&send_raw(&mut raw, server.id, good).await);
    assert_eq!(response.status_code, Some(200));
    assert_eq!(response.peer_infos.len(), 3);
}

/// A raw service answering every request with `answer`; returns its peer
/// id, address, and the first request's bytes.
async fn raw_service(
    answer: Vec<u8>,
) -> (
    libp2p::PeerId,
    libp2p::Multiaddr,
    tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
) {
    let mut swarm = swarm(raw_peer(ProtocolSupport::Inbound));
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let id = *swarm.local_peer_id();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            if let SwarmEvent::Behaviour(request_response::Event::Message {
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            }) = swarm.select_next_some().await
            {
                let RawRequest::Bytes(bytes) = request;
                let _ = tx.send(bytes);
                let _ = swarm.behaviour_mut().send_response(channel, answer.clone());
            }
        }
    });
    (id, addr, rx)
}

async fn ask_raw_service(answer: Vec<u8>, num_peers: u64) -> (client::Event, Vec<u8>) {
    let (server, addr, mut requests) = raw_service(answer).await;
    let mut client = Peer::spawn(swarm(client::Behaviour::new(client::Config::default())));
    client.connect(addr, server).await;
    client
        .with(move |s| s.behaviour_mut().request(&server, num_peers))
        .await;
    let event = client.wait_behaviour("the answer", Some).await;
    (event, requests.recv().await.unwrap())
}

fn answer(peer_infos: Vec<Vec<u8>>, status_code: Option<u32>) -> Vec<u8> {
    Rpc {
        query: None,
        response: Some(Response {
            peer_infos: peer_infos.into_iter().map(|enr| PeerInfo { enr }).collect(),
            status_code,
            status_desc: None,
        }),
    }
    .encode_length_delimited_to_vec()
}

// spec: PX-002, PX-003, PX-016
#[tokio::test]
async fn the_client_skips_records_that_do_not_verify() {
    let good = enr(1).to_rlp_bytes();
    let mut forged = enr(2).to_rlp_bytes();
    forged[5] ^= 1;
    let garbage = vec![0xc0, 0x01, 0x02];
    let (event, request) = ask_raw_service(answer(vec![good, forged, garbage], Some(200)), 7).await;
    // The request as written: query { num_peers = 7 }, length-prefixed.
    assert_eq!(request, vec![0x04, 0x0a, 0x02, 0x08, 0x07]);
    match event {
        client::Event::Received { enrs, skipped, .. } => {
            assert_eq!(enrs, vec![enr(1)]);
            assert_eq!(skipped.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

// spec: PX-016
#[tokio::test]
async fn the_client_keeps_at_most_what_it_asked_for() {
    let records = enrs(1..6).iter().map(WakuEnr::to_rlp_bytes).collect();
    let (event, _) = ask_raw_service(answer(records, Some(200)), 2).await;
    match event {
        client::Event::Received { enrs, .. } => assert_eq!(enrs.len(), 2),
        other => panic!("{other:?}"),
    }
}

// spec: PX-016
#[tokio::test]
async fn error_statuses_and_bad_answers_are_typed_errors() {
    let (event, _) = ask_raw_service(answer(vec![], Some(429)), 2).await;
    assert!(matches!(
        event,
        client::Event::Failed {
            error: client::RequestError::Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..
            },
            ..
        }
    ));
    // An old-style answer: no status, no peers -> 503 (nwaku's reading).
    let (event, _) = ask_raw_service(answer(vec![], None), 2).await;
    assert!(matches!(
        event,
        client::Event::Failed {
            error: client::RequestError::Refused {
                status: StatusCode::SERVICE_UNAVAILABLE,
                ..
            },
            ..
        }
    ));
    // No status but peers: success.
    let (event, _) = ask_raw_service(answer(vec![enr(3).to_rlp_bytes()], None), 2).await;
    assert!(matches!(event, client::Event::Received { ref enrs, .. } if enrs.len() == 1));
    // Not a protobuf at all.
    let (event, _) = ask_raw_service(vec![0x03, 0x00, 0x00, 0x00], 2).await;
    assert!(matches!(
        event,
        client::Event::Failed {
            error: client::RequestError::MalformedResponse(_),
            ..
        }
    ));
}

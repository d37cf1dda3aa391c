//! A request stream the node refuses without answering (nothing sent, or a
//! frame cut short) must end at once over WebSocket + mplex, js-waku's only
//! stack, as it does over yamux. libp2p-mplex 0.44 queued the stream's
//! Close/Reset and sent it only when other traffic flushed the connection,
//! so such a client waited until its own timeout; the workspace patches
//! mplex (patches/libp2p-mplex/PATCH.md). This test fails without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::NodeProcess;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::upgrade::Version;
use libp2p::core::{Transport, multiaddr::Protocol};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{PeerId, StreamProtocol, Swarm, noise, tcp, websocket};
use waku_core::protocol_id;
use waku_testkit::Peer;
use waku_testkit::raw::{Raw, RawCodec, RawRequest};

/// Longer than any answer takes, shorter than the client's own timeout: a
/// stream still open after this was never ended by the node.
const ENDS_WITHIN: Duration = Duration::from_secs(2);
/// The client's request timeout.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The client: raw requests, and metadata answered as a cluster-42 light
/// node would (the node drops peers that do not).
#[derive(NetworkBehaviour)]
struct Client {
    raw: Raw,
    metadata: waku_metadata::Behaviour,
}

/// A client over WebSocket with noise and mplex only, speaking the four
/// request-response protocols as raw bytes.
fn mplex_client() -> Swarm<Client> {
    let keypair = Keypair::generate_ed25519();
    let peer_id = PeerId::from(keypair.public());
    let transport = websocket::Config::new(tcp::tokio::Transport::new(
        tcp::Config::default().nodelay(true),
    ))
    .upgrade(Version::V1Lazy)
    .authenticate(noise::Config::new(&keypair).unwrap())
    .multiplex(libp2p_mplex::Config::new())
    .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
    .boxed();
    let protocols = [
        protocol_id::LIGHTPUSH_V3,
        protocol_id::STORE_QUERY_V3,
        protocol_id::FILTER_SUBSCRIBE_V2,
        protocol_id::METADATA,
    ]
    .map(|p| (StreamProtocol::new(p), ProtocolSupport::Outbound));
    let behaviour = Client {
        raw: waku_testkit::raw(protocols, RawCodec::default(), CLIENT_TIMEOUT),
        metadata: waku_metadata::Behaviour::new(waku_metadata::Config::new(42)),
    };
    Swarm::new(
        transport,
        behaviour,
        peer_id,
        libp2p::swarm::Config::with_tokio_executor()
            .with_idle_connection_timeout(Duration::from_secs(60)),
    )
}

#[tokio::test]
async fn refused_requests_end_their_stream_at_once_over_mplex() {
    let node = NodeProcess::spawn_with_store(&[
        "--cluster-id",
        "42",
        "--shard",
        "0",
        "--lightpush",
        "--filter",
        "--websocket-support",
    ]);
    let addr = node.ws_addr();
    let server = match addr.iter().last() {
        Some(Protocol::P2p(peer)) => peer,
        _ => panic!("no peer id in {addr}"),
    };
    let mut client = Peer::spawn(mplex_client());
    client.connect(addr, server).await;
    // Let the connection's start-up traffic (metadata both ways) settle, so
    // nothing else flushes the connection while we wait.
    client.drain_for(Duration::from_secs(1)).await;
    assert!(
        client.with(move |s| s.is_connected(&server)).await,
        "the node kept the connection after metadata:\n{}",
        node.log()
    );

    for protocol in [
        protocol_id::LIGHTPUSH_V3,
        protocol_id::STORE_QUERY_V3,
        protocol_id::FILTER_SUBSCRIBE_V2,
        protocol_id::METADATA,
    ] {
        // Nothing at all, and a length prefix announcing 10 bytes with 2
        // of them sent.
        for (what, bytes) in [("empty", vec![]), ("truncated", vec![10, 0x0a, 0x01])] {
            let started = Instant::now();
            let id = client
                .with(move |s| {
                    s.behaviour_mut()
                        .raw
                        .send_request(&server, RawRequest::Bytes(bytes))
                })
                .await;
            let outcome = client
                .wait("the end of the stream", |e| match e {
                    SwarmEvent::Behaviour(ClientEvent::Raw(request_response::Event::Message {
                        message: request_response::Message::Response { request_id, .. },
                        ..
                    })) if request_id == id => Some(Ok(())),
                    SwarmEvent::Behaviour(ClientEvent::Raw(
                        request_response::Event::OutboundFailure {
                            request_id, error, ..
                        },
                    )) if request_id == id => Some(Err(error.to_string())),
                    _ => None,
                })
                .await;
            let took = started.elapsed();
            assert!(
                took < ENDS_WITHIN,
                "{protocol}, {what} request: the stream ended only after {took:?} ({outcome:?})"
            );
        }
    }
    // The connection survived all of it.
    let connected = client.with(move |s| s.is_connected(&server)).await;
    assert!(connected, "{}", node.log());
}

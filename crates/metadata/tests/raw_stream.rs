//! A foreign client on a raw stream: sends js-waku's request bytes and reads
//! the answer until the end of the stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Ev, drive, listen, metadata_event, node, raw, swarm, vector_bytes};
use libp2p::request_response::{Event as RrEvent, Message};
use libp2p::swarm::SwarmEvent;
use prost::Message as _;
use waku_metadata::proto::WakuMetadataResponse;
use waku_metadata::{Config, Event, Origin, PeerMetadata, ShardSet};
use waku_testkit::raw::RawRequest;

// spec: META-001, META-002, META-003, META-004, META-012, NET-002
#[tokio::test]
async fn js_waku_bytes_get_our_answer_and_the_stream_ends() {
    let mut server = node(Config::new(1).with_shards(ShardSet::with_shards(0..8).unwrap()));
    let mut client = swarm(raw(Duration::from_secs(15)));
    let addr = listen(&mut server).await;
    client.dial(addr).unwrap();
    let ps = *server.local_peer_id();
    let pc = *client.local_peer_id();

    let js_request = vector_bytes("metadata_request_js_light_node", "length_prefixed_hex");
    let js_response = vector_bytes("metadata_response_js_light_node", "length_prefixed_hex");
    // js-waku's service-node answer (field 2), followed by the same shards
    // packed in field 3 (what go-waku reads): tag 0x1a, 8 bytes, 0..=7.
    let mut body = vector_bytes("metadata_response_service_node", "hex");
    body.extend([0x1a, 8, 0, 1, 2, 3, 4, 5, 6, 7]);
    let mut service = vec![u8::try_from(body.len()).unwrap()];
    service.extend(body);

    let mut answer = None;
    let mut server_asked = None;
    let (mut learnt_from_request, mut learnt_from_response) = (None, None);
    drive(
        &mut server,
        &mut client,
        "both exchanges",
        |_, client, ev| {
            match ev {
                Ev::A(e) => match metadata_event(e) {
                    Some(Event::Received {
                        peer_id,
                        metadata,
                        origin,
                    }) if peer_id == pc => match origin {
                        Origin::Request => learnt_from_request = Some(metadata),
                        Origin::Response => learnt_from_response = Some(metadata),
                    },
                    Some(other @ (Event::Rejected { .. } | Event::QueryFailed { .. })) => {
                        panic!("{other:?}")
                    }
                    _ => {}
                },
                Ev::B(SwarmEvent::ConnectionEstablished { .. }) => {
                    client
                        .behaviour_mut()
                        .send_request(&ps, RawRequest::Bytes(js_request.clone()));
                }
                Ev::B(SwarmEvent::Behaviour(RrEvent::Message { message, .. })) => match message {
                    Message::Response { response, .. } => answer = Some(response),
                    Message::Request {
                        request: RawRequest::Bytes(bytes),
                        channel,
                        ..
                    } => {
                        // Like js-waku, answer the server's own request.
                        server_asked = Some(bytes);
                        client
                            .behaviour_mut()
                            .send_response(channel, js_response.clone())
                            .unwrap();
                    }
                },
                Ev::B(SwarmEvent::Behaviour(
                    e @ (RrEvent::OutboundFailure { .. } | RrEvent::InboundFailure { .. }),
                )) => panic!("{e:?}"),
                _ => {}
            }
            answer.is_some()
                && server_asked.is_some()
                && learnt_from_request.is_some()
                && learnt_from_response.is_some()
        },
    )
    .await;

    // Read to the end of the stream: exactly one frame, byte for byte the
    // service-node vector (cluster 1, shards 0-7 unpacked) plus field 3.
    let answer = answer.unwrap();
    assert_eq!(answer, service);
    let decoded = WakuMetadataResponse::decode_length_delimited(answer.as_slice()).unwrap();
    assert_eq!(decoded.cluster_id, Some(1));
    assert_eq!(decoded.shards, (0..8).collect::<Vec<_>>());
    assert_eq!(decoded.shards_packed, decoded.shards);

    // The server's own request carried its metadata, in the same layout.
    assert_eq!(server_asked.unwrap(), service);

    // Both the js-waku request and the js-waku response were understood.
    let js = PeerMetadata::new(Some(1), []);
    assert_eq!(learnt_from_request, Some(js.clone()));
    assert_eq!(learnt_from_response, Some(js.clone()));
    assert_eq!(server.behaviour().metadata.peer_metadata(&pc), Some(&js));
    assert!(server.is_connected(&pc));
}

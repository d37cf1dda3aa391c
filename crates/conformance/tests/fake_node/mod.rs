//! A small in-test Waku node serving metadata, lightpush v3 and v2, store
//! v3, filter v2, relay and peer exchange by the catalogs' rules, with switchable defects ([`Faults`]),
//! so each check can be shown to fail for the right reason.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod codec;
mod enr;
pub mod judge;
mod px;
mod relay;
mod rest;
mod store_v2;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, Swarm, gossipsub, identify, identity, noise, tcp, yamux,
};
use prost::Message;
use waku_core::proto::message::v1::WakuMessage;
use waku_filter::proto::{
    FilterSubscribeRequest, FilterSubscribeResponse, FilterSubscribeType, MessagePush,
};
use waku_lightpush::proto::{
    LightPushRequest, LightPushResponse, PushRequest, PushResponse, PushRpc,
};
use waku_metadata::proto::{WakuMetadataRequest, WakuMetadataResponse};
use waku_store::proto::{StoreQueryRequest, StoreQueryResponse, WakuMessageKeyValue};

use codec::{FakeCodec, Request};

/// The fake node's one pubsub topic.
pub const TOPIC: &str = "/waku/2/rs/0/0";

/// Defects to build in; all off is a node the checks pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    pub metadata_without_cluster: bool,
    pub lightpush_always_200: bool,
    pub lightpush_wrong_request_id: bool,
    pub lightpush_without_peer_count: bool,
    pub store_ignores_cursor: bool,
    pub store_backward_newest_first: bool,
    pub store_time_end_exclusive: bool,
    pub store_hangs_on_garbage: bool,
    pub store_hashes_wrong: bool,
    pub store_always_includes_data: bool,
    pub filter_ping_always_200: bool,
    pub filter_accepts_empty_criteria: bool,
    pub filter_pushes_everything: bool,
    pub metadata_drops_other_shards: bool,
    pub metadata_keeps_other_clusters: bool,
    pub metadata_single_shard_field: bool,
    pub metadata_request_without_cluster: bool,
    pub metadata_no_shards: bool,
    /// Every answer is an undecodable frame.
    pub answers_garbage: bool,
    /// Every answer is followed by stray bytes.
    pub trailing_bytes: bool,
    pub store_forward_newest_first: bool,
    pub store_omits_topic: bool,
    pub store_short_hashes: bool,
    pub store_lenient_requests: bool,
    pub store_ignores_content_topics: bool,
    pub store_ignores_hashes: bool,
    pub store_ignores_limit: bool,
    pub store_wrong_request_id: bool,
    pub store_no_status: bool,
    pub store_cursor_always: bool,
    pub store_hangs_on_empty: bool,
    pub filter_wrong_request_id: bool,
    /// The first subscribe-protocol request is answered 429.
    pub filter_first_429: bool,
    /// Every subscribe-protocol request is answered 429.
    pub filter_always_429: bool,
    pub filter_200_to_garbage: bool,
    pub filter_never_pushes: bool,
    pub filter_unsubscribes_always_200: bool,
    pub filter_pushes_without_message: bool,
    pub filter_pushes_without_topic: bool,
    pub relay_not_subscribed: bool,
    pub relay_drops_everything: bool,
    pub relay_publishes_garbage: bool,
    pub legacy_lightpush_always_success: bool,
    pub legacy_lightpush_wrong_request_id: bool,
    /// Legacy answers carry the request back along with the response.
    pub legacy_lightpush_echoes_request: bool,
    pub relay_signs: bool,
    pub relay_accepts_oversize: bool,
    /// The relay validator accepts (and so forwards) data that is no
    /// WakuMessage.
    pub relay_forwards_undecodable: bool,
    /// The relay validator accepts messages stamped far from its clock.
    pub relay_forwards_stale: bool,
    /// The relay validator accepts messages carrying from and seqno.
    pub relay_forwards_signed: bool,
    /// Peer-exchange answers carry no status code.
    pub px_without_status: bool,
    /// Peer exchange hands out every record, whatever was asked for.
    pub px_ignores_num_peers: bool,
    /// One record handed out has a broken signature.
    pub px_bad_record: bool,
    /// Any peer-exchange request (no query, undecodable) gets 200 and
    /// records.
    pub px_lenient: bool,
    /// A query for 2^64 - 1 peers is never answered.
    pub px_hangs_on_huge: bool,
    /// Peer-exchange answers carry the query back.
    pub px_echoes_query: bool,
    /// The node's ENR is signed by another key.
    pub enr_other_key: bool,
    /// The node's ENR flags sync, which it does not serve.
    pub enr_claims_sync: bool,
    /// The node's ENR lists shard 5, its metadata shard 0.
    pub enr_other_shards: bool,
    /// The node's ENR has a udp port and no waku2 entry.
    pub enr_udp_without_waku2: bool,
    /// The node's ENR sets waku2 bit 6 (unassigned).
    pub enr_unassigned_bit: bool,
    /// The node's ENR lists a multiaddr ending in its own `/p2p/` id.
    pub enr_multiaddr_with_own_id: bool,
    /// A message posted to the REST API is answered 200 and never
    /// published.
    pub rest_publish_drops: bool,
    pub legacy_store_wrong_request_id: bool,
    /// Legacy store pages list the newest message first.
    pub legacy_store_newest_first: bool,
    /// Legacy store answers add a message on another content topic.
    pub legacy_store_ignores_content_filter: bool,
    pub legacy_store_no_cursor: bool,
    pub legacy_store_accepts_unknown_cursor: bool,
    /// Legacy store cursors carry sha256(payload) as their digest.
    pub legacy_store_wrong_digest: bool,
    /// The legacy store answers every matching message, whatever the page
    /// size.
    pub legacy_store_ignores_page_size: bool,
    /// The legacy store ignores start_time and end_time.
    pub legacy_store_ignores_time_range: bool,
    /// On cluster 1, a peer answering our metadata request without a
    /// cluster id, or not at all, is kept.
    pub metadata_keeps_incomplete_peers: bool,
    /// A filter request may carry any number of content topics.
    pub filter_unbounded_topics: bool,
    /// A filter subscriber may hold any number of criteria (no 503 past
    /// 1000).
    pub filter_unbounded_criteria: bool,
    /// Past 1000 criteria a subscribe is answered 500, not 503.
    pub filter_criteria_cap_500: bool,
    /// A valid lightpush with no relay peer subscribed to the shard is
    /// answered 503 (the v3 text's code), not nwaku's 505.
    pub lightpush_503_without_relay_peers: bool,
    /// A peer's subscribe-protocol requests beyond this many are answered
    /// 429 (a per-peer budget that never refills).
    pub filter_limit: Option<u64>,
    /// [`Faults::filter_limit`] counts every peer's requests together.
    pub filter_limit_shared: bool,
    /// Over [`Faults::filter_limit`], the answer is an undecodable frame.
    pub filter_limit_answers_garbage: bool,
    /// Metadata, lightpush, store and filter serve one stream of a
    /// connection at a time (further streams are dropped).
    pub one_stream_at_a_time: bool,
    /// A filter ping carrying an empty pubsub topic is answered 400.
    pub filter_ping_rejects_blank_topic: bool,
    /// A filter UNSUBSCRIBE is answered but changes nothing.
    pub filter_unsubscribe_not_carried_out: bool,
    /// A filter UNSUBSCRIBE_ALL carrying a pubsub topic is answered 400.
    pub filter_unsubscribe_all_rejects_topic: bool,
    /// A filter request of an unknown type is answered 200 without its
    /// request id.
    pub filter_unknown_type_200: bool,
    /// A lightpush request without a pubsub topic is answered 400 (no
    /// autosharding).
    pub lightpush_no_autoshard: bool,
    /// Lightpush error answers carry relay_peer_count 0.
    pub lightpush_peer_count_on_errors: bool,
    /// The node never sends its metadata request to a new peer.
    pub metadata_never_asks: bool,
    /// The store's 400 to an undecodable request has no status_desc.
    pub store_garbage_without_desc: bool,
}

/// A running fake node.
pub struct Spawned {
    /// Its address with `/p2p/`.
    pub addr: Multiaddr,
    /// Its ENR, `enr:...`.
    pub enr: String,
    /// Its REST API, `http://host:port`.
    pub rest: String,
}

type Rr = request_response::Behaviour<FakeCodec>;

#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
struct Behaviour {
    identify: identify::Behaviour,
    relay: gossipsub::Behaviour,
    metadata: Rr,
    lightpush: Rr,
    lightpush_v2: Rr,
    store: Rr,
    filter: Rr,
    push: Rr,
    px: Rr,
    store_v2: Rr,
}

struct Stored {
    hash: Vec<u8>,
    message: WakuMessage,
    topic: String,
}

struct Fake {
    cluster: u32,
    faults: Faults,
    stored: Vec<Stored>,
    subscriptions: HashMap<PeerId, HashSet<(String, String)>>,
    /// Channels kept open without answering (a hanging service).
    held: Vec<ResponseChannel<Vec<u8>>>,
    /// Subscribe-protocol requests seen.
    filter_requests: u64,
    /// Subscribe-protocol requests seen, per peer (`None`: all peers,
    /// when the limit is shared).
    filter_requests_of: HashMap<Option<PeerId>, u64>,
    /// The records peer exchange hands out.
    px_records: Vec<Vec<u8>>,
}

/// [`rr`] for a service, serving one stream at a time as the defects say.
fn served(protocol: &'static str, support: ProtocolSupport, faults: &Faults) -> Rr {
    if !faults.one_stream_at_a_time {
        return rr(protocol, support);
    }
    Rr::with_codec(
        FakeCodec,
        [(StreamProtocol::new(protocol), support)],
        request_response::Config::default()
            .with_request_timeout(Duration::from_secs(30))
            .with_max_concurrent_streams(1),
    )
}

fn rr(protocol: &'static str, support: ProtocolSupport) -> Rr {
    Rr::with_codec(
        FakeCodec,
        [(StreamProtocol::new(protocol), support)],
        request_response::Config::default().with_request_timeout(Duration::from_secs(30)),
    )
}

/// Starts a fake node of cluster 0 on loopback; its address with `/p2p/`.
pub async fn spawn(faults: Faults) -> Multiaddr {
    spawn_in(0, faults).await
}

/// Starts a fake node of `cluster` (its relay and lightpush still use
/// [`TOPIC`]); its address with `/p2p/`.
pub async fn spawn_in(cluster: u32, faults: Faults) -> Multiaddr {
    spawn_with_enr_in(cluster, faults).await.0
}

/// Starts a fake node of cluster 0; its address with `/p2p/` and its ENR.
pub async fn spawn_with_enr(faults: Faults) -> (Multiaddr, String) {
    spawn_with_enr_in(0, faults).await
}

/// Starts a fake node of `cluster`; its address with `/p2p/` and its ENR.
pub async fn spawn_with_enr_in(cluster: u32, faults: Faults) -> (Multiaddr, String) {
    let node = spawn_full(cluster, faults).await;
    (node.addr, node.enr)
}

/// Starts a fake node of cluster 0 with its REST API.
pub async fn spawn_with_rest(faults: Faults) -> Spawned {
    spawn_full(0, faults).await
}

/// Starts a fake node of `cluster`, its REST API included.
pub async fn spawn_full(cluster: u32, faults: Faults) -> Spawned {
    use waku_core::protocol_id as id;
    let secp = identity::secp256k1::Keypair::generate();
    let mut swarm: Swarm<Behaviour> =
        libp2p::SwarmBuilder::with_existing_identity(identity::Keypair::from(secp.clone()))
            .with_tokio()
            .with_tcp(
                tcp::Config::default(),
                noise::Config::new,
                yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|key| Behaviour {
                identify: identify::Behaviour::new(identify::Config::new(
                    id::IDENTIFY.into(),
                    key.public(),
                )),
                relay: relay::behaviour(key, faults.relay_signs, !faults.relay_not_subscribed),
                metadata: served(id::METADATA, ProtocolSupport::Full, &faults),
                lightpush: served(id::LIGHTPUSH_V3, ProtocolSupport::Inbound, &faults),
                lightpush_v2: rr(id::LIGHTPUSH_V2, ProtocolSupport::Inbound),
                store: served(id::STORE_QUERY_V3, ProtocolSupport::Inbound, &faults),
                filter: served(id::FILTER_SUBSCRIBE_V2, ProtocolSupport::Inbound, &faults),
                push: rr(id::FILTER_PUSH_V2, ProtocolSupport::Outbound),
                px: rr(id::PEER_EXCHANGE, ProtocolSupport::Inbound),
                store_v2: rr(id::STORE_V2, ProtocolSupport::Inbound),
            })
            .unwrap()
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let port = addr
        .iter()
        .find_map(|p| match p {
            Protocol::Tcp(port) => Some(port),
            _ => None,
        })
        .unwrap();
    let record = enr::record(&faults, &secp, port, cluster);
    let addr = addr.with(Protocol::P2p(*swarm.local_peer_id()));
    let mut fake = Fake {
        cluster,
        faults,
        stored: Vec::new(),
        subscriptions: HashMap::new(),
        held: Vec::new(),
        filter_requests: 0,
        filter_requests_of: HashMap::new(),
        px_records: px::records(faults.px_bad_record),
    };
    let (publish_tx, mut publish_rx) = tokio::sync::mpsc::unbounded_channel::<WakuMessage>();
    let rest = rest::serve(faults, record.clone(), publish_tx).await;
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                event = swarm.select_next_some() => event,
                Some(message) = publish_rx.recv() => {
                    fake.publish(&mut swarm, &message);
                    fake.accept(&mut swarm, TOPIC.to_owned(), message);
                    continue;
                }
            };
            match event {
                SwarmEvent::Behaviour(event) => fake.handle(&mut swarm, event),
                // Like a real node, ask every new peer for its metadata.
                SwarmEvent::ConnectionEstablished { .. } if faults.metadata_never_asks => {}
                SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                    let request = WakuMetadataRequest {
                        cluster_id: (!faults.metadata_request_without_cluster).then_some(cluster),
                        shards: vec![0],
                        shards_packed: vec![0],
                    };
                    let bytes = waku_core::codec::encode_frame(&request);
                    swarm
                        .behaviour_mut()
                        .metadata
                        .send_request(&peer_id, Request::Push(bytes));
                }
                _ => {}
            }
        }
    });
    Spawned {
        addr,
        enr: record,
        rest,
    }
}

/// The peer of a metadata answer to our request without a cluster id, or
/// of our request that failed (a stream closed unanswered).
fn incomplete_answer(event: &request_response::Event<Request, Vec<u8>>) -> Option<PeerId> {
    match event {
        request_response::Event::Message {
            peer,
            message: request_response::Message::Response { response, .. },
            ..
        } => {
            // A stream closed unanswered reads as an empty response.
            let cluster =
                match waku_core::codec::decode_frame::<WakuMetadataResponse>(response, 1024) {
                    Ok(Some((answer, _))) => answer.cluster_id,
                    _ => None,
                };
            cluster.is_none().then_some(*peer)
        }
        request_response::Event::OutboundFailure { peer, .. } => Some(*peer),
        _ => None,
    }
}

fn request_of(
    event: request_response::Event<Request, Vec<u8>>,
) -> Option<(PeerId, Request, ResponseChannel<Vec<u8>>)> {
    match event {
        request_response::Event::Message {
            peer,
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        } => Some((peer, request, channel)),
        _ => None,
    }
}

fn hash(topic: &str, message: &WakuMessage) -> Vec<u8> {
    let domain = waku_core::WakuMessage::try_from(message.clone()).unwrap_or_default();
    waku_core::message_hash(topic, &domain).as_bytes().to_vec()
}

impl Fake {
    fn handle(&mut self, swarm: &mut Swarm<Behaviour>, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Relay(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                let (acceptance, taken) = relay::validate(&self.faults, &message);
                swarm
                    .behaviour_mut()
                    .relay
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
                if let Some(m) = taken {
                    self.accept(swarm, message.topic.into_string(), m);
                }
            }
            BehaviourEvent::Metadata(e) => {
                // On The Waku Network a peer whose answer to our request
                // has no cluster, or that closed it unanswered, goes.
                if let Some(peer) = incomplete_answer(&e)
                    && self.cluster == 1
                    && !self.faults.metadata_keeps_incomplete_peers
                {
                    let _ = swarm.disconnect_peer_id(peer);
                }
                if let Some((peer, request, channel)) = request_of(e) {
                    let asked = match &request {
                        Request::Frame(body) => WakuMetadataRequest::decode(body.as_slice()).ok(),
                        _ => None,
                    };
                    let shards = if self.faults.metadata_no_shards {
                        vec![]
                    } else {
                        vec![0]
                    };
                    let answer = WakuMetadataResponse {
                        cluster_id: (!self.faults.metadata_without_cluster).then_some(self.cluster),
                        shards: shards.clone(),
                        shards_packed: if self.faults.metadata_single_shard_field {
                            vec![]
                        } else {
                            shards
                        },
                    };
                    if !matches!(request, Request::Empty) {
                        let reply = self.reply(answer.encode_to_vec());
                        let _ = swarm.behaviour_mut().metadata.send_response(channel, reply);
                    }
                    if let Some(asked) = asked {
                        let other_cluster = asked.cluster_id != Some(self.cluster)
                            && !self.faults.metadata_keeps_other_clusters;
                        let other_shards =
                            !asked.shards.contains(&0) && self.faults.metadata_drops_other_shards;
                        if other_cluster || other_shards {
                            let _ = swarm.disconnect_peer_id(peer);
                        }
                    }
                }
            }
            BehaviourEvent::Lightpush(e) => {
                if let Some((_, request, channel)) = request_of(e) {
                    if matches!(request, Request::Empty) {
                        return;
                    }
                    let mut answer = self.lightpush(swarm, request);
                    if self.faults.lightpush_peer_count_on_errors && answer.status_code != 200 {
                        answer.relay_peer_count = Some(0);
                    }
                    let reply = self.reply(answer.encode_to_vec());
                    let _ = swarm
                        .behaviour_mut()
                        .lightpush
                        .send_response(channel, reply);
                }
            }
            BehaviourEvent::LightpushV2(e) => {
                if let Some((_, request, channel)) = request_of(e) {
                    if matches!(request, Request::Empty) {
                        return;
                    }
                    let answer = self.legacy_lightpush(swarm, request);
                    let reply = self.reply(answer.encode_to_vec());
                    let _ = swarm
                        .behaviour_mut()
                        .lightpush_v2
                        .send_response(channel, reply);
                }
            }
            BehaviourEvent::Store(e) => {
                if let Some((_, request, channel)) = request_of(e) {
                    if matches!(request, Request::Empty) {
                        if self.faults.store_hangs_on_empty {
                            self.held.push(channel);
                        }
                        return;
                    }
                    match self.store(request) {
                        Some(answer) => {
                            let reply = self.reply(answer.encode_to_vec());
                            let _ = swarm.behaviour_mut().store.send_response(channel, reply);
                        }
                        None => self.held.push(channel),
                    }
                }
            }
            BehaviourEvent::Filter(e) => {
                if let Some((peer, request, channel)) = request_of(e) {
                    if matches!(request, Request::Empty) {
                        return;
                    }
                    let reply = match self.over_filter_limit(peer) {
                        true if self.faults.filter_limit_answers_garbage => {
                            waku_conformance::wire::undecodable_frame()
                        }
                        true => self.reply(
                            FilterSubscribeResponse {
                                request_id: "N/A".into(),
                                status_code: 429,
                                status_desc: None,
                            }
                            .encode_to_vec(),
                        ),
                        false => {
                            let answer = self.filter(peer, request);
                            self.reply(answer.encode_to_vec())
                        }
                    };
                    let _ = swarm.behaviour_mut().filter.send_response(channel, reply);
                }
            }
            BehaviourEvent::StoreV2(e) => {
                if let Some((_, request, channel)) = request_of(e)
                    && let Some(body) = store_v2::answer(&self.faults, &self.stored, &request)
                {
                    let reply = self.reply(body);
                    let _ = swarm.behaviour_mut().store_v2.send_response(channel, reply);
                }
            }
            BehaviourEvent::Px(e) => {
                if let Some((_, request, channel)) = request_of(e) {
                    if matches!(request, Request::Empty) {
                        return;
                    }
                    match px::answer(&self.faults, &self.px_records, &request) {
                        Some(body) => {
                            let reply = self.reply(body);
                            let _ = swarm.behaviour_mut().px.send_response(channel, reply);
                        }
                        None => self.held.push(channel),
                    }
                }
            }
            _ => {}
        }
    }

    /// The bytes answering with `body`, as the defects say.
    fn reply(&self, body: Vec<u8>) -> Vec<u8> {
        let mut bytes = if self.faults.answers_garbage {
            waku_conformance::wire::undecodable_frame()
        } else {
            waku_conformance::wire::frame(&body)
        };
        if self.faults.trailing_bytes {
            bytes.extend_from_slice(b"stray");
        }
        bytes
    }

    fn lightpush(&mut self, swarm: &mut Swarm<Behaviour>, request: Request) -> LightPushResponse {
        let answer = |id: &str, code: u32, count: Option<u32>| LightPushResponse {
            request_id: id.to_owned(),
            status_code: code,
            status_desc: None,
            relay_peer_count: count,
        };
        if self.faults.lightpush_always_200 {
            return answer("", 200, Some(1));
        }
        let body = match request {
            Request::Frame(body) => body,
            Request::TooLarge(_) => return answer("N/A", 413, None),
            Request::Push(_) | Request::Empty => return answer("N/A", 400, None),
        };
        let Ok(r) = LightPushRequest::decode(body.as_slice()) else {
            return answer("N/A", 400, None);
        };
        let id = if self.faults.lightpush_wrong_request_id {
            "not-the-request-id".to_owned()
        } else {
            r.request_id.clone()
        };
        let Some(message) = r.message else {
            return answer(&id, 400, None);
        };
        // Autosharding: a request without a topic goes to the one shard.
        let topic = match r.pubsub_topic {
            None if !self.faults.lightpush_no_autoshard => TOPIC.to_owned(),
            topic => topic.unwrap_or_default(),
        };
        if topic.is_empty() {
            return answer(&id, 400, None);
        }
        if topic != TOPIC {
            return answer(&id, 421, None);
        }
        if message.encoded_len() > 150 * 1024 {
            return answer(&id, 413, None);
        }
        if message.meta.as_ref().is_some_and(|m| m.len() > 64) {
            return answer(&id, 420, None);
        }
        let topic_hash = gossipsub::IdentTopic::new(TOPIC).hash();
        let relay_peers = swarm
            .behaviour()
            .relay
            .all_peers()
            .filter(|(_, topics)| topics.contains(&&topic_hash))
            .count();
        if relay_peers == 0 {
            let code = if self.faults.lightpush_503_without_relay_peers {
                503
            } else {
                505
            };
            return answer(&id, code, None);
        }
        self.publish(swarm, &message);
        self.accept(swarm, topic, message);
        let count = (!self.faults.lightpush_without_peer_count)
            .then_some(u32::try_from(relay_peers).unwrap_or(u32::MAX));
        answer(&id, 200, count)
    }

    fn legacy_lightpush(&mut self, swarm: &mut Swarm<Behaviour>, request: Request) -> PushRpc {
        let answer = |id: &str, ok: bool, info: &str| PushRpc {
            request_id: id.to_owned(),
            request: None,
            response: Some(PushResponse {
                is_success: ok,
                info: (!info.is_empty()).then(|| info.to_owned()),
            }),
        };
        if self.faults.legacy_lightpush_always_success {
            return answer("", true, "");
        }
        let Request::Frame(body) = request else {
            return answer("N/A", false, "bad request");
        };
        let Ok(rpc) = PushRpc::decode(body.as_slice()) else {
            return answer("N/A", false, "undecodable");
        };
        let id = if self.faults.legacy_lightpush_wrong_request_id {
            "not-the-request-id".to_owned()
        } else {
            rpc.request_id.clone()
        };
        let echoed = rpc.request.clone();
        let Some(PushRequest {
            pubsub_topic,
            message: Some(message),
        }) = rpc.request
        else {
            return answer(&id, false, "no message");
        };
        if pubsub_topic != TOPIC {
            return answer(&id, false, "topic not served");
        }
        self.publish(swarm, &message);
        self.accept(swarm, pubsub_topic, message);
        let mut ok = answer(&id, true, "OK");
        if self.faults.legacy_lightpush_echoes_request {
            ok.request = echoed;
        }
        ok
    }

    /// Publishes `message` on relay (as the defects say).
    fn publish(&mut self, swarm: &mut Swarm<Behaviour>, message: &WakuMessage) {
        let data = if self.faults.relay_publishes_garbage {
            b"not a waku message".to_vec()
        } else {
            message.encode_to_vec()
        };
        let _ = swarm
            .behaviour_mut()
            .relay
            .publish(gossipsub::IdentTopic::new(TOPIC), data);
    }

    /// Stores `message` and pushes it to matching filter subscribers.
    fn accept(&mut self, swarm: &mut Swarm<Behaviour>, topic: String, message: WakuMessage) {
        let hash = hash(&topic, &message);
        for (peer, criteria) in &self.subscriptions {
            let wanted = self.faults.filter_pushes_everything
                || criteria.contains(&(topic.clone(), message.content_topic.clone()));
            if wanted && !self.faults.filter_never_pushes {
                let push = MessagePush {
                    waku_message: (!self.faults.filter_pushes_without_message)
                        .then(|| message.clone()),
                    pubsub_topic: (!self.faults.filter_pushes_without_topic).then(|| topic.clone()),
                };
                let bytes = waku_core::codec::encode_frame(&push);
                swarm
                    .behaviour_mut()
                    .push
                    .send_request(peer, Request::Push(bytes));
            }
        }
        let mut hash: Vec<u8> = if self.faults.store_hashes_wrong {
            hash.iter().map(|b| b ^ 0xff).collect()
        } else {
            hash
        };
        if self.faults.store_short_hashes {
            hash.truncate(31);
        }
        self.stored.push(Stored {
            hash,
            message,
            topic,
        });
        self.stored
            .sort_by(|a, b| (a.message.timestamp, &a.hash).cmp(&(b.message.timestamp, &b.hash)));
    }

    /// `None`: leave the stream hanging.
    fn store(&mut self, request: Request) -> Option<StoreQueryResponse> {
        let answer = |id: &str, code: u32| StoreQueryResponse {
            request_id: id.to_owned(),
            status_code: Some(code),
            ..StoreQueryResponse::default()
        };
        let body = match request {
            Request::Frame(body) => body,
            _ => return Some(answer("", 400)),
        };
        let q = match StoreQueryRequest::decode(body.as_slice()) {
            Ok(q) => q,
            Err(_) if self.faults.store_hangs_on_garbage => return None,
            Err(_) if self.faults.store_garbage_without_desc => return Some(answer("", 400)),
            Err(e) => {
                return Some(StoreQueryResponse {
                    status_desc: Some(format!("decoding rpc failed: {e}")),
                    ..answer("", 400)
                });
            }
        };
        let id = if self.faults.store_wrong_request_id {
            "not-the-request-id".to_owned()
        } else {
            q.request_id.clone()
        };
        let content =
            !q.content_topics.is_empty() || q.time_start.is_some() || q.time_end.is_some();
        let bad = (content && !q.message_hashes.is_empty()) || q.content_topics.len() > 10;
        if bad && !self.faults.store_lenient_requests {
            return Some(answer(&id, 400));
        }
        let matching: Vec<&Stored> = self
            .stored
            .iter()
            .filter(|s| {
                if !q.message_hashes.is_empty() && !self.faults.store_ignores_hashes {
                    return q.message_hashes.contains(&s.hash)
                        && q.pubsub_topic.as_ref().is_none_or(|t| *t == s.topic);
                }
                let ts = s.message.timestamp.unwrap_or_default();
                let before_end = match q.time_end {
                    Some(end) if self.faults.store_time_end_exclusive => ts < end,
                    Some(end) => ts <= end,
                    None => true,
                };
                q.pubsub_topic.as_ref().is_none_or(|t| *t == s.topic)
                    && (q.content_topics.is_empty()
                        || self.faults.store_ignores_content_topics
                        || q.content_topics.contains(&s.message.content_topic))
                    && q.time_start.is_none_or(|start| ts >= start)
                    && before_end
            })
            .collect();
        let position = match &q.pagination_cursor {
            Some(c) if c.len() != 32 => return Some(answer(&id, 400)),
            Some(_) if self.faults.store_ignores_cursor => None,
            Some(c) => match matching.iter().position(|s| s.hash == *c) {
                Some(p) => Some(p),
                None => return Some(answer(&id, 400)),
            },
            None => None,
        };
        let limit = match q.pagination_limit.unwrap_or(0) {
            _ if self.faults.store_ignores_limit => usize::MAX,
            0 => 20,
            n => n.min(100) as usize,
        };
        let (page, more): (Vec<&Stored>, bool) = if q.pagination_forward {
            let start = position.map_or(0, |p| p + 1);
            let rest = matching.get(start..).unwrap_or_default();
            (
                rest.iter().take(limit).copied().collect(),
                rest.len() > limit,
            )
        } else {
            let end = position.unwrap_or(matching.len());
            let rest = matching.get(..end).unwrap_or_default();
            let from = rest.len().saturating_sub(limit);
            (rest[from..].to_vec(), from > 0)
        };
        let cursor = if !more && self.faults.store_cursor_always {
            matching.last().map(|s| s.hash.clone())
        } else if !more {
            None
        } else if q.pagination_forward {
            page.last().map(|s| s.hash.clone())
        } else {
            page.first().map(|s| s.hash.clone())
        };
        let data = q.include_data || self.faults.store_always_includes_data;
        let mut entries: Vec<WakuMessageKeyValue> = page
            .iter()
            .map(|s| WakuMessageKeyValue {
                message_hash: Some(s.hash.clone()),
                message: data.then(|| s.message.clone()),
                pubsub_topic: (data && !self.faults.store_omits_topic).then(|| s.topic.clone()),
            })
            .collect();
        if self.faults.store_backward_newest_first && !q.pagination_forward {
            entries.reverse();
        }
        if self.faults.store_forward_newest_first && q.pagination_forward {
            entries.reverse();
        }
        Some(StoreQueryResponse {
            request_id: id,
            status_code: (!self.faults.store_no_status).then_some(200),
            status_desc: None,
            messages: entries,
            pagination_cursor: cursor,
        })
    }

    /// Counts a subscribe-protocol request of `peer`; whether it is over
    /// [`Faults::filter_limit`].
    fn over_filter_limit(&mut self, peer: PeerId) -> bool {
        let Some(limit) = self.faults.filter_limit else {
            return false;
        };
        let key = (!self.faults.filter_limit_shared).then_some(peer);
        let seen = self.filter_requests_of.entry(key).or_default();
        *seen += 1;
        *seen > limit
    }

    fn filter(&mut self, peer: PeerId, request: Request) -> FilterSubscribeResponse {
        let answer = |id: &str, code: u32| FilterSubscribeResponse {
            request_id: id.to_owned(),
            status_code: code,
            status_desc: None,
        };
        self.filter_requests += 1;
        if self.faults.filter_always_429
            || (self.faults.filter_first_429 && self.filter_requests == 1)
        {
            return answer("N/A", 429);
        }
        let Request::Frame(body) = request else {
            return answer("N/A", 400);
        };
        let Ok(r) = FilterSubscribeRequest::decode(body.as_slice()) else {
            let code = if self.faults.filter_200_to_garbage {
                200
            } else {
                400
            };
            return answer("N/A", code);
        };
        let id = if self.faults.filter_wrong_request_id {
            "not-the-request-id".to_owned()
        } else {
            r.request_id.clone()
        };
        let always_200 = self.faults.filter_unsubscribes_always_200;
        let held = self.subscriptions.entry(peer).or_default();
        let topic = r.pubsub_topic.clone().unwrap_or_default();
        let criteria: Vec<(String, String)> = r
            .content_topics
            .iter()
            .map(|c| (topic.clone(), c.clone()))
            .collect();
        let valid = !topic.is_empty()
            && !criteria.is_empty()
            && (criteria.len() <= 100 || self.faults.filter_unbounded_topics);
        let code = match FilterSubscribeType::try_from(r.filter_subscribe_type) {
            Ok(FilterSubscribeType::SubscriberPing)
                if self.faults.filter_ping_rejects_blank_topic
                    && r.pubsub_topic.as_deref() == Some("") =>
            {
                400
            }
            Ok(FilterSubscribeType::SubscriberPing) => {
                if held.is_empty() && !self.faults.filter_ping_always_200 {
                    404
                } else {
                    200
                }
            }
            Ok(FilterSubscribeType::Subscribe)
                if valid
                    && held.union(&criteria.iter().cloned().collect()).count() > 1000
                    && !self.faults.filter_unbounded_criteria =>
            {
                if self.faults.filter_criteria_cap_500 {
                    500
                } else {
                    503
                }
            }
            Ok(FilterSubscribeType::Subscribe) => {
                if valid || self.faults.filter_accepts_empty_criteria {
                    held.extend(criteria);
                    200
                } else {
                    400
                }
            }
            Ok(FilterSubscribeType::Unsubscribe) => {
                if !valid {
                    400
                } else if always_200 || criteria.iter().any(|c| held.contains(c)) {
                    if !self.faults.filter_unsubscribe_not_carried_out {
                        held.retain(|c| !criteria.contains(c));
                    }
                    200
                } else {
                    404
                }
            }
            Ok(FilterSubscribeType::UnsubscribeAll)
                if self.faults.filter_unsubscribe_all_rejects_topic
                    && r.pubsub_topic.as_deref().is_some_and(|t| !t.is_empty()) =>
            {
                400
            }
            Ok(FilterSubscribeType::UnsubscribeAll) => {
                if held.is_empty() && !always_200 {
                    404
                } else {
                    held.clear();
                    200
                }
            }
            Err(_) if self.faults.filter_unknown_type_200 => return answer("N/A", 200),
            Err(_) => 400,
        };
        answer(&id, code)
    }
}

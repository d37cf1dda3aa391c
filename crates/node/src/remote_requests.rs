//! Requests this node sends to service nodes for its REST API (lightpush,
//! filter and store clients), and the bookkeeping of their answers.

use libp2p::request_response::OutboundRequestId;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;
use tracing::debug;
use waku_core::WakuMessage;
use waku_lightpush::StatusCode as LightpushStatus;

use crate::filter_requests::{FilterReply, split_by_shard};
use crate::handle::{
    FilterFailure, FilterFailureKind, FilterRequest, LightpushError, LightpushOk, ReceivedMessage,
    RequestError, StoreFailure,
};
use crate::node::Node;
use crate::store_requests::{LegacyReply, PendingLegacy, PendingV3, V3Reply};
use crate::topic_shards::TopicShardError;

impl Node {
    /// Makes sure a connection to the service node `peer` is up or being
    /// set up at `addr`, without opening a second one while a dial is under
    /// way (requests to it wait for the connection).
    pub(crate) fn ensure_dialing(
        &mut self,
        peer: PeerId,
        addr: Multiaddr,
    ) -> Result<(), libp2p::swarm::DialError> {
        use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
        let opts = DialOpts::peer_id(peer)
            .addresses(vec![addr])
            .condition(PeerCondition::DisconnectedAndNotDialing)
            // See `node::on_a_new_port`.
            .allocate_new_port()
            .build();
        match self.dial(opts) {
            Ok(()) | Err(libp2p::swarm::DialError::DialPeerConditionFalse(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The REST lightpush: through `--lightpushnode` when one is given (as
    /// nwaku, whose REST lightpush always goes through its client), else
    /// through our own relay when we serve lightpush.
    pub(crate) fn lightpush_command(
        &mut self,
        pubsub_topic: Option<String>,
        message: WakuMessage,
        reply: oneshot::Sender<Result<LightpushOk, LightpushError>>,
    ) {
        // Too large for relay anywhere: refused before any stream opens,
        // in nwaku's words (420, served as HTTP 500 or the legacy 503).
        let limit = waku_core::MessageValidator {
            max_message_size: self.config.max_message_size,
            ..waku_core::MessageValidator::default()
        };
        if let Err(e) = limit.check_size(message.encoded_len()) {
            let _ = reply.send(Err(LightpushError::new(
                LightpushStatus::INVALID_MESSAGE,
                e.to_string(),
            )));
            return;
        }
        if self.config.lightpushnode.is_none() && self.swarm.behaviour().lightpush.is_enabled() {
            let topic = match pubsub_topic {
                Some(t) if !t.is_empty() => Ok(t),
                _ => match self.config.topic_shards.shard(&message.content_topic) {
                    Ok(shard) => Ok(shard.to_string()),
                    Err(TopicShardError::Disabled) => Err(LightpushError::new(
                        LightpushStatus::INVALID_MESSAGE,
                        "Pubsub topic must be specified when static sharding is enabled",
                    )),
                    Err(e) => Err(LightpushError::new(
                        LightpushStatus::BAD_REQUEST,
                        e.to_string(),
                    )),
                },
            };
            let result = topic.and_then(|topic| {
                self.relay_for_lightpush(topic, message)
                    .map(|peers| LightpushOk {
                        relay_peer_count: Some(peers),
                        description: None,
                    })
                    .map_err(|f| LightpushError::new(f.status(), f.to_string()))
            });
            self.node_metrics.lightpush_request(
                waku_lightpush::Version::V3,
                result.as_ref().err().map(|e| e.status.0),
            );
            let _ = reply.send(result);
            return;
        }
        let pubsub_topic = pubsub_topic.filter(|t| !t.is_empty());
        let target = self.config.lightpushnode.clone().or_else(|| {
            // nwaku's REST picks a lightpush peer from the peer store; we
            // prefer one serving the message's shard.
            let topic = pubsub_topic.clone().or_else(|| {
                self.config
                    .topic_shards
                    .shard(&message.content_topic)
                    .ok()
                    .map(|s| s.to_string())
            });
            let shard = self.shard_of(topic.as_deref());
            self.select_service_peer(&[waku_core::protocol_id::LIGHTPUSH_V3], shard)
        });
        let Some((peer, addr)) = target else {
            tracing::info!(
                "no lightpush service peer known: {}",
                self.no_service_peer_text()
            );
            let _ = reply.send(Err(LightpushError::new(
                LightpushStatus::SERVICE_UNAVAILABLE,
                self.no_service_peer_text(),
            )));
            return;
        };
        if let Err(e) = self.ensure_dialing(peer, addr) {
            let _ = reply.send(Err(LightpushError::new(
                LightpushStatus::SERVICE_UNAVAILABLE,
                e.to_string(),
            )));
            return;
        }
        if let Some(client) = self.swarm.behaviour_mut().lightpush_client.as_mut() {
            let id = client.push(&peer, pubsub_topic, message);
            self.pending_lightpushes.insert(id, reply);
        }
    }

    /// The filter service peer: `--filternode`, else the peer chosen
    /// before while it still suits `shard`, else one chosen now from the
    /// peer book (and kept, so that pings and unsubscribes reach the node
    /// holding the subscription).
    fn filter_peer(&mut self, shard: Option<u16>) -> Option<(PeerId, Multiaddr)> {
        if let Some(configured) = self.config.filternode.clone() {
            return Some(configured);
        }
        if let Some((peer, addr)) = self.filter_service.clone() {
            let suits = match (shard, self.peer_shards(&peer)) {
                (Some(s), Some(served)) => served.contains(&s),
                _ => true,
            };
            if suits {
                return Some((peer, addr));
            }
        }
        let chosen =
            self.select_service_peer(&[waku_core::protocol_id::FILTER_SUBSCRIBE_V2], shard)?;
        debug!(peer = %chosen.0, ?shard, "filter service peer chosen from the peer book");
        self.filter_service = Some(chosen.clone());
        Some(chosen)
    }

    /// Sends a filter request to the filter service peer (split by
    /// autoshard when it names no pubsub topic); `reply` gets the combined
    /// answer.
    pub(crate) fn filter_command(&mut self, request: FilterRequest, reply: FilterReply) {
        let topic_shards = &self.config.topic_shards;
        let parts = match &request {
            FilterRequest::Subscribe {
                pubsub_topic,
                content_topics,
            }
            | FilterRequest::Unsubscribe {
                pubsub_topic,
                content_topics,
            } => match split_by_shard(pubsub_topic.clone(), content_topics.clone(), topic_shards) {
                Ok(parts) => parts,
                Err(failure) => {
                    let _ = reply.send(Err(failure));
                    return;
                }
            },
            FilterRequest::UnsubscribeAll | FilterRequest::Ping => Vec::new(),
        };
        let shard = parts
            .first()
            .and_then(|(topic, _)| self.shard_of(Some(topic)));
        let Some((peer, addr)) = self.filter_peer(shard) else {
            tracing::info!(
                ?shard,
                "no filter service peer known: {}",
                self.no_service_peer_text()
            );
            let _ = reply.send(Err(FilterFailure::new(
                FilterFailureKind::NoServiceNode,
                self.no_service_peer_text(),
            )));
            return;
        };
        if let Err(e) = self.ensure_dialing(peer, addr) {
            let _ = reply.send(Err(FilterFailure::new(
                FilterFailureKind::Unreachable,
                format!("cannot dial the filter service node: {e}"),
            )));
            return;
        }
        let Some(client) = self.swarm.behaviour_mut().filter_client.as_mut() else {
            let _ = reply.send(Err(FilterFailure::new(
                FilterFailureKind::NoServiceNode,
                "the filter client is not running",
            )));
            return;
        };
        let ids = match request {
            FilterRequest::Subscribe { .. } => parts
                .into_iter()
                .map(|(topic, contents)| client.subscribe(&peer, topic, contents))
                .collect(),
            FilterRequest::Unsubscribe { .. } => parts
                .into_iter()
                .map(|(topic, contents)| client.unsubscribe(&peer, topic, contents))
                .collect(),
            FilterRequest::UnsubscribeAll => vec![client.unsubscribe_all(&peer)],
            FilterRequest::Ping => vec![client.ping(&peer)],
        };
        self.filter_requests.start(ids, reply);
    }

    /// The store node to ask: `peer` when given, else `--storenode`, else a
    /// known peer that serves the store, with a connection to it up or being
    /// set up.
    pub(crate) fn store_peer(
        &mut self,
        peer: Option<(PeerId, Multiaddr)>,
        shard: Option<u16>,
    ) -> Result<PeerId, RequestError> {
        let (peer_id, addr) = peer
            .or_else(|| self.config.storenode.clone())
            .or_else(|| {
                // As nwaku: a store peer from the peer store, one serving
                // the query's shard when it names one.
                self.select_service_peer(
                    &[
                        waku_core::protocol_id::STORE_QUERY_V3,
                        waku_core::protocol_id::STORE_V2,
                    ],
                    shard,
                )
            })
            .ok_or_else(|| {
                tracing::info!(
                    ?shard,
                    "no store service peer known: {}",
                    self.no_service_peer_text()
                );
                RequestError::NoPeer
            })?;
        self.ensure_dialing(peer_id, addr)
            .map_err(RequestError::from)?;
        Ok(peer_id)
    }

    /// Whether identify told us `peer` serves the legacy store and not v3.
    pub(crate) fn serves_only_legacy_store(&self, peer: &PeerId) -> bool {
        self.peers.get(peer).is_some_and(|info| {
            let serves = |p: &str| info.protocols.iter().any(|q| q == p);
            serves(waku_core::protocol_id::STORE_V2)
                && !serves(waku_core::protocol_id::STORE_QUERY_V3)
        })
    }

    /// Asks a v3 query of a store node that serves only the legacy store.
    pub(crate) fn store_v3_over_legacy(&mut self, pending: PendingV3) {
        let query = match self.store_requests.legacy_query_for(&pending.query) {
            Ok(query) => query,
            Err(e) => {
                let _ = pending.reply.send(Err(e));
                return;
            }
        };
        let Some(legacy) = self.swarm.behaviour_mut().legacy_store.as_mut() else {
            let _ = pending.reply.send(Err(StoreFailure::NoV3.into()));
            return;
        };
        let peer_id = pending.peer_id;
        debug!(peer = %peer_id, "store node serves only legacy: asking over legacy");
        let id = legacy.send_query(&peer_id, &query);
        self.store_requests.legacy.insert(
            id,
            PendingLegacy::ForV3 {
                query: pending.query,
                reply: pending.reply,
            },
        );
    }

    /// Answers the legacy query `request_id`.
    pub(crate) fn on_legacy_store_result(
        &mut self,
        request_id: OutboundRequestId,
        result: Result<waku_store::legacy::Page, waku_store::QueryError>,
    ) {
        let Some(pending) = self.store_requests.legacy.remove(&request_id) else {
            return;
        };
        let result = result.map_err(|e| StoreFailure::from(e).into());
        match pending {
            PendingLegacy::Legacy(reply) => {
                let _ = reply.send(result);
            }
            PendingLegacy::ForV3 { query, reply } => {
                let _ = reply.send(
                    result.map(|page| self.store_requests.store_response_from_legacy(&query, page)),
                );
            }
        }
    }

    /// Answers filter requests and hands pushed messages to the handles.
    pub(crate) fn on_filter_client(&mut self, event: waku_filter::client::Event) {
        match event {
            waku_filter::client::Event::Response {
                request, result, ..
            } => {
                let result = result.map_err(|e| crate::filter_requests::failure(&e));
                self.filter_requests.answer(&request, result);
            }
            waku_filter::client::Event::Message {
                pubsub_topic,
                message,
                ..
            } => {
                let hash = waku_core::message_hash(&pubsub_topic, &message);
                debug!(%pubsub_topic, %hash, "filter push received");
                let _ = self.handle.filter_pushes.send(ReceivedMessage {
                    pubsub_topic,
                    message: *message,
                    hash,
                });
            }
            waku_filter::client::Event::PushDropped { peer, reason } => {
                debug!(%peer, ?reason, "filter push dropped");
            }
            other => debug!(?other, "filter client"),
        }
    }

    /// Sends a v3 store query for the REST API to `peer` (or
    /// `--storenode`), over legacy when that node serves only legacy.
    pub(crate) fn store_query(
        &mut self,
        peer: Option<(PeerId, Multiaddr)>,
        query: waku_store::StoreQuery,
        reply: V3Reply,
    ) {
        let shard = self.shard_of(query.pubsub_topic.as_deref());
        let peer_id = match self.store_peer(peer, shard) {
            Ok(peer_id) => peer_id,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let pending = PendingV3 {
            peer_id,
            query,
            reply,
        };
        if self.serves_only_legacy_store(&peer_id) {
            self.store_v3_over_legacy(pending);
            return;
        }
        let Some(store) = self.swarm.behaviour_mut().store.as_mut() else {
            let _ = pending.reply.send(Err(RequestError::NoPeer));
            return;
        };
        let id = store.send_query(&peer_id, &pending.query);
        self.store_requests.v3.insert(id, pending);
    }

    /// Sends a legacy store query for the REST API to `peer` (or
    /// `--storenode`).
    pub(crate) fn legacy_store_query(
        &mut self,
        peer: Option<(PeerId, Multiaddr)>,
        query: waku_store::legacy::Query,
        reply: LegacyReply,
    ) {
        let shard = self.shard_of(query.pubsub_topic.as_deref());
        let peer_id = match self.store_peer(peer, shard) {
            Ok(peer_id) => peer_id,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let Some(legacy) = self.swarm.behaviour_mut().legacy_store.as_mut() else {
            let _ = reply.send(Err(RequestError::NoPeer));
            return;
        };
        let id = legacy.send_query(&peer_id, &query);
        self.store_requests
            .legacy
            .insert(id, PendingLegacy::Legacy(reply));
    }

    /// Answers the v3 query `request_id`; a store node that turns out to
    /// serve only legacy is asked again over legacy.
    pub(crate) fn on_store_result(
        &mut self,
        request_id: OutboundRequestId,
        result: Result<waku_store::StoreResponse, waku_store::QueryError>,
    ) {
        if let Some(pending) = self.store_requests.v3.remove(&request_id) {
            match result {
                // The store node serves only the legacy store.
                Err(waku_store::QueryError::UnsupportedProtocol)
                    if self.swarm.behaviour().legacy_store.is_enabled() =>
                {
                    self.store_v3_over_legacy(pending);
                }
                other => {
                    let _ = pending
                        .reply
                        .send(other.map_err(|e| StoreFailure::from(e).into()));
                }
            }
        }
    }

    /// Answers the REST lightpush the lightpush client's `event` is about.
    pub(crate) fn on_lightpush_client(&mut self, event: waku_lightpush::client::Event) {
        let (request, result) = match event {
            waku_lightpush::client::Event::Pushed {
                request,
                relay_peer_count,
                description,
                ..
            } => (
                request,
                Ok(LightpushOk {
                    relay_peer_count,
                    description,
                }),
            ),
            waku_lightpush::client::Event::Refused {
                request,
                status,
                description,
                ..
            } => (
                request,
                Err(LightpushError::new(
                    status.unwrap_or(LightpushStatus::INTERNAL_SERVER_ERROR),
                    description.unwrap_or_default(),
                )),
            ),
            waku_lightpush::client::Event::Failed { request, error, .. } => {
                use libp2p::request_response::OutboundFailure;
                // nwaku's client words for a service node it cannot reach
                // or that does not speak lightpush.
                let description = match error {
                    OutboundFailure::DialFailure | OutboundFailure::UnsupportedProtocols => {
                        "dial_failure".to_owned()
                    }
                    other => other.to_string(),
                };
                (
                    request,
                    Err(LightpushError::new(
                        LightpushStatus::SERVICE_UNAVAILABLE,
                        description,
                    )),
                )
            }
            other => {
                debug!(?other, "lightpush client");
                return;
            }
        };
        if let Some(reply) = self.pending_lightpushes.remove(&request) {
            let _ = reply.send(result);
        }
    }
}

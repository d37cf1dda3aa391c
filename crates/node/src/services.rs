//! What the node does for the protocols it serves: publishing lightpushed
//! messages through relay, and accounting for the filter service.

use tracing::debug;
use waku_core::WakuMessage;

use crate::handle::RequestError;
use crate::node::Node;

impl Node {
    /// Publishes a lightpush request through relay and answers the client.
    pub(crate) fn lightpush_publish(
        &mut self,
        id: waku_lightpush::service::PublishId,
        version: waku_lightpush::Version,
        pubsub_topic: String,
        message: WakuMessage,
    ) {
        let answer = self.relay_for_lightpush(pubsub_topic, message);
        self.node_metrics
            .lightpush_request(version, answer.as_ref().err().map(|f| f.status().0));
        if let Some(lightpush) = self.swarm.behaviour_mut().lightpush.as_mut() {
            lightpush.publish_result(id, answer);
        }
    }

    /// Relays a lightpushed message and delivers it locally; the relay peer
    /// count, or the lightpush failure.
    pub(crate) fn relay_for_lightpush(
        &mut self,
        pubsub_topic: String,
        message: WakuMessage,
    ) -> Result<u32, waku_lightpush::PublishFailure> {
        use waku_lightpush::PublishFailure;
        // Delivered locally even without a relay peer, then answered 505,
        // as nwaku does.
        match self.publish_own(pubsub_topic.clone(), message) {
            Ok(_) => {
                let peers = self
                    .relay()
                    .map_or(0, |relay| relay.relay_peers(&pubsub_topic));
                match u32::try_from(peers).unwrap_or(u32::MAX) {
                    0 => Err(PublishFailure::NoPeers),
                    peers => Ok(peers),
                }
            }
            Err(RequestError::Publish(e)) => Err(lightpush_failure(&e)),
            Err(_) => Err(PublishFailure::ServiceUnavailable(
                "relay is not enabled".into(),
            )),
        }
    }

    /// Counts what the filter service reports.
    pub(crate) fn on_filter_service(&mut self, event: waku_filter::service::Event) {
        let subscribers = self
            .swarm
            .behaviour()
            .filter
            .as_ref()
            .map_or(0, waku_filter::service::Behaviour::subscriber_count);
        match event {
            waku_filter::service::Event::Request { kind, .. } => {
                self.node_metrics.filter_request(kind, subscribers);
            }
            waku_filter::service::Event::SubscriberRemoved { peer, reason } => {
                debug!(%peer, ?reason, "filter subscriber removed");
                self.node_metrics.filter_subscribers(subscribers);
            }
            waku_filter::service::Event::PushFailed { peer, reason } => {
                debug!(%peer, %reason, "filter push failed");
                self.node_metrics
                    .filter_error(crate::metrics::FILTER_PUSH_FAILURE);
            }
            waku_filter::service::Event::MessageHandled { elapsed, .. } => {
                self.node_metrics
                    .timings
                    .filter_handle_message
                    .observe(elapsed.as_secs_f64());
            }
            other => debug!(?other, "filter service"),
        }
    }
}

/// The lightpush answer for a relay publish failure.
fn lightpush_failure(e: &waku_relay::PublishError) -> waku_lightpush::PublishFailure {
    use waku_lightpush::PublishFailure;
    use waku_relay::PublishError;
    match e {
        PublishError::NoPeers(_) => PublishFailure::NoPeers,
        PublishError::Invalid(v) => PublishFailure::InvalidMessage(v.to_string()),
        PublishError::Rejected(r) => PublishFailure::InvalidMessage((*r).to_owned()),
        // A message relay has seen reaches nobody new: nwaku answers it as
        // published to no peer.
        PublishError::Duplicate => PublishFailure::NoPeers,
        PublishError::Ignored(r) => PublishFailure::ServiceUnavailable((*r).to_owned()),
        PublishError::QueuesFull(_) => PublishFailure::ServiceUnavailable(e.to_string()),
        PublishError::Gossipsub(g) => PublishFailure::Internal(g.clone()),
        _ => PublishFailure::Internal(e.to_string()),
    }
}

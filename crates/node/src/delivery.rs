//! Local delivery: every message this node relays or publishes itself goes
//! to the archive, to matching filter subscribers and to the handles'
//! message stream, in one place.

use tracing::{debug, warn};
use waku_core::{MessageHash, WakuMessage};

use crate::handle::{ReceivedMessage, RequestError};
use crate::node::Node;

impl Node {
    /// Publishes this node's own `message` through relay and delivers it
    /// locally (nwaku's `triggerSelf`: the REST cache, the archive and
    /// filter subscribers), also when relay had no peer for it; relay's
    /// answer is returned as is.
    pub(crate) fn publish_own(
        &mut self,
        pubsub_topic: String,
        message: WakuMessage,
    ) -> Result<MessageHash, RequestError> {
        let copy = message.clone();
        let result = self
            .relay()
            .and_then(|r| r.publish(&pubsub_topic, message).map_err(Into::into));
        let local = match &result {
            Ok(hash) => Some(*hash),
            Err(RequestError::Publish(waku_relay::PublishError::NoPeers(_))) => {
                Some(waku_core::message_hash(&pubsub_topic, &copy))
            }
            Err(_) => None,
        };
        if let Some(hash) = local {
            debug!(%pubsub_topic, %hash, "own message published");
            self.deliver_locally(pubsub_topic, copy, hash);
        }
        result
    }

    /// Hands `message` (hash `hash`) on `pubsub_topic`, received from a
    /// relay peer or published by this node, to the archive, the filter
    /// service and the handles. Both kinds count in nwaku's
    /// `waku_node_messages_total{type="relay"}` and message-size histogram:
    /// its relay handler sees its own publications too (`triggerSelf`).
    pub(crate) fn deliver_locally(
        &mut self,
        pubsub_topic: String,
        message: WakuMessage,
        hash: MessageHash,
    ) {
        self.node_metrics.relay_message();
        self.network_metrics.message_size(message.payload.len());
        if let Some(archive) = &self.archive
            && let Err(e) = archive.try_send(&pubsub_topic, &message)
        {
            warn!(%hash, %e, "message not archived");
        }
        if let Some(filter) = self.swarm.behaviour_mut().filter.as_mut() {
            filter.push(&pubsub_topic, &message);
        }
        // No receiver is fine: nobody is listening yet.
        let _ = self.handle.messages.send(ReceivedMessage {
            pubsub_topic,
            message,
            hash,
        });
    }
}

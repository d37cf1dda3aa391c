//! The node's filter client side (`--filternode`): splitting a request by
//! shard, waiting for every part, and turning answers into the codes
//! nwaku's REST API uses.

use std::collections::HashMap;
use std::hash::Hash;

use libp2p::request_response::OutboundFailure;
use tokio::sync::oneshot;

use crate::handle::{FilterFailure, FilterFailureKind};
use crate::topic_shards::TopicShards;

/// Answer channel of one filter request.
pub(crate) type FilterReply = oneshot::Sender<Result<(), FilterFailure>>;

/// The `(pubsub topic, content topics)` requests one REST request becomes:
/// one for an explicit pubsub topic, else one per autoshard of the content
/// topics (in the order the topics first appear).
pub(crate) fn split_by_shard(
    pubsub_topic: Option<String>,
    content_topics: Vec<String>,
    topic_shards: &TopicShards,
) -> Result<Vec<(String, Vec<String>)>, FilterFailure> {
    let bad = |description: String| FilterFailure::new(FilterFailureKind::BadRequest, description);
    if let Some(topic) = pubsub_topic.filter(|t| !t.is_empty()) {
        return Ok(vec![(topic, content_topics)]);
    }
    if topic_shards.is_off() {
        return Err(bad(
            "a pubsub topic is required when the node does not use autosharding".into(),
        ));
    }
    if content_topics.is_empty() {
        return Err(bad("contentFilters is empty".into()));
    }
    let mut parts: Vec<(String, Vec<String>)> = Vec::new();
    for content_topic in content_topics {
        let shard = topic_shards
            .shard(&content_topic)
            .map_err(|e| bad(format!("cannot autoshard {content_topic}: {e}")))?
            .to_string();
        match parts.iter_mut().find(|(topic, _)| *topic == shard) {
            Some((_, topics)) => topics.push(content_topic),
            None => parts.push((shard, vec![content_topic])),
        }
    }
    Ok(parts)
}

/// The REST code and description for a failed filter request, as nwaku maps
/// its filter client errors.
pub(crate) fn failure(error: &waku_filter::client::FilterError) -> FilterFailure {
    use waku_filter::client::FilterError;
    match error {
        FilterError::Refused {
            status,
            description,
        } => {
            let description = description.clone().unwrap_or_default();
            match status.0 {
                400 | 404 | 429 | 503 => {
                    FilterFailure::new(FilterFailureKind::Refused(*status), description)
                }
                _ => FilterFailure::new(
                    FilterFailureKind::Failed,
                    format!("unexpected answer {}: {description}", status.0),
                ),
            }
        }
        FilterError::Failed(OutboundFailure::DialFailure) => FilterFailure::new(
            FilterFailureKind::Unreachable,
            "cannot dial the filter service node",
        ),
        FilterError::Failed(OutboundFailure::Timeout) => FilterFailure::new(
            FilterFailureKind::TimedOut,
            "Subscription request timed out",
        ),
        other => FilterFailure::new(FilterFailureKind::Failed, other.to_string()),
    }
}

/// One request from a handle, possibly sent as several protocol requests.
#[derive(Debug)]
struct Group {
    remaining: usize,
    failure: Option<FilterFailure>,
    reply: FilterReply,
}

/// Filter requests in flight, keyed by protocol request id `K`.
#[derive(Debug)]
pub(crate) struct FilterRequests<K> {
    next: u64,
    groups: HashMap<u64, Group>,
    parts: HashMap<K, u64>,
}

impl<K> Default for FilterRequests<K> {
    fn default() -> Self {
        Self {
            next: 0,
            groups: HashMap::new(),
            parts: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> FilterRequests<K> {
    /// Waits for the answers to `ids`, then answers `reply` (at once when
    /// `ids` is empty).
    pub(crate) fn start(&mut self, ids: Vec<K>, reply: FilterReply) {
        if ids.is_empty() {
            let _ = reply.send(Ok(()));
            return;
        }
        let group = self.next;
        self.next += 1;
        self.groups.insert(
            group,
            Group {
                remaining: ids.len(),
                failure: None,
                reply,
            },
        );
        for id in ids {
            self.parts.insert(id, group);
        }
    }

    /// Records the answer to `id`; the first failure of a group is the one
    /// reported. `false` when `id` is not ours.
    pub(crate) fn answer(&mut self, id: &K, result: Result<(), FilterFailure>) -> bool {
        let Some(group_id) = self.parts.remove(id) else {
            return false;
        };
        let Some(group) = self.groups.get_mut(&group_id) else {
            return true;
        };
        if let Err(failure) = result {
            group.failure.get_or_insert(failure);
        }
        group.remaining -= 1;
        if group.remaining == 0
            && let Some(group) = self.groups.remove(&group_id)
        {
            let _ = group.reply.send(group.failure.map_or(Ok(()), Err));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waku_filter::StatusCode;
    use waku_sharding::NetworkConfig;

    #[test]
    fn an_explicit_pubsub_topic_is_one_request() {
        let parts = split_by_shard(
            Some("/waku/2/rs/1/3".into()),
            vec!["/a/1/b/c".into(), "/x/1/y/z".into()],
            &TopicShards::default(),
        )
        .unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].1.len(), 2);
    }

    #[test]
    fn autosharding_groups_content_topics_by_shard() {
        let net = NetworkConfig::TWN;
        let topics: Vec<String> = (0..20).map(|i| format!("/app{i}/1/chat/proto")).collect();
        let parts =
            split_by_shard(None, topics.clone(), &TopicShards::new(Some(net), None)).unwrap();
        assert!(parts.len() > 1);
        let mut all: Vec<String> = parts.iter().flat_map(|(_, t)| t.clone()).collect();
        all.sort();
        let mut expected = topics;
        expected.sort();
        assert_eq!(all, expected);
        for (shard, topics) in &parts {
            for t in topics {
                assert_eq!(&net.autoshard(t).unwrap().to_string(), shard);
            }
        }
    }

    #[test]
    fn no_pubsub_topic_without_autosharding_or_with_a_bad_topic_is_400() {
        let e = split_by_shard(None, vec!["/a/1/b/c".into()], &TopicShards::default()).unwrap_err();
        assert_eq!(e.kind, FilterFailureKind::BadRequest);
        let e = split_by_shard(
            None,
            vec!["junk".into()],
            &TopicShards::new(Some(NetworkConfig::TWN), None),
        )
        .unwrap_err();
        assert_eq!(e.kind, FilterFailureKind::BadRequest);
        let e = split_by_shard(
            None,
            vec![],
            &TopicShards::new(Some(NetworkConfig::TWN), None),
        )
        .unwrap_err();
        assert_eq!(e.kind, FilterFailureKind::BadRequest);
    }

    #[test]
    fn service_codes_pass_through_and_others_become_500() {
        let refused = |code| waku_filter::client::FilterError::Refused {
            status: StatusCode(code),
            description: Some("why".into()),
        };
        for code in [400, 404, 429, 503] {
            assert_eq!(
                failure(&refused(code)).kind,
                FilterFailureKind::Refused(StatusCode(code))
            );
        }
        assert_eq!(failure(&refused(418)).kind, FilterFailureKind::Failed);
        assert_eq!(
            failure(&waku_filter::client::FilterError::Failed(
                OutboundFailure::DialFailure
            ))
            .kind,
            FilterFailureKind::Unreachable
        );
        assert_eq!(
            failure(&waku_filter::client::FilterError::Failed(
                OutboundFailure::Timeout
            ))
            .kind,
            FilterFailureKind::TimedOut
        );
    }

    #[test]
    fn a_group_answers_once_all_parts_did_with_the_first_failure() {
        let mut requests = FilterRequests::<u32>::default();
        let (tx, mut rx) = oneshot::channel();
        requests.start(vec![1, 2, 3], tx);
        assert!(requests.answer(&1, Ok(())));
        let first = FilterFailure::new(FilterFailureKind::Refused(StatusCode::NOT_FOUND), "a");
        assert!(requests.answer(&2, Err(first.clone())));
        assert!(rx.try_recv().is_err());
        assert!(requests.answer(
            &3,
            Err(FilterFailure::new(
                FilterFailureKind::Refused(StatusCode::TOO_MANY_REQUESTS),
                "b"
            ))
        ));
        assert_eq!(rx.try_recv().unwrap(), Err(first));
        assert!(!requests.answer(&3, Ok(())));

        let (tx, mut rx) = oneshot::channel();
        requests.start(vec![], tx);
        assert_eq!(rx.try_recv().unwrap(), Ok(()));
    }
}

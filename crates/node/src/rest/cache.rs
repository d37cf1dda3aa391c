//! The REST message cache of nwaku's relay API: what `GET
//! /relay/v1/messages/{topic}` and `GET /relay/v1/auto/messages/{topic}`
//! return.
//!
//! One bounded store for all topics. A message is kept when its pubsub topic
//! or its content topic is registered (and then the other one becomes
//! registered too, as in nwaku, unless a client unsubscribed from that
//! content topic: then its messages are no longer found by content topic);
//! when full, the message with the oldest timestamp goes. Reading a topic
//! drains its messages.

use std::collections::HashSet;

use waku_core::WakuMessage;

/// nwaku's default `--rest-relay-cache-capacity`.
pub const DEFAULT_CAPACITY: usize = 50;

/// Content-topic unsubscriptions remembered at most.
const MAX_UNSUBSCRIBED: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cached {
    pubsub_topic: String,
    message: WakuMessage,
    /// Found by its pubsub topic (until that topic is unregistered).
    by_pubsub: bool,
    /// Found by its content topic: false for a message that arrived while
    /// a client was unsubscribed from its content topic, so subscribing
    /// again does not bring it back (as nwaku's per-topic indexes).
    by_content: bool,
}

/// The cache; see the module documentation.
#[derive(Debug)]
pub struct MessageCache {
    capacity: usize,
    pubsub_topics: HashSet<String>,
    content_topics: HashSet<String>,
    /// Content topics a client unsubscribed from: not registered again by
    /// messages arriving on a registered pubsub topic.
    unsubscribed: HashSet<String>,
    messages: Vec<Cached>,
}

impl MessageCache {
    /// An empty cache holding at most `capacity` messages.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            pubsub_topics: HashSet::new(),
            content_topics: HashSet::new(),
            unsubscribed: HashSet::new(),
            messages: Vec::new(),
        }
    }

    /// Registers a pubsub topic; `false` when it already was.
    pub fn add_pubsub_topic(&mut self, topic: &str) -> bool {
        self.pubsub_topics.insert(topic.to_owned())
    }

    /// Registers a content topic; `false` when it already was.
    pub fn add_content_topic(&mut self, topic: &str) -> bool {
        self.unsubscribed.remove(topic);
        self.content_topics.insert(topic.to_owned())
    }

    /// Whether a pubsub topic is registered.
    pub fn has_pubsub_topic(&self, topic: &str) -> bool {
        self.pubsub_topics.contains(topic)
    }

    /// Unregisters a pubsub topic and drops messages no registered topic indexes.
    pub fn remove_pubsub_topic(&mut self, topic: &str) {
        self.pubsub_topics.remove(topic);
        for m in self.messages.iter_mut().filter(|m| m.pubsub_topic == topic) {
            m.by_pubsub = false;
        }
        self.prune();
    }

    /// Unregisters a content topic and drops messages no registered topic indexes.
    pub fn remove_content_topic(&mut self, topic: &str) {
        self.content_topics.remove(topic);
        // Bounded: a client cannot grow it without end (forgetting old
        // unsubscriptions only lets their topics be registered again).
        if self.unsubscribed.len() >= MAX_UNSUBSCRIBED {
            self.unsubscribed.clear();
        }
        self.unsubscribed.insert(topic.to_owned());
        for m in self
            .messages
            .iter_mut()
            .filter(|m| m.message.content_topic == topic)
        {
            m.by_content = false;
        }
        self.prune();
    }

    /// Forgets every topic and message.
    pub fn clear(&mut self) {
        self.pubsub_topics.clear();
        self.content_topics.clear();
        self.unsubscribed.clear();
        self.messages.clear();
    }

    fn prune(&mut self) {
        self.messages.retain(|m| m.by_pubsub || m.by_content);
    }

    /// Offers a received message to the cache.
    pub fn insert(&mut self, pubsub_topic: &str, message: &WakuMessage) {
        let by_pubsub = self.pubsub_topics.contains(pubsub_topic);
        let by_content = self.content_topics.contains(&message.content_topic);
        if !by_pubsub && !by_content {
            return;
        }
        let mut by_content = by_content;
        if by_pubsub {
            if !self.unsubscribed.contains(&message.content_topic) {
                self.content_topics.insert(message.content_topic.clone());
                by_content = true;
            }
        } else {
            self.pubsub_topics.insert(pubsub_topic.to_owned());
        }
        let seen = self
            .messages
            .iter()
            .any(|m| m.pubsub_topic == pubsub_topic && m.message == *message);
        if self.capacity == 0 || seen {
            return;
        }
        let entry = Cached {
            pubsub_topic: pubsub_topic.to_owned(),
            message: message.clone(),
            by_pubsub: true,
            by_content,
        };
        if self.messages.len() >= self.capacity
            && let Some(oldest) = self
                .messages
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| m.message.timestamp_or_zero())
                .map(|(i, _)| i)
        {
            self.messages.remove(oldest);
        }
        self.messages.push(entry);
    }

    fn take(&mut self, matches: impl Fn(&Cached) -> bool) -> Vec<WakuMessage> {
        let (taken, kept): (Vec<Cached>, Vec<Cached>) = std::mem::take(&mut self.messages)
            .into_iter()
            .partition(matches);
        self.messages = kept;
        taken.into_iter().map(|c| c.message).collect()
    }

    /// Drains the messages of a pubsub topic; `None` when it is not registered.
    pub fn take_pubsub(&mut self, topic: &str) -> Option<Vec<WakuMessage>> {
        if !self.pubsub_topics.contains(topic) {
            return None;
        }
        Some(self.take(|m| m.by_pubsub && m.pubsub_topic == topic))
    }

    /// Drains the messages of a content topic; `None` when it is not registered.
    pub fn take_content(&mut self, topic: &str) -> Option<Vec<WakuMessage>> {
        if !self.content_topics.contains(topic) {
            return None;
        }
        Some(self.take(|m| m.by_content && m.message.content_topic == topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str, ts: i64) -> WakuMessage {
        let mut m = WakuMessage::new(ts.to_be_bytes().to_vec(), topic);
        m.timestamp = Some(ts);
        m
    }

    #[test]
    fn only_registered_topics_are_kept_and_reads_drain() {
        let mut c = MessageCache::new(10);
        c.insert("/waku/2/rs/1/0", &msg("/a/1/b/c", 1));
        assert_eq!(c.take_pubsub("/waku/2/rs/1/0"), None);
        c.add_pubsub_topic("/waku/2/rs/1/0");
        c.insert("/waku/2/rs/1/0", &msg("/a/1/b/c", 1));
        c.insert("/waku/2/rs/1/0", &msg("/a/1/b/c", 1));
        c.insert("/waku/2/rs/1/1", &msg("/x/1/y/z", 2));
        // The content topic became registered through the pubsub topic.
        assert_eq!(c.take_content("/a/1/b/c").unwrap().len(), 1);
        assert_eq!(c.take_pubsub("/waku/2/rs/1/0"), Some(vec![]));
    }

    #[test]
    fn a_full_cache_evicts_the_oldest_timestamp() {
        let mut c = MessageCache::new(2);
        c.add_pubsub_topic("t");
        c.insert("t", &msg("/a/1/b/c", 5));
        c.insert("t", &msg("/a/1/b/c", 1));
        c.insert("t", &msg("/a/1/b/c", 9));
        let left: Vec<i64> = c
            .take_pubsub("t")
            .unwrap()
            .iter()
            .map(WakuMessage::timestamp_or_zero)
            .collect();
        assert_eq!(left, vec![5, 9]);
    }

    #[test]
    fn unregistering_drops_unindexed_messages() {
        let mut c = MessageCache::new(5);
        c.add_pubsub_topic("t");
        c.insert("t", &msg("/a/1/b/c", 1));
        c.remove_pubsub_topic("t");
        c.remove_content_topic("/a/1/b/c");
        c.add_pubsub_topic("t");
        assert_eq!(c.take_pubsub("t"), Some(vec![]));
    }

    #[test]
    fn what_arrived_while_unsubscribed_stays_hidden_after_subscribing_again() {
        let mut c = MessageCache::new(10);
        c.add_pubsub_topic("t");
        c.add_content_topic("/a/1/b/c");
        c.remove_content_topic("/a/1/b/c");
        // Arrives on the still-registered shard while unsubscribed.
        c.insert("t", &msg("/a/1/b/c", 1));
        assert_eq!(c.take_content("/a/1/b/c"), None);
        c.add_content_topic("/a/1/b/c");
        c.insert("t", &msg("/a/1/b/c", 2));
        let got: Vec<i64> = c
            .take_content("/a/1/b/c")
            .unwrap()
            .iter()
            .map(WakuMessage::timestamp_or_zero)
            .collect();
        assert_eq!(got, vec![2]);
        // The shard's own reader still finds the first one.
        assert_eq!(c.take_pubsub("t").map(|m| m.len()), Some(1));
    }

    #[test]
    fn an_unsubscribed_content_topic_is_not_registered_again_by_its_shard() {
        let mut c = MessageCache::new(5);
        c.add_pubsub_topic("t");
        c.add_content_topic("/a/1/b/c");
        c.remove_content_topic("/a/1/b/c");
        c.insert("t", &msg("/a/1/b/c", 1));
        assert_eq!(c.take_content("/a/1/b/c"), None);
        assert_eq!(c.take_pubsub("t").map(|m| m.len()), Some(1));
        // Subscribing again brings it back.
        c.add_content_topic("/a/1/b/c");
        c.insert("t", &msg("/a/1/b/c", 2));
        assert_eq!(c.take_content("/a/1/b/c").map(|m| m.len()), Some(1));
    }
}

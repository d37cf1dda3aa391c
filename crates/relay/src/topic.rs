//! Naming the pubsub topic a relay operation applies to.

use std::borrow::Cow;

use waku_sharding::RelayShard;

/// Anything that names a relay pubsub topic: a [`RelayShard`] (the static
/// sharding topic `/waku/2/rs/<cluster>/<shard>`) or a raw topic string
/// (`str`, `String`), for example the legacy `/waku/2/default-waku/proto`.
///
/// Every topic-taking method of [`crate::Behaviour`] is generic over this trait,
/// so `relay.subscribe(&shard)` and `relay.subscribe("/waku/2/rs/1/0")` name
/// the same topic.
pub trait PubsubTopicName {
    /// The pubsub topic string (the gossipsub topic, compared byte for byte).
    fn topic_name(&self) -> Cow<'_, str>;
}

impl PubsubTopicName for RelayShard {
    fn topic_name(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PubsubTopicName for str {
    fn topic_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PubsubTopicName for String {
    fn topic_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.as_str())
    }
}

impl<T: PubsubTopicName + ?Sized> PubsubTopicName for &T {
    fn topic_name(&self) -> Cow<'_, str> {
        (**self).topic_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_and_string_name_the_same_topic() {
        let shard = RelayShard::new(1, 3);
        assert_eq!(shard.topic_name(), "/waku/2/rs/1/3");
        assert_eq!("/waku/2/rs/1/3".topic_name(), shard.topic_name());
        assert_eq!(String::from("/x").topic_name(), "/x");
    }
}

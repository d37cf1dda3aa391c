//! The pubsub topics the service publishes on, shared with the node.

use std::collections::BTreeSet;
use std::sync::{Arc, PoisonError, RwLock};

/// The pubsub topics the lightpush service accepts messages for; a request
/// for any other topic is answered 421.
///
/// Clones share the same set, so the node can keep one and update it as
/// relay subscribes and unsubscribes. [`ServedTopics::any`] (the default)
/// accepts every topic and leaves the decision to the publish hook.
#[derive(Debug, Clone, Default)]
pub struct ServedTopics(Arc<RwLock<Option<BTreeSet<String>>>>);

impl ServedTopics {
    /// Accepts every pubsub topic.
    pub fn any() -> Self {
        Self::default()
    }

    /// Accepts exactly `topics` (more can be added later).
    pub fn only<I, S>(topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(Arc::new(RwLock::new(Some(
            topics.into_iter().map(Into::into).collect(),
        ))))
    }

    /// Whether a message for `topic` is accepted.
    pub fn serves(&self, topic: &str) -> bool {
        match &*self.0.read().unwrap_or_else(PoisonError::into_inner) {
            None => true,
            Some(set) => set.contains(topic),
        }
    }

    /// Starts accepting `topic`; returns whether it was new. On a set built
    /// with [`ServedTopics::any`] this switches to "exactly these topics".
    pub fn insert(&self, topic: impl Into<String>) -> bool {
        let mut guard = self.0.write().unwrap_or_else(PoisonError::into_inner);
        guard.get_or_insert_with(BTreeSet::new).insert(topic.into())
    }

    /// Stops accepting `topic`; returns whether it was in the set.
    pub fn remove(&self, topic: &str) -> bool {
        let mut guard = self.0.write().unwrap_or_else(PoisonError::into_inner);
        guard.as_mut().is_some_and(|set| set.remove(topic))
    }

    /// The accepted topics, `None` when every topic is.
    pub fn snapshot(&self) -> Option<BTreeSet<String>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

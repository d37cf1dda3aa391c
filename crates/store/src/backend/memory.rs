//! An in-memory backend for tests and ephemeral nodes: everything is lost
//! when the store is dropped.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use waku_core::{MessageHash, Timestamp};

use crate::message_store::{
    MessageQuery, MessageStore, PageEntry, QueryPage, StoreError, StoreFuture, StoredMessage,
};

/// Rough per-entry overhead counted by [`MessageStore::size_bytes`] on top
/// of the encoded message and topic: hash, timestamp and index entries.
const ENTRY_OVERHEAD: u64 = 96;

#[derive(Debug, Default)]
struct Inner {
    /// Entries in sort order.
    by_key: BTreeMap<(Timestamp, MessageHash), StoredMessage>,
    /// Hash to timestamp, for cursors and duplicates.
    by_hash: HashMap<MessageHash, Timestamp>,
    /// Running total for `size_bytes`.
    bytes: u64,
}

fn entry_size(m: &StoredMessage) -> u64 {
    (m.message.encoded_len() + m.pubsub_topic.len()) as u64 + ENTRY_OVERHEAD
}

/// A [`MessageStore`] held in a B-tree, selected by the URL `memory://`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store lock poisoned".into()))
    }

    fn run_query(&self, q: &MessageQuery) -> Result<QueryPage, StoreError> {
        let inner = self.lock()?;
        let start = match q.cursor {
            Some(hash) => {
                let ts = inner
                    .by_hash
                    .get(&hash)
                    .ok_or(StoreError::UnknownCursor(hash))?;
                Bound::Excluded((*ts, hash))
            }
            None => Bound::Unbounded,
        };
        let range = if q.forward {
            (start, Bound::Unbounded)
        } else {
            (Bound::Unbounded, start)
        };
        let walk: Box<dyn Iterator<Item = &StoredMessage>> = if q.forward {
            Box::new(inner.by_key.range(range).map(|(_, v)| v))
        } else {
            Box::new(inner.by_key.range(range).rev().map(|(_, v)| v))
        };
        let rows = walk
            .filter(|m| q.filter.matches(m))
            .take(q.page_size.saturating_add(1))
            .map(|m| PageEntry {
                hash: m.hash,
                timestamp: m.timestamp(),
                pubsub_topic: m.pubsub_topic.clone(),
                message: q.include_data.then(|| m.message.clone()),
            })
            .collect();
        Ok(QueryPage::from_walk(rows, q.page_size, q.forward))
    }

    fn delete_where(
        &self,
        mut pick: impl FnMut(usize, &(Timestamp, MessageHash)) -> bool,
    ) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let doomed: Vec<(Timestamp, MessageHash)> = inner
            .by_key
            .keys()
            .enumerate()
            .take_while(|(i, k)| pick(*i, k))
            .map(|(_, k)| *k)
            .collect();
        for key in &doomed {
            if let Some(m) = inner.by_key.remove(key) {
                inner.bytes = inner.bytes.saturating_sub(entry_size(&m));
            }
            inner.by_hash.remove(&key.1);
        }
        Ok(doomed.len() as u64)
    }
}

impl MessageStore for MemoryStore {
    fn put(&self, messages: Vec<StoredMessage>) -> StoreFuture<'_, Vec<bool>> {
        Box::pin(async move {
            let mut inner = self.lock()?;
            Ok(messages
                .into_iter()
                .map(|m| {
                    if inner.by_hash.contains_key(&m.hash) {
                        return false;
                    }
                    inner.bytes += entry_size(&m);
                    inner.by_hash.insert(m.hash, m.timestamp());
                    inner.by_key.insert((m.timestamp(), m.hash), m);
                    true
                })
                .collect())
        })
    }

    fn query(&self, query: MessageQuery) -> StoreFuture<'_, QueryPage> {
        Box::pin(async move { self.run_query(&query) })
    }

    fn count(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move { Ok(self.lock()?.by_key.len() as u64) })
    }

    fn size_bytes(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move { Ok(self.lock()?.bytes) })
    }

    fn delete_older_than(&self, time: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(async move { self.delete_where(|_, (ts, _)| *ts < time) })
    }

    fn delete_oldest(&self, n: u64) -> StoreFuture<'_, u64> {
        Box::pin(async move { self.delete_where(|i, _| (i as u64) < n) })
    }
}

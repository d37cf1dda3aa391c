//! nwaku's timing histograms of the archive, the store and the filter
//! service ([`ServiceTimings`]), and [`TimedStore`], the [`MessageStore`]
//! wrapper that times the archive's inserts and queries.
//!
//! nwaku times the archive driver's `put` (per message) and `getMessages`
//! (per query), and the filter service's push of one message to all its
//! subscribers. Here the archive writer stores messages in batches: each
//! message of a batch is observed with the batch's duration (the time it
//! took that message to become durable). The store behaviours and the REST
//! API query through a [`TimedStore`], so queries from peers and local REST
//! queries are both timed, as nwaku's archive times both.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use waku_core::Timestamp;
use waku_store::{MessageQuery, MessageStore, QueryPage, StoreFuture, StoredMessage};

/// nwaku's buckets of the archive histograms (nim-metrics' default buckets),
/// in seconds; `+Inf` is added by the encoder.
pub(crate) const ARCHIVE_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// nwaku's buckets of `waku_filter_handle_message_duration_seconds`, in
/// seconds (the defaults plus 15, 20 and 30: a push may take up to its 20 s
/// timeout).
pub(crate) const FILTER_HANDLE_BUCKETS: [f64; 17] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0, 20.0,
    30.0,
];

/// The histograms; cheap to clone (clones share the values).
#[derive(Debug, Clone)]
pub struct ServiceTimings {
    /// `waku_archive_insert_duration_seconds`: time to store a message.
    pub archive_insert: Histogram,
    /// `waku_archive_query_duration_seconds`: time the archive took to
    /// answer a store v3 query.
    pub archive_query: Histogram,
    /// `waku_legacy_archive_insert_duration_seconds`: as `archive_insert`,
    /// used instead of it with `--legacy-store` (nwaku's legacy archive then
    /// does the archiving).
    pub legacy_archive_insert: Histogram,
    /// `waku_legacy_archive_query_duration_seconds`: the same for legacy
    /// store queries.
    pub legacy_archive_query: Histogram,
    /// `waku_filter_handle_message_duration_seconds`: time to push one
    /// message to all its filter subscribers.
    pub filter_handle_message: Histogram,
}

impl Default for ServiceTimings {
    fn default() -> Self {
        let archive = || Histogram::new(ARCHIVE_BUCKETS);
        Self {
            archive_insert: archive(),
            archive_query: archive(),
            legacy_archive_insert: archive(),
            legacy_archive_query: archive(),
            filter_handle_message: Histogram::new(FILTER_HANDLE_BUCKETS),
        }
    }
}

impl ServiceTimings {
    /// Adds the histograms to `registry`, under nwaku's names.
    pub fn register(&self, registry: &mut Registry) {
        for (name, help, histogram) in [
            (
                "waku_archive_insert_duration_seconds",
                "message insertion duration",
                &self.archive_insert,
            ),
            (
                "waku_archive_query_duration_seconds",
                "history query duration",
                &self.archive_query,
            ),
            (
                "waku_legacy_archive_insert_duration_seconds",
                "message insertion duration",
                &self.legacy_archive_insert,
            ),
            (
                "waku_legacy_archive_query_duration_seconds",
                "history query duration",
                &self.legacy_archive_query,
            ),
            (
                "waku_filter_handle_message_duration_seconds",
                "duration to push message to filter subscribers",
                &self.filter_handle_message,
            ),
        ] {
            registry.register(name, help, histogram.clone());
        }
    }

    /// The store the archive writer and the store v3 service use: inserts
    /// go to the legacy histogram with `--legacy-store` (`legacy`), to the
    /// v3 one otherwise; queries to the v3 one.
    pub(crate) fn archive_store(
        &self,
        store: Arc<dyn MessageStore>,
        legacy: bool,
    ) -> Arc<dyn MessageStore> {
        let insert = if legacy {
            &self.legacy_archive_insert
        } else {
            &self.archive_insert
        };
        Arc::new(TimedStore {
            inner: store,
            insert: Some(insert.clone()),
            query: self.archive_query.clone(),
        })
    }

    /// The store the legacy store service (and the REST API's legacy
    /// queries) use: queries go to the legacy histogram; nothing is
    /// inserted through it.
    pub(crate) fn legacy_store(&self, store: Arc<dyn MessageStore>) -> Arc<dyn MessageStore> {
        Arc::new(TimedStore {
            inner: store,
            insert: None,
            query: self.legacy_archive_query.clone(),
        })
    }
}

/// A [`MessageStore`] that observes the duration of each successful
/// `put` (once per message put) and `query`; the rest passes through.
struct TimedStore {
    inner: Arc<dyn MessageStore>,
    insert: Option<Histogram>,
    query: Histogram,
}

impl MessageStore for TimedStore {
    fn put(&self, messages: Vec<StoredMessage>) -> StoreFuture<'_, Vec<bool>> {
        Box::pin(async move {
            let n = messages.len();
            let started = Instant::now();
            let result = self.inner.put(messages).await;
            if let (Ok(_), Some(insert)) = (&result, &self.insert) {
                let seconds = started.elapsed().as_secs_f64();
                for _ in 0..n {
                    insert.observe(seconds);
                }
            }
            result
        })
    }

    fn query(&self, query: MessageQuery) -> StoreFuture<'_, QueryPage> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self.inner.query(query).await;
            if result.is_ok() {
                self.query.observe(started.elapsed().as_secs_f64());
            }
            result
        })
    }

    fn count(&self) -> StoreFuture<'_, u64> {
        self.inner.count()
    }

    fn size_bytes(&self) -> StoreFuture<'_, u64> {
        self.inner.size_bytes()
    }

    fn delete_older_than(&self, time: Timestamp) -> StoreFuture<'_, u64> {
        self.inner.delete_older_than(time)
    }

    fn delete_oldest(&self, n: u64) -> StoreFuture<'_, u64> {
        self.inner.delete_oldest(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use waku_core::WakuMessage;

    fn encoded(timings: &ServiceTimings) -> String {
        let mut registry = Registry::default();
        timings.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        text
    }

    #[test]
    fn histograms_start_at_zero_with_nwakus_buckets() {
        let text = encoded(&ServiceTimings::default());
        for line in [
            "waku_archive_insert_duration_seconds_sum 0.0",
            "waku_archive_insert_duration_seconds_count 0",
            "waku_archive_query_duration_seconds_bucket{le=\"0.005\"} 0",
            "waku_legacy_archive_query_duration_seconds_bucket{le=\"10.0\"} 0",
            "waku_legacy_archive_insert_duration_seconds_bucket{le=\"+Inf\"} 0",
            "waku_filter_handle_message_duration_seconds_bucket{le=\"30.0\"} 0",
            "waku_filter_handle_message_duration_seconds_bucket{le=\"+Inf\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }

    #[tokio::test]
    async fn inserts_are_timed_per_message_and_queries_per_query() {
        let timings = ServiceTimings::default();
        let raw: Arc<dyn MessageStore> = Arc::new(waku_store::MemoryStore::default());
        let store = timings.archive_store(raw.clone(), false);
        let legacy = timings.legacy_store(raw);
        let message = |n: u8| WakuMessage {
            payload: vec![n].into(),
            content_topic: "/t/1/x/proto".into(),
            timestamp: Some(i64::from(n) + 1),
            ..WakuMessage::default()
        };
        store
            .put(vec![
                StoredMessage::new("/waku/2/rs/1/0", message(1)),
                StoredMessage::new("/waku/2/rs/1/0", message(2)),
            ])
            .await
            .unwrap();
        let query = MessageQuery {
            filter: waku_store::MessageFilter::default(),
            cursor: None,
            forward: true,
            page_size: 10,
            include_data: true,
        };
        store.query(query.clone()).await.unwrap();
        legacy.query(query.clone()).await.unwrap();
        legacy.query(query).await.unwrap();
        let text = encoded(&timings);
        for line in [
            "waku_archive_insert_duration_seconds_count 2",
            "waku_archive_query_duration_seconds_count 1",
            "waku_legacy_archive_query_duration_seconds_count 2",
            "waku_legacy_archive_insert_duration_seconds_count 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
    }
}

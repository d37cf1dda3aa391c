//! Feeding an [`Archive`] from a swarm event loop: a bounded queue the loop
//! hands messages to without waiting, a task on the caller's tokio runtime
//! that writes them in batches, and a shutdown that writes everything still
//! queued before it returns.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use waku_core::WakuMessage;

use crate::archive::{Archive, IngestError, Ingested};

/// Why [`ArchiveWriter::try_send`] did not take a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveSendError {
    /// The queue is full: the backend is slower than the traffic.
    #[error("the archive queue is full")]
    Full,
    /// The writer task has ended.
    #[error("the archive writer has stopped")]
    Stopped,
}

/// What the writer reports for every message it handled.
pub type IngestObserver = Box<dyn FnMut(&Result<Ingested, IngestError>) + Send>;

/// The running writer; see the module documentation.
#[derive(Debug)]
pub struct ArchiveWriter {
    tx: mpsc::Sender<(String, WakuMessage)>,
    task: JoinHandle<()>,
}

impl ArchiveWriter {
    /// Default queue length: messages waiting to be written.
    pub const DEFAULT_QUEUE: usize = 10_000;
    /// Most messages written in one backend call.
    pub const BATCH: usize = 256;

    /// Starts writing into `archive` with a queue of
    /// [`Self::DEFAULT_QUEUE`] messages.
    pub fn spawn(archive: Archive) -> Self {
        Self::spawn_with(archive, Self::DEFAULT_QUEUE, Box::new(|_| {}))
    }

    /// Starts writing into `archive` with a queue of `queue` messages;
    /// `observe` sees the outcome of every message (stored, duplicate, or
    /// why not), on the writer task.
    pub fn spawn_with(archive: Archive, queue: usize, mut observe: IngestObserver) -> Self {
        let (tx, mut rx) = mpsc::channel::<(String, WakuMessage)>(queue.max(1));
        let task = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < Self::BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                for result in archive.handle_messages(batch).await {
                    if let Err(e) = &result {
                        tracing::debug!(%e, "not archived");
                    }
                    observe(&result);
                }
            }
        });
        Self { tx, task }
    }

    /// Queues `message`, received on `pubsub_topic`, without waiting.
    pub fn try_send(
        &self,
        pubsub_topic: &str,
        message: &WakuMessage,
    ) -> Result<(), ArchiveSendError> {
        self.tx
            .try_send((pubsub_topic.to_owned(), message.clone()))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => ArchiveSendError::Full,
                mpsc::error::TrySendError::Closed(_) => ArchiveSendError::Stopped,
            })
    }

    /// Messages queued and not yet taken by the writer.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Stops taking messages and returns once every queued message has
    /// been written (or refused by the archive's rules).
    pub async fn shutdown(self) {
        drop(self.tx);
        if let Err(e) = self.task.await {
            tracing::warn!(%e, "the archive writer ended abnormally");
        }
    }
}

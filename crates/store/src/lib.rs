#![doc = include_str!("../README.md")]

mod archive;
mod archive_writer;
mod backend;
mod behaviour;
mod codec;
mod config;
mod event;
pub mod legacy;
mod message_store;
pub mod proto;
mod query;
mod query_service;
mod response;
mod retention;
mod service;

pub use archive::{Archive, IngestError, Ingested, MAX_TIMESTAMP_SKEW};
pub use archive_writer::{ArchiveSendError, ArchiveWriter, IngestObserver};
#[cfg(feature = "postgres")]
pub use backend::PostgresStore;
#[cfg(feature = "sqlite")]
pub use backend::SqliteStore;
pub use backend::{
    DEFAULT_POOL_SIZE, MemoryStore, StoreUrl, open_store, open_store_with_max_connections,
};
pub use behaviour::Behaviour;
pub use codec::{LEGACY_PROTOCOL, MAX_REQUEST_SIZE, MAX_RESPONSE_SIZE, PROTOCOL};
pub use config::Config;
pub use event::{Event, QueryError};
pub use message_store::{
    MessageFilter, MessageQuery, MessageStore, PageEntry, QueryPage, StoreError, StoreFuture,
    StoredMessage,
};
pub use query::{
    BadRequest, DEFAULT_PAGE_SIZE, MAX_CONTENT_TOPICS, MAX_HASHES_PER_QUERY, MAX_PAGE_SIZE,
    StoreQuery, page_size,
};
pub use response::{ResponseEntry, ResponseError, StoreResponse, status};
pub use retention::{
    DEFAULT_RETENTION_INTERVAL, RetentionParseError, RetentionPolicy, run_retention,
};
pub use service::answer_query;
pub use waku_core::RateLimit;

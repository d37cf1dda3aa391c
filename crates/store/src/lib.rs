//! # waku-store
//!
//! 13/WAKU2-STORE: the store query protocol `/vac/waku/store-query/3.0.0`
//! (service and client), the legacy `/vac/waku/store/2.0.0-beta4`, and the
//! message archive behind them.
//!
//! - [`MessageStore`]: the storage trait, with three backends selected by
//!   URL ([`open_store`]): [`SqliteStore`] (`sqlite://path`, the embedded
//!   default), [`PostgresStore`] (`postgres://user:pass@host:port/db`) and
//!   [`MemoryStore`] (`memory://`, for tests);
//! - [`Archive`]: ingest; the node hands it every message it receives and it
//!   keeps the eligible ones (not ephemeral, timestamp within 20 s);
//! - [`RetentionPolicy`] and [`run_retention`]: `time:`, `capacity:` and
//!   `size:` policies applied periodically;
//! - [`Behaviour`]: the v3 libp2p `NetworkBehaviour` (service and client),
//!   with [`StoreQuery`] to build queries and [`StoreResponse`] for answers;
//! - [`answer_query`]: the v3 query logic without libp2p;
//! - [`LegacyBehaviour`]: the legacy `/vac/waku/store/2.0.0-beta4` service
//!   and client over the same store ([`answer_history_query`] without libp2p);
//! - [`QueryService`]: the one generic behaviour both are, over a
//!   [`StoreFlavour`] (what differs between the protocols);
//! - [`proto`]: the wire types.
//!
//! ```no_run
//! use std::sync::Arc;
//! use waku_store::{Archive, Behaviour, Config, open_store};
//!
//! # async fn f(message: waku_core::WakuMessage) -> Result<(), Box<dyn std::error::Error>> {
//! let store = open_store("sqlite://store.sqlite3").await?;
//! let archive = Archive::new(Arc::clone(&store));
//! let behaviour = Behaviour::new(store, Config::default());
//! // For every message relay delivers:
//! archive.handle_message("/waku/2/rs/1/4", message).await?;
//! # let _ = behaviour; Ok(()) }
//! ```

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

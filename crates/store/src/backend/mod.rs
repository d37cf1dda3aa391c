//! The storage backends and their selection by URL, as nwaku's
//! `--store-message-db-url` does.

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Default most connections (PostgreSQL pool) or readers (SQLite) of a
/// store opened by URL.
pub const DEFAULT_POOL_SIZE: usize = 16;

use crate::message_store::{MessageStore, StoreError};

/// A parsed store URL.
///
/// | URL | backend |
/// | --- | --- |
/// | `sqlite://store.sqlite3` | SQLite file `store.sqlite3` (relative path) |
/// | `sqlite:///var/lib/waku/store.sqlite3` | SQLite file at an absolute path |
/// | `postgres://user:pass@host:5432/db` (or `postgresql://`) | PostgreSQL |
/// | `memory://` | in memory, lost on exit (tests) |
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, kept whole.
    Postgres(String),
    /// The in-memory store.
    Memory,
}

impl fmt::Debug for StoreUrl {
    /// Never prints a PostgreSQL password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "Sqlite({})", p.display()),
            Self::Postgres(_) => f.write_str("Postgres(..)"),
            Self::Memory => f.write_str("Memory"),
        }
    }
}

impl FromStr for StoreUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::Config("sqlite:// needs a file path".into()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if url == "memory://" || url == "memory:" {
            return Ok(Self::Memory);
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(StoreError::Config(format!(
            "unsupported store URL scheme {scheme:?}: use sqlite://, postgres:// or memory://"
        )))
    }
}

impl StoreUrl {
    /// Opens the store the URL names (creating and migrating its schema).
    /// An SQLite file is opened and migrated on tokio's blocking pool, so
    /// the calling task's runtime thread never waits on the disk.
    pub async fn open(&self) -> Result<Arc<dyn MessageStore>, StoreError> {
        self.open_with_max_connections(DEFAULT_POOL_SIZE).await
    }

    /// [`StoreUrl::open`] with at most `max_connections` database
    /// connections: PostgreSQL's pool size, SQLite's concurrent queries
    /// (also bounded by the cores). 0 is an error.
    pub async fn open_with_max_connections(
        &self,
        max_connections: usize,
    ) -> Result<Arc<dyn MessageStore>, StoreError> {
        Ok(match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(path) => Arc::new(open_sqlite(path.clone(), max_connections).await?),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => {
                Arc::new(PostgresStore::connect_with_pool_size(url, max_connections).await?)
            }
            Self::Memory => Arc::new(MemoryStore::new()),
            #[allow(unreachable_patterns)]
            other => {
                let _ = max_connections;
                return Err(StoreError::Config(format!(
                    "{other:?}: this build of waku-store has no such backend (enable the sqlite or postgres feature)"
                )));
            }
        })
    }
}

/// Opens an SQLite store off the async runtime: creating the file, setting
/// WAL and running the migrations are blocking disk I/O (a migration of a
/// large database can take long), so they run on tokio's blocking pool
/// rather than on a runtime worker that also drives the swarm. Called from
/// outside a tokio runtime (another executor), it opens in place.
#[cfg(feature = "sqlite")]
async fn open_sqlite(path: PathBuf, max_readers: usize) -> Result<SqliteStore, StoreError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return SqliteStore::open_with_max_readers(path, max_readers);
    }
    tokio::task::spawn_blocking(move || SqliteStore::open_with_max_readers(path, max_readers))
        .await
        .map_err(|e| StoreError::Unavailable(format!("opening the SQLite store failed: {e}")))?
}

/// Parses `url` and opens that store: the one call a node needs.
///
/// ```no_run
/// # async fn f() -> Result<(), waku_store::StoreError> {
/// let store = waku_store::open_store("sqlite://store.sqlite3").await?;
/// # let _ = store; Ok(()) }
/// ```
pub async fn open_store(url: &str) -> Result<Arc<dyn MessageStore>, StoreError> {
    url.parse::<StoreUrl>()?.open().await
}

/// [`open_store`] with at most `max_connections` database connections (see
/// [`StoreUrl::open_with_max_connections`]).
pub async fn open_store_with_max_connections(
    url: &str,
    max_connections: usize,
) -> Result<Arc<dyn MessageStore>, StoreError> {
    url.parse::<StoreUrl>()?
        .open_with_max_connections(max_connections)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_backends() {
        assert_eq!(
            "sqlite://store.sqlite3".parse::<StoreUrl>().ok(),
            Some(StoreUrl::Sqlite("store.sqlite3".into()))
        );
        assert_eq!(
            "sqlite:///var/x.db".parse::<StoreUrl>().ok(),
            Some(StoreUrl::Sqlite("/var/x.db".into()))
        );
        assert!(matches!(
            "postgres://u:p@127.0.0.1:5432/db".parse::<StoreUrl>(),
            Ok(StoreUrl::Postgres(_))
        ));
        assert!(matches!(
            "postgresql://u@h/db".parse::<StoreUrl>(),
            Ok(StoreUrl::Postgres(_))
        ));
        assert_eq!("memory://".parse::<StoreUrl>().ok(), Some(StoreUrl::Memory));
        assert!("mysql://x".parse::<StoreUrl>().is_err());
        assert!("sqlite://".parse::<StoreUrl>().is_err());
        let pg: StoreUrl = "postgres://u:secret@h/db"
            .parse()
            .unwrap_or(StoreUrl::Memory);
        assert!(!format!("{pg:?}").contains("secret"));
    }
}

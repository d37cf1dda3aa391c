//! The PostgreSQL backend (tokio-postgres with a deadpool connection pool),
//! for deployments that outgrow one machine.
//!
//! Same semantics as the SQLite backend (both pass the shared suite). The
//! schema is created and upgraded by numbered migrations recorded in
//! `waku_store_schema`, applied under an advisory lock so that several nodes
//! starting against one database do not race.

use super::DEFAULT_POOL_SIZE;
use std::error::Error as StdError;
use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row as PgRow};
use waku_core::{MessageHash, Timestamp};

use super::sql::{self, Dialect, Param, ROW_OVERHEAD, Row};
use crate::message_store::{
    MessageQuery, MessageStore, QueryPage, StoreError, StoreFuture, StoredMessage,
};

/// How long to wait for a connection (new or from the pool).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x7761_6b75_7374_6f72; // "wakustor"

/// Schema migrations, applied in order; version `i + 1` is recorded in
/// `waku_store_schema` once script `i` has run.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE messages (
        hash          BYTEA  PRIMARY KEY,
        timestamp     BIGINT NOT NULL,
        pubsub_topic  TEXT   NOT NULL,
        content_topic TEXT   NOT NULL,
        message       BYTEA  NOT NULL
    );
    CREATE INDEX messages_time ON messages (timestamp, hash);
    CREATE INDEX messages_topic_time
        ON messages (pubsub_topic, content_topic, timestamp, hash);
"];

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Param::Int(v) => v.to_sql(ty, out),
            Param::Text(v) => v.to_sql(ty, out),
            Param::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <String as ToSql>::accepts(ty)
            || <Vec<u8> as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("no PostgreSQL connection: {e}"))
}

/// Column `idx` of `row` as a `T`. A column of another type (a schema
/// changed behind our back) is a [`StoreError::Corrupt`], never a panic:
/// these reads run inside futures the swarm polls.
fn column<'a, T: FromSql<'a>>(row: &'a PgRow, idx: usize) -> Result<T, StoreError> {
    row.try_get(idx)
        .map_err(|e| StoreError::Corrupt(format!("column {idx}: {e}")))
}

/// A [`MessageStore`] in a PostgreSQL database, selected by the URL
/// `postgres://user:password@host:port/database`.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://` or
    /// `postgresql://`) and migrates its schema, with a pool of at most
    /// [`DEFAULT_POOL_SIZE`] connections.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_pool_size(url, DEFAULT_POOL_SIZE).await
    }

    /// [`PostgresStore::connect`] with a pool of at most `max_connections`
    /// connections (nwaku's `--store-max-num-db-connections`); 0 is an
    /// error.
    pub async fn connect_with_pool_size(
        url: &str,
        max_connections: usize,
    ) -> Result<Self, StoreError> {
        if max_connections == 0 {
            return Err(StoreError::Config(
                "the PostgreSQL pool needs at least one connection".into(),
            ));
        }
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> usize {
        self.pool.status().max_size
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        let tx = client.transaction().await.map_err(db_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db_err)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS waku_store_schema (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(db_err)?;
        let row = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM waku_store_schema",
                &[],
            )
            .await
            .map_err(db_err)?;
        let done: i32 = column(&row, 0)?;
        let done = usize::try_from(done).unwrap_or(0);
        if done > MIGRATIONS.len() {
            return Err(StoreError::Config(format!(
                "database schema version {done} is newer than this program knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, script) in MIGRATIONS.iter().enumerate().skip(done) {
            tx.batch_execute(script).await.map_err(db_err)?;
            let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO waku_store_schema (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(db_err)?;
            tracing::info!(version, "postgres store schema migrated");
        }
        tx.commit().await.map_err(db_err)
    }

    async fn put_rows(&self, rows: Vec<Row>) -> Result<Vec<bool>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.pool.get().await.map_err(pool_err)?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO messages (hash, timestamp, pubsub_topic, content_topic, message)
                 SELECT * FROM UNNEST($1::bytea[], $2::int8[], $3::text[], $4::text[], $5::bytea[])
                 ON CONFLICT (hash) DO NOTHING
                 RETURNING hash",
            )
            .await
            .map_err(db_err)?;
        let hashes: Vec<Vec<u8>> = rows.iter().map(|r| r.hash.0.to_vec()).collect();
        let times: Vec<i64> = rows.iter().map(|r| r.timestamp).collect();
        let topics: Vec<&str> = rows.iter().map(|r| r.pubsub_topic.as_str()).collect();
        let contents: Vec<&str> = rows.iter().map(|r| r.content_topic.as_str()).collect();
        let messages: Vec<&[u8]> = rows.iter().map(|r| r.message.as_slice()).collect();
        let inserted = client
            .query(&stmt, &[&hashes, &times, &topics, &contents, &messages])
            .await
            .map_err(db_err)?;
        let mut new = std::collections::HashSet::with_capacity(inserted.len());
        for r in &inserted {
            let bytes: &[u8] = column(r, 0)?;
            let hash = MessageHash::from_slice(bytes)
                .ok_or_else(|| StoreError::Corrupt(format!("hash of {} bytes", bytes.len())))?;
            new.insert(hash);
        }
        // A hash twice in one batch was inserted once: only its first
        // occurrence counts as new.
        Ok(rows.iter().map(|r| new.remove(&r.hash)).collect())
    }

    async fn run_query(&self, q: MessageQuery) -> Result<QueryPage, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let cursor = match q.cursor {
            None => None,
            Some(hash) => {
                let stmt = client
                    .prepare_cached("SELECT timestamp FROM messages WHERE hash = $1")
                    .await
                    .map_err(db_err)?;
                let row = client
                    .query_opt(&stmt, &[&&hash.0[..]])
                    .await
                    .map_err(db_err)?
                    .ok_or(StoreError::UnknownCursor(hash))?;
                Some((column::<i64>(&row, 0)?, hash))
            }
        };
        let sql = sql::page_query(Dialect::Postgres, &q, cursor);
        let stmt = client.prepare_cached(&sql.text).await.map_err(db_err)?;
        let params: Vec<&(dyn ToSql + Sync)> = sql
            .params
            .iter()
            .map(|p| p as &(dyn ToSql + Sync))
            .collect();
        let rows = client.query(&stmt, &params).await.map_err(db_err)?;
        let entries = rows
            .iter()
            .map(|r| {
                let message: Option<&[u8]> = if q.include_data {
                    Some(column(r, 3)?)
                } else {
                    None
                };
                sql::entry_from_columns(column(r, 0)?, column(r, 1)?, column(r, 2)?, message)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QueryPage::from_walk(entries, q.page_size, q.forward))
    }

    async fn scalar(&self, text: &str, params: &[&(dyn ToSql + Sync)]) -> Result<i64, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client.query_one(text, params).await.map_err(db_err)?;
        column(&row, 0)
    }

    async fn execute(&self, text: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client.execute(text, params).await.map_err(db_err)
    }
}

impl MessageStore for PostgresStore {
    fn put(&self, messages: Vec<StoredMessage>) -> StoreFuture<'_, Vec<bool>> {
        let rows = messages.into_iter().map(Row::from).collect();
        Box::pin(self.put_rows(rows))
    }

    fn query(&self, query: MessageQuery) -> StoreFuture<'_, QueryPage> {
        Box::pin(self.run_query(query))
    }

    fn count(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let n = self.scalar("SELECT COUNT(*) FROM messages", &[]).await?;
            Ok(n.max(0) as u64)
        })
    }

    fn size_bytes(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let text = format!(
                "SELECT COALESCE(SUM(octet_length(message) + octet_length(pubsub_topic) + {ROW_OVERHEAD}), 0)::BIGINT FROM messages"
            );
            let n = self.scalar(&text, &[]).await?;
            Ok(n.max(0) as u64)
        })
    }

    fn delete_older_than(&self, time: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            self.execute("DELETE FROM messages WHERE timestamp < $1", &[&time])
                .await
        })
    }

    fn delete_oldest(&self, n: u64) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            self.execute(
                "DELETE FROM messages WHERE hash IN \
                 (SELECT hash FROM messages ORDER BY timestamp, hash LIMIT $1)",
                &[&n],
            )
            .await
        })
    }
}

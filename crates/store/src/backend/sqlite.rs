//! The embedded default backend: SQLite through rusqlite (bundled).
//!
//! - WAL journal with `synchronous = NORMAL`: a committed transaction
//!   survives a crash of the process (it may not survive a power cut; use a
//!   file system with its own journal, or PostgreSQL, where that matters).
//! - One writer thread owns the write connection. [`MessageStore::put`]
//!   hands its messages over a bounded channel and awaits the commit; the
//!   writer folds every request waiting in the channel into one transaction,
//!   so under load many messages share a commit. Async tasks never touch the
//!   disk.
//! - Reads run on tokio's blocking pool with a small pool of read
//!   connections; WAL lets them proceed while the writer commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};
use waku_core::{MessageHash, Timestamp};

use super::sql::{self, Dialect, Param, Row};
use crate::message_store::{
    MessageQuery, MessageStore, QueryPage, StoreError, StoreFuture, StoredMessage,
};

/// Requests waiting for the writer before `put` callers wait for room.
const WRITE_QUEUE: usize = 1024;
/// Most messages folded into one write transaction.
const MAX_BATCH: usize = 4096;
/// Read connections kept open between queries.
const IDLE_READERS: usize = 4;
/// How long a connection waits for a lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, applied in order; `PRAGMA user_version` records how
/// many have run.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        hash          BLOB    NOT NULL UNIQUE,
        timestamp     INTEGER NOT NULL,
        pubsub_topic  TEXT    NOT NULL,
        content_topic TEXT    NOT NULL,
        message       BLOB    NOT NULL
    );
    CREATE INDEX messages_time ON messages (timestamp, hash);
    CREATE INDEX messages_topic_time
        ON messages (pubsub_topic, content_topic, timestamp, hash);
"];

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Int(v) => v.to_sql(),
            Param::Text(v) => v.to_sql(),
            Param::Blob(v) => v.to_sql(),
        }
    }
}

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A job for the writer thread.
enum Job {
    Put(Vec<Row>, oneshot::Sender<Result<Vec<bool>, StoreError>>),
    DeleteOlderThan(Timestamp, oneshot::Sender<Result<u64, StoreError>>),
    DeleteOldest(u64, oneshot::Sender<Result<u64, StoreError>>),
}

/// A [`MessageStore`] in an SQLite database file, selected by the URL
/// `sqlite://path`.
pub struct SqliteStore {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// Bounds the queries running at once, so a burst of queries waits its
    /// turn instead of occupying every core (relay shares the machine).
    read_slots: Arc<tokio::sync::Semaphore>,
    /// The number of read slots.
    max_readers: usize,
}

/// Queries run at once at most: one less than the cores, at least one.
fn read_concurrency() -> usize {
    thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(db_err)?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err)?;
    let done = usize::try_from(version).unwrap_or(0);
    if done > MIGRATIONS.len() {
        return Err(StoreError::Config(format!(
            "database schema version {done} is newer than this program knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, script) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(script).map_err(db_err)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        tracing::info!(version = i + 1, "sqlite store schema migrated");
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates its
    /// schema and starts the writer thread. Queries run at once at most:
    /// one less than the cores, at least one.
    ///
    /// This blocks on disk I/O (and on migrations, which can be long on a
    /// large database). From async code prefer [`crate::open_store`] or
    /// [`crate::StoreUrl::open`], which run it on tokio's blocking pool.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_max_readers(path, usize::MAX)
    }

    /// [`SqliteStore::open`] with at most `max_readers` queries at once (and
    /// never more than one less than the cores); 0 is an error.
    pub fn open_with_max_readers(
        path: impl AsRef<Path>,
        max_readers: usize,
    ) -> Result<Self, StoreError> {
        if max_readers == 0 {
            return Err(StoreError::Config(
                "the SQLite store needs at least one reader".into(),
            ));
        }
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("{}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(&path).map_err(db_err)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        let slots = read_concurrency().min(max_readers);
        let (jobs, rx) = mpsc::channel(WRITE_QUEUE);
        thread::Builder::new()
            .name("waku-store-sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))
            .map_err(|e| StoreError::Unavailable(format!("cannot start writer thread: {e}")))?;
        Ok(Self {
            path,
            jobs,
            readers: Arc::new(Mutex::new(Vec::new())),
            read_slots: Arc::new(tokio::sync::Semaphore::new(slots)),
            max_readers: slots,
        })
    }

    /// The most queries that run at once.
    pub fn max_concurrent_reads(&self) -> usize {
        self.max_readers
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn write<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(job(tx))
            .await
            .map_err(|_| StoreError::Unavailable("sqlite writer stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Unavailable("sqlite writer stopped".into()))?
    }

    /// Runs `f` with a read connection on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = Arc::clone(&self.readers);
        let path = self.path.clone();
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::Unavailable("sqlite reads need a tokio runtime".into()))?;
        let slot = Arc::clone(&self.read_slots)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("sqlite store closed".into()))?;
        handle
            .spawn_blocking(move || {
                let _slot = slot;
                let pooled = readers.lock().ok().and_then(|mut r| r.pop());
                let conn = match pooled {
                    Some(c) => c,
                    None => open_reader(&path)?,
                };
                let out = f(&conn);
                if let Ok(mut r) = readers.lock()
                    && r.len() < IDLE_READERS
                {
                    r.push(conn);
                }
                out
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("sqlite read task failed: {e}")))?
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(db_err)?;
    Ok(conn)
}

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<Job>) {
    let mut pending: Option<Job> = None;
    loop {
        let job = match pending.take() {
            Some(job) => job,
            None => match rx.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        match job {
            Job::Put(rows, reply) => {
                let mut batch = vec![(rows, reply)];
                let mut total: usize = batch[0].0.len();
                while total < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Job::Put(rows, reply)) => {
                            total += rows.len();
                            batch.push((rows, reply));
                        }
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                write_batch(&mut conn, batch);
            }
            Job::DeleteOlderThan(time, reply) => {
                let r = conn
                    .execute("DELETE FROM messages WHERE timestamp < ?1", params![time])
                    .map(|n| n as u64)
                    .map_err(db_err);
                let _ = reply.send(r);
            }
            Job::DeleteOldest(n, reply) => {
                let r = conn
                    .execute(
                        "DELETE FROM messages WHERE id IN \
                         (SELECT id FROM messages ORDER BY timestamp, hash LIMIT ?1)",
                        params![i64::try_from(n).unwrap_or(i64::MAX)],
                    )
                    .map(|n| n as u64)
                    .map_err(db_err);
                let _ = reply.send(r);
            }
        }
    }
    tracing::debug!("sqlite writer stopped");
}

type Reply = oneshot::Sender<Result<Vec<bool>, StoreError>>;

fn write_batch(conn: &mut Connection, batch: Vec<(Vec<Row>, Reply)>) {
    let result = (|| -> Result<Vec<Vec<bool>>, rusqlite::Error> {
        let tx = conn.transaction()?;
        let mut outcomes = Vec::with_capacity(batch.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO messages \
                 (hash, timestamp, pubsub_topic, content_topic, message) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (rows, _) in &batch {
                let mut new = Vec::with_capacity(rows.len());
                for r in rows {
                    let n = insert.execute(params![
                        &r.hash.0[..],
                        r.timestamp,
                        r.pubsub_topic,
                        r.content_topic,
                        r.message
                    ])?;
                    new.push(n == 1);
                }
                outcomes.push(new);
            }
        }
        tx.commit()?;
        Ok(outcomes)
    })();
    match result {
        Ok(outcomes) => {
            for ((_, reply), new) in batch.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(new));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "sqlite write failed");
            let text = e.to_string();
            for (_, reply) in batch {
                let _ = reply.send(Err(StoreError::Database(text.clone())));
            }
        }
    }
}

fn cursor_position(
    conn: &Connection,
    cursor: Option<MessageHash>,
) -> Result<Option<(Timestamp, MessageHash)>, StoreError> {
    let Some(hash) = cursor else {
        return Ok(None);
    };
    let ts: Option<i64> = conn
        .prepare_cached("SELECT timestamp FROM messages WHERE hash = ?1")
        .and_then(|mut s| s.query_row(params![&hash.0[..]], |r| r.get(0)).optional())
        .map_err(db_err)?;
    ts.map(|ts| Some((ts, hash)))
        .ok_or(StoreError::UnknownCursor(hash))
}

fn run_query(conn: &Connection, q: &MessageQuery) -> Result<QueryPage, StoreError> {
    let cursor = cursor_position(conn, q.cursor)?;
    let sql = sql::page_query(Dialect::Sqlite, q, cursor);
    let mut stmt = conn.prepare_cached(&sql.text).map_err(db_err)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(sql.params.iter()))
        .map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let hash: &[u8] = row
            .get_ref(0)
            .and_then(|v| Ok(v.as_blob()?))
            .map_err(db_err)?;
        let ts: i64 = row.get(1).map_err(db_err)?;
        let topic: String = row.get(2).map_err(db_err)?;
        let message = if q.include_data {
            Some(
                row.get_ref(3)
                    .and_then(|v| Ok(v.as_blob()?))
                    .map_err(db_err)?,
            )
        } else {
            None
        };
        out.push(sql::entry_from_columns(hash, ts, topic, message)?);
    }
    Ok(QueryPage::from_walk(out, q.page_size, q.forward))
}

impl MessageStore for SqliteStore {
    fn put(&self, messages: Vec<StoredMessage>) -> StoreFuture<'_, Vec<bool>> {
        let rows: Vec<Row> = messages.into_iter().map(Row::from).collect();
        Box::pin(async move {
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            self.write(|tx| Job::Put(rows, tx)).await
        })
    }

    fn query(&self, query: MessageQuery) -> StoreFuture<'_, QueryPage> {
        Box::pin(self.read(move |conn| run_query(conn, &query)))
    }

    fn count(&self) -> StoreFuture<'_, u64> {
        Box::pin(self.read(|conn| {
            conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get::<_, i64>(0))
                .map(|n| n.max(0) as u64)
                .map_err(db_err)
        }))
    }

    fn size_bytes(&self) -> StoreFuture<'_, u64> {
        Box::pin(self.read(|conn| {
            let pages: i64 = conn
                .pragma_query_value(None, "page_count", |r| r.get(0))
                .map_err(db_err)?;
            let free: i64 = conn
                .pragma_query_value(None, "freelist_count", |r| r.get(0))
                .map_err(db_err)?;
            let size: i64 = conn
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .map_err(db_err)?;
            Ok(((pages - free).max(0) * size) as u64)
        }))
    }

    fn delete_older_than(&self, time: Timestamp) -> StoreFuture<'_, u64> {
        Box::pin(self.write(move |tx| Job::DeleteOlderThan(time, tx)))
    }

    fn delete_oldest(&self, n: u64) -> StoreFuture<'_, u64> {
        Box::pin(self.write(move |tx| Job::DeleteOldest(n, tx)))
    }
}

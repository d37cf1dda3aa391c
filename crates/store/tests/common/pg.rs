//! A throw-away PostgreSQL server for the tests: `initdb` + `pg_ctl` from
//! `/usr/lib/postgresql/15/bin` (or `$WAKU_PG_BIN`) in a temporary
//! directory on a free port, started once per test binary.
//!
//! initdb refuses to run as root, so as root the server runs as the
//! `postgres` user (`runuser`), the directory chowned to it. A small
//! watchdog shell stops the server and removes the directory when the test
//! process exits. With `WAKU_PG_REQUIRED=1` (CI) a server that cannot start
//! fails the tests; otherwise they are skipped with a message on stderr.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use waku_store::{MessageStore, PostgresStore};

/// A running server.
pub struct PgServer {
    pub port: u16,
    pub dir: PathBuf,
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);
static WARNED: AtomicBool = AtomicBool::new(false);

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `bin` with `args`, as the postgres user when we are root.
fn run_pg(bin: &Path, args: &[&str], as_postgres: bool) -> Result<(), String> {
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {:?} failed: {}{}",
            bin.display(),
            args,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn start() -> Result<PgServer, String> {
    let bin = PathBuf::from(
        std::env::var("WAKU_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
    );
    let initdb = bin.join("initdb");
    let pg_ctl = bin.join("pg_ctl");
    if !initdb.exists() || !pg_ctl.exists() {
        return Err(format!("no initdb/pg_ctl in {}", bin.display()));
    }
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("waku-store-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("chown to postgres failed (is there a postgres user?)".into());
        }
    }
    let data = dir.join("data");
    let data_s = data.to_string_lossy().to_string();
    let dir_s = dir.to_string_lossy().to_string();
    run_pg(
        &initdb,
        &[
            "-D",
            &data_s,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        root,
    )?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let options = format!(
        "-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
    );
    let log = format!("{dir_s}/server.log");
    run_pg(
        &pg_ctl,
        &[
            "-D", &data_s, "-o", &options, "-l", &log, "-w", "-t", "60", "start",
        ],
        root,
    )?;
    // Stop the server and remove its directory once this process is gone.
    let stop = if root {
        format!(
            "runuser -u postgres -- {} -D {data_s} -m immediate stop",
            pg_ctl.display()
        )
    } else {
        format!("{} -D {data_s} -m immediate stop", pg_ctl.display())
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir_s}",
        pid = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("watchdog: {e}"))?;
    Ok(PgServer { port, dir })
}

/// The shared server, or `None` (after saying why on stderr) when
/// PostgreSQL is not available and not required.
pub fn server() -> Option<&'static PgServer> {
    match SERVER.get_or_init(start) {
        Ok(s) => Some(s),
        Err(why) => {
            if std::env::var("WAKU_PG_REQUIRED").is_ok_and(|v| v == "1") {
                panic!("WAKU_PG_REQUIRED=1 but PostgreSQL could not start: {why}");
            }
            // Once per process, and past the test harness's output capture
            // (which only takes the print macros), so that it shows.
            if !WARNED.swap(true, Ordering::SeqCst) {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED PostgreSQL backend tests: {why} (set WAKU_PG_REQUIRED=1 to fail instead)"
                );
            }
            None
        }
    }
}

/// The URL of a new, empty database on the shared server.
pub async fn fresh_database_url() -> Option<String> {
    let server = server()?;
    let n = DATABASES.fetch_add(1, Ordering::SeqCst);
    let name = format!("t{n}");
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to test PostgreSQL");
    let task = tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    drop(client);
    let _ = task.await;
    Some(format!(
        "postgres://postgres@127.0.0.1:{}/{name}",
        server.port
    ))
}

/// A fresh PostgreSQL store, or `None` to skip.
pub async fn fresh_store() -> Option<Arc<dyn MessageStore>> {
    let url = fresh_database_url().await?;
    Some(Arc::new(
        PostgresStore::connect(&url).await.expect("connect store"),
    ))
}

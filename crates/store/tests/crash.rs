//! Crash safety with a real process: a probe (this test binary re-run as
//! [`ack_probe`]) ingests into SQLite and prints an ACK per acknowledged
//! message; it is killed with SIGKILL mid-stream and every acknowledged
//! message must be in the reopened database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use waku_core::{MessageHash, WakuMessage, now_nanos};
use waku_store::{Archive, Ingested, MessageFilter, MessageQuery, MessageStore, SqliteStore};

const ACKS: usize = 2_000;
/// Set to a database path, [`ack_probe`] runs as the probe process.
const PROBE_DB: &str = "WAKU_STORE_ACK_PROBE_DB";
/// Concurrent ingesting tasks of the probe.
const PROBE_TASKS: usize = 8;

/// The probe: without [`PROBE_DB`] it returns at once; with it, it ingests
/// messages from several tasks and prints `ACK <hash>` for each once the
/// store has acknowledged it (committed), until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_probe() {
    let Ok(path) = std::env::var(PROBE_DB) else {
        return;
    };
    let archive = Archive::new(Arc::new(SqliteStore::open(&path).unwrap()));
    let mut tasks = Vec::new();
    for task in 0..PROBE_TASKS {
        let archive = archive.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0u64.. {
                let message = WakuMessage {
                    timestamp: Some(now_nanos()),
                    meta: Some(format!("{task}-{i}").into_bytes().into()),
                    ..WakuMessage::new(vec![b'x'; 1024], format!("/probe/1/t{task}/proto"))
                };
                match archive.handle_message("/waku/2/rs/1/0", message).await {
                    Ok(Ingested::Stored(hash)) => {
                        let mut out = std::io::stdout().lock();
                        if writeln!(out, "ACK {hash}")
                            .and_then(|()| out.flush())
                            .is_err()
                        {
                            return;
                        }
                    }
                    Ok(Ingested::Duplicate(_)) => {}
                    Err(e) => eprintln!("ingest failed: {e}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

// spec: STORE-036
#[tokio::test]
async fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.sqlite3");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["ack_probe", "--exact", "--nocapture", "--test-threads=1"])
        .env(PROBE_DB, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            // The test harness prints its own lines around the probe's.
            let Some(hash) = line.strip_prefix("ACK ") else {
                continue;
            };
            let hash: MessageHash = hash.parse().unwrap();
            acked.push(hash);
            if acked.len() == ACKS {
                break;
            }
        }
        acked
    });
    let acked = reader.join().unwrap();
    assert_eq!(acked.len(), ACKS, "the probe stopped early");
    // SIGKILL while the probe is still writing.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9));
    }

    let store = SqliteStore::open(&db).unwrap();
    let stored = store.count().await.unwrap();
    assert!(
        stored >= ACKS as u64,
        "{stored} stored, {ACKS} acknowledged"
    );
    let mut found = 0;
    for chunk in acked.chunks(100) {
        let page = store
            .query(MessageQuery {
                filter: MessageFilter {
                    hashes: chunk.to_vec(),
                    ..Default::default()
                },
                cursor: None,
                forward: true,
                page_size: 100,
                include_data: false,
            })
            .await
            .unwrap();
        found += page.entries.len();
    }
    assert_eq!(found, ACKS, "every acknowledged message survived");
}

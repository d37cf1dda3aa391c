//! Crash safety with a real process: a probe ingests into SQLite and prints
//! an ACK per acknowledged message; it is killed with SIGKILL mid-stream and
//! every acknowledged message must be in the reopened database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use waku_core::MessageHash;
use waku_store::{MessageFilter, MessageQuery, MessageStore, SqliteStore};

const ACKS: usize = 2_000;

// spec: STORE-036
#[tokio::test]
async fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.sqlite3");
    let mut child = Command::new(env!("CARGO_BIN_EXE_waku-store-ack-probe"))
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let hash: MessageHash = line.strip_prefix("ACK ").unwrap().parse().unwrap();
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

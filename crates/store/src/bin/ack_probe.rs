//! Test helper for crash safety: ingests messages into the SQLite store at
//! the path given as first argument, from several concurrent tasks, and
//! prints `ACK <hash>` for each message once the store has acknowledged it
//! (committed). It runs until killed; `tests/crash.rs` kills it with
//! SIGKILL and checks that every acknowledged message is in the database.

use std::io::Write;
use std::sync::Arc;

use waku_core::{WakuMessage, now_nanos};
use waku_store::{Archive, Ingested, SqliteStore};

const TASKS: usize = 8;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: waku-store-ack-probe <database-file>")?;
    let archive = Archive::new(Arc::new(SqliteStore::open(&path)?));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let archive = archive.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0u64.. {
                let message = WakuMessage {
                    timestamp: Some(now_nanos()),
                    ..WakuMessage::new(vec![b'x'; 1024], format!("/probe/1/t{task}/proto"))
                };
                let payload_tag = format!("{task}-{i}");
                let message = WakuMessage {
                    meta: Some(payload_tag.into_bytes().into()),
                    ..message
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
        t.await?;
    }
    Ok(())
}

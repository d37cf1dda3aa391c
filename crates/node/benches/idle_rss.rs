//! Resident memory of idle `wakunode` processes.
//!
//! Starts two release `wakunode` processes on loopback (relay on one shard,
//! REST on, the second with the first as static node), waits until each
//! reports a relay peer on `/health`, lets them idle for 10 s and prints
//! `VmRSS` (split into anonymous and file-backed pages) and `VmHWM` of both
//! from `/proc/<pid>/status`. Then the same for
//! a node that also runs store (SQLite in a temp dir), filter and lightpush.
//!
//! Run: `cargo bench -p waku-node --bench idle_rss` (or `cargo xtask bench
//! waku-node`). Criterion flags passed by `cargo xtask bench --quick` are
//! ignored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::Wakunode;

/// The goal for an idle relay node (issue 3).
const GOAL_MIB: f64 = 15.0;
const IDLE: Duration = Duration::from_secs(10);

fn measure(label: &str, extra_a: &[&str], extra_b: &[&str]) {
    let a = Wakunode::start(extra_a);
    let b = Wakunode::start(&[&["--staticnode", a.listen.as_str()][..], extra_b].concat());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(a.relay_ready() && b.relay_ready()) {
        assert!(Instant::now() < deadline, "the two nodes did not connect");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(IDLE);
    for (name, node) in [("A", &a), ("B", &b)] {
        let [rss, hwm, anon, file] = node.memory_mib();
        let verdict = if rss <= GOAL_MIB { "meets" } else { "misses" };
        println!(
            "{label} {name}: VmRSS {rss:.1} MiB ({verdict} the {GOAL_MIB} MiB goal; \
             anonymous {anon:.1} MiB, file-backed {file:.1} MiB), VmHWM {hwm:.1} MiB"
        );
    }
}

fn main() {
    measure("idle relay node", &[], &[]);
    let dir = tempfile::tempdir().unwrap();
    let services = |db: &str| {
        [
            "--store",
            "--store-message-db-url",
            db,
            "--filter",
            "--lightpush",
        ]
        .map(str::to_owned)
    };
    let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let (a, b) = (services(&db("a.sqlite3")), services(&db("b.sqlite3")));
    measure(
        "idle relay+store+filter+lightpush node",
        &a.each_ref().map(String::as_str),
        &b.each_ref().map(String::as_str),
    );
}

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

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The goal for an idle relay node (issue 3).
const GOAL_MIB: f64 = 15.0;
const IDLE: Duration = Duration::from_secs(10);

/// A running `wakunode` with its listen and REST addresses.
struct Wakunode {
    child: Child,
    listen: String,
    rest: SocketAddr,
}

impl Wakunode {
    fn start(extra: &[&str]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_wakunode"))
            .args([
                "--listen-address",
                "127.0.0.1",
                "--tcp-port",
                "0",
                "--rest-port",
                "0",
                "--cluster-id",
                "42",
                "--shard",
                "0",
            ])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wakunode");
        // Owned by `node` from here on, so a panic below still kills it.
        let mut node = Self {
            child,
            listen: String::new(),
            rest: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let (tx, rx) = mpsc::channel();
        let stdout = node.child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (mut listen, mut rest) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while listen.is_none() || rest.is_none() {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("wakunode did not log its addresses");
            if let Some(addr) = line.split("Listening on ").nth(1) {
                listen = Some(addr.trim().to_owned());
            }
            if let Some(addr) = line.split("REST API listening on http://").nth(1) {
                rest = Some(addr.trim().parse().unwrap());
            }
        }
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        node.listen = listen.unwrap();
        node.rest = rest.unwrap();
        node
    }

    fn relay_ready(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(self.rest) else {
            return false;
        };
        let request = format!(
            "GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.rest
        );
        let mut body = String::new();
        stream.write_all(request.as_bytes()).is_ok()
            && stream.read_to_string(&mut body).is_ok()
            && body.contains(r#"{"Relay":"READY"}"#)
    }

    /// `VmRSS`, `VmHWM`, `RssAnon` and `RssFile` in MiB.
    fn memory_mib(&self) -> [f64; 4] {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .unwrap()
                / 1024.0
        };
        ["VmRSS:", "VmHWM:", "RssAnon:", "RssFile:"].map(field)
    }
}

impl Drop for Wakunode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

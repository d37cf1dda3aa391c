//! Test support: `wakunode` processes and in-process nodes on loopback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use waku_node::{Cli, Node, NodeConfig, NodeHandle};

/// A `wakunode` child process; stopped with SIGTERM when dropped.
pub struct NodeProcess {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    /// Its listen addresses as logged (full, with /p2p).
    pub addrs: Vec<Multiaddr>,
    /// The directory of its SQLite archive ([`NodeProcess::spawn_with_store`]),
    /// removed after the process has stopped.
    store_dir: Option<tempfile::TempDir>,
}

/// `--num-shards-in-network 0` when `args` pick shards with `--shard` but
/// say nothing about autosharding: the tests name static shards (such as
/// shard 3 of cluster 7), which nwaku's default of autosharding over one
/// shard would refuse, as an nwaku operator's static-shard setup would say.
fn static_sharding(args: &[&str]) -> Option<&'static str> {
    let picks_shards = args
        .iter()
        .any(|a| *a == "--shard" || a.starts_with("--shard="));
    let says_sharding = args
        .iter()
        .any(|a| a.starts_with("--num-shards-in-network"));
    (picks_shards && !says_sharding).then_some("--num-shards-in-network=0")
}

impl NodeProcess {
    /// Starts `wakunode` on loopback with free ports and DEBUG logs, plus
    /// `args`, and waits until it has logged every listen address.
    pub fn spawn(args: &[&str]) -> Self {
        Self::spawn_with_env(args, &[])
    }

    /// Like [`NodeProcess::spawn`], with environment variables `env` set
    /// (every other `WAKUNODE2_*` variable removed).
    pub fn spawn_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let websocket = args.iter().any(|a| a.starts_with("--websocket-support"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wakunode"));
        if !args.iter().any(|a| a.starts_with("--listen-address")) {
            cmd.args(["--listen-address", "127.0.0.1"]);
        }
        cmd.args(static_sharding(args));
        for (flag, free) in [
            ("--tcp-port", "0"),
            ("--rest-port", "0"),
            ("--discv5-udp-port", "0"),
        ] {
            if !args.iter().any(|a| a.starts_with(flag)) {
                cmd.args([flag, free]);
            }
        }
        cmd.args(["--log-level", "DEBUG"])
            .args(args)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if websocket {
            cmd.args(["--websocket-port", "0"]);
        }
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("WAKUNODE2_")) {
            if !env.iter().any(|(set, _)| *set == name) {
                cmd.env_remove(name);
            }
        }
        let mut child = cmd.spawn().expect("spawn wakunode");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let mut node = Self {
            child,
            lines,
            addrs: Vec::new(),
            store_dir: None,
        };
        let expected = if websocket { 2 } else { 1 };
        let deadline = Instant::now() + Duration::from_secs(30);
        while node.addrs.len() < expected {
            assert!(
                Instant::now() < deadline,
                "wakunode did not start:\n{}",
                node.log()
            );
            if let Ok(Some(status)) = node.child.try_wait() {
                panic!("wakunode exited with {status}:\n{}", node.log());
            }
            node.addrs = node
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| word_after(l, "Listening on "))
                .map(|a| a.parse().unwrap())
                .collect();
            std::thread::sleep(Duration::from_millis(20));
        }
        node
    }

    /// Like [`NodeProcess::spawn`], with `--store` archiving to a fresh
    /// SQLite file in a temporary directory that outlives the process.
    pub fn spawn_with_store(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("store.sqlite3").display());
        let mut all = vec!["--store", "--store-message-db-url", &db];
        all.extend_from_slice(args);
        let mut node = Self::spawn(&all);
        node.store_dir = Some(dir);
        node
    }

    /// The ENR the node logged at start.
    pub fn logged_enr(&self) -> waku_enr::WakuEnr {
        let log = self.log();
        let text = log
            .lines()
            .find_map(|l| word_after(l, "ENR "))
            .unwrap_or_else(|| panic!("no ENR logged:\n{log}"));
        waku_enr::WakuEnr::decode(text).unwrap()
    }

    /// A service node on cluster 7, shard 0: relay, a SQLite archive,
    /// filter, lightpush, plus `args`.
    pub fn spawn_service(args: &[&str]) -> Self {
        let mut all = vec![
            "--cluster-id",
            "7",
            "--shard",
            "0",
            "--filter",
            "--lightpush",
        ];
        all.extend_from_slice(args);
        Self::spawn_with_store(&all)
    }

    /// The REST API address, once logged.
    pub fn rest_addr(&self) -> std::net::SocketAddr {
        self.logged_addr("REST API listening on http://")
    }

    /// The metrics server's address (`--metrics-server`), once logged.
    pub fn metrics_addr(&self) -> std::net::SocketAddr {
        self.logged_addr("Metrics server listening on http://")
    }

    /// The address in the first log line containing `prefix`, right after
    /// it; waits up to 20 s for that line.
    fn logged_addr(&self, prefix: &str) -> std::net::SocketAddr {
        assert!(
            self.wait_for(prefix, Duration::from_secs(20)),
            "{}",
            self.log()
        );
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| word_after(l, prefix))
            .map(|a| a.parse().unwrap())
            .unwrap()
    }

    /// The plain TCP listen address.
    pub fn tcp_addr(&self) -> Multiaddr {
        self.addrs
            .iter()
            .find(|a| {
                !a.iter()
                    .any(|p| matches!(p, Protocol::Ws(_) | Protocol::Wss(_)))
            })
            .cloned()
            .unwrap()
    }

    /// The WebSocket listen address.
    pub fn ws_addr(&self) -> Multiaddr {
        self.addrs
            .iter()
            .find(|a| a.iter().any(|p| matches!(p, Protocol::Ws(_))))
            .cloned()
            .unwrap()
    }

    /// The secure WebSocket listen address (`--websocket-secure-support`).
    pub fn wss_addr(&self) -> Multiaddr {
        self.addrs
            .iter()
            .find(|a| a.iter().any(|p| matches!(p, Protocol::Wss(_))))
            .cloned()
            .unwrap_or_else(|| panic!("no wss listener:\n{}", self.log()))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// How many log lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.count(needle) > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("TERM")
    }

    /// Sends the signal (`TERM`, `INT`, ...) and waits for the exit status;
    /// kills the process when it has not exited 10 s later.
    pub fn signal(&mut self, name: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

/// The word right after the first `marker` in a log line: up to the next
/// space (the text format's padding or fields follow the message) or `"`
/// (the end of a JSON line's message).
pub fn word_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line.split(marker).nth(1)?;
    rest.split(|c: char| c.is_whitespace() || c == '"').next()
}

/// Flags for a node on loopback with a free libp2p port and a free REST port.
pub const LOOPBACK: [&str; 6] = [
    "--listen-address",
    "127.0.0.1",
    "--tcp-port",
    "0",
    "--rest-port",
    "0",
];

/// Starts an in-process node from `wakunode` flags (loopback, free port) and
/// runs it on the current tokio runtime until the test ends.
pub async fn start_node(args: &[&str]) -> NodeHandle {
    start_node_with(args, |_| {}).await
}

/// Like [`start_node`], with a last change to the configuration.
pub async fn start_node_with(args: &[&str], change: impl FnOnce(&mut NodeConfig)) -> NodeHandle {
    let mut all = vec!["wakunode"];
    all.extend(LOOPBACK);
    all.extend(static_sharding(args));
    all.extend_from_slice(args);
    let cli = Cli::try_parse_from(all).unwrap();
    let mut config = NodeConfig::try_from(&cli).unwrap();
    change(&mut config);
    let node = Node::start(config).await.unwrap();
    let handle = node.handle();
    tokio::spawn(node.run(std::future::pending()));
    handle
}

/// Waits until the node's `/health` (REST at `rest`) reports relay READY,
/// that is until it has a relay peer; false when `within` passes first.
pub async fn relay_ready(rest: std::net::SocketAddr, within: Duration) -> bool {
    eventually(within, || async move {
        http(rest, "GET", "/health", None)
            .await
            .1
            .contains(r#"{"Relay":"READY"}"#)
    })
    .await
}

/// Polls `check` every 50 ms until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A minimal HTTP/1.1 client: one request per connection.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let Some((size, tail)) = rest.split_once("\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
}

/// The multiaddrs (each ending in `/p2p/<id>`) of the peers `rest`'s node
/// lists as connected in `GET /admin/v1/peers` (none when it does not
/// answer 200).
pub async fn connected(rest: std::net::SocketAddr) -> Vec<String> {
    let (status, body) = http(rest, "GET", "/admin/v1/peers", None).await;
    if status != 200 {
        return Vec::new();
    }
    let peers: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    peers
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|p| p["connected"] == "Connected")
                .filter_map(|p| p["multiaddr"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A file of `tests/data` (the test TLS material, metric lists).
pub fn test_data(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

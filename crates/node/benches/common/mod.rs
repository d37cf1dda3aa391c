//! What the node's benches share: a release `wakunode` process on loopback
//! (cluster 42, shard 0, free ports) and a minimal blocking HTTP client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `wakunode` with its listen and REST addresses.
pub struct Wakunode {
    /// The process.
    pub child: Child,
    /// Its TCP listen address with `/p2p/<id>`.
    pub listen: String,
    /// Its REST address.
    pub rest: SocketAddr,
}

impl Wakunode {
    /// Starts a node with `extra` flags and waits for its addresses.
    pub fn start(extra: &[&str]) -> Self {
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
            // The first word after the marker: fields follow the message.
            let word = |marker: &str| {
                line.split(marker)
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_owned)
            };
            if let Some(addr) = word("Listening on ") {
                listen = Some(addr);
            }
            if let Some(addr) = word("REST API listening on http://") {
                rest = Some(addr.parse().unwrap());
            }
        }
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        node.listen = listen.unwrap();
        node.rest = rest.unwrap();
        node
    }

    /// Whether `/health` reports relay READY (a relay peer).
    pub fn relay_ready(&self) -> bool {
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
    pub fn memory_mib(&self) -> [f64; 4] {
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

/// One HTTP/1.1 request (`Connection: close`); the status and body, or
/// `None` when the connection fails.
pub fn http(rest: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(rest).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {rest}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, rest) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, rest.to_owned()))
}

//! The REST server under slow clients: a connection that does not finish
//! its request headers is closed after the header timeout, and at most
//! `HttpLimits::max_connections` are open at once, so half-open
//! connections cannot take one file descriptor each for ever.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{NodeProcess, http};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use waku_node::http_server::HttpLimits;

/// Open file descriptors of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn unfinished_headers_are_cut_off_and_connections_are_capped() {
    let node = NodeProcess::spawn(&["--cluster-id", "42", "--shard", "0"]);
    let rest = node.rest_addr();
    let limits = HttpLimits::default();
    let (status, _) = http(rest, "GET", "/health", None).await;
    assert_eq!(status, 200);
    let before = open_fds(node.pid());

    // 500 clients that start a request and never finish its headers.
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut s = TcpStream::connect(rest).await.unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = open_fds(node.pid());
    assert!(
        during <= before + limits.max_connections + 16,
        "{during} fds open with 500 slow clients (before: {before}, cap {})",
        limits.max_connections
    );

    // Every one is closed by the node: the first ones after the header
    // timeout, those beyond the cap (waiting to be accepted) one timeout
    // later.
    let deadline =
        tokio::time::Instant::now() + limits.header_read_timeout * 2 + Duration::from_secs(5);
    for (i, s) in slow.iter_mut().enumerate() {
        let mut buf = [0u8; 1024];
        let closed = loop {
            match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
                Err(_) => break false,
                Ok(Ok(0) | Err(_)) => break true,
                // hyper may answer 408 before closing; keep reading.
                Ok(Ok(_)) => {}
            }
        };
        assert!(closed, "slow connection {i} is still open");
    }

    // And the API serves again.
    let (status, _) = http(rest, "GET", "/health", None).await;
    assert_eq!(status, 200);
    assert!(open_fds(node.pid()) <= before + 16);
}

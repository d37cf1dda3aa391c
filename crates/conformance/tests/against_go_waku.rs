//! The runner against go-waku v0.10.3 (the Go implementation, built from
//! the Go module proxy by `tests/interop-go/build-gowaku.sh`): its verdicts
//! must equal `tests/data/go-waku-v0.10.3.verdicts.json`. go-waku serves
//! legacy store and legacy lightpush only, so the v3 suites come out "not
//! offered": a verdict like any other.
//!
//! go-waku looks up NTP servers and tries UPnP at start: the test runs in
//! its own network (and pid) namespace with only loopback up. Run outside
//! one, it re-runs itself under `unshare --net --pid`, so go-waku is killed
//! with the namespace.
//!
//! The binary is read from `WAKU_GOWAKU_BIN`, else `target/gowaku/waku`.
//! Without it the test prints `SKIPPED` and passes, unless
//! `WAKU_GOWAKU_REQUIRED=1` (CI), where it fails. To rewrite the expected
//! file from a run: `WAKU_CONFORMANCE_BLESS=1 cargo test -p
//! waku-conformance --test against_go_waku`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use libp2p::{Multiaddr, PeerId, identity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use waku_conformance::Options;
use waku_testkit::go_waku::in_own_namespace;

/// go-waku's ports inside the namespace.
const GO_TCP: u16 = 60000;
const GO_REST: u16 = 8645;
const GO_UDP: u16 = 9000;
const CLUSTER: u32 = 42;

/// Whether go-waku's REST API answers `GET /debug/v1/info` with 200 (it
/// starts once the node and its protocols are up).
async fn rest_ready() -> bool {
    let Ok(Ok(mut stream)) = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect(("127.0.0.1", GO_REST)),
    )
    .await
    else {
        return false;
    };
    let request = "GET /debug/v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut head)).await,
        Ok(Ok(_)) if head.ends_with(b" 200")
    )
}

/// go-waku with relay, store, filter, lightpush, peer exchange and discv5
/// on cluster 42 shard 0, killed when dropped; its address with `/p2p/` and
/// its log file.
async fn spawn_gowaku() -> (tokio::process::Child, Multiaddr, PathBuf) {
    let bin = std::env::var_os("WAKU_GOWAKU_BIN").expect("set by in_own_namespace");
    let secret = identity::secp256k1::SecretKey::generate();
    let nodekey = hex::encode(secret.to_bytes());
    let key = identity::Keypair::from(identity::secp256k1::Keypair::from(secret));
    let peer_id = PeerId::from(key.public());
    // Its working directory (it writes its store.db there) and its log.
    let dir =
        std::env::temp_dir().join(format!("conformance-gowaku-{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("gowaku.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = tokio::process::Command::new(bin)
        .args([
            &format!("--nodekey={nodekey}"),
            "--address=127.0.0.1",
            &format!("--tcp-port={GO_TCP}"),
            "--rest",
            "--rest-address=127.0.0.1",
            &format!("--rest-port={GO_REST}"),
            "--relay",
            "--store",
            "--filter",
            "--lightpush",
            "--peer-exchange",
            "--discv5-discovery",
            &format!("--discv5-udp-port={GO_UDP}"),
            // The runner connects up to about ten peers at once from
            // 127.0.0.1; go-waku takes 5 per address by default.
            "--ip-colocation-limit=100",
            &format!("--cluster-id={CLUSTER}"),
            &format!("--pubsub-topic=/waku/2/rs/{CLUSTER}/0"),
        ])
        .current_dir(&dir)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !rest_ready().await {
        assert!(
            Instant::now() < deadline,
            "go-waku did not start; its log: {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{GO_TCP}/p2p/{peer_id}")
        .parse()
        .unwrap();
    (child, addr, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_waku_verdicts_are_the_expected_ones() {
    if !in_own_namespace("go_waku_verdicts_are_the_expected_ones") {
        return;
    }
    let (_gowaku, target, log) = spawn_gowaku().await;
    let started = Instant::now();
    // Its REST API gives the runner its ENR.
    let options = Options::new(target).with_rest(format!("http://127.0.0.1:{GO_REST}"));
    let report = waku_conformance::run(&options).await.unwrap();
    eprintln!(
        "{}run against go-waku in {:.1} s (its log: {})",
        report.to_table(),
        started.elapsed().as_secs_f64(),
        log.display()
    );
    assert_eq!(report.agent_version, "go-waku", "{}", report.to_table());
    common::assert_verdicts(
        &report,
        "go-waku-v0.10.3.verdicts.json",
        "go-waku v0.10.3 (tests/interop-go/build-gowaku.sh) run as `waku --relay --store \
         --filter --lightpush --peer-exchange --discv5-discovery --discv5-udp-port=9000 \
         --ip-colocation-limit=100 --cluster-id=42 --pubsub-topic=/waku/2/rs/42/0`; the runner with its defaults \
         and --rest; written by `WAKU_CONFORMANCE_BLESS=1 cargo test -p waku-conformance \
         --test against_go_waku`",
    );
}

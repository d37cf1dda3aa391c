//! The conformance runner (waku-conformance) against our own `wakunode`:
//! every MUST it checks passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{NodeProcess, eventually, http, relay_ready};
use waku_conformance::{Level, Muxer, Options, Suite, Verdict};

/// The target's ENR, from its REST `GET /debug/v1/info`.
async fn enr_uri(rest: std::net::SocketAddr) -> String {
    let (_, body) = http(rest, "GET", "/debug/v1/info", None).await;
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    info["enrUri"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_must_the_runner_checks_passes_against_wakunode() {
    // A relay peer for the target besides the runner (which joins the shard
    // too, but its subscription may reach the target after the first
    // push), so a valid lightpush is answered 200, not 505 "no peers", and
    // LIGHTPUSH-007 is decided.
    let peer = NodeProcess::spawn(&["--relay"]);
    let peer_addr = peer.tcp_addr().to_string();
    // discv5 on, so the target's peer-exchange cache (on by default)
    // holds the records of the two nodes that bootstrap from it, and PX-003
    // and PX-010 are decided.
    let target = NodeProcess::spawn_with_store(&[
        "--relay",
        "--filter",
        "--lightpush",
        "--legacy-store",
        "--staticnode",
        &peer_addr,
        "--discv5-discovery",
    ]);
    assert!(
        relay_ready(target.rest_addr(), Duration::from_secs(20)).await,
        "{}",
        target.log()
    );
    let enr = enr_uri(target.rest_addr()).await;
    let _discovered: Vec<NodeProcess> = (0..2)
        .map(|_| NodeProcess::spawn(&["--discv5-discovery", "--discv5-bootstrap-node", &enr]))
        .collect();
    assert!(
        eventually(Duration::from_secs(30), || async {
            target.count("discv5 candidate") >= 2
        })
        .await,
        "the target found no discv5 peers\n{}",
        target.log()
    );

    let started = Instant::now();
    // With its REST API: the runner reads the target's ENR there.
    let options =
        Options::new(target.tcp_addr()).with_rest(format!("http://{}", target.rest_addr()));
    let report = waku_conformance::run(&options).await.unwrap();
    let took = started.elapsed();
    let table = report.to_table();
    assert!(took < Duration::from_secs(30), "took {took:?}\n{table}");

    for protocol in [
        "/vac/waku/relay/2.0.0",
        "/vac/waku/metadata/1.0.0",
        "/vac/waku/lightpush/3.0.0",
        "/vac/waku/lightpush/2.0.0-beta1",
        "/vac/waku/store-query/3.0.0",
        "/vac/waku/filter-subscribe/2.0.0-beta1",
        "/vac/waku/peer-exchange/2.0.0-alpha1",
        "/vac/waku/store/2.0.0-beta4",
    ] {
        assert!(
            report.protocols.iter().any(|p| p == protocol),
            "{protocol} not in identify\n{table}"
        );
    }
    let musts: Vec<_> = report
        .findings()
        .filter(|f| f.level == Level::Must)
        .collect();
    assert!(musts.len() >= 30, "{table}");
    assert!(report.specs.iter().all(|s| s.spec != "unknown"), "{table}");
    for id in [
        "RELAY-001",
        "RELAY-003",
        "NET-018",
        "NET-020",
        "LIGHTPUSH-007",
        "LIGHTPUSH2-003",
        "PX-003",
        "PX-010",
        "ENR-001",
        "ENR-006",
        "ENR-016",
        "ENR-020",
        "SHARD-006",
        "STORE2-006",
        "STORE2-009",
    ] {
        assert!(
            report.findings_for(id).any(|f| f.verdict == Verdict::Pass),
            "{id} not checked\n{table}"
        );
    }
    let not_passed: Vec<String> = musts
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .map(|f| format!("{} {:?}: {}", f.id, f.verdict, f.evidence))
        .collect();
    assert!(
        not_passed.is_empty(),
        "{not_passed:#?}\n{table}\n{}",
        target.log()
    );
    assert!(!report.must_failed());
    // The SHOULDs our node implements pass as well.
    let should_failed: Vec<_> = report
        .findings()
        .filter(|f| f.verdict == Verdict::Fail)
        .collect();
    assert!(should_failed.is_empty(), "{table}");
    println!("{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_reaches_wakunode_over_websocket_with_mplex() {
    let target = NodeProcess::spawn(&["--relay", "--lightpush", "--websocket-support"]);
    let options = Options::new(target.ws_addr())
        .with_muxer(Muxer::Mplex)
        .with_only(vec![Suite::Metadata, Suite::Lightpush]);
    let report = waku_conformance::run(&options).await.unwrap();
    let table = report.to_table();
    assert!(
        report
            .findings_for("LIGHTPUSH-001")
            .any(|f| f.verdict == Verdict::Pass),
        "{table}"
    );
    assert!(!report.must_failed(), "{table}\n{}", target.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_waku_network_wakunode_drops_a_peer_of_another_cluster() {
    let target = NodeProcess::spawn(&["--relay", "--cluster-id", "1"]);
    let options = Options::new(target.tcp_addr()).with_only(vec![Suite::Metadata]);
    let report = waku_conformance::run(&options).await.unwrap();
    let table = report.to_table();
    for id in ["NET-003", "META-018"] {
        assert!(
            report.findings_for(id).any(|f| f.verdict == Verdict::Pass),
            "{id}\n{table}"
        );
    }
    assert!(!report.must_failed(), "{table}\n{}", target.log());
}

// With `--autoshard 8` the runner tests on the shard its content topics
// map to in a network autosharded over 8 shards (RELAY-SHARDING), and our
// node, subscribed to all 8, relays there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_tests_the_autoshard_of_its_content_topics() {
    let target = NodeProcess::spawn(&["--relay", "--lightpush", "--num-shards-in-network", "8"]);
    let expected = waku_sharding::autoshard("/waku-conformance/1/any/proto", 0, 8)
        .unwrap()
        .to_string();
    let options = Options::new(target.tcp_addr())
        .with_autoshard(8)
        .with_only(vec![Suite::Relay, Suite::Lightpush]);
    let report = waku_conformance::run(&options).await.unwrap();
    let table = report.to_table();
    assert!(
        report
            .findings_for("RELAY-011")
            .any(|f| f.verdict == Verdict::Pass && f.evidence.contains(&expected)),
        "{expected}\n{table}\n{}",
        target.log()
    );
    assert!(
        report
            .findings_for("RELAY-004")
            .any(|f| f.verdict == Verdict::Pass),
        "{table}"
    );
    assert!(!report.must_failed(), "{table}");
}

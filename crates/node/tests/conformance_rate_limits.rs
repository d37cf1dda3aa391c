//! The conformance runner's rate-limit rows against our own `wakunode`
//! started with nwaku-style `--rate-limit` settings: a burst from one peer
//! is refused with each protocol's 429 while the runner's other peer is
//! still served, and every other check still passes under the limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::NodeProcess;
use waku_conformance::{Options, Suite, Verdict};

// spec: LIGHTPUSH-012, LIGHTPUSH-017, LIGHTPUSH2-005, STORE-031, FILTER-032, PX-013, STORE2-014
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_one_peer_gets_429_while_another_peer_is_served() {
    // Budgets above what one suite's own requests spend in a second, below
    // the runner's burst of 40.
    let target = NodeProcess::spawn_with_store(&[
        "--relay",
        "--filter",
        "--lightpush",
        "--legacy-store",
        "--rate-limit",
        "lightpush:25/1s",
        "--rate-limit",
        "store:25/1s",
        "--rate-limit",
        "filter:25/1s",
        "--rate-limit",
        "px:25/1s",
    ]);
    let options = Options::new(target.tcp_addr()).with_only(vec![
        Suite::Lightpush,
        Suite::LightpushV2,
        Suite::Store,
        Suite::StoreV2,
        Suite::Filter,
        Suite::PeerExchange,
    ]);
    let report = waku_conformance::run(&options).await.unwrap();
    let table = report.to_table();
    for id in [
        "LIGHTPUSH-012",
        "LIGHTPUSH2-005",
        "STORE-031",
        "STORE2-014",
        "FILTER-032",
        "PX-013",
    ] {
        let verdicts: Vec<Verdict> = report.findings_for(id).map(|f| f.verdict).collect();
        assert!(
            verdicts == [Verdict::Pass],
            "{id}: {verdicts:?}\n{table}\n{}",
            target.log()
        );
    }
    assert!(!report.must_failed(), "{table}\n{}", target.log());
}

//! Running the runner against a fake node, and reading its report: shared
//! by every `broken_*` test.

use std::time::Duration;

use libp2p::Multiaddr;
use waku_conformance::{Options, Report, Suite, Verdict};

use super::Faults;

/// The report on a fake node with `faults` (its REST API given, so the
/// runner reads its ENR there) for the suites `only` (all: empty), with a
/// 2 s request timeout.
pub async fn report(faults: Faults, only: &[Suite]) -> Report {
    report_within(faults, only, Duration::from_secs(2)).await
}

/// [`report`] with another request timeout.
pub async fn report_within(faults: Faults, only: &[Suite], timeout: Duration) -> Report {
    let node = super::spawn_with_rest(faults).await;
    let options = Options::new(node.addr)
        .with_rest(node.rest)
        .with_only(only.to_vec())
        .with_timeout(timeout);
    waku_conformance::run(&options).await.unwrap()
}

/// The metadata suite, claiming cluster 1 shard 0, against a fake node of
/// cluster 1 (The Waku Network) with `faults`.
pub async fn metadata_on_cluster_1(faults: Faults) -> Report {
    let target: Multiaddr = super::spawn_in(1, faults).await;
    let options = Options::new(target)
        .with_network(Some(1), vec![0])
        .with_only(vec![Suite::Metadata])
        .with_timeout(Duration::from_secs(2));
    waku_conformance::run(&options).await.unwrap()
}

/// The verdicts of `id`'s rows, in order.
pub fn verdicts(report: &Report, id: &str) -> Vec<Verdict> {
    report.findings_for(id).map(|f| f.verdict).collect()
}

/// Asserts some row of `id` failed, with evidence containing `evidence`.
pub fn assert_fails(report: &Report, id: &str, evidence: &str) {
    assert!(
        report
            .findings_for(id)
            .any(|f| f.verdict == Verdict::Fail && f.evidence.contains(evidence)),
        "{id} did not fail with {evidence:?}:\n{}",
        report.to_table()
    );
}

//! The rate-limit rows (checks::rate_limit) against fake nodes whose
//! filter limits requests: per peer with 429 passes; a limit shared by all
//! peers, or a refusal that is no 429, fails; no limit is "not checkable".
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_node;

use fake_node::Faults;
use fake_node::judge::report;
use waku_conformance::{Suite, Verdict};

/// The verdicts and evidence of FILTER-032 against a fake with `faults`.
async fn filter_032(faults: Faults) -> (Vec<Verdict>, String) {
    let report = report(faults, &[Suite::Filter]).await;
    let rows: Vec<_> = report.findings_for("FILTER-032").collect();
    (
        rows.iter().map(|f| f.verdict).collect(),
        format!("{:?}\n{}", rows, report.to_table()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_peer_limit_answered_429_passes() {
    let (verdicts, evidence) = filter_032(Faults {
        filter_limit: Some(5),
        ..Faults::default()
    })
    .await;
    assert_eq!(verdicts, [Verdict::Pass], "{evidence}");
    assert!(
        evidence.contains("request 6 from one peer was answered 429"),
        "{evidence}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_shared_by_every_peer_fails() {
    // Larger than what the suite's own connections spend (about 40
    // requests over its three filter connections), so the burst peer is
    // served at first and refused within its 40 requests.
    let (verdicts, evidence) = filter_032(Faults {
        filter_limit: Some(60),
        filter_limit_shared: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(verdicts, [Verdict::Fail], "{evidence}");
    assert!(evidence.contains("the limit is not per peer"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_without_429_fails() {
    let (verdicts, evidence) = filter_032(Faults {
        filter_limit: Some(5),
        filter_limit_answers_garbage: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(verdicts, [Verdict::Fail], "{evidence}");
    assert!(evidence.contains("request 6 of a burst"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_limit_is_not_checkable() {
    let (verdicts, evidence) = filter_032(Faults::default()).await;
    assert_eq!(verdicts, [Verdict::NotCheckable], "{evidence}");
    assert!(evidence.contains("40 requests from one peer"), "{evidence}");
}

//! The forwarding checks of the relay suite can fail: the runner publishes
//! from one gossipsub peer and watches another, and a fake node whose relay
//! validator lets one kind of invalid message through (or forwards
//! nothing) makes exactly that row report FAIL under its requirement id,
//! while the node without the defect passes every row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_node;

use std::time::Duration;

use fake_node::Faults;
use waku_conformance::{Options, Report, Suite, Verdict};

/// The relay suite against a fake node with `faults`, NET-027 judged too.
async fn report(faults: Faults) -> Report {
    let addr = fake_node::spawn(faults).await;
    let options = Options::new(addr)
        .with_only(vec![Suite::Relay])
        .with_timestamp_check(true)
        .with_timeout(Duration::from_secs(2));
    waku_conformance::run(&options).await.unwrap()
}

/// The verdicts of the rows of `id` whose evidence contains `evidence`.
fn verdicts(report: &Report, id: &str, evidence: &str) -> Vec<Verdict> {
    report
        .findings_for(id)
        .filter(|f| f.evidence.contains(evidence))
        .map(|f| f.verdict)
        .collect()
}

/// Asserts the forwarding row of `id` failed and the other forwarding
/// rows passed.
fn only_fails(report: &Report, id: &str) {
    for (row, evidence) in ROWS {
        let want = if *row == id {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        assert_eq!(
            verdicts(report, row, evidence),
            vec![want],
            "{row}:\n{}",
            report.to_table()
        );
    }
}

/// Each forwarding row: its id and a piece of its evidence.
const ROWS: &[(&str, &str)] = &[
    ("NET-020", "one peer of ours relayed"),
    ("NET-025", "no WakuMessage"),
    ("NET-021", "a message to reject"),
    ("RELAY-012", "with from, seqno, signature and key"),
    ("NET-027", "stamped 60 s before our clock"),
    ("NET-018", "from one peer of ours"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_forwarding_nothing_invalid_passes_every_forwarding_row() {
    let report = report(Faults::default()).await;
    for (id, evidence) in ROWS {
        assert_eq!(
            verdicts(&report, id, evidence),
            vec![Verdict::Pass],
            "{id}:\n{}",
            report.to_table()
        );
    }
    assert!(!report.must_failed(), "{}", report.to_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_timestamp_check_net_027_has_no_row() {
    let addr = fake_node::spawn(Faults {
        relay_forwards_stale: true,
        ..Faults::default()
    })
    .await;
    let options = Options::new(addr)
        .with_only(vec![Suite::Relay])
        .with_timeout(Duration::from_secs(2));
    let report = waku_conformance::run(&options).await.unwrap();
    assert_eq!(report.findings_for("NET-027").count(), 0);
    assert_eq!(
        verdicts(&report, "NET-025", "no WakuMessage"),
        vec![Verdict::Pass],
        "{}",
        report.to_table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_forwarding_nothing_fails_net_020() {
    let report = report(Faults {
        relay_drops_everything: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(
        verdicts(&report, "NET-020", "did not reach another"),
        vec![Verdict::Fail],
        "{}",
        report.to_table()
    );
    // Nothing got through, so nothing is shown about the invalid ones.
    for (id, _) in &ROWS[1..] {
        assert!(
            report
                .findings_for(id)
                .any(|f| f.verdict == Verdict::NotCheckable
                    && f.evidence.contains("did not get through either")),
            "{id}:\n{}",
            report.to_table()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_forwarding_undecodable_data_fails_net_025_and_net_021() {
    let report = report(Faults {
        relay_forwards_undecodable: true,
        ..Faults::default()
    })
    .await;
    for (id, evidence) in ROWS {
        let want = if ["NET-025", "NET-021"].contains(id) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        assert_eq!(
            verdicts(&report, id, evidence),
            vec![want],
            "{id}:\n{}",
            report.to_table()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_forwarding_signed_messages_fails_relay_012() {
    let report = report(Faults {
        relay_forwards_signed: true,
        ..Faults::default()
    })
    .await;
    only_fails(&report, "RELAY-012");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_forwarding_stale_messages_fails_net_027() {
    let report = report(Faults {
        relay_forwards_stale: true,
        ..Faults::default()
    })
    .await;
    only_fails(&report, "NET-027");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_forwarding_oversize_messages_fails_net_018() {
    let report = report(Faults {
        relay_accepts_oversize: true,
        ..Faults::default()
    })
    .await;
    only_fails(&report, "NET-018");
    // The check through the store fails too.
    assert!(
        report
            .findings_for("NET-018")
            .any(|f| f.verdict == Verdict::Fail && f.evidence.contains("was accepted")),
        "{}",
        report.to_table()
    );
}

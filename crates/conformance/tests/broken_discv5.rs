//! The discv5 suite can fail: fake discv5 peers speaking Ethereum's
//! protocol id (DISC-001), answering nothing at the announced endpoint
//! (DISC-005), or serving a record without waku2 (ENR-020) fail the right
//! ids, and a sound one (`d5waku`) passes them. The runner still
//! connects over libp2p first, so each run also starts the fake libp2p
//! node of `fake_node` (its own record is not the one under test here).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fake_node/discv5.rs"]
mod fake_discv5;
mod fake_node;

use std::time::{Duration, Instant};

use fake_discv5::{ETHEREUM, WAKU};
use fake_node::Faults;
use fake_node::judge::{assert_fails, verdicts};
use waku_conformance::{Options, Report, Suite, Verdict};

/// The discv5 suite alone against `enr`, with a 2 s request timeout.
async fn report(enr: &str) -> Report {
    let target = fake_node::spawn(Faults::default()).await;
    let options = Options::new(target)
        .with_enr(enr)
        .with_only(vec![Suite::Discv5])
        .with_timeout(Duration::from_secs(2));
    let report = waku_conformance::run(&options).await.unwrap();
    println!("{}", report.to_table());
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sound_d5waku_peer_passes_every_discv5_row() {
    let secret: [u8; 32] = rand::random();
    let enr = fake_discv5::record(&secret, Some(fake_discv5::free_udp_port()), true);
    let _peer = fake_discv5::serve(&secret, &enr, WAKU, &fake_discv5::strangers(6)).await;
    let started = Instant::now();
    let report = report(&enr).await;
    let took = started.elapsed();
    let table = report.to_table();
    println!("took {took:?}");
    assert_eq!(verdicts(&report, "DISC-001"), [Verdict::Pass; 2], "{table}");
    for id in ["DISC-005", "ENR-001", "ENR-020"] {
        assert_eq!(verdicts(&report, id), [Verdict::Pass], "{id}\n{table}");
    }
    assert!(
        report
            .findings_for("DISC-001")
            .any(|f| f.evidence.contains("no answer within 1000 ms")),
        "{table}"
    );
    assert!(!report.must_failed(), "{table}");
    // Connecting included; the suite's own share is about the 1 s it
    // gives packets with another id.
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_speaking_ethereums_protocol_id_fails_disc_001() {
    let secret: [u8; 32] = rand::random();
    let enr = fake_discv5::record(&secret, Some(fake_discv5::free_udp_port()), true);
    let _peer = fake_discv5::serve(&secret, &enr, ETHEREUM, &[]).await;
    let report = report(&enr).await;
    // d5waku goes unanswered, and the discv5 packet is answered.
    assert_fails(&report, "DISC-001", "a d5waku PING");
    assert_fails(&report, "DISC-001", "protocol id discv5 v1");
    // The endpoint is alive, only not for d5waku.
    assert_eq!(
        verdicts(&report, "DISC-005"),
        [Verdict::NotCheckable],
        "{}",
        report.to_table()
    );
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_udp_port_where_nothing_answers_fails_disc_005() {
    let secret: [u8; 32] = rand::random();
    let enr = fake_discv5::record(&secret, Some(fake_discv5::free_udp_port()), true);
    let report = report(&enr).await;
    assert_fails(&report, "DISC-005", "nothing at the announced");
    // Silence says nothing about the protocol id the node would speak.
    assert_eq!(
        verdicts(&report, "DISC-001"),
        [Verdict::NotCheckable; 2],
        "{}",
        report.to_table()
    );
    assert!(
        report
            .findings_for("DISC-001")
            .any(|f| f.evidence.contains("got no PONG") || f.evidence.contains("no PONG,")),
        "{}",
        report.to_table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_record_without_waku2_fails_enr_020() {
    let secret: [u8; 32] = rand::random();
    let enr = fake_discv5::record(&secret, Some(fake_discv5::free_udp_port()), false);
    let _peer = fake_discv5::serve(&secret, &enr, WAKU, &[]).await;
    let report = report(&enr).await;
    assert_fails(&report, "ENR-020", "waku2 = none");
    assert_eq!(verdicts(&report, "DISC-001"), [Verdict::Pass; 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_udp_is_not_offered() {
    let secret: [u8; 32] = rand::random();
    let enr = fake_discv5::record(&secret, None, true);
    let report = report(&enr).await;
    for id in ["DISC-001", "DISC-005"] {
        assert_eq!(
            verdicts(&report, id),
            [Verdict::NotOffered],
            "{id}\n{}",
            report.to_table()
        );
    }
    assert_eq!(report.findings_for("ENR-001").count(), 0);
    assert!(!report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_enr_the_rows_are_not_checkable() {
    let target = fake_node::spawn(Faults::default()).await;
    let options = Options::new(target).with_only(vec![Suite::Discv5]);
    let report = waku_conformance::run(&options).await.unwrap();
    assert_eq!(verdicts(&report, "DISC-001"), [Verdict::NotCheckable]);
    assert!(
        report
            .findings_for("DISC-001")
            .all(|f| f.evidence.contains("--enr")),
        "{}",
        report.to_table()
    );
}

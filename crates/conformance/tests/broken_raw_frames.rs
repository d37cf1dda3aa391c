//! The inputs light clients such as js-waku send on raw streams (a stream
//! opened and left silent, a filter UNSUBSCRIBE whose answer is never read,
//! a ping with an empty pubsub topic, an UNSUBSCRIBE_ALL carrying a pubsub
//! topic, a request of an unknown type, a lightpush without a pubsub topic):
//! each check fails under its requirement id on an in-test node with the
//! matching defect (the same node without defects passes them all, see
//! `broken_services.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_node;

use fake_node::Faults;
use fake_node::judge::{assert_fails, metadata_on_cluster_1, report};
use waku_conformance::{Suite, Verdict};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_one_stream_at_a_time_fails_the_idle_stream_rows() {
    let faults = Faults {
        one_stream_at_a_time: true,
        ..Faults::default()
    };
    let suites = [
        Suite::Metadata,
        Suite::Lightpush,
        Suite::Store,
        Suite::Filter,
    ];
    let report = report(faults, &suites).await;
    for id in ["META-001", "LIGHTPUSH-018", "STORE-034", "FILTER-029"] {
        assert_fails(&report, id, "left silent");
    }
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_a_ping_with_an_empty_pubsub_topic_fails_filter_011() {
    let faults = Faults {
        filter_ping_rejects_blank_topic: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Filter]).await;
    assert_fails(&report, "FILTER-011", "pubsub_topic \"\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsubscribe_not_carried_out_fails_filter_031() {
    let faults = Faults {
        filter_unsubscribe_not_carried_out: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Filter]).await;
    assert_fails(&report, "FILTER-031", "still got 200");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_unsubscribe_all_with_a_pubsub_topic_fails_filter_018() {
    let faults = Faults {
        filter_unsubscribe_all_rejects_topic: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Filter]).await;
    assert_fails(&report, "FILTER-018", "UNSUBSCRIBE_ALL with pubsub_topic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honouring_an_unknown_request_type_fails_filter_006_and_005() {
    let faults = Faults {
        filter_unknown_type_200: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Filter]).await;
    assert_fails(&report, "FILTER-006", "unknown type 9: answered 200");
    assert_fails(&report, "FILTER-005", "unknown type 9: request_id \"N/A\"");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_a_push_without_pubsub_topic_fails_lightpush_005() {
    let faults = Faults {
        lightpush_no_autoshard: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Lightpush]).await;
    assert_fails(
        &report,
        "LIGHTPUSH-005",
        "push without pubsub topic: answered 400",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_count_on_error_answers_fails_lightpush_008() {
    let faults = Faults {
        lightpush_peer_count_on_errors: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Lightpush]).await;
    assert_fails(&report, "LIGHTPUSH-008", "relay_peer_count Some(0)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_waku_network_not_asking_an_inbound_peer_fails_net_002() {
    let report = metadata_on_cluster_1(Faults::default()).await;
    let verdicts: Vec<Verdict> = report.findings_for("NET-002").map(|f| f.verdict).collect();
    assert_eq!(verdicts, [Verdict::Pass], "{}", report.to_table());
    let faults = Faults {
        metadata_never_asks: true,
        ..Faults::default()
    };
    let report = metadata_on_cluster_1(faults).await;
    assert_fails(&report, "NET-002", "no metadata request");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_400_without_its_description_fails_store_037() {
    let faults = Faults {
        store_garbage_without_desc: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Store]).await;
    assert_fails(
        &report,
        "STORE-037",
        "\"\" (expected 400, \"decoding rpc failed:\"",
    );
    assert!(report.must_failed());
}

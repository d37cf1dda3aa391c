//! Every check can fail: an in-test node with one deliberate defect makes
//! the check for that defect report FAIL under the right requirement id,
//! while the same node without the defect passes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake_node;

use std::time::Duration;

use fake_node::Faults;
use fake_node::judge::{assert_fails, metadata_on_cluster_1, report, report_within};
use waku_conformance::{Level, Options, Suite, Verdict};

/// The ids the defects below trip.
const TRIPPED: &[&str] = &[
    "META-001",
    "META-004",
    "META-012",
    "META-015",
    "META-018",
    "META-021",
    "LIGHTPUSH-001",
    "LIGHTPUSH-003",
    "LIGHTPUSH-005",
    "LIGHTPUSH-007",
    "LIGHTPUSH-008",
    "LIGHTPUSH-009",
    "LIGHTPUSH-010",
    "LIGHTPUSH-011",
    "LIGHTPUSH-014",
    "LIGHTPUSH-015",
    "LIGHTPUSH-018",
    "LIGHTPUSH2-001",
    "LIGHTPUSH2-002",
    "LIGHTPUSH2-003",
    "LIGHTPUSH2-004",
    "LIGHTPUSH2-006",
    "STORE-001",
    "STORE-006",
    "STORE-007",
    "STORE-008",
    "STORE-009",
    "STORE-011",
    "STORE-013",
    "STORE-014",
    "STORE-015",
    "STORE-016",
    "STORE-017",
    "STORE-018",
    "STORE-020",
    "STORE-021",
    "STORE-022",
    "STORE-023",
    "STORE-024",
    "STORE-025",
    "STORE-028",
    "STORE-029",
    "STORE-030",
    "STORE-033",
    "STORE-034",
    "STORE-035",
    "STORE-037",
    "FILTER-001",
    "FILTER-005",
    "FILTER-006",
    "FILTER-009",
    "FILTER-010",
    "FILTER-011",
    "FILTER-012",
    "FILTER-016",
    "FILTER-018",
    "FILTER-024",
    "FILTER-025",
    "FILTER-028",
    "FILTER-029",
    "FILTER-031",
    "RELAY-003",
    "RELAY-004",
    "RELAY-005",
    "RELAY-011",
    "NET-018",
    "NET-020",
    "PX-001",
    "PX-002",
    "PX-003",
    "PX-010",
    "PX-014",
    "PX-015",
    "ENR-001",
    "ENR-006",
    "ENR-016",
    "ENR-018",
    "ENR-020",
    "SHARD-006",
    "STORE2-001",
    "STORE2-004",
    "STORE2-005",
    "STORE2-006",
    "STORE2-007",
    "STORE2-008",
    "STORE2-009",
    "STORE2-010",
    "STORE2-011",
    "STORE2-012",
    "STORE2-013",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_node_without_defects_passes_every_check_the_defects_trip() {
    let report = report(Faults::default(), &[]).await;
    let table = report.to_table();
    for id in TRIPPED {
        let verdicts: Vec<Verdict> = report.findings_for(id).map(|f| f.verdict).collect();
        assert!(
            !verdicts.is_empty() && verdicts.iter().all(|v| *v == Verdict::Pass),
            "{id}: {verdicts:?}\n{table}"
        );
    }
    let failed: Vec<_> = report
        .findings()
        .filter(|f| f.level == Level::Must && f.verdict == Verdict::Fail)
        .collect();
    assert!(failed.is_empty(), "{table}");
    assert!(!report.must_failed());
    assert!(report.specs.iter().all(|s| s.spec != "unknown"), "{table}");
    println!("{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_without_a_cluster_fails_meta_012() {
    let faults = Faults {
        metadata_without_cluster: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Metadata]).await;
    assert_fails(&report, "META-012", "cluster_id = None");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_peers_of_other_shards_fails_meta_018() {
    let faults = Faults {
        metadata_drops_other_shards: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Metadata]).await;
    assert_fails(&report, "META-018", "disconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_waku_network_keeping_a_peer_of_another_cluster_fails_net_003() {
    // As the README says for The Waku Network: name the cluster.
    let report = metadata_on_cluster_1(Faults::default()).await;
    let verdicts: Vec<Verdict> = report
        .findings_for("NET-003")
        .filter(|f| f.evidence.contains("claiming cluster"))
        .map(|f| f.verdict)
        .collect();
    assert_eq!(verdicts, [Verdict::Pass], "{}", report.to_table());
    let faults = Faults {
        metadata_keeps_other_clusters: true,
        ..Faults::default()
    };
    let report = metadata_on_cluster_1(faults).await;
    assert_fails(&report, "NET-003", "a peer claiming cluster 2: kept");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_waku_network_keeping_peers_with_incomplete_metadata_fails_net_003() {
    let sound = metadata_on_cluster_1(Faults::default()).await;
    let rows: Vec<_> = sound.findings_for("NET-003").collect();
    assert_eq!(rows.len(), 4, "{}", sound.to_table());
    assert!(
        rows.iter().all(|f| f.verdict == Verdict::Pass),
        "{}",
        sound.to_table()
    );
    let lenient = Faults {
        metadata_keeps_incomplete_peers: true,
        ..Faults::default()
    };
    let report = metadata_on_cluster_1(lenient).await;
    assert_fails(&report, "NET-003", "without a cluster id: kept");
    assert_fails(
        &report,
        "NET-003",
        "closing the target's metadata request unanswered: kept",
    );
    // A request without a cluster is a claim of another cluster: still
    // dropped by this fake.
    assert!(
        report.findings_for("NET-003").any(
            |f| f.verdict == Verdict::Pass && f.evidence.contains("sending a metadata request")
        ),
        "{}",
        report.to_table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lightpush_service_answering_200_to_everything_fails_the_error_codes() {
    let faults = Faults {
        lightpush_always_200: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Lightpush]).await;
    assert_fails(
        &report,
        "LIGHTPUSH-009",
        "request without a message: answered 200",
    );
    assert_fails(&report, "LIGHTPUSH-009", "blank pubsub topic: answered 200");
    assert_fails(&report, "LIGHTPUSH-011", "answered 200");
    assert_fails(&report, "LIGHTPUSH-010", "answered 200");
    assert_fails(&report, "LIGHTPUSH-015", "answered 200");
    assert_fails(
        &report,
        "LIGHTPUSH-018",
        "undecodable request frame: answered success 200",
    );
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lightpush_answers_with_the_wrong_id_or_no_peer_count_fail() {
    let faults = Faults {
        lightpush_wrong_request_id: true,
        lightpush_without_peer_count: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Lightpush]).await;
    assert_fails(&report, "LIGHTPUSH-003", "not-the-request-id");
    assert_fails(&report, "LIGHTPUSH-007", "relay_peer_count None");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_ignoring_the_cursor_fails_the_cursor_rules() {
    let faults = Faults {
        store_ignores_cursor: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Store]).await;
    assert_fails(&report, "STORE-018", "forward walk");
    assert_fails(
        &report,
        "STORE-029",
        "cursor of an unknown hash: answered Some(200)",
    );
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_with_wrong_order_time_range_and_hashes_fails_those_rules() {
    let faults = Faults {
        store_backward_newest_first: true,
        store_time_end_exclusive: true,
        store_hashes_wrong: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Store]).await;
    assert_fails(&report, "STORE-020", "backward page");
    assert_fails(&report, "STORE-015", "time_start");
    assert_fails(&report, "STORE-006", "message_hash equals our hash");
    let with_data = Faults {
        store_always_includes_data: true,
        ..Faults::default()
    };
    let report2 = self::report(with_data, &[Suite::Store]).await;
    assert_fails(
        &report2,
        "STORE-011",
        "without include_data: 5 entries, 5 with a message",
    );
    assert_fails(&report2, "STORE-017", "2 with a message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_hangs_on_an_undecodable_frame_fails_store_037() {
    let faults = Faults {
        store_hangs_on_garbage: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Store]).await;
    assert_fails(
        &report,
        "STORE-037",
        "undecodable request frame: stream left hanging",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_with_loose_rules_fails_ping_criteria_and_push_checks() {
    let faults = Faults {
        filter_ping_always_200: true,
        filter_accepts_empty_criteria: true,
        filter_pushes_everything: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Lightpush, Suite::Filter]).await;
    assert_fails(
        &report,
        "FILTER-011",
        "ping before subscribing: answered 200",
    );
    assert_fails(
        &report,
        "FILTER-009",
        "subscribe without content topics: answered 200",
    );
    assert_fails(&report, "FILTER-010", "filter-other");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_signs_and_takes_oversize_messages_fails_those_rules() {
    let faults = Faults {
        relay_signs: true,
        relay_accepts_oversize: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Relay]).await;
    assert_fails(&report, "RELAY-003", "from = Some");
    assert_fails(&report, "RELAY-005", "seqno = Some");
    assert_fails(&report, "NET-018", "was accepted");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_shards_in_one_field_or_none_fail_meta_021_and_meta_015() {
    let one_field = Faults {
        metadata_single_shard_field: true,
        ..Faults::default()
    };
    let report1 = report(one_field, &[Suite::Metadata]).await;
    assert_fails(&report1, "META-021", "packed in field 3 []");
    let none = Faults {
        metadata_no_shards: true,
        ..Faults::default()
    };
    let report2 = report(none, &[Suite::Metadata]).await;
    assert_fails(&report2, "META-015", "listing shards []");
    let anonymous = Faults {
        metadata_request_without_cluster: true,
        ..Faults::default()
    };
    let report3 = report(anonymous, &[Suite::Metadata]).await;
    assert_fails(&report3, "META-004", "cluster None");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_answers_fail_every_protocol_identifier_check() {
    let faults = Faults {
        answers_garbage: true,
        ..Faults::default()
    };
    let report = report(faults, &[]).await;
    assert_fails(&report, "META-001", "answer does not decode");
    assert_fails(&report, "LIGHTPUSH-001", "answer does not decode");
    assert_fails(&report, "STORE-001", "answer does not decode");
    assert_fails(&report, "FILTER-001", "answer does not decode");
    assert_fails(&report, "LIGHTPUSH2-001", "answer does not decode");
    assert!(report.must_failed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_lightpush_taking_everything_or_echoing_the_wrong_id_fails() {
    let lenient = Faults {
        legacy_lightpush_always_success: true,
        ..Faults::default()
    };
    let report1 = report(lenient, &[Suite::LightpushV2]).await;
    assert_fails(
        &report1,
        "LIGHTPUSH2-004",
        "request without a message: is_success true",
    );
    assert_fails(&report1, "LIGHTPUSH2-006", "answered success 200");
    assert_fails(&report1, "LIGHTPUSH2-003", "did not reach us over relay");
    let wrong_id = Faults {
        legacy_lightpush_wrong_request_id: true,
        legacy_lightpush_echoes_request: true,
        ..Faults::default()
    };
    let report2 = report(wrong_id, &[Suite::LightpushV2]).await;
    assert_fails(&report2, "LIGHTPUSH2-006", "not-the-request-id");
    assert_fails(&report2, "LIGHTPUSH2-002", "request set true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_the_answer_fail_one_answer_per_stream() {
    let faults = Faults {
        trailing_bytes: true,
        ..Faults::default()
    };
    let report = report(
        faults,
        &[Suite::Lightpush, Suite::LightpushV2, Suite::Filter],
    )
    .await;
    assert_fails(&report, "LIGHTPUSH-018", "after the response: ExtraBytes");
    assert_fails(&report, "LIGHTPUSH2-006", "after the answer: ExtraBytes");
    assert_fails(&report, "FILTER-029", "after the response: ExtraBytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_with_wrong_forward_order_and_entries_without_topic_fails_those_rules() {
    let faults = Faults {
        store_forward_newest_first: true,
        store_omits_topic: true,
        ..Faults::default()
    };
    let report1 = report(faults, &[Suite::Store]).await;
    assert_fails(&report1, "STORE-009", "forward order");
    assert_fails(&report1, "STORE-022", "starts at the oldest");
    assert_fails(&report1, "STORE-008", "include_data");
    assert_fails(&report1, "STORE-035", "pubsub_topic");
    let short = Faults {
        store_short_hashes: true,
        ..Faults::default()
    };
    let report2 = report(short, &[Suite::Store]).await;
    assert_fails(&report2, "STORE-007", "hash lengths [31");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lenient_store_with_wrong_ids_and_stray_cursors_fails_those_rules() {
    let faults = Faults {
        store_lenient_requests: true,
        store_wrong_request_id: true,
        store_cursor_always: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Store]).await;
    assert_fails(&report, "STORE-013", "answered Some(200)");
    assert_fails(&report, "STORE-030", "answered Some(200)");
    assert_fails(&report, "STORE-024", "not-the-request-id");
    assert_fails(&report, "STORE-028", "cursor true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_ignoring_criteria_and_limits_fails_those_rules() {
    let faults = Faults {
        store_ignores_content_topics: true,
        store_ignores_hashes: true,
        ..Faults::default()
    };
    let report1 = report(faults, &[Suite::Store]).await;
    assert_fails(&report1, "STORE-014", "another content topic");
    assert_fails(&report1, "STORE-016", "lookup of 2 stored + 1 unknown hash");
    assert_fails(&report1, "STORE-033", "lookup with pubsub_topic");
    let limitless = Faults {
        store_ignores_limit: true,
        ..Faults::default()
    };
    let report2 = report(limitless, &[Suite::Store]).await;
    assert_fails(&report2, "STORE-021", "limit 2 with 5 matching: 5 entries");
    assert_fails(&report2, "STORE-023", "forward page cursor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_status_or_hanging_on_empty_streams_fails_those_rules() {
    let faults = Faults {
        store_no_status: true,
        ..Faults::default()
    };
    let report1 = report(faults, &[Suite::Store]).await;
    assert_fails(&report1, "STORE-025", "status None");
    let hangs = Faults {
        store_hangs_on_empty: true,
        ..Faults::default()
    };
    let report2 = report(hangs, &[Suite::Store]).await;
    assert_fails(
        &report2,
        "STORE-034",
        "stream closed without a request: stream left hanging",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_with_wrong_ids_and_statuses_fails_those_rules() {
    let faults = Faults {
        filter_wrong_request_id: true,
        filter_200_to_garbage: true,
        filter_unsubscribes_always_200: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Filter]).await;
    assert_fails(&report, "FILTER-005", "not-the-request-id");
    assert_fails(&report, "FILTER-006", "status Some(200)");
    assert_fails(&report, "FILTER-029", "answered success 200");
    assert_fails(&report, "FILTER-016", "unsubscribe again: answered 200");
    assert_fails(
        &report,
        "FILTER-018",
        "with nothing subscribed: answered 200",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_pushing_nothing_or_incomplete_pushes_fails_those_rules() {
    let silent = Faults {
        filter_never_pushes: true,
        ..Faults::default()
    };
    let report1 = report(silent, &[Suite::Filter]).await;
    assert_fails(&report1, "FILTER-012", "no push within");
    let incomplete = Faults {
        filter_pushes_without_message: true,
        filter_pushes_without_topic: true,
        ..Faults::default()
    };
    let report2 = report(incomplete, &[Suite::Filter]).await;
    assert_fails(&report2, "FILTER-024", "each with one message");
    assert_fails(&report2, "FILTER-025", "pushes name pubsub topic");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_not_subscribed_or_dropping_everything_fails_those_rules() {
    let unsubscribed = Faults {
        relay_not_subscribed: true,
        ..Faults::default()
    };
    let report1 = report(unsubscribed, &[Suite::Relay]).await;
    assert_fails(&report1, "RELAY-011", "no gossipsub subscription");
    let dropping = Faults {
        relay_drops_everything: true,
        ..Faults::default()
    };
    let report2 = report(dropping, &[Suite::Relay]).await;
    assert_fails(&report2, "NET-020", "not found in the target's store");
    let garbage = Faults {
        relay_publishes_garbage: true,
        ..Faults::default()
    };
    let report3 = report(garbage, &[Suite::Relay]).await;
    assert_fails(&report3, "RELAY-004", "was not relayed to us");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_requests_are_repeated_and_never_judged() {
    // 429 to the first request: repeated after a pause, every row
    // passes.
    let bursty = Faults {
        filter_first_429: true,
        ..Faults::default()
    };
    let report1 = report(bursty, &[Suite::Filter]).await;
    // (FILTER-032 needs a limit a burst reaches: this fake has none.)
    assert!(
        report1
            .findings()
            .filter(|f| f.id != "FILTER-032")
            .all(|f| f.verdict == Verdict::Pass),
        "{}",
        report1.to_table()
    );
    // 429 to everything: nothing is judged, nothing fails. (A 1 s wait is
    // shorter than the pause before a repeat: each request is tried once.)
    let limited = Faults {
        filter_always_429: true,
        ..Faults::default()
    };
    let report2 = report_within(limited, &[Suite::Filter], Duration::from_secs(1)).await;
    assert!(
        report2
            .findings()
            .all(|f| f.verdict == Verdict::NotCheckable),
        "{}",
        report2.to_table()
    );
}

#[test]
fn the_binary_exits_1_on_a_failed_must_and_0_otherwise_and_writes_json() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let broken = runtime.block_on(fake_node::spawn(Faults {
        lightpush_always_200: true,
        ..Faults::default()
    }));
    let sound = runtime.block_on(fake_node::spawn(Faults::default()));
    let dir = tempfile_dir();
    let json = dir.join("report.json");
    let run = |target: &libp2p::Multiaddr, json: Option<&std::path::Path>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_waku-conformance"));
        cmd.args([
            "--target",
            &target.to_string(),
            "--only",
            "lightpush,metadata",
        ])
        .args(["--timeout-secs", "2"]);
        if let Some(path) = json {
            cmd.arg("--json").arg(path);
        }
        cmd.output().unwrap()
    };
    let out = run(&broken, None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("LIGHTPUSH-018"));
    let out = run(&sound, Some(&json));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let specs = written["specs"].as_array().unwrap();
    assert!(
        specs.iter().any(|s| s["spec"] == "WAKU-LIGHTPUSH-V3"),
        "{written}"
    );
    assert!(
        specs
            .iter()
            .flat_map(|s| s["findings"].as_array().unwrap())
            .any(|f| f["id"] == "LIGHTPUSH-001" && f["verdict"] == "pass" && f["level"] == "MUST"),
        "{written}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // An unreachable target is no report at all.
    let out = run(
        &"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGBZNtjz3ZhkxJtnCXkm9L3xqjqK4Pav67MxUKNtuyGQG"
            .parse()
            .unwrap(),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    drop(runtime);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "waku-conformance-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_exchange_without_status_ignoring_num_peers_with_a_bad_record_fails() {
    let faults = Faults {
        px_without_status: true,
        px_ignores_num_peers: true,
        px_bad_record: true,
        px_echoes_query: true,
        ..Faults::default()
    };
    let report1 = report(faults, &[Suite::PeerExchange]).await;
    assert_fails(&report1, "PX-014", "status_code None (expected 200)");
    assert_fails(&report1, "PX-003", "record 4");
    assert_fails(&report1, "PX-002", "query set true");
    let capped = Faults {
        px_ignores_num_peers: true,
        ..Faults::default()
    };
    let report2 = report(capped, &[Suite::PeerExchange]).await;
    assert_fails(
        &report2,
        "PX-010",
        "query for 1 peers (of 5 available): 5 came back",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lenient_or_hanging_peer_exchange_fails_its_status_and_hostile_rows() {
    let faults = Faults {
        px_lenient: true,
        px_hangs_on_huge: true,
        ..Faults::default()
    };
    let report1 = report(faults, &[Suite::PeerExchange]).await;
    assert_fails(
        &report1,
        "PX-014",
        "an RPC without a query: status Some(200)",
    );
    assert_fails(
        &report1,
        "PX-015",
        "undecodable request frame: answered success 200",
    );
    assert_fails(&report1, "PX-010", "query for 18446744073709551615 peers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_exchange_writing_stray_bytes_or_garbage_fails_px_001() {
    let stray = Faults {
        trailing_bytes: true,
        ..Faults::default()
    };
    let report1 = report(stray, &[Suite::PeerExchange]).await;
    assert_fails(&report1, "PX-001", "after the answer: ExtraBytes");
    let garbage = Faults {
        answers_garbage: true,
        ..Faults::default()
    };
    let report2 = report(garbage, &[Suite::PeerExchange]).await;
    assert_fails(&report2, "PX-001", "does not decode");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enr_of_another_key_flagging_sync_with_other_shards_fails() {
    let faults = Faults {
        enr_other_key: true,
        enr_claims_sync: true,
        enr_other_shards: true,
        ..Faults::default()
    };
    let report1 = report(faults, &[Suite::Metadata, Suite::Enr]).await;
    assert_fails(&report1, "ENR-006", "peer id of the record's key");
    assert_fails(&report1, "ENR-016", "flagged but not served: [sync]");
    assert_fails(&report1, "SHARD-006", "rs: cluster 0 shards [5]");
    let bare = Faults {
        enr_udp_without_waku2: true,
        ..Faults::default()
    };
    let report2 = report(bare, &[Suite::Enr]).await;
    assert_fails(&report2, "ENR-020", "waku2 = None");
    let unassigned = Faults {
        enr_unassigned_bit: true,
        ..Faults::default()
    };
    let report3 = report(unassigned, &[Suite::Enr]).await;
    assert_fails(&report3, "ENR-018", "waku2 = 0x4f: bits 6 and 7 set");
    let own_id = Faults {
        enr_multiaddr_with_own_id: true,
        ..Faults::default()
    };
    let report4 = report(own_id, &[Suite::Enr]).await;
    assert_fails(&report4, "ENR-007", "/dns4/example.org/tcp/443/wss/p2p/");
    // The record is otherwise sound.
    for id in ["ENR-001", "ENR-006", "ENR-016", "ENR-018", "SHARD-006"] {
        assert!(
            report4.findings_for(id).all(|f| f.verdict == Verdict::Pass),
            "{id}\n{}",
            report4.to_table()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enr_that_does_not_verify_fails_enr_001() {
    let (target, enr) = fake_node::spawn_with_enr(Faults::default()).await;
    // A character of the base64 body changed: the signature no longer
    // matches (or the record no longer decodes).
    let mut bad: Vec<char> = enr.chars().collect();
    let at = bad.len() / 2;
    bad[at] = if bad[at] == 'A' { 'B' } else { 'A' };
    let options = Options::new(target)
        .with_enr(bad.into_iter().collect::<String>())
        .with_only(vec![Suite::Enr]);
    let report = waku_conformance::run(&options).await.unwrap();
    assert_fails(&report, "ENR-001", "does not read");
    let without =
        Options::new(fake_node::spawn(Faults::default()).await).with_only(vec![Suite::Enr]);
    let report2 = waku_conformance::run(&without).await.unwrap();
    assert!(
        report2
            .findings_for("ENR-001")
            .all(|f| f.verdict == Verdict::NotCheckable),
        "{}",
        report2.to_table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_api_taking_messages_it_never_publishes_fails_relay_004() {
    let faults = Faults {
        rest_publish_drops: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Relay]).await;
    assert_fails(
        &report,
        "RELAY-004",
        "published with POST /relay/v1/messages/%2Fwaku%2F2%2Frs%2F0%2F0 (answered 200) did not reach us",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_store_with_wrong_ids_order_and_cursors_fails_those_rules() {
    let faults = Faults {
        legacy_store_wrong_request_id: true,
        legacy_store_newest_first: true,
        legacy_store_no_cursor: true,
        ..Faults::default()
    };
    let report1 = report(faults, &[Suite::StoreV2]).await;
    assert_fails(&report1, "STORE2-012", "not-the-request-id");
    assert_fails(&report1, "STORE2-005", "(they are not)");
    assert_fails(&report1, "STORE2-009", "cursor missing");
    assert_fails(&report1, "STORE2-004", "in another order");
    assert_fails(&report1, "STORE2-008", "carries no cursor");
    let lenient = Faults {
        legacy_store_ignores_content_filter: true,
        legacy_store_accepts_unknown_cursor: true,
        ..Faults::default()
    };
    let report2 = report(lenient, &[Suite::StoreV2]).await;
    assert_fails(&report2, "STORE2-006", "1 on other topics");
    assert_fails(&report2, "STORE2-010", "unknown cursor: error Some(0)");
    let stray = Faults {
        trailing_bytes: true,
        ..Faults::default()
    };
    let report3 = report(stray, &[Suite::StoreV2]).await;
    assert_fails(&report3, "STORE2-001", "after the answer: ExtraBytes");
    let sloppy = Faults {
        legacy_store_wrong_digest: true,
        legacy_store_ignores_time_range: true,
        ..Faults::default()
    };
    let report4 = report(sloppy, &[Suite::StoreV2]).await;
    assert_fails(&report4, "STORE2-011", "digest !=");
    assert_fails(&report4, "STORE2-013", ": 3 messages");
    let unpaged = Faults {
        legacy_store_ignores_page_size: true,
        ..Faults::default()
    };
    let report5 = report(unpaged, &[Suite::StoreV2]).await;
    assert_fails(
        &report5,
        "STORE2-007",
        "page size 1 of 3 matching: 3 messages",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_taking_any_number_of_content_topics_fails_filter_028() {
    let faults = Faults {
        filter_unbounded_topics: true,
        ..Faults::default()
    };
    let topics = report(faults, &[Suite::Filter]).await;
    assert_fails(&topics, "FILTER-028", "subscribe with 101 content topics");
    let faults = Faults {
        filter_unbounded_criteria: true,
        ..Faults::default()
    };
    let unbounded = report(faults, &[Suite::Filter]).await;
    assert!(
        unbounded
            .findings_for("FILTER-028")
            .any(|f| f.verdict == Verdict::NotCheckable
                && f.evidence
                    .contains("1001 criteria held by one subscriber, all taken")),
        "{}",
        unbounded.to_table()
    );
    let faults = Faults {
        filter_criteria_cap_500: true,
        ..Faults::default()
    };
    let wrong_code = report(faults, &[Suite::Filter]).await;
    assert_fails(
        &wrong_code,
        "FILTER-028",
        "with 1000 criteria held, more were answered 500",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lightpush_answering_503_without_relay_peers_fails_lightpush_014() {
    let faults = Faults {
        lightpush_503_without_relay_peers: true,
        ..Faults::default()
    };
    let report = report(faults, &[Suite::Lightpush]).await;
    assert_fails(&report, "LIGHTPUSH-014", "503");
}

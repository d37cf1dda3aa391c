//! The runner against a js-waku relay node (`createRelayNode` of
//! `@waku/sdk` 0.0.27, which bundles `@waku/relay` 0.0.14, as pinned in
//! `tests/interop`) for the relay checks: its verdicts must equal
//! `tests/data/js-waku-relay-0.0.27.verdicts.json`. A relay node serves
//! metadata and relay only: the other suites come out "not offered". It
//! listens on `/ws` with mplex; `tests/js/relay_target.mjs` starts it and
//! has it publish on the shard every 500 ms (it has no lightpush the runner
//! could ask).
//!
//! Needs `npm ci` in `tests/interop`. Without it the test is skipped with
//! a `SKIPPED` line, unless `WAKU_INTEROP_REQUIRED=1` (set by CI), where it
//! fails. To rewrite the expected file from a run:
//! `WAKU_CONFORMANCE_BLESS=1 cargo test -p waku-conformance --test
//! against_js_waku`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use waku_conformance::{Muxer, Options};
use waku_testkit::js_waku::interop_dir;

/// The script that starts the js-waku node, fed to `node` on stdin.
const SCRIPT: &str = include_str!("js/relay_target.mjs");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_waku_relay_verdicts_are_the_expected_ones() {
    let Some(dir) = interop_dir() else { return };
    let mut js = Command::new("node")
        .current_dir(&dir)
        .args(["--input-type=module", "-", "7", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node (Node.js) must be installed");
    let mut stdin = js.stdin.take().unwrap();
    stdin.write_all(SCRIPT.as_bytes()).await.unwrap();
    drop(stdin);
    let mut lines = BufReader::new(js.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("js-waku did not start within 30 s")
        .unwrap()
        .expect("js-waku exited before listening");
    let event: Value = serde_json::from_str(&line).unwrap();
    let target = event["listening"].as_str().unwrap().parse().unwrap();

    let started = Instant::now();
    let options = Options::new(target).with_muxer(Muxer::Mplex);
    let report = waku_conformance::run(&options).await.unwrap();
    eprintln!(
        "{}run against js-waku in {:.1} s",
        report.to_table(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(report.agent_version, "js-waku", "{}", report.to_table());
    common::assert_verdicts(
        &report,
        "js-waku-relay-0.0.27.verdicts.json",
        "js-waku relay node (@waku/sdk 0.0.27 with @waku/relay 0.0.14, tests/interop) started \
         by tests/js/relay_target.mjs on cluster 7 shard 2, listening on /ws with mplex; the \
         runner with --transport mplex; written by `WAKU_CONFORMANCE_BLESS=1 cargo test -p \
         waku-conformance --test against_js_waku`",
    );
}

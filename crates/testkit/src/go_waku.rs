//! Running go-waku as a foreign peer in tests: where its binary is, and a
//! network namespace of its own for each test (go-waku resolves NTP
//! servers at start, and this machine reaches no internet).

use std::path::PathBuf;
use std::process::Command;

/// Set inside the namespace a test re-runs itself in.
const IN_NAMESPACE: &str = "WAKU_GOWAKU_NETNS";

/// The go-waku binary: `WAKU_GOWAKU_BIN`, else `target/gowaku/waku` (where
/// `tests/interop-go/build-gowaku.sh` builds it). Without it the test is
/// skipped with a `SKIPPED` line, unless `WAKU_GOWAKU_REQUIRED=1`, which
/// makes it a failure.
pub fn gowaku_bin() -> Option<PathBuf> {
    let path = std::env::var_os("WAKU_GOWAKU_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/gowaku/waku")
        });
    if path.is_file() {
        return Some(path);
    }
    let required = std::env::var("WAKU_GOWAKU_REQUIRED").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "WAKU_GOWAKU_REQUIRED=1 but there is no go-waku binary at {}; build it with tests/interop-go/build-gowaku.sh",
        path.display()
    );
    eprintln!(
        "SKIPPED: no go-waku binary at {} (tests/interop-go/build-gowaku.sh builds it)",
        path.display()
    );
    None
}

/// True inside the test's own network namespace: run the test body, with
/// `WAKU_GOWAKU_BIN` naming the binary. Outside it, runs test `name` of the
/// current test executable again inside a new namespace (only `lo` up),
/// checks that it passed, then returns false (nothing more to do here).
pub fn in_own_namespace(name: &str) -> bool {
    if std::env::var_os(IN_NAMESPACE).is_some() {
        return true;
    }
    let Some(bin) = gowaku_bin() else {
        return false;
    };
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .args([
            "--net",
            "--pid",
            "--fork",
            "--kill-child",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_NAMESPACE, "1")
        .env("WAKU_GOWAKU_BIN", bin)
        .status()
        .expect("unshare runs");
    assert!(status.success(), "{name} failed in its namespace: {status}");
    false
}

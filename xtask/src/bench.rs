//! `cargo xtask bench`: runs the criterion benchmarks of the workspace crates.

use std::path::Path;
use std::process::Command;

/// Crates with bench targets (criterion, or `harness = false` programs
/// such as waku-node's `idle_rss`), in dependency order.
const BENCHED: &[&str] = &[
    "waku-core",
    "waku-sharding",
    "waku-enr",
    "waku-relay",
    "waku-store",
    "waku-filter",
    "waku-lightpush",
    "waku-metadata",
    "waku-discovery",
    "waku-node",
];

/// Runs the benches of `packages` (all benched crates when empty). `quick`
/// shortens warm-up and measurement for a fast look (less precise).
pub fn run(root: &Path, packages: &[String], quick: bool) -> anyhow::Result<bool> {
    let selected: Vec<&str> = if packages.is_empty() {
        BENCHED.to_vec()
    } else {
        packages.iter().map(String::as_str).collect()
    };
    for package in &selected {
        if !BENCHED.contains(package) {
            anyhow::bail!(
                "{package} has no benches; benched crates: {}",
                BENCHED.join(", ")
            );
        }
    }
    let mut ok = true;
    for package in selected {
        println!("== cargo bench -p {package}");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        // Only the bench targets: the library's and binaries' test
        // harnesses would reject criterion's flags.
        cmd.current_dir(root)
            .args(["bench", "-p", package, "--bench", "*"]);
        if quick {
            cmd.args(["--", "--warm-up-time", "1", "--measurement-time", "3"]);
        }
        let status = cmd.status()?;
        ok &= status.success();
    }
    Ok(ok)
}

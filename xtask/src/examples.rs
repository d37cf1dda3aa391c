//! `cargo xtask examples`: runs the plain-`Swarm` examples of the protocol
//! crates, each of which exits 0 only when its exchange happened, then the
//! deployment examples under `examples/` (`run.sh` scripts starting local
//! `wakunode` networks).

use std::path::Path;
use std::process::Command;

/// `(package, example)` of every example that runs to completion on its own
/// (each bounds itself with a timeout).
const EXAMPLES: &[(&str, &str)] = &[
    ("waku-relay", "relay_node"),
    ("waku-metadata", "cluster_check"),
    ("waku-store", "store_node"),
    ("waku-filter", "light_client"),
    ("waku-lightpush", "push_client"),
    ("waku-discovery", "peer_exchange"),
];

/// Runs every example; `Ok(false)` when one of them failed.
pub fn run(root: &Path) -> anyhow::Result<bool> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut failed = Vec::new();
    for (package, example) in EXAMPLES {
        println!("== cargo run -p {package} --example {example}");
        let status = Command::new(&cargo)
            .current_dir(root)
            .args(["run", "--quiet", "-p", package, "--example", example])
            .status()?;
        if !status.success() {
            failed.push(format!("{package}/{example} ({status})"));
        }
    }
    println!("== cargo build -p waku-node -p waku-cli --bins");
    let built = Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--quiet",
            "-p",
            "waku-node",
            "-p",
            "waku-cli",
            "--bins",
        ])
        .status()?;
    if !built.success() {
        anyhow::bail!("building wakunode and waku failed ({built})");
    }
    for script in scripts(&root.join("examples"))? {
        println!("== {}", crate::display_path(root, &script));
        let status = Command::new("bash")
            .current_dir(root)
            .arg(&script)
            .status()?;
        if !status.success() {
            failed.push(format!("{} ({status})", crate::display_path(root, &script)));
        }
    }
    if !failed.is_empty() {
        eprintln!("examples failed: {}", failed.join(", "));
    }
    Ok(failed.is_empty())
}

/// The `run.sh` of every directory under `examples`, sorted.
fn scripts(examples: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(examples)? {
        let script = entry?.path().join("run.sh");
        if script.is_file() {
            found.push(script);
        }
    }
    found.sort();
    Ok(found)
}

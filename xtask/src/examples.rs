//! `cargo xtask examples`: runs the plain-`Swarm` examples of the protocol
//! crates, each of which exits 0 only when its exchange happened.

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
    if !failed.is_empty() {
        eprintln!("examples failed: {}", failed.join(", "));
    }
    Ok(failed.is_empty())
}

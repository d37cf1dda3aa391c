//! Project automation for the waku-rs workspace, run as `cargo xtask <task>`.
//!
//! Tasks:
//! - `spec-check [--json]`: requirement coverage of the spec catalogs in
//!   `specs/` by tests citing them with `// spec: ID` markers.
//! - `bench [--quick] [PACKAGE...]`: the criterion benchmarks.

mod bench;
mod catalog;
mod examples;
mod markers;
mod spec_check;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Usage text printed for `--help` and on bad arguments.
const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  spec-check [--json]   check that tests cite the requirements of specs/*.toml
                        (exit code 1 when there is any error)
  bench [--quick] [PACKAGE...]
                        run the criterion benches (all benched crates by
                        default; --quick: 1 s warm-up, 3 s measurement)
  examples              run the protocol crates' plain-Swarm examples
                        (exit code 1 when one of them fails)
";

/// Shows `path` relative to `root` with forward slashes, for messages.
pub(crate) fn display_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> anyhow::Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow::anyhow!("xtask manifest directory has no parent"))
}

/// Parses the command line and runs the requested task.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("spec-check") => {
            let mut json = false;
            for arg in &args[1..] {
                match arg.as_str() {
                    "--json" => json = true,
                    "-h" | "--help" => {
                        print!("{USAGE}");
                        return ExitCode::SUCCESS;
                    }
                    other => {
                        eprintln!("spec-check: unknown argument `{other}`\n\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            let result = workspace_root().and_then(|root| spec_check::run(&root, json));
            match result {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(err) => {
                    eprintln!("spec-check: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("examples") => match workspace_root().and_then(|root| examples::run(&root)) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(err) => {
                eprintln!("examples: {err:#}");
                ExitCode::FAILURE
            }
        },
        Some("bench") => {
            let quick = args[1..].iter().any(|a| a == "--quick");
            let packages: Vec<String> = args[1..]
                .iter()
                .filter(|a| *a != "--quick")
                .cloned()
                .collect();
            match workspace_root().and_then(|root| bench::run(&root, &packages, quick)) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(err) => {
                    eprintln!("bench: {err:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("unknown task `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

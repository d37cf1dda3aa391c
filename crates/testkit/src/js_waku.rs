//! Running js-waku as a foreign peer in tests: where its npm install is.

use std::path::PathBuf;

/// The js-waku interop directory (`tests/interop`), or `None` (after
/// printing a `SKIPPED` line) when the test must skip: `npm ci` has not been
/// run there. With `WAKU_INTEROP_REQUIRED=1` (set by CI) a missing install
/// fails the test instead.
pub fn interop_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop");
    if dir.join("node_modules").is_dir() {
        return Some(dir);
    }
    let required = std::env::var("WAKU_INTEROP_REQUIRED").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "WAKU_INTEROP_REQUIRED=1 but {} has no node_modules",
        dir.display()
    );
    eprintln!(
        "SKIPPED: js-waku interop needs `npm ci` in {}",
        dir.display()
    );
    None
}

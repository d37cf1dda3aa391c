//! Shared by the runs against foreign nodes: a report reduced to its
//! verdicts, compared with a checked-in expected file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use waku_conformance::Report;

/// Set to `1` to write the expected file from this run instead of
/// comparing with it.
pub const BLESS: &str = "WAKU_CONFORMANCE_BLESS";

/// Each requirement id of `report` with the verdicts of its rows, in the
/// order the runner produced them.
pub fn verdicts(report: &Report) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for finding in report.findings() {
        map.entry(finding.id.clone())
            .or_default()
            .push(finding.verdict.as_str().to_owned());
    }
    map
}

/// Compares the verdicts of `report` with `tests/data/<file>` and panics
/// with a readable diff (expected, got, and the evidence of the rows got)
/// when they differ. With [`BLESS`]`=1` writes the file instead, with
/// `about` (what ran, which version, how) as its header.
pub fn assert_verdicts(report: &Report, file: &str, about: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let got = verdicts(report);
    if std::env::var(BLESS).is_ok_and(|v| v == "1") {
        let doc = json!({ "about": about, "verdicts": got });
        let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with {BLESS}=1 to write it)", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let expected: BTreeMap<String, Vec<String>> =
        serde_json::from_value(doc["verdicts"].clone()).unwrap();
    let mut diff = Vec::new();
    let ids: std::collections::BTreeSet<&String> = expected.keys().chain(got.keys()).collect();
    for id in ids {
        let want = expected.get(id);
        let have = got.get(id);
        if want == have {
            continue;
        }
        let show = |v: Option<&Vec<String>>| match v {
            Some(v) => format!("[{}]", v.join(", ")),
            None => "(no row)".to_owned(),
        };
        diff.push(format!(
            "  {id}: expected {}, got {}",
            show(want),
            show(have)
        ));
        for finding in report.findings_for(id) {
            diff.push(format!(
                "      {}: {}",
                finding.verdict.as_str(),
                finding.evidence
            ));
        }
    }
    assert!(
        diff.is_empty(),
        "verdicts differ from {} ({} ids):\n{}\n\nthe whole report:\n{}\n\
         (if the change is right, run again with {BLESS}=1 and commit the file)",
        path.display(),
        diff.iter()
            .filter(|l| l.starts_with("  ") && !l.starts_with("      "))
            .count(),
        diff.join("\n"),
        report.to_table()
    );
}

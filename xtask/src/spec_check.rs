//! `cargo xtask spec-check`: requirement coverage of the spec catalogs.
//!
//! Loads `specs/*.toml`, scans the workspace's test code for `// spec:`
//! markers (see [`crate::markers`]) and reports, per spec and level, how many
//! requirements are cited by at least one test. A marker on a test marked
//! `#[ignore]` does not count as coverage (the test does not run by default);
//! such markers are listed apart. Errors (exit code 1): catalog defects,
//! malformed or detached markers, unknown ids, and MUST requirements of
//! active specs that no running test cites.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{self, Catalog, Level, Status};
use crate::display_path;
use crate::markers::{self, IssueKind, Scope};

/// Category of a spec-check error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// A catalog file is invalid.
    Catalog,
    /// A source file could not be read.
    Io,
    /// A marker line does not have the exact syntax.
    MalformedMarker,
    /// A marker is not attached to a test function.
    DetachedMarker,
    /// A marker cites an id no catalog defines.
    UnknownId,
    /// A MUST requirement of an active spec has no citing test.
    UncoveredMust,
}

impl ErrorKind {
    /// Short label used in the text report.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Catalog => "catalog",
            ErrorKind::Io => "io",
            ErrorKind::MalformedMarker => "malformed-marker",
            ErrorKind::DetachedMarker => "detached-marker",
            ErrorKind::UnknownId => "unknown-id",
            ErrorKind::UncoveredMust => "uncovered-must",
        }
    }
}

/// One error found by the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckError {
    /// Category.
    pub kind: ErrorKind,
    /// `file` or `file:line`, relative to the workspace root.
    pub location: String,
    /// Explanation.
    pub message: String,
}

/// Requirement counts for one level of one spec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LevelCount {
    /// Requirements of this level.
    pub total: usize,
    /// Those cited by at least one test.
    pub covered: usize,
    /// Those cited by no test.
    pub uncovered: usize,
}

/// Summary of one catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecSummary {
    /// Spec name.
    pub name: String,
    /// Spec title.
    pub title: String,
    /// Requirement id prefix.
    pub prefix: String,
    /// Implementing crate.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Active or planned.
    pub status: Status,
    /// Pinned upstream URL.
    pub upstream: String,
    /// Catalog file.
    pub file: String,
    /// Counts keyed by level (`MUST`, `SHOULD`, `MAY`).
    pub levels: BTreeMap<Level, LevelCount>,
}

/// Coverage of one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementReport {
    /// Requirement id.
    pub id: String,
    /// Spec name it belongs to.
    pub spec: String,
    /// Spec status.
    pub status: Status,
    /// Level.
    pub level: Level,
    /// Upstream section.
    pub section: String,
    /// Summary.
    pub summary: String,
    /// Responsible crate.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Citing tests as `file:line` of the test function.
    pub covered_by: Vec<String>,
    /// Citing tests marked `#[ignore]` (not counted as coverage), as
    /// `file:line` of the test function.
    pub ignored_by: Vec<String>,
    /// How and why we depart from the text, when we do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation: Option<String>,
}

/// A marker on a test marked `#[ignore]`: reported, not counted as coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredMarker {
    /// `file:line` of the test function.
    pub location: String,
    /// Name of the test function.
    pub test: String,
    /// The ids the marker cites (known ones; unknown ids are errors).
    pub ids: Vec<String>,
}

/// Full result of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// True when there are no errors.
    pub ok: bool,
    /// Number of Rust files scanned for markers.
    pub scanned_files: usize,
    /// Number of valid, attached markers found (ignored tests included).
    pub markers: usize,
    /// Markers on tests marked `#[ignore]`, in file order.
    pub ignored_markers: Vec<IgnoredMarker>,
    /// One entry per catalog, in file-name order.
    pub specs: Vec<SpecSummary>,
    /// Requirements no test cites, in catalog order.
    pub uncovered: Vec<RequirementReport>,
    /// Every requirement with its citing tests, in catalog order.
    pub requirements: Vec<RequirementReport>,
    /// Errors, catalog problems first.
    pub errors: Vec<CheckError>,
}

/// A Rust file to scan, and which of its lines may carry markers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceFile {
    /// Absolute path.
    path: PathBuf,
    /// True when the whole file is test code; false for library sources
    /// whose test modules are located by [`markers::src_layout`].
    whole_file: bool,
}

/// Directory names never descended into.
const SKIPPED_DIRS: [&str; 2] = ["target", "node_modules"];

/// Appends every `.rs` file below `dir` (recursively, sorted) to `out`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            errors.push((dir.to_path_buf(), format!("cannot read directory: {err}")));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(err) => errors.push((dir.to_path_buf(), format!("cannot list directory: {err}"))),
        }
    }
    paths.sort();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name) && !name.starts_with('.') {
                rust_files(&path, out, errors);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Subdirectories of `dir`, sorted; empty when `dir` does not exist.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Lists the files to scan: `crates/*/tests/**`, `crates/*/src/**` and
/// `tests/**` below `root`.
fn source_files(root: &Path, errors: &mut Vec<CheckError>) -> Vec<SourceFile> {
    let mut io_errors = Vec::new();
    let mut files = Vec::new();
    let mut push_dir = |dir: &Path, whole_file: bool, files: &mut Vec<SourceFile>| {
        if dir.is_dir() {
            let mut found = Vec::new();
            rust_files(dir, &mut found, &mut io_errors);
            files.extend(
                found
                    .into_iter()
                    .map(|path| SourceFile { path, whole_file }),
            );
        }
    };
    for krate in subdirs(&root.join("crates")) {
        let name = krate.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if SKIPPED_DIRS.contains(&name) || name.starts_with('.') {
            continue;
        }
        push_dir(&krate.join("tests"), true, &mut files);
        push_dir(&krate.join("src"), false, &mut files);
    }
    push_dir(&root.join("tests"), true, &mut files);
    errors.extend(io_errors.into_iter().map(|(path, message)| CheckError {
        kind: ErrorKind::Io,
        location: display_path(root, &path),
        message,
    }));
    files
}

/// Candidate files for an out-of-line module `name` declared in `parent`.
fn module_candidates(parent: &Path, module: &markers::ExternalMod) -> Vec<PathBuf> {
    let Some(dir) = parent.parent() else {
        return Vec::new();
    };
    if let Some(path) = &module.path_attr {
        return vec![dir.join(path)];
    }
    let stem = parent.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let base = if matches!(stem, "lib" | "main" | "mod") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    vec![
        base.join(format!("{}.rs", module.name)),
        base.join(&module.name).join("mod.rs"),
    ]
}

/// Runs the whole check on the workspace at `root`.
pub fn check(root: &Path) -> Report {
    let mut errors: Vec<CheckError> = Vec::new();

    let (catalogs, catalog_errors) = catalog::load_catalogs(root, &root.join("specs"));
    errors.extend(catalog_errors.into_iter().map(|e| CheckError {
        kind: ErrorKind::Catalog,
        location: e.location,
        message: e.message,
    }));

    let mut known: BTreeSet<&str> = BTreeSet::new();
    for catalog in &catalogs {
        known.extend(catalog.reqs.iter().map(|r| r.id.as_str()));
        known.extend(catalog.defective_ids.iter().map(String::as_str));
    }

    // Read every candidate file once; library files need their layout first
    // because out-of-line test modules make other library files test-only.
    let files = source_files(root, &mut errors);
    let mut texts: BTreeMap<PathBuf, String> = BTreeMap::new();
    for file in &files {
        match std::fs::read_to_string(&file.path) {
            Ok(text) => {
                texts.insert(file.path.clone(), text);
            }
            Err(err) => errors.push(CheckError {
                kind: ErrorKind::Io,
                location: display_path(root, &file.path),
                message: format!("cannot read source file: {err}"),
            }),
        }
    }
    let mut layouts: BTreeMap<PathBuf, markers::SrcLayout> = BTreeMap::new();
    let mut whole_test: BTreeSet<PathBuf> = files
        .iter()
        .filter(|f| f.whole_file)
        .map(|f| f.path.clone())
        .collect();
    let mut pending: Vec<PathBuf> = Vec::new();
    for file in files.iter().filter(|f| !f.whole_file) {
        if let Some(text) = texts.get(&file.path) {
            let layout = markers::src_layout(text);
            if layout.whole_file {
                pending.push(file.path.clone());
            }
            for module in &layout.external_test_mods {
                pending.extend(
                    module_candidates(&file.path, module)
                        .into_iter()
                        .filter(|p| texts.contains_key(p)),
                );
            }
            layouts.insert(file.path.clone(), layout);
        }
    }
    // A test-only file makes every out-of-line module it declares test-only.
    while let Some(path) = pending.pop() {
        if !whole_test.insert(path.clone()) {
            continue;
        }
        if let Some(text) = texts.get(&path) {
            let declared = declared_modules(text);
            for module in &declared {
                pending.extend(
                    module_candidates(&path, module)
                        .into_iter()
                        .filter(|p| texts.contains_key(p)),
                );
            }
        }
    }

    let mut coverage = Coverage::default();
    let mut marker_count = 0;
    for file in &files {
        let Some(text) = texts.get(&file.path) else {
            continue;
        };
        let shown = display_path(root, &file.path);
        let result = if whole_test.contains(&file.path) {
            markers::scan(text, Scope::WholeFile)
        } else {
            match layouts.get(&file.path) {
                Some(layout) => markers::scan(text, Scope::Lines(&layout.test_lines)),
                None => continue,
            }
        };
        for issue in result.issues {
            errors.push(CheckError {
                kind: match issue.kind {
                    IssueKind::Malformed => ErrorKind::MalformedMarker,
                    IssueKind::Detached => ErrorKind::DetachedMarker,
                },
                location: format!("{shown}:{}", issue.line),
                message: issue.message,
            });
        }
        for citation in result.citations {
            marker_count += 1;
            let test_location = format!("{shown}:{}", citation.test_line);
            let mut ignored_ids = Vec::new();
            for id in citation.ids {
                if known.contains(id.as_str()) {
                    let by = if citation.ignored {
                        ignored_ids.push(id.clone());
                        &mut coverage.ignored
                    } else {
                        &mut coverage.running
                    };
                    by.entry(id).or_default().push(test_location.clone());
                } else {
                    errors.push(CheckError {
                        kind: ErrorKind::UnknownId,
                        location: format!("{shown}:{}", citation.marker_line),
                        message: format!(
                            "`{id}` (cited by test `{}`) is not defined in any catalog",
                            citation.test_name
                        ),
                    });
                }
            }
            if citation.ignored && !ignored_ids.is_empty() {
                coverage.ignored_markers.push(IgnoredMarker {
                    location: test_location,
                    test: citation.test_name,
                    ids: ignored_ids,
                });
            }
        }
    }

    build_report(&catalogs, coverage, texts.len(), marker_count, errors)
}

/// Which tests cite each known requirement id.
#[derive(Debug, Default)]
struct Coverage {
    /// Citing tests that run (`file:line`), by id.
    running: BTreeMap<String, Vec<String>>,
    /// Citing tests marked `#[ignore]` (`file:line`), by id.
    ignored: BTreeMap<String, Vec<String>>,
    /// The markers of ignored tests.
    ignored_markers: Vec<IgnoredMarker>,
}

/// Out-of-line modules declared in a file (`mod name;`), with `#[path]`.
fn declared_modules(text: &str) -> Vec<markers::ExternalMod> {
    let mut modules = Vec::new();
    let mut path_attr: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#[path") {
            path_attr = rest.trim_start().strip_prefix('=').map(|v| {
                v.trim()
                    .trim_end_matches(']')
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            });
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let mod_pos = tokens.iter().position(|t| *t == "mod");
        if let Some(pos) = mod_pos {
            let qualifiers_ok = tokens[..pos]
                .iter()
                .all(|t| *t == "pub" || t.starts_with("pub("));
            if let Some(name) = tokens.get(pos + 1).and_then(|n| n.strip_suffix(';'))
                && qualifiers_ok
                && !name.is_empty()
            {
                modules.push(markers::ExternalMod {
                    name: name.to_owned(),
                    path_attr: path_attr.take(),
                });
            }
        }
        if !line.starts_with("#[") && !line.is_empty() {
            path_attr = None;
        }
    }
    modules
}

/// Assembles the report from catalogs, coverage and the errors found so far.
fn build_report(
    catalogs: &[Catalog],
    coverage: Coverage,
    scanned_files: usize,
    markers: usize,
    mut errors: Vec<CheckError>,
) -> Report {
    let mut specs = Vec::new();
    let mut requirements = Vec::new();
    let mut uncovered_must = Vec::new();
    for catalog in catalogs {
        let mut levels: BTreeMap<Level, LevelCount> = Level::ALL
            .iter()
            .map(|l| (*l, LevelCount::default()))
            .collect();
        for req in &catalog.reqs {
            let covered_by = coverage.running.get(&req.id).cloned().unwrap_or_default();
            let ignored_by = coverage.ignored.get(&req.id).cloned().unwrap_or_default();
            let count = levels.entry(req.level).or_default();
            count.total += 1;
            if covered_by.is_empty() {
                count.uncovered += 1;
                if req.level == Level::Must && catalog.status == Status::Active && !req.planned {
                    let only_ignored = if ignored_by.is_empty() {
                        String::new()
                    } else {
                        format!(" (only by ignored tests: {})", ignored_by.join(", "))
                    };
                    uncovered_must.push(CheckError {
                        kind: ErrorKind::UncoveredMust,
                        location: format!("{}:{}", catalog.file, req.line),
                        message: format!(
                            "{} (MUST, {}, crate {}) is not cited by any test{only_ignored}",
                            req.id, catalog.name, req.crate_name
                        ),
                    });
                }
            } else {
                count.covered += 1;
            }
            requirements.push(RequirementReport {
                id: req.id.clone(),
                spec: catalog.name.clone(),
                status: catalog.status,
                level: req.level,
                section: req.section.clone(),
                summary: req.summary.clone(),
                crate_name: req.crate_name.clone(),
                covered_by,
                ignored_by,
                deviation: req.deviation.clone(),
            });
        }
        specs.push(SpecSummary {
            name: catalog.name.clone(),
            title: catalog.title.clone(),
            prefix: catalog.prefix.clone(),
            crate_name: catalog.crate_name.clone(),
            status: catalog.status,
            upstream: catalog.upstream.clone(),
            file: catalog.file.clone(),
            levels,
        });
    }
    // Catalog and I/O problems first, then marker problems by place, then
    // uncovered MUSTs in catalog order.
    errors.sort_by(|a, b| {
        let rank = |e: &CheckError| match e.kind {
            ErrorKind::Catalog | ErrorKind::Io => 0,
            _ => 1,
        };
        rank(a).cmp(&rank(b)).then_with(|| {
            if rank(a) == 0 {
                std::cmp::Ordering::Equal
            } else {
                location_key(&a.location).cmp(&location_key(&b.location))
            }
        })
    });
    errors.extend(uncovered_must);
    let uncovered = requirements
        .iter()
        .filter(|r| r.covered_by.is_empty())
        .cloned()
        .collect();
    Report {
        ok: errors.is_empty(),
        scanned_files,
        markers,
        ignored_markers: coverage.ignored_markers,
        specs,
        uncovered,
        requirements,
        errors,
    }
}

/// Sort key for `file:line` locations (numeric line order).
fn location_key(location: &str) -> (String, usize) {
    match location.rsplit_once(':') {
        Some((file, line)) => match line.parse() {
            Ok(n) => (file.to_owned(), n),
            Err(_) => (location.to_owned(), 0),
        },
        None => (location.to_owned(), 0),
    }
}

/// Renders the human-readable report.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let total: usize = report
        .specs
        .iter()
        .flat_map(|s| s.levels.values())
        .map(|c| c.total)
        .sum();
    let _ = writeln!(
        out,
        "spec-check: {} catalogs, {} requirements; {} markers in {} scanned files\n",
        report.specs.len(),
        total,
        report.markers,
        report.scanned_files
    );

    let name_w = report
        .specs
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let crate_w = report
        .specs
        .iter()
        .map(|s| s.crate_name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = write!(
        out,
        "{:<name_w$}  {:<crate_w$}  {:<7}",
        "SPEC", "CRATE", "STATUS"
    );
    for level in Level::ALL {
        let _ = write!(out, "  {:>16}", format!("{level} tot/cov/unc"));
    }
    out.push('\n');
    for spec in &report.specs {
        let _ = write!(
            out,
            "{:<name_w$}  {:<crate_w$}  {:<7}",
            spec.name,
            spec.crate_name,
            spec.status.as_str()
        );
        for level in Level::ALL {
            let c = spec.levels.get(&level).copied().unwrap_or_default();
            let cell = format!("{:>3} /{:>3} /{:>3}", c.total, c.covered, c.uncovered);
            let _ = write!(out, "  {cell:>16}");
        }
        out.push('\n');
    }

    if report.uncovered.is_empty() {
        out.push_str("\nAll requirements are cited by at least one test.\n");
    } else {
        let _ = writeln!(
            out,
            "\nUncovered requirements ({}):",
            report.uncovered.len()
        );
        let mut current = "";
        for req in &report.uncovered {
            if req.spec != current {
                current = &req.spec;
                let _ = writeln!(out, "  {} [{}]", req.spec, req.status.as_str());
            }
            let crate_note = report
                .specs
                .iter()
                .find(|s| s.name == req.spec)
                .filter(|s| s.crate_name != req.crate_name)
                .map(|_| format!(" [{}]", req.crate_name))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<10} {:<6} {}{}",
                req.id, req.level, req.summary, crate_note
            );
        }
    }

    let deviations: Vec<&RequirementReport> = report
        .requirements
        .iter()
        .filter(|r| r.deviation.is_some())
        .collect();
    if !deviations.is_empty() {
        let _ = writeln!(
            out,
            "\nDeviations from the text, for interop with the deployed network ({}):",
            deviations.len()
        );
        for req in deviations {
            let _ = writeln!(
                out,
                "    {:<10} {:<6} {}",
                req.id,
                req.level,
                req.deviation.as_deref().unwrap_or_default()
            );
        }
    }

    if !report.ignored_markers.is_empty() {
        let _ = writeln!(
            out,
            "\nMarkers on #[ignore] tests, not counted as coverage ({}):",
            report.ignored_markers.len()
        );
        for marker in &report.ignored_markers {
            let _ = writeln!(
                out,
                "    {} `{}`: {}",
                marker.location,
                marker.test,
                marker.ids.join(", ")
            );
        }
    }

    if report.errors.is_empty() {
        out.push_str("\nspec-check: OK\n");
    } else {
        let _ = writeln!(out, "\nErrors ({}):", report.errors.len());
        for error in &report.errors {
            let _ = writeln!(
                out,
                "  error[{}] {}: {}",
                error.kind.label(),
                error.location,
                error.message
            );
        }
        let _ = writeln!(out, "\nspec-check: FAILED ({} errors)", report.errors.len());
    }
    out
}

/// Renders the report as one pretty-printed JSON document.
pub fn render_json(report: &Report) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(report)
}

/// Entry point of the `spec-check` task: prints the report (text or JSON) and
/// returns whether the check passed.
pub fn run(root: &Path, json: bool) -> anyhow::Result<bool> {
    let report = check(root);
    if json {
        println!("{}", render_json(&report)?);
    } else {
        print!("{}", render_text(&report));
    }
    Ok(report.ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throw-away workspace layout under the system temp directory.
    struct TempTree(PathBuf);

    impl TempTree {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("xtask-spec-check-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempTree(dir)
        }

        fn write(&self, rel: &str, text: &str) {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
    }

    impl Drop for TempTree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn catalog(prefix: &str, status: &str, reqs: &[(&str, &str)]) -> String {
        let mut text = format!(
            "[spec]\nname = \"{prefix}-SPEC\"\ntitle = \"t\"\nprefix = \"{prefix}\"\nupstream = \"https://github.com/o/r/blob/0123abc/x.md\"\ncrate = \"c\"\nstatus = \"{status}\"\n"
        );
        for (id, level) in reqs {
            text.push_str(&format!(
                "\n[[req]]\nid = \"{id}\"\nlevel = \"{level}\"\nsection = \"s\"\nsummary = \"sum {id}\"\n"
            ));
        }
        text
    }

    /// Writes `specs/a.toml`: active, AAA-001 and AAA-002 MUST (AAA-002 on
    /// line 15), AAA-003 SHOULD.
    fn write_three_requirements(tree: &TempTree) {
        tree.write(
            "specs/a.toml",
            &catalog(
                "AAA",
                "active",
                &[
                    ("AAA-001", "MUST"),
                    ("AAA-002", "MUST"),
                    ("AAA-003", "SHOULD"),
                ],
            ),
        );
    }

    fn kinds(report: &Report) -> Vec<(ErrorKind, String)> {
        report
            .errors
            .iter()
            .map(|e| (e.kind, e.location.clone()))
            .collect()
    }

    #[test]
    fn coverage_and_errors_are_reported() {
        let tree = TempTree::new("coverage");
        write_three_requirements(&tree);
        tree.write(
            "specs/b.toml",
            &catalog("BBB", "planned", &[("BBB-001", "MUST")]),
        );
        tree.write(
            "crates/one/tests/it.rs",
            "// spec: AAA-001, AAA-003\n#[test]\nfn covered() {}\n\n// spec: ZZZ-001\n#[test]\nfn unknown() {}\n\n// spec: AAA-002\nfn not_a_test() {}\n",
        );
        tree.write(
            "crates/one/src/lib.rs",
            "// Spec: prose outside tests is ignored.\npub fn f() {}\n\n#[cfg(test)]\nmod tests;\n\n#[cfg(test)]\nmod inline {\n    // Spec AAA-002\n    #[test]\n    fn t() {}\n}\n",
        );
        tree.write(
            "crates/one/src/tests.rs",
            "// spec: BBB-001\n#[tokio::test]\nasync fn planned() {}\n",
        );
        tree.write("tests/target/x.rs", "// spec: junk\n");
        tree.write("crates/one/tests/node_modules/y.rs", "// spec: junk\n");
        tree.write(
            "tests/e2e/deep.rs",
            "// spec: AAA-003\n#[test]\nfn again() {}\n",
        );

        let report = check(&tree.0);
        assert!(!report.ok);
        assert_eq!(report.scanned_files, 4);
        assert_eq!(report.markers, 4);
        assert_eq!(
            kinds(&report),
            [
                (
                    ErrorKind::MalformedMarker,
                    "crates/one/src/lib.rs:9".to_owned()
                ),
                (ErrorKind::UnknownId, "crates/one/tests/it.rs:5".to_owned()),
                (
                    ErrorKind::DetachedMarker,
                    "crates/one/tests/it.rs:9".to_owned()
                ),
                (ErrorKind::UncoveredMust, "specs/a.toml:15".to_owned()),
            ]
        );
        let a = &report.specs[0];
        assert_eq!(
            a.levels[&Level::Must],
            LevelCount {
                total: 2,
                covered: 1,
                uncovered: 1
            }
        );
        assert_eq!(
            a.levels[&Level::Should],
            LevelCount {
                total: 1,
                covered: 1,
                uncovered: 0
            }
        );
        let b = &report.specs[1];
        assert_eq!(b.status, Status::Planned);
        assert_eq!(b.levels[&Level::Must].covered, 1);
        let a3 = report
            .requirements
            .iter()
            .find(|r| r.id == "AAA-003")
            .expect("AAA-003");
        assert_eq!(
            a3.covered_by,
            ["crates/one/tests/it.rs:3", "tests/e2e/deep.rs:3"]
        );
        let uncovered: Vec<_> = report.uncovered.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(uncovered, ["AAA-002"]);

        let text = render_text(&report);
        assert!(text.contains("AAA-002    MUST   sum AAA-002"), "{text}");
        assert!(text.contains("error[unknown-id] crates/one/tests/it.rs:5"));
        assert!(text.contains("spec-check: FAILED (4 errors)"));
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&report).expect("json")).expect("valid json");
        assert_eq!(json["ok"], false);
        assert_eq!(json["specs"][0]["levels"]["MUST"]["uncovered"], 1);
        assert_eq!(json["errors"][3]["kind"], "uncovered-must");
        assert_eq!(
            json["requirements"][2]["covered_by"][1],
            "tests/e2e/deep.rs:3"
        );
    }

    #[test]
    fn planned_specs_never_fail_and_clean_tree_passes() {
        let tree = TempTree::new("clean");
        tree.write(
            "specs/a.toml",
            &catalog("AAA", "active", &[("AAA-001", "MUST"), ("AAA-002", "MAY")]),
        );
        tree.write(
            "specs/b.toml",
            &catalog("BBB", "planned", &[("BBB-001", "MUST")]),
        );
        tree.write(
            "crates/one/tests/it.rs",
            "// spec: AAA-001\n#[test]\nfn covered() {}\n",
        );
        let report = check(&tree.0);
        assert!(report.ok, "{:?}", report.errors);
        let uncovered: Vec<_> = report.uncovered.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(uncovered, ["AAA-002", "BBB-001"]);
        assert!(render_text(&report).ends_with("spec-check: OK\n"));
    }

    #[test]
    fn catalog_errors_fail_the_check() {
        let tree = TempTree::new("catalog");
        tree.write(
            "specs/a.toml",
            &catalog("AAA", "active", &[("AAA-001", "MUST"), ("AAA-001", "MUST")]),
        );
        tree.write(
            "crates/one/tests/it.rs",
            "// spec: AAA-001\n#[test]\nfn covered() {}\n",
        );
        let report = check(&tree.0);
        assert!(!report.ok);
        assert_eq!(report.errors[0].kind, ErrorKind::Catalog);
        assert!(
            report.errors[0]
                .message
                .contains("duplicate requirement id `AAA-001`")
        );
        // The defective id is still known: no unknown-id error for the test.
        assert!(report.errors.iter().all(|e| e.kind != ErrorKind::UnknownId));
    }

    #[test]
    fn declared_modules_are_found() {
        let modules = declared_modules(
            "mod a;\npub(crate) mod b;\nmod inline {\n}\n#[path = \"x/y.rs\"]\nmod c;\nuse mod_thing;\n",
        );
        let names: Vec<_> = modules
            .iter()
            .map(|m| (m.name.as_str(), m.path_attr.as_deref()))
            .collect();
        assert_eq!(names, [("a", None), ("b", None), ("c", Some("x/y.rs"))]);
    }

    #[test]
    fn ignored_tests_do_not_count_as_coverage() {
        let tree = TempTree::new("ignored");
        write_three_requirements(&tree);
        tree.write(
            "crates/one/tests/it.rs",
            "// spec: AAA-001
#[test]
fn runs() {}

// spec: AAA-001, AAA-002, AAA-003, ZZZ-009
#[test]
#[ignore = \"slow\"]
fn skipped() {}
",
        );
        let report = check(&tree.0);
        assert!(!report.ok);
        assert_eq!(report.markers, 2);
        assert_eq!(
            report.ignored_markers,
            [IgnoredMarker {
                location: "crates/one/tests/it.rs:8".into(),
                test: "skipped".into(),
                ids: vec!["AAA-001".into(), "AAA-002".into(), "AAA-003".into()],
            }]
        );
        // The unknown id is still an error; AAA-002, cited only by the
        // ignored test, is an uncovered MUST.
        assert_eq!(
            kinds(&report),
            [
                (ErrorKind::UnknownId, "crates/one/tests/it.rs:5".to_owned()),
                (ErrorKind::UncoveredMust, "specs/a.toml:15".to_owned()),
            ]
        );
        assert!(
            report.errors[1]
                .message
                .ends_with("(only by ignored tests: crates/one/tests/it.rs:8)"),
            "{}",
            report.errors[1].message
        );
        let a = &report.specs[0];
        assert_eq!(a.levels[&Level::Must].covered, 1);
        assert_eq!(a.levels[&Level::Should].covered, 0);
        let a1 = &report.requirements[0];
        assert_eq!(a1.covered_by, ["crates/one/tests/it.rs:3"]);
        assert_eq!(a1.ignored_by, ["crates/one/tests/it.rs:8"]);
        let uncovered: Vec<_> = report.uncovered.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(uncovered, ["AAA-002", "AAA-003"]);

        let text = render_text(&report);
        assert!(
            text.contains(
                "Markers on #[ignore] tests, not counted as coverage (1):\n    crates/one/tests/it.rs:8 `skipped`: AAA-001, AAA-002, AAA-003\n"
            ),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&report).expect("json")).expect("valid json");
        assert_eq!(json["ignored_markers"][0]["test"], "skipped");
        assert_eq!(json["requirements"][1]["covered_by"], serde_json::json!([]));
        assert_eq!(
            json["requirements"][1]["ignored_by"][0],
            "crates/one/tests/it.rs:8"
        );
    }

    #[test]
    fn a_planned_requirement_in_an_active_catalog_is_not_an_error() {
        let tree = TempTree::new("planned-req");
        tree.write(
            "specs/a.toml",
            "[spec]\nname = \"A\"\ntitle = \"t\"\nprefix = \"AAA\"\nupstream = \"https://github.com/o/r/blob/0123abc/x.md\"\ncrate = \"c\"\n\n[[req]]\nid = \"AAA-001\"\nlevel = \"MUST\"\nsection = \"s\"\nsummary = \"x\"\ncrate = \"later\"\nstatus = \"planned\"\n\n[[req]]\nid = \"AAA-002\"\nlevel = \"MUST\"\nsection = \"s\"\nsummary = \"y\"\n",
        );
        let report = check(&tree.0);
        let errors: Vec<&str> = report.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("AAA-002"), "{errors:?}");
    }

    #[test]
    fn deviations_are_listed_apart_and_must_not_be_empty() {
        let tree = TempTree::new("deviation");
        tree.write(
            "specs/a.toml",
            "[spec]\nname = \"A\"\ntitle = \"t\"\nprefix = \"AAA\"\nupstream = \"https://github.com/o/r/blob/0123abc/x.md\"\ncrate = \"c\"\n\n[[req]]\nid = \"AAA-001\"\nlevel = \"MUST\"\nsection = \"s\"\nsummary = \"x\"\ndeviation = \"nwaku does y (x.nim)\"\n",
        );
        tree.write(
            "crates/one/tests/it.rs",
            "// spec: AAA-001\n#[test]\nfn t() {}\n",
        );
        let report = check(&tree.0);
        assert!(report.ok, "{:?}", report.errors);
        let text = render_text(&report);
        assert!(
            text.contains("Deviations from the text, for interop with the deployed network (1):\n    AAA-001    MUST   nwaku does y (x.nim)\n"),
            "{text}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&report).expect("json")).expect("valid json");
        assert_eq!(json["requirements"][0]["deviation"], "nwaku does y (x.nim)");

        tree.write(
            "specs/a.toml",
            "[spec]\nname = \"A\"\ntitle = \"t\"\nprefix = \"AAA\"\nupstream = \"https://github.com/o/r/blob/0123abc/x.md\"\ncrate = \"c\"\n\n[[req]]\nid = \"AAA-001\"\nlevel = \"MUST\"\nsection = \"s\"\nsummary = \"x\"\ndeviation = \" \"\n",
        );
        let report = check(&tree.0);
        assert!(!report.ok);
        assert!(
            report
                .errors
                .iter()
                .any(|e| e.message.contains("req.deviation is empty")),
            "{:?}",
            report.errors
        );
    }
}

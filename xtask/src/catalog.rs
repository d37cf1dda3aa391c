//! Loading and validation of the requirement catalogs kept in `specs/*.toml`.
//!
//! A catalog has one `[spec]` table describing the upstream RFC and any number
//! of `[[req]]` tables, one per requirement. Parsing never stops at the first
//! problem: every defect found is returned as a [`CatalogError`] so that one
//! run of `spec-check` reports all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Normative strength of a requirement, as stored in a catalog.
///
/// Catalogs only use the three canonical spellings: `MUST NOT` is stored as
/// `MUST`, `SHOULD NOT` and `RECOMMENDED` as `SHOULD`, `OPTIONAL` as `MAY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    /// Absolute requirement; uncovered ones fail the check for active specs.
    #[serde(rename = "MUST")]
    Must,
    /// Recommendation; uncovered ones are reported only.
    #[serde(rename = "SHOULD")]
    Should,
    /// Optional behaviour; uncovered ones are reported only.
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    /// All levels, strongest first (the order used in reports).
    pub const ALL: [Level; 3] = [Level::Must, Level::Should, Level::May];

    /// The canonical catalog spelling of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }

    /// Parses a canonical level spelling; anything else is `None`.
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "MUST" => Some(Level::Must),
            "SHOULD" => Some(Level::Should),
            "MAY" => Some(Level::May),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Whether a catalog's crate exists yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The implementing crate exists: uncovered MUSTs are errors.
    Active,
    /// The implementing crate is not written yet: coverage is reported only.
    Planned,
}

impl Status {
    /// The catalog spelling of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Planned => "planned",
        }
    }
}

/// One validated requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Identifier such as `MSG-001`.
    pub id: String,
    /// Normative level.
    pub level: Level,
    /// Upstream section heading the requirement comes from.
    pub section: String,
    /// One-line summary in the project's own words.
    pub summary: String,
    /// Crate responsible for it (the per-requirement override, else the spec's).
    pub crate_name: String,
    /// 1-based line of the `[[req]]` table in the catalog file.
    pub line: usize,
    /// Marked `status = "planned"`: its crate does not exist yet, so an
    /// uncovered MUST is reported but not an error.
    pub planned: bool,
    /// Where we knowingly depart from the text to stay interoperable with
    /// the deployed network: the reason and the nwaku source that shows it.
    pub deviation: Option<String>,
}

/// One validated catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Path of the catalog relative to the workspace root.
    pub file: String,
    /// Spec name, e.g. `14/WAKU2-MESSAGE`.
    pub name: String,
    /// Spec title.
    pub title: String,
    /// Identifier prefix shared by all requirement ids of the catalog.
    pub prefix: String,
    /// Upstream URL pinned to a commit.
    pub upstream: String,
    /// Default crate implementing the spec.
    pub crate_name: String,
    /// Active or planned.
    pub status: Status,
    /// The well-formed requirements, in file order.
    pub reqs: Vec<Requirement>,
    /// Ids of requirements that are present but have other defects; they are
    /// still known ids so that tests citing them are not reported twice.
    pub defective_ids: Vec<String>,
}

/// A problem with a catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    /// `file` or `file:line` where the problem is.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// Raw shape of a catalog file, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    /// The `[spec]` table.
    spec: Option<RawSpec>,
    /// The `[[req]]` tables, with their positions in the file.
    #[serde(default)]
    req: Vec<toml::Spanned<RawReq>>,
}

/// Raw `[spec]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    /// Spec name.
    name: Option<String>,
    /// Spec title.
    title: Option<String>,
    /// Requirement id prefix.
    prefix: Option<String>,
    /// Pinned upstream URL.
    upstream: Option<String>,
    /// Implementing crate.
    #[serde(rename = "crate")]
    crate_name: Option<String>,
    /// `active` (default) or `planned`.
    status: Option<String>,
}

/// Raw `[[req]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReq {
    /// Requirement id.
    id: Option<String>,
    /// Level spelling.
    level: Option<String>,
    /// Upstream section heading.
    section: Option<String>,
    /// One-line summary.
    summary: Option<String>,
    /// Optional crate override.
    #[serde(rename = "crate")]
    crate_name: Option<String>,
    /// Optional `planned` marker for a requirement whose crate does not exist yet.
    status: Option<String>,
    /// Optional note on how and why we depart from the text.
    deviation: Option<String>,
}

/// True when `text` is a well-formed requirement id: an upper-case prefix
/// (letter first, then letters or digits), a dash and exactly three digits.
pub fn is_requirement_id(text: &str) -> bool {
    split_id(text).is_some()
}

/// Splits a well-formed requirement id into its prefix and number parts.
pub fn split_id(text: &str) -> Option<(&str, &str)> {
    let (prefix, number) = text.split_once('-')?;
    (is_prefix(prefix) && number.len() == 3 && number.bytes().all(|b| b.is_ascii_digit()))
        .then_some((prefix, number))
}

/// True when `text` is a valid catalog prefix (`MSG`, `SHARD`, `ENR`, ...).
pub fn is_prefix(text: &str) -> bool {
    let mut bytes = text.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// True when an upstream URL names a specific commit (`.../blob/<hex>/...`).
fn is_pinned_url(url: &str) -> bool {
    if !url.starts_with("https://") {
        return false;
    }
    url.split_once("/blob/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .is_some_and(|(commit, path)| {
            commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()) && !path.is_empty()
        })
}

/// 1-based line number of a byte offset in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Returns the trimmed value of a required string field, recording an error
/// when it is missing or blank.
fn required(
    value: Option<String>,
    field: &str,
    location: &str,
    errors: &mut Vec<CatalogError>,
) -> Option<String> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Some(v),
        Some(_) => {
            errors.push(CatalogError {
                location: location.to_owned(),
                message: format!("field `{field}` is empty"),
            });
            None
        }
        None => {
            errors.push(CatalogError {
                location: location.to_owned(),
                message: format!("missing field `{field}`"),
            });
            None
        }
    }
}

/// Parses and validates one catalog.
///
/// `file` is the path used in messages. Returns the catalog when its `[spec]`
/// table is usable (even if some requirements are defective) together with
/// every problem found.
pub fn parse_catalog(file: &str, text: &str) -> (Option<Catalog>, Vec<CatalogError>) {
    let mut errors = Vec::new();
    let raw: RawCatalog = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let location = match err.span() {
                Some(span) => format!("{file}:{}", line_of(text, span.start)),
                None => file.to_owned(),
            };
            let message = err.message().trim().to_owned();
            errors.push(CatalogError {
                location,
                message: format!("invalid catalog TOML: {message}"),
            });
            return (None, errors);
        }
    };

    let Some(spec) = raw.spec else {
        errors.push(CatalogError {
            location: file.to_owned(),
            message: "missing `[spec]` table".to_owned(),
        });
        return (None, errors);
    };
    let spec_loc = file.to_owned();
    let name = required(spec.name, "spec.name", &spec_loc, &mut errors);
    let title = required(spec.title, "spec.title", &spec_loc, &mut errors);
    let prefix = required(spec.prefix, "spec.prefix", &spec_loc, &mut errors);
    let upstream = required(spec.upstream, "spec.upstream", &spec_loc, &mut errors);
    let crate_name = required(spec.crate_name, "spec.crate", &spec_loc, &mut errors);
    let status = match spec.status.as_deref().map(str::trim) {
        None | Some("active") => Some(Status::Active),
        Some("planned") => Some(Status::Planned),
        Some(other) => {
            errors.push(CatalogError {
                location: spec_loc.clone(),
                message: format!("spec.status is `{other}`; expected `active` or `planned`"),
            });
            None
        }
    };
    if let Some(p) = &prefix
        && !is_prefix(p)
    {
        errors.push(CatalogError {
            location: spec_loc.clone(),
            message: format!(
                "spec.prefix `{p}` must be upper-case letters/digits starting with a letter"
            ),
        });
    }
    if let Some(url) = &upstream
        && !is_pinned_url(url)
    {
        errors.push(CatalogError {
                location: spec_loc.clone(),
                message: format!(
                    "spec.upstream `{url}` must be an https URL pinned to a commit (.../blob/<commit>/<path>)"
                ),
            });
    }
    if raw.req.is_empty() {
        errors.push(CatalogError {
            location: spec_loc.clone(),
            message: "catalog has no `[[req]]` entries".to_owned(),
        });
    }

    let mut reqs = Vec::new();
    let mut defective_ids = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for spanned in raw.req {
        let line = line_of(text, spanned.span().start);
        let location = format!("{file}:{line}");
        let req = spanned.into_inner();
        let before = errors.len();

        let id = required(req.id, "id", &location, &mut errors);
        if let Some(id) = &id {
            match split_id(id) {
                None => errors.push(CatalogError {
                    location: location.clone(),
                    message: format!("requirement id `{id}` is not of the form PREFIX-NNN"),
                }),
                Some((id_prefix, _)) => {
                    if let Some(p) = &prefix
                        && id_prefix != p
                    {
                        errors.push(CatalogError {
                            location: location.clone(),
                            message: format!(
                                "requirement id `{id}` does not use the catalog prefix `{p}`"
                            ),
                        });
                    }
                }
            }
            if let Some(first) = seen.insert(id.clone(), line) {
                errors.push(CatalogError {
                    location: location.clone(),
                    message: format!(
                        "duplicate requirement id `{id}` (first defined at line {first})"
                    ),
                });
            }
        }
        let level = match required(req.level, "level", &location, &mut errors) {
            Some(text) => match Level::parse(&text) {
                Some(level) => Some(level),
                None => {
                    errors.push(CatalogError {
                        location: location.clone(),
                        message: format!(
                            "level `{text}` is not one of MUST, SHOULD, MAY (store MUST NOT as MUST, SHOULD NOT/RECOMMENDED as SHOULD, OPTIONAL as MAY)"
                        ),
                    });
                    None
                }
            },
            None => None,
        };
        let section = required(req.section, "section", &location, &mut errors);
        let summary = required(req.summary, "summary", &location, &mut errors);
        let req_crate = match req.crate_name {
            Some(c) => required(Some(c), "crate", &location, &mut errors),
            None => crate_name.clone(),
        };

        let planned = match req.status.as_deref().map(str::trim) {
            None | Some("active") => false,
            Some("planned") => true,
            Some(other) => {
                errors.push(CatalogError {
                    location: location.clone(),
                    message: format!("req.status is `{other}`; expected `active` or `planned`"),
                });
                false
            }
        };

        let deviation = match req.deviation.map(|d| d.trim().to_string()) {
            Some(d) if d.is_empty() => {
                errors.push(CatalogError {
                    location: location.clone(),
                    message: "req.deviation is empty; give the reason and where nwaku shows it"
                        .to_string(),
                });
                None
            }
            other => other,
        };

        let valid = errors.len() == before;
        match (id, level, section, summary, req_crate) {
            (Some(id), Some(level), Some(section), Some(summary), Some(crate_name)) if valid => {
                reqs.push(Requirement {
                    id,
                    level,
                    section,
                    summary,
                    crate_name,
                    line,
                    planned,
                    deviation,
                });
            }
            (Some(id), ..) if is_requirement_id(&id) => defective_ids.push(id),
            _ => {}
        }
    }

    let catalog = match (name, title, prefix, upstream, crate_name, status) {
        (Some(name), Some(title), Some(prefix), Some(upstream), Some(crate_name), Some(status)) => {
            Some(Catalog {
                file: file.to_owned(),
                name,
                title,
                prefix,
                upstream,
                crate_name,
                status,
                reqs,
                defective_ids,
            })
        }
        _ => None,
    };
    (catalog, errors)
}

/// Checks rules spanning several catalogs: unique spec names, prefixes and ids.
pub fn validate_across(catalogs: &[Catalog]) -> Vec<CatalogError> {
    let mut errors = Vec::new();
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    let mut prefixes: BTreeMap<&str, &str> = BTreeMap::new();
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    for catalog in catalogs {
        if let Some(other) = names.insert(&catalog.name, &catalog.file) {
            errors.push(CatalogError {
                location: catalog.file.clone(),
                message: format!("spec name `{}` is also used by {other}", catalog.name),
            });
        }
        if let Some(other) = prefixes.insert(&catalog.prefix, &catalog.file) {
            errors.push(CatalogError {
                location: catalog.file.clone(),
                message: format!("prefix `{}` is also used by {other}", catalog.prefix),
            });
        }
        for req in &catalog.reqs {
            let here = format!("{}:{}", catalog.file, req.line);
            if let Some(other) = ids.get(req.id.as_str()) {
                errors.push(CatalogError {
                    location: here,
                    message: format!("requirement id `{}` is also defined at {other}", req.id),
                });
            } else {
                ids.insert(&req.id, here);
            }
        }
    }
    errors
}

/// Reads every `*.toml` catalog in `specs_dir` (sorted by file name) and
/// validates each one and the set as a whole.
///
/// Paths in messages are shown relative to `root`.
pub fn load_catalogs(root: &Path, specs_dir: &Path) -> (Vec<Catalog>, Vec<CatalogError>) {
    let mut catalogs = Vec::new();
    let mut errors = Vec::new();
    let shown_dir = crate::display_path(root, specs_dir);
    let entries = match std::fs::read_dir(specs_dir) {
        Ok(entries) => entries,
        Err(err) => {
            errors.push(CatalogError {
                location: shown_dir,
                message: format!("cannot read catalog directory: {err}"),
            });
            return (catalogs, errors);
        }
    };
    let mut files: BTreeSet<std::path::PathBuf> = BTreeSet::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                    files.insert(path);
                }
            }
            Err(err) => errors.push(CatalogError {
                location: shown_dir.clone(),
                message: format!("cannot list catalog directory: {err}"),
            }),
        }
    }
    if files.is_empty() {
        errors.push(CatalogError {
            location: shown_dir,
            message: "no catalogs (*.toml) found".to_owned(),
        });
    }
    for path in files {
        let shown = crate::display_path(root, &path);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (catalog, mut errs) = parse_catalog(&shown, &text);
                errors.append(&mut errs);
                catalogs.extend(catalog);
            }
            Err(err) => errors.push(CatalogError {
                location: shown,
                message: format!("cannot read catalog: {err}"),
            }),
        }
    }
    errors.extend(validate_across(&catalogs));
    (catalogs, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[spec]
name = "14/WAKU2-MESSAGE"
title = "Waku v2 Message"
prefix = "MSG"
upstream = "https://github.com/vacp2p/rfc-index/blob/155c310d/docs/messaging/standards/core/14/message.md"
crate = "waku-core"

[[req]]
id = "MSG-001"
level = "MUST"
section = "Wire Format"
summary = "A fact."

[[req]]
id = "MSG-002"
level = "MAY"
section = "Wire Format"
crate = "waku-store"
summary = "Another fact."
"#;

    #[test]
    fn ids_are_validated_strictly() {
        assert!(is_requirement_id("MSG-001"));
        assert!(is_requirement_id("RLN2-120"));
        assert!(!is_requirement_id("MSG-1"));
        assert!(!is_requirement_id("MSG-0001"));
        assert!(!is_requirement_id("msg-001"));
        assert!(!is_requirement_id("2MSG-001"));
        assert!(!is_requirement_id("MSG001"));
        assert!(!is_requirement_id("MSG-00a"));
    }

    #[test]
    fn good_catalog_parses() {
        let (catalog, errors) = parse_catalog("specs/x.toml", GOOD);
        assert!(errors.is_empty(), "{errors:?}");
        let catalog = catalog.expect("catalog");
        assert_eq!(catalog.status, Status::Active);
        assert_eq!(catalog.reqs.len(), 2);
        assert_eq!(catalog.reqs[0].line, 9);
        assert_eq!(catalog.reqs[0].crate_name, "waku-core");
        assert_eq!(catalog.reqs[1].crate_name, "waku-store");
        assert_eq!(catalog.reqs[1].level, Level::May);
    }

    #[test]
    fn defects_are_all_reported() {
        let text = GOOD
            .replace("level = \"MAY\"", "level = \"MUST NOT\"")
            .replace("MSG-002", "MSG-001")
            .replace("summary = \"A fact.\"\n", "");
        let text = format!(
            "{text}\n[[req]]\nid = \"TOPIC-003\"\nlevel = \"SHOULD\"\nsection = \"s\"\nsummary = \"x\"\n"
        );
        let (catalog, errors) = parse_catalog("specs/x.toml", &text);
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("missing field `summary`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("duplicate requirement id `MSG-001`"))
        );
        assert!(messages.iter().any(|m| m.contains("level `MUST NOT`")));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("does not use the catalog prefix `MSG`"))
        );
        let catalog = catalog.expect("spec table is fine");
        assert!(catalog.reqs.is_empty());
        assert!(catalog.defective_ids.contains(&"MSG-001".to_owned()));
    }

    #[test]
    fn bad_spec_table_is_reported() {
        let text = GOOD
            .replace("prefix = \"MSG\"\n", "")
            .replace("155c310d", "main")
            .replace(
                "crate = \"waku-core\"",
                "crate = \"waku-core\"\nstatus = \"someday\"",
            );
        let (catalog, errors) = parse_catalog("specs/x.toml", &text);
        assert!(catalog.is_none());
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("missing field `spec.prefix`")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("pinned to a commit")));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("spec.status is `someday`"))
        );
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_errors() {
        let (_, errors) = parse_catalog(
            "specs/x.toml",
            &GOOD.replace("summary = \"A fact.\"", "sumary = \"A fact.\""),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("sumary"));
        assert!(errors[0].location.starts_with("specs/x.toml:"));

        let (_, errors) = parse_catalog("specs/x.toml", "[spec\nname = 1");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.starts_with("invalid catalog TOML"));
    }

    #[test]
    fn ids_and_prefixes_are_unique_across_catalogs() {
        let (a, _) = parse_catalog("specs/a.toml", GOOD);
        let (b, _) = parse_catalog("specs/b.toml", &GOOD.replace("14/WAKU2-MESSAGE", "OTHER"));
        let errors = validate_across(&[a.expect("a"), b.expect("b")]);
        let messages: Vec<_> = errors.iter().map(|e| e.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("prefix `MSG` is also used by specs/a.toml"))
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`MSG-001` is also defined at specs/a.toml:9"))
        );
        assert!(!messages.iter().any(|m| m.contains("spec name")));
    }

    #[test]
    fn project_catalogs_are_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace");
        let (catalogs, errors) = load_catalogs(root, &root.join("specs"));
        assert!(errors.is_empty(), "catalog errors: {errors:#?}");
        assert!(catalogs.len() >= 4);
    }
}

//! Parsing of `// spec: ID, ID` citation markers in Rust test sources.
//!
//! A marker is a line comment of exactly the form `// spec: MSG-001, MSG-004`
//! placed among the attributes directly above a test function:
//!
//! ```text
//! // spec: MSG-001, MSG-004
//! #[test]
//! fn hash_matches_spec_vectors() { ... }
//! ```
//!
//! Any line matching `//\s*spec\b` (case-insensitively) is treated as an
//! attempted marker and validated strictly, so typos are reported rather
//! than silently ignored. In `src/` files only the lines inside test modules
//! (`#[cfg(test)] mod ... { ... }`) are considered.

use crate::catalog;

/// A well-formed marker attached to a test function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The cited requirement ids, in marker order.
    pub ids: Vec<String>,
    /// 1-based line of the marker.
    pub marker_line: usize,
    /// 1-based line of the test's `fn`.
    pub test_line: usize,
    /// Name of the test function.
    pub test_name: String,
    /// The test is marked `#[ignore]` (also through `cfg_attr`): it does not
    /// run by default, so its marker does not count as coverage.
    pub ignored: bool,
}

/// Kind of problem found with a marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// The line looks like a marker but does not have the exact syntax.
    Malformed,
    /// The marker is well formed but no test function follows it.
    Detached,
}

/// A problem found with a marker in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// 1-based line of the marker.
    pub line: usize,
    /// What kind of problem it is.
    pub kind: IssueKind,
    /// Human-readable explanation.
    pub message: String,
}

/// Everything found in one source file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanResult {
    /// Valid, attached markers.
    pub citations: Vec<Citation>,
    /// Malformed or detached markers.
    pub issues: Vec<Issue>,
}

/// Which lines of a file may carry markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every line (integration-test files, test-only modules).
    WholeFile,
    /// Only lines flagged `true` (library sources: their test modules).
    Lines(&'a [bool]),
}

/// Layout of a library (`src/`) file as far as test code is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SrcLayout {
    /// Per line (0-based): whether it lies inside an inline test module.
    pub test_lines: Vec<bool>,
    /// The whole file is test-only (`#![cfg(test)]`).
    pub whole_file: bool,
    /// Out-of-line test modules declared here (`#[cfg(test)] mod name;`).
    pub external_test_mods: Vec<ExternalMod>,
}

/// An out-of-line module declaration (`mod name;`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalMod {
    /// Module name.
    pub name: String,
    /// Value of a `#[path = "..."]` attribute, if any.
    pub path_attr: Option<String>,
}

/// True when the line contains `//`, optional whitespace and the word `spec`
/// in any letter case: such a line is an attempted marker.
pub fn is_marker_candidate(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut start = 0;
    while let Some(pos) = lower[start..].find("//") {
        let mut i = start + pos + 2;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if lower[i..].starts_with("spec") {
            let next = bytes.get(i + 4).copied();
            if !next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return true;
            }
        }
        start += pos + 1;
    }
    false
}

/// Validates the exact marker syntax `// spec: ID[, ID]*` on a candidate line
/// and returns the ids, or a description of what is wrong.
pub fn parse_marker(line: &str) -> Result<Vec<String>, String> {
    const FORM: &str = "expected `// spec: PREFIX-NNN, PREFIX-NNN` on a line of its own";
    let text = line.trim();
    if !text.starts_with("//") {
        return Err(format!("spec marker must be on a line of its own; {FORM}"));
    }
    if text.starts_with("///") || text.starts_with("//!") {
        return Err(format!("spec marker cannot be a doc comment; {FORM}"));
    }
    let Some(rest) = text.strip_prefix("// ") else {
        return Err(format!("write exactly one space after `//`; {FORM}"));
    };
    if rest.starts_with(char::is_whitespace) {
        return Err(format!("write exactly one space after `//`; {FORM}"));
    }
    let keyword = rest.get(..4).unwrap_or(rest);
    if keyword != "spec" {
        return Err(format!("marker keyword must be lower-case `spec`; {FORM}"));
    }
    let Some(list) = rest[4..].strip_prefix(": ") else {
        return Err(format!("`spec` must be followed by `: `; {FORM}"));
    };
    if list.trim().is_empty() {
        return Err(format!("no requirement ids; {FORM}"));
    }
    let mut ids: Vec<String> = Vec::new();
    for piece in list.split(',') {
        let id = piece.trim();
        if id.is_empty() {
            return Err(format!("empty entry in id list; {FORM}"));
        }
        if !catalog::is_requirement_id(id) {
            return Err(format!(
                "`{id}` is not a requirement id (PREFIX-NNN with three digits, e.g. MSG-001); {FORM}"
            ));
        }
        if ids.iter().any(|seen| seen == id) {
            return Err(format!("`{id}` is listed twice"));
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// Scans one source file for markers within `scope`.
pub fn scan(source: &str, scope: Scope<'_>) -> ScanResult {
    let lines: Vec<&str> = source.lines().collect();
    let mut result = ScanResult::default();
    for (index, line) in lines.iter().enumerate() {
        let in_scope = match scope {
            Scope::WholeFile => true,
            Scope::Lines(flags) => flags.get(index).copied().unwrap_or(false),
        };
        if !in_scope || !is_marker_candidate(line) {
            continue;
        }
        let line_no = index + 1;
        let ids = match parse_marker(line) {
            Ok(ids) => ids,
            Err(message) => {
                result.issues.push(Issue {
                    line: line_no,
                    kind: IssueKind::Malformed,
                    message,
                });
                continue;
            }
        };
        let item = following_item(&lines, index + 1);
        let preceding = preceding_attrs(&lines, index);
        let attrs: Vec<&String> = item.attrs.iter().chain(preceding.iter()).collect();
        let test_attr = attrs.iter().any(|a| is_test_attr(a));
        let ignored = attrs.iter().any(|a| is_ignore_attr(a));
        match (&item.item, test_attr) {
            (Some((item_index, text)), true) => match fn_name(text) {
                Some(name) => result.citations.push(Citation {
                    ids,
                    marker_line: line_no,
                    test_line: item_index + 1,
                    test_name: name,
                    ignored,
                }),
                None => result.issues.push(detached(
                    line_no,
                    format!("it is followed by `{}`, not a test function", shorten(text)),
                )),
            },
            (Some((_, text)), false) => result.issues.push(detached(
                line_no,
                if fn_name(text).is_some() {
                    "the function below has no test attribute (#[test], #[tokio::test], ...)"
                        .to_owned()
                } else {
                    format!("it is followed by `{}`, not a test function", shorten(text))
                },
            )),
            (None, _) => result
                .issues
                .push(detached(line_no, "nothing follows it".to_owned())),
        }
    }
    result
}

/// Builds a detached-marker issue.
fn detached(line: usize, why: String) -> Issue {
    Issue {
        line,
        kind: IssueKind::Detached,
        message: format!("spec marker not attached to a test: {why}"),
    }
}

/// Shortens a line of code for messages.
fn shorten(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Attributes and the item that follow a position in a file.
#[derive(Debug, Default)]
struct FollowingItem {
    /// Inner text of each attribute (`test`, `tokio::test`, `cfg(test)`, ...).
    attrs: Vec<String>,
    /// 0-based line and text of the first non-attribute code found.
    item: Option<(usize, String)>,
}

/// Collects the attributes starting at line `from` (skipping blank lines and
/// comments) and the first piece of other code after them.
fn following_item(lines: &[&str], from: usize) -> FollowingItem {
    let mut result = FollowingItem::default();
    let mut index = from;
    let mut in_block_comment = false;
    while index < lines.len() {
        let mut text = lines[index].trim();
        if in_block_comment {
            match text.find("*/") {
                Some(end) => {
                    in_block_comment = false;
                    text = text[end + 2..].trim();
                }
                None => {
                    index += 1;
                    continue;
                }
            }
        }
        loop {
            if text.is_empty() || text.starts_with("//") {
                break;
            }
            if let Some(after) = text.strip_prefix("/*") {
                match after.find("*/") {
                    Some(end) => {
                        text = after[end + 2..].trim();
                        continue;
                    }
                    None => {
                        in_block_comment = true;
                        break;
                    }
                }
            }
            let attr_start = if text.starts_with("#[") {
                Some(2)
            } else if text.starts_with("#![") {
                Some(3)
            } else {
                None
            };
            let Some(open) = attr_start else {
                result.item = Some((index, text.to_owned()));
                return result;
            };
            // Gather the attribute until its brackets balance, across lines.
            let mut content = String::new();
            let mut depth = 1usize;
            let mut rest = &text[open..];
            loop {
                let mut closed_at = None;
                for (pos, ch) in rest.char_indices() {
                    match ch {
                        '[' => depth += 1,
                        ']' => {
                            depth -= 1;
                            if depth == 0 {
                                closed_at = Some(pos);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                match closed_at {
                    Some(pos) => {
                        content.push_str(&rest[..pos]);
                        rest = rest[pos + 1..].trim();
                        break;
                    }
                    None => {
                        content.push_str(rest);
                        content.push(' ');
                        index += 1;
                        match lines.get(index) {
                            Some(next) => rest = next.trim(),
                            None => {
                                result.attrs.push(content);
                                return result;
                            }
                        }
                    }
                }
            }
            result.attrs.push(content.trim().to_owned());
            text = rest;
        }
        index += 1;
    }
    result
}

/// Attributes written directly above line `index` (the marker may sit in
/// the middle of a test's attribute list). Comment lines are skipped; a blank
/// line or any other code ends the search.
fn preceding_attrs(lines: &[&str], index: usize) -> Vec<String> {
    let mut attrs = Vec::new();
    let mut pending: Vec<&str> = Vec::new();
    for line in lines[..index].iter().rev() {
        let text = line.trim();
        if text.is_empty() {
            break;
        }
        if pending.is_empty() && text.starts_with("//") {
            continue;
        }
        if text.starts_with("#[") || text.starts_with("#![") {
            pending.push(text);
            pending.reverse();
            let joined = pending.join(" ");
            pending.clear();
            let open = if joined.starts_with("#![") { 3 } else { 2 };
            let inner = joined[open..].trim_end();
            attrs.push(inner.strip_suffix(']').unwrap_or(inner).trim().to_owned());
        } else if !pending.is_empty() || text.ends_with(']') {
            // Tail of an attribute spanning several lines.
            pending.push(text);
        } else {
            break;
        }
    }
    attrs
}

/// Path of an attribute (`tokio::test` in `tokio::test(flavor = "...")`).
fn attr_path(attr: &str) -> &str {
    let end = attr.find(['(', '=', ' ']).unwrap_or(attr.len());
    attr[..end].trim()
}

/// True for attributes that make a function a test: their path mentions
/// `test` (`test`, `tokio::test`, `test_case`, `rstest`, ...), except `cfg`.
fn is_test_attr(attr: &str) -> bool {
    let path = attr_path(attr);
    path != "cfg" && path != "cfg_attr" && path.contains("test")
}

/// True for attributes that keep a test from running by default:
/// `ignore`, `ignore = "why"`, and `cfg_attr(predicate, ..., ignore, ...)`.
fn is_ignore_attr(attr: &str) -> bool {
    match attr_path(attr) {
        "ignore" => true,
        "cfg_attr" => {
            let inner = attr[attr.find('(').map_or(attr.len(), |p| p + 1)..].trim_end();
            let inner = inner.strip_suffix(')').unwrap_or(inner);
            // The first argument is the predicate, the rest are attributes.
            top_level_args(inner)
                .iter()
                .skip(1)
                .any(|arg| is_ignore_attr(arg))
        }
        _ => false,
    }
}

/// Splits an attribute's argument list at the commas outside brackets and
/// string literals.
fn top_level_args(list: &str) -> Vec<&str> {
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut start = 0;
    for (pos, ch) in list.char_indices() {
        if in_str {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_str = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                args.push(list[start..pos].trim());
                start = pos + 1;
            }
            _ => {}
        }
    }
    let last = list[start..].trim();
    if !last.is_empty() {
        args.push(last);
    }
    args
}

/// True for `cfg(...)` attributes that enable code only under test.
fn is_cfg_test_attr(attr: &str) -> bool {
    if attr_path(attr) != "cfg" {
        return false;
    }
    // Drop whitespace and string contents (`feature = "test-utils"`).
    let mut compact = String::new();
    let mut in_str = false;
    for c in attr.chars() {
        if c == '"' {
            in_str = !in_str;
        } else if !in_str && !c.is_whitespace() {
            compact.push(c);
        }
    }
    if compact.contains("not(test)") {
        return false;
    }
    compact
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| word == "test")
}

/// Modifiers allowed before `fn` / `mod` in an item.
fn is_item_qualifier(token: &str) -> bool {
    token == "pub"
        || token.starts_with("pub(")
        || matches!(
            token,
            "async" | "const" | "unsafe" | "extern" | "\"C\"" | "\"Rust\""
        )
}

/// Name of the function declared by an item line, if it declares one.
fn fn_name(item: &str) -> Option<String> {
    declared_name(item, "fn")
}

/// Name declared by `keyword` (`fn` or `mod`) at the start of an item line,
/// after optional qualifiers.
fn declared_name(item: &str, keyword: &str) -> Option<String> {
    let mut tokens = item.split_whitespace();
    loop {
        let token = tokens.next()?;
        if token == keyword {
            let name: String = tokens
                .next()?
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            return (!name.is_empty()).then_some(name);
        }
        if !is_item_qualifier(token) {
            return None;
        }
    }
}

/// Brace depth at the start of every line, ignoring braces inside comments,
/// string, raw string and character literals.
fn line_start_depths(source: &str) -> Vec<usize> {
    /// Lexer state.
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        LineComment,
        BlockComment(u32),
        Str,
        RawStr(usize),
    }
    let chars: Vec<char> = source.chars().collect();
    let line_count = source.lines().count().max(1);
    // Net brace change per line; prefix sums give start depths.
    let mut delta = vec![0i64; line_count + 1];
    let mut line = 0usize;
    let mut state = State::Code;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            if state == State::LineComment {
                state = State::Code;
            }
            i += 1;
            continue;
        }
        match state {
            State::LineComment => {}
            State::BlockComment(level) => {
                if c == '*' && next == Some('/') {
                    state = if level <= 1 {
                        State::Code
                    } else {
                        State::BlockComment(level - 1)
                    };
                    i += 1;
                } else if c == '/' && next == Some('*') {
                    state = State::BlockComment(level + 1);
                    i += 1;
                }
            }
            State::Str => {
                if c == '\\' {
                    if next == Some('\n') {
                        line += 1;
                    }
                    i += 1;
                } else if c == '"' {
                    state = State::Code;
                }
            }
            State::RawStr(hashes) => {
                if c == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                    state = State::Code;
                    i += hashes;
                }
            }
            State::Code => {
                match c {
                    '/' if next == Some('/') => {
                        state = State::LineComment;
                        i += 1;
                    }
                    '/' if next == Some('*') => {
                        state = State::BlockComment(1);
                        i += 1;
                    }
                    '"' => state = State::Str,
                    'r' if raw_string_hashes(&chars, i).is_some() => {
                        let hashes = raw_string_hashes(&chars, i).unwrap_or(0);
                        state = State::RawStr(hashes);
                        i += hashes + 1;
                    }
                    '\'' => {
                        if next == Some('\\') {
                            // Escaped character literal: skip to the closing quote.
                            let mut k = i + 2;
                            while k < chars.len() && chars[k] != '\'' && chars[k] != '\n' {
                                k += 1;
                            }
                            i = k;
                        } else if chars.get(i + 2) == Some(&'\'') {
                            i += 2;
                        }
                        // Otherwise a lifetime or label: nothing to skip.
                    }
                    '{' => delta[line] += 1,
                    '}' => delta[line] -= 1,
                    _ => {}
                }
            }
        }
        i += 1;
    }
    let mut depths = Vec::with_capacity(line_count);
    let mut depth = 0i64;
    for d in delta.iter().take(line_count) {
        depths.push(depth.max(0) as usize);
        depth += d;
    }
    depths
}

/// If a raw (byte) string literal starts at `chars[i]` (an `r`), returns the
/// number of `#` in its delimiter.
fn raw_string_hashes(chars: &[char], i: usize) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let before_ok = match i.checked_sub(1).map(|p| chars[p]) {
        None => true,
        Some('b') => !(i >= 2 && is_ident(chars[i - 2])),
        Some(p) => !is_ident(p),
    };
    if !before_ok {
        return None;
    }
    let mut k = i + 1;
    while chars.get(k) == Some(&'#') {
        k += 1;
    }
    (chars.get(k) == Some(&'"')).then_some(k - i - 1)
}

/// Finds the test code of a library source file: inline `#[cfg(test)]`
/// modules, `#![cfg(test)]` files and out-of-line `#[cfg(test)] mod x;`.
pub fn src_layout(source: &str) -> SrcLayout {
    let lines: Vec<&str> = source.lines().collect();
    let depths = line_start_depths(source);
    let mut layout = SrcLayout {
        test_lines: vec![false; lines.len()],
        ..SrcLayout::default()
    };
    for (index, line) in lines.iter().enumerate() {
        let text = line.trim();
        if let Some(inner) = text.strip_prefix("#![") {
            if depths.get(index) == Some(&0) && is_cfg_test_attr(inner.trim_end_matches(']')) {
                layout.whole_file = true;
            }
            continue;
        }
        if !text.starts_with("#[") {
            continue;
        }
        let item = following_item(&lines, index);
        if !item.attrs.iter().any(|a| is_cfg_test_attr(a)) {
            continue;
        }
        let Some((item_index, item_text)) = item.item else {
            continue;
        };
        let Some(name) = declared_name(&item_text, "mod") else {
            continue;
        };
        if item_text.trim_end().ends_with(';') {
            let path_attr = item.attrs.iter().find_map(|a| {
                let rest = a.strip_prefix("path")?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_owned())
            });
            let external = ExternalMod { name, path_attr };
            if !layout.external_test_mods.contains(&external) {
                layout.external_test_mods.push(external);
            }
            continue;
        }
        let base = depths.get(item_index).copied().unwrap_or(0);
        for (k, flag) in layout
            .test_lines
            .iter_mut()
            .enumerate()
            .skip(item_index + 1)
        {
            if depths.get(k).copied().unwrap_or(0) > base {
                *flag = true;
            } else if k > item_index + 1 {
                break;
            }
        }
    }
    if layout.whole_file {
        layout.test_lines.iter_mut().for_each(|f| *f = true);
    }
    layout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(source: &str) -> ScanResult {
        scan(source, Scope::WholeFile)
    }

    #[test]
    fn marker_attached_to_test() {
        let result = whole("use x;\n\n// spec: MSG-001, MSG-004\n#[test]\nfn hash_matches() {}\n");
        assert!(result.issues.is_empty(), "{:?}", result.issues);
        assert_eq!(
            result.citations,
            vec![Citation {
                ids: vec!["MSG-001".into(), "MSG-004".into()],
                marker_line: 3,
                test_line: 5,
                test_name: "hash_matches".into(),
                ignored: false,
            }]
        );
    }

    #[test]
    fn marker_attached_through_other_attributes_and_comments() {
        let source = r#"
    // spec: SHARD-019
    /// Doc comment.
    // another comment

    #[tokio::test(flavor = "current_thread")]
    #[should_panic(
        expected = "boom"
    )]
    async fn autoshard() {}

    // spec: ENR-001
    #[test_case(1 ; "one")]
    #[test_case(2 ; "two")]
    fn cases(n: u8) {}

    #[rustfmt::skip]
    // spec: ENR-002
    #[test] fn same_line() {}
"#;
        let result = whole(source);
        assert!(result.issues.is_empty(), "{:?}", result.issues);
        let names: Vec<_> = result
            .citations
            .iter()
            .map(|c| c.test_name.as_str())
            .collect();
        assert_eq!(names, ["autoshard", "cases", "same_line"]);
        assert_eq!(result.citations[0].test_line, 10);
    }

    #[test]
    fn marker_between_attributes() {
        let source = "#[tokio::test(\n    flavor = \"multi_thread\"\n)]\n// spec: MSG-001\n#[ignore]\nasync fn slow() {}\n\nfn other() {}\n// spec: MSG-002\nfn not_test() {}\n";
        let result = whole(source);
        assert_eq!(result.citations.len(), 1, "{:?}", result.issues);
        assert_eq!(result.citations[0].test_name, "slow");
        assert!(result.citations[0].ignored);
        assert_eq!(result.issues.len(), 1);
        assert_eq!(result.issues[0].line, 9);
    }

    #[test]
    fn ignored_tests_are_flagged_however_ignore_is_written() {
        let source = r#"
// spec: MSG-001
#[test]
fn runs() {}

// spec: MSG-002
#[test]
#[ignore]
fn plain() {}

// spec: MSG-003
#[tokio::test]
#[ignore = "needs a network"]
async fn with_reason() {}

#[ignore]
// spec: MSG-004
#[test]
fn ignore_above_the_marker() {}

// spec: MSG-005
#[test]
#[cfg_attr(not(feature = "slow, really"), ignore)]
fn conditionally() {}

// spec: MSG-006
#[test]
#[cfg_attr(windows, should_panic(expected = "ignore"))]
#[ignore_me_not]
fn not_ignored() {}

// spec: MSG-007
#[cfg_attr(
    all(unix, target_pointer_width = "64"),
    allow(dead_code),
    ignore
)]
#[test]
fn multi_line_cfg_attr() {}
"#;
        let result = whole(source);
        assert!(result.issues.is_empty(), "{:?}", result.issues);
        let flags: Vec<(&str, bool)> = result
            .citations
            .iter()
            .map(|c| (c.test_name.as_str(), c.ignored))
            .collect();
        assert_eq!(
            flags,
            [
                ("runs", false),
                ("plain", true),
                ("with_reason", true),
                ("ignore_above_the_marker", true),
                ("conditionally", true),
                ("not_ignored", false),
                ("multi_line_cfg_attr", true),
            ]
        );
    }

    #[test]
    fn marker_inside_proptest_block() {
        let source = "proptest! {\n    #![proptest_config(ProptestConfig::with_cases(64))]\n\n    // spec: TOPIC-006\n    #[test]\n    fn roundtrip(s in \"[a-z]+\") {\n        prop_assert!(true);\n    }\n}\n";
        let result = whole(source);
        assert!(result.issues.is_empty(), "{:?}", result.issues);
        assert_eq!(result.citations.len(), 1);
        assert_eq!(result.citations[0].test_name, "roundtrip");
    }

    #[test]
    fn detached_markers_are_reported() {
        let source = "// spec: MSG-001\nfn helper() {}\n\n// spec: MSG-002\nlet x = 1;\n\n// spec: MSG-003\n#[cfg(test)]\nfn cfg_only() {}\n\n// spec: MSG-005\nproptest! {\n}\n// spec: MSG-006\n";
        let result = whole(source);
        assert!(result.citations.is_empty(), "{:?}", result.citations);
        let lines: Vec<_> = result.issues.iter().map(|i| (i.line, i.kind)).collect();
        assert_eq!(
            lines,
            [
                (1, IssueKind::Detached),
                (4, IssueKind::Detached),
                (7, IssueKind::Detached),
                (11, IssueKind::Detached),
                (14, IssueKind::Detached),
            ]
        );
        assert!(
            result.issues[0]
                .message
                .starts_with("spec marker not attached to a test")
        );
        assert!(result.issues[0].message.contains("no test attribute"));
    }

    #[test]
    fn misspelled_markers_are_reported() {
        let bad = [
            "// spec MSG-001",
            "// Spec: MSG-001",
            "// SPEC: MSG-001",
            "//spec: MSG-001",
            "//  spec: MSG-001",
            "/// spec: MSG-001",
            "// spec:MSG-001",
            "// spec: MSG-1",
            "// spec: msg-001",
            "// spec: MSG-001,",
            "// spec: MSG-001 MSG-002",
            "// spec: MSG-001, MSG-001",
            "// spec: MSG-001 (hash)",
            "// spec:",
            "let a = 1; // spec: MSG-001",
            "// spec-compliant vectors",
        ];
        for line in bad {
            assert!(is_marker_candidate(line), "{line} should be a candidate");
            let source = format!("{line}\n#[test]\nfn t() {{}}\n");
            let result = whole(&source);
            assert!(result.citations.is_empty(), "{line}");
            assert_eq!(result.issues.len(), 1, "{line}");
            assert_eq!(result.issues[0].kind, IssueKind::Malformed, "{line}");
            assert_eq!(result.issues[0].line, 1);
        }
    }

    #[test]
    fn unrelated_comments_are_not_candidates() {
        for line in [
            "// specification follows",
            "// the spec_file helper",
            "/* spec: MSG-001 */",
            "let url = \"https://specs.example\";",
            "// respect the limit",
        ] {
            assert!(!is_marker_candidate(line), "{line}");
        }
    }

    #[test]
    fn lenient_spacing_inside_the_id_list() {
        assert_eq!(
            parse_marker("    // spec: MSG-001,MSG-002 ,  SHARD-010  "),
            Ok(vec!["MSG-001".into(), "MSG-002".into(), "SHARD-010".into()])
        );
    }

    #[test]
    fn src_layout_finds_inline_test_modules() {
        let source = r##"//! Crate docs.
// Spec: not in a test module, ignored.
pub fn hash() -> u8 {
    let s = "}"; let c = '}'; let r = r#"{"#;
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: MSG-017
    #[test]
    fn t() {
        let x = '{';
    }
}

pub fn after() {}
// spec MSG-001 outside again
"##;
        let layout = src_layout(source);
        let lines: Vec<usize> = layout
            .test_lines
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.then_some(i + 1))
            .collect();
        assert_eq!(lines, (10..=17).collect::<Vec<_>>());
        let result = scan(source, Scope::Lines(&layout.test_lines));
        assert!(result.issues.is_empty(), "{:?}", result.issues);
        assert_eq!(result.citations.len(), 1);
        assert_eq!(result.citations[0].marker_line, 12);
    }

    #[test]
    fn src_layout_finds_external_and_whole_file_test_modules() {
        let layout = src_layout(
            "#[cfg(feature = \"test-utils\")]\nmod helpers;\n#[cfg(test)]\nmod tests;\n#[cfg(all(test, feature = \"x\"))]\n#[path = \"other_tests.rs\"]\nmod more;\n#[cfg(not(test))]\nmod real;\n",
        );
        assert_eq!(
            layout.external_test_mods,
            vec![
                ExternalMod {
                    name: "tests".into(),
                    path_attr: None
                },
                ExternalMod {
                    name: "more".into(),
                    path_attr: Some("other_tests.rs".into())
                },
            ]
        );
        assert!(!layout.whole_file);

        let layout = src_layout("//! Test helpers.\n#![cfg(test)]\nfn x() {}\n");
        assert!(layout.whole_file);
        assert!(layout.test_lines.iter().all(|f| *f));
    }
}

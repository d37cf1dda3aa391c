//! Verdicts and the report: one row per requirement checked, grouped by
//! spec, rendered as a text table or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::{Catalog, Level};

/// What a check concluded about one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The target behaved as the requirement says.
    Pass,
    /// The target did not.
    Fail,
    /// The target does not serve the protocol (identify did not list it).
    NotOffered,
    /// The requirement cannot be decided over the wire in this run (the
    /// evidence says why).
    NotCheckable,
}

impl Verdict {
    /// The verdict as the table writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NotOffered => "not offered",
            Verdict::NotCheckable => "not checkable",
        }
    }
}

/// The longest evidence kept, in characters (longer text is cut).
pub const MAX_EVIDENCE: usize = 240;

/// A check's conclusion about one requirement, before the catalog adds its
/// level and spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The requirement id.
    pub id: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// One line saying what was sent and what came back.
    pub evidence: String,
}

impl Outcome {
    /// A pass for `id`.
    pub fn pass(id: &'static str, evidence: impl Into<String>) -> Self {
        Self::new(id, Verdict::Pass, evidence)
    }

    /// A failure of `id`.
    pub fn fail(id: &'static str, evidence: impl Into<String>) -> Self {
        Self::new(id, Verdict::Fail, evidence)
    }

    /// `id` could not be decided.
    pub fn not_checkable(id: &'static str, evidence: impl Into<String>) -> Self {
        Self::new(id, Verdict::NotCheckable, evidence)
    }

    /// Pass when `ok`, fail otherwise, with the same evidence.
    pub fn judge(id: &'static str, ok: bool, evidence: impl Into<String>) -> Self {
        let verdict = if ok { Verdict::Pass } else { Verdict::Fail };
        Self::new(id, verdict, evidence)
    }

    /// An outcome with any verdict. The evidence is made one line of at
    /// most [`MAX_EVIDENCE`] characters, whatever the peer put in its
    /// status text.
    pub fn new(id: &'static str, verdict: Verdict, evidence: impl Into<String>) -> Self {
        let evidence: String = evidence.into().replace(['\n', '\r'], " ");
        let evidence = match evidence.char_indices().nth(MAX_EVIDENCE) {
            Some((cut, _)) => format!("{}...", &evidence[..cut]),
            None => evidence,
        };
        Self {
            id,
            verdict,
            evidence,
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The requirement id.
    pub id: String,
    /// Its level in the catalog.
    pub level: Level,
    /// The verdict.
    pub verdict: Verdict,
    /// What was sent and what came back.
    pub evidence: String,
}

/// The findings about one spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecReport {
    /// The spec's name as its catalog gives it.
    pub spec: String,
    /// Its rows, in the order the checks produced them.
    pub findings: Vec<Finding>,
}

/// The whole report of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The target's address as given.
    pub target: String,
    /// The protocols the target listed in identify.
    pub protocols: Vec<String>,
    /// The target's agent version, as identify reported it.
    pub agent_version: String,
    /// The findings, one table per spec.
    pub specs: Vec<SpecReport>,
}

impl Report {
    /// Builds a report from outcomes, adding each requirement's level and
    /// spec from `catalog`. An id no catalog knows is a defect of the
    /// runner; it is kept (as MUST, under "unknown") so it shows.
    pub fn new(
        catalog: &Catalog,
        target: String,
        protocols: Vec<String>,
        agent_version: String,
        outcomes: Vec<Outcome>,
    ) -> Self {
        let mut specs: Vec<SpecReport> = catalog
            .specs()
            .iter()
            .map(|spec| SpecReport {
                spec: spec.clone(),
                findings: Vec::new(),
            })
            .collect();
        for outcome in outcomes {
            let (spec, level) = match catalog.get(outcome.id) {
                Some(r) => (r.spec.clone(), r.level),
                None => ("unknown".to_owned(), Level::Must),
            };
            let finding = Finding {
                id: outcome.id.to_owned(),
                level,
                verdict: outcome.verdict,
                evidence: outcome.evidence,
            };
            match specs.iter_mut().find(|s| s.spec == spec) {
                Some(s) => s.findings.push(finding),
                None => specs.push(SpecReport {
                    spec,
                    findings: vec![finding],
                }),
            }
        }
        specs.retain(|s| !s.findings.is_empty());
        Self {
            target,
            protocols,
            agent_version,
            specs,
        }
    }

    /// Every row, across specs.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.specs.iter().flat_map(|s| s.findings.iter())
    }

    /// The rows of requirement `id`.
    pub fn findings_for<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings().filter(move |f| f.id == id)
    }

    /// Whether some MUST requirement failed (the run then exits non-zero).
    pub fn must_failed(&self) -> bool {
        self.findings()
            .any(|f| f.level == Level::Must && f.verdict == Verdict::Fail)
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The report as text: a header, then one table per spec.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "target:   {}", self.target);
        let _ = writeln!(out, "agent:    {}", self.agent_version);
        let _ = writeln!(out, "serves:   {}", self.protocols.join(" "));
        for spec in &self.specs {
            let _ = writeln!(out, "\n{}", spec.spec);
            let id_width = spec
                .findings
                .iter()
                .map(|f| f.id.len())
                .max()
                .unwrap_or(2)
                .max(2);
            let _ = writeln!(
                out,
                "  {:id_width$}  {:6}  {:13}  evidence",
                "id", "level", "verdict"
            );
            for f in &spec.findings {
                let _ = writeln!(
                    out,
                    "  {:id_width$}  {:6}  {:13}  {}",
                    f.id,
                    f.level.as_str(),
                    f.verdict.as_str(),
                    f.evidence
                );
            }
        }
        let count = |v: Verdict| self.findings().filter(|f| f.verdict == v).count();
        let _ = writeln!(
            out,
            "\n{} pass, {} fail, {} not offered, {} not checkable; {}",
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::NotOffered),
            count(Verdict::NotCheckable),
            if self.must_failed() {
                "a MUST failed"
            } else {
                "every MUST checked passed"
            }
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_must_fails_the_run_and_a_failed_should_does_not() {
        let catalog = Catalog::embedded().unwrap_or_default();
        let should = vec![Outcome::fail("STORE-013", "x")];
        let report = Report::new(&catalog, "t".into(), vec![], String::new(), should);
        assert!(!report.must_failed());
        let must = vec![
            Outcome::fail("STORE-029", "x"),
            Outcome::pass("STORE-001", "y"),
        ];
        let report = Report::new(&catalog, "t".into(), vec![], String::new(), must);
        assert!(report.must_failed());
        assert_eq!(report.specs.len(), 1);
        assert!(report.to_table().contains("STORE-029  MUST    FAIL"));
        let long = Outcome::fail("STORE-001", "é\n".repeat(400));
        assert_eq!(long.evidence.chars().count(), MAX_EVIDENCE + 3);
        assert!(!long.evidence.contains('\n'));
    }
}

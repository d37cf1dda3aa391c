//! The requirement catalogs of `specs/`, embedded at build time: every
//! verdict names a requirement id, and its level and spec come from here,
//! so the report and the catalogs never disagree.

use std::collections::HashMap;

use serde::Deserialize;

/// How binding a requirement is (MUST NOT counts as MUST, SHOULD NOT as
/// SHOULD, OPTIONAL as MAY, as in the catalogs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Level {
    /// An absolute requirement: a failure makes the run fail.
    #[serde(rename = "MUST")]
    Must,
    /// A recommendation: a failure is reported but does not fail the run.
    #[serde(rename = "SHOULD")]
    Should,
    /// An option.
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    /// The level as the catalogs write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

/// One requirement of a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Its id, such as `STORE-029`.
    pub id: String,
    /// The spec (catalog) it belongs to, such as `WAKU2-STORE`.
    pub spec: String,
    /// Its level.
    pub level: Level,
    /// The catalog's one-sentence summary.
    pub summary: String,
}

/// The catalogs the runner checks against, as embedded text (file name,
/// contents).
const SOURCES: &[(&str, &str)] = &[
    (
        "66-metadata.toml",
        include_str!("../../../specs/66-metadata.toml"),
    ),
    (
        "19-lightpush-v3.toml",
        include_str!("../../../specs/19-lightpush-v3.toml"),
    ),
    (
        "19-lightpush.toml",
        include_str!("../../../specs/19-lightpush.toml"),
    ),
    (
        "13-store.toml",
        include_str!("../../../specs/13-store.toml"),
    ),
    (
        "12-filter.toml",
        include_str!("../../../specs/12-filter.toml"),
    ),
    (
        "11-relay.toml",
        include_str!("../../../specs/11-relay.toml"),
    ),
    (
        "64-network.toml",
        include_str!("../../../specs/64-network.toml"),
    ),
    (
        "34-peer-exchange.toml",
        include_str!("../../../specs/34-peer-exchange.toml"),
    ),
    ("31-enr.toml", include_str!("../../../specs/31-enr.toml")),
    (
        "33-discv5.toml",
        include_str!("../../../specs/33-discv5.toml"),
    ),
    (
        "13-store-v2-legacy.toml",
        include_str!("../../../specs/13-store-v2-legacy.toml"),
    ),
    (
        "relay-sharding.toml",
        include_str!("../../../specs/relay-sharding.toml"),
    ),
];

#[derive(Deserialize)]
struct File {
    spec: SpecHeader,
    #[serde(default)]
    req: Vec<Req>,
}

#[derive(Deserialize)]
struct SpecHeader {
    name: String,
}

#[derive(Deserialize)]
struct Req {
    id: String,
    level: String,
    #[serde(default)]
    summary: String,
}

/// A catalog that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The embedded TOML does not parse.
    #[error("{file}: {source}")]
    Parse {
        /// The catalog file.
        file: &'static str,
        /// The parser's error.
        source: toml::de::Error,
    },
    /// A requirement has a level other than MUST, SHOULD or MAY.
    #[error("{file}: {id} has level {level:?}")]
    Level {
        /// The catalog file.
        file: &'static str,
        /// The requirement.
        id: String,
        /// Its level as written.
        level: String,
    },
}

/// Every requirement of the embedded catalogs, by id, plus the specs in
/// catalog order.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    requirements: HashMap<String, Requirement>,
    specs: Vec<String>,
}

impl Catalog {
    /// Reads the embedded catalogs.
    pub fn embedded() -> Result<Self, CatalogError> {
        let mut catalog = Self::default();
        for (file, text) in SOURCES {
            let parsed: File =
                toml::from_str(text).map_err(|source| CatalogError::Parse { file, source })?;
            catalog.specs.push(parsed.spec.name.clone());
            for req in parsed.req {
                let level = match req.level.as_str() {
                    "MUST" => Level::Must,
                    "SHOULD" => Level::Should,
                    "MAY" => Level::May,
                    _ => {
                        return Err(CatalogError::Level {
                            file,
                            id: req.id,
                            level: req.level,
                        });
                    }
                };
                catalog.requirements.insert(
                    req.id.clone(),
                    Requirement {
                        id: req.id,
                        spec: parsed.spec.name.clone(),
                        level,
                        summary: req.summary,
                    },
                );
            }
        }
        Ok(catalog)
    }

    /// The requirement `id`, if a catalog defines it.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.requirements.get(id)
    }

    /// The specs, in the order the report lists them.
    pub fn specs(&self) -> &[String] {
        &self.specs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogs_parse() {
        let catalog = Catalog::embedded().unwrap_or_default();
        assert_eq!(catalog.specs().len(), SOURCES.len());
        let store = catalog.get("STORE-029").map(|r| r.level);
        assert_eq!(store, Some(Level::Must));
    }
}

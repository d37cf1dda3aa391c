//! Where flags come from besides the command line, as nwaku reads them: a
//! TOML `--config-file` keyed by the flags' long names, and `WAKUNODE2_*`
//! environment variables. Each source becomes a list of `--flag=value`
//! arguments that clap parses like the command line, so every value is
//! checked by the same rules.
//!
//! Precedence per flag: command line, then environment, then file, then
//! the default. A list flag (`shard`, `staticnode`, ...) takes its whole
//! list from the highest source that gives it; lists are never merged.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

/// Prefix of the environment variables nwaku's `wakunode2` reads.
pub const ENV_PREFIX: &str = "WAKUNODE2_";

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file is missing or unreadable.
    #[error("cannot read config file {path}: {reason}")]
    Read {
        /// The `--config-file` path.
        path: String,
        /// The I/O error.
        reason: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {path} is not valid TOML: {reason}")]
    Syntax {
        /// The `--config-file` path.
        path: String,
        /// What the TOML parser says.
        reason: String,
    },
    /// A key that names no flag (nwaku refuses these too).
    #[error("config file {path}: unknown key `{key}`")]
    UnknownKey {
        /// The `--config-file` path.
        path: String,
        /// The key.
        key: String,
    },
    /// A table, or a list inside a list.
    #[error("config file {path}: key `{key}` must be a value or a list of values")]
    NotAValue {
        /// The `--config-file` path.
        path: String,
        /// The key.
        key: String,
    },
}

/// One source's flags as arguments, and the flags it set.
#[derive(Debug, Default)]
pub struct Layer {
    /// `--flag=value` arguments, one per value.
    pub args: Vec<OsString>,
    /// The long names of the flags given.
    pub flags: BTreeSet<String>,
}

impl Layer {
    fn push(&mut self, flag: &str, value: &str) {
        self.args.push(format!("--{flag}={value}").into());
        self.flags.insert(flag.to_owned());
    }
}

/// The flags of the `WAKUNODE2_*` variables in `vars` that `known` accepts
/// and that `skip` does not hold, plus a warning for each variable that
/// names no flag. `WAKUNODE2_CONFIG_FILE` is returned apart.
pub fn env_layer(
    vars: impl IntoIterator<Item = (String, String)>,
    known: impl Fn(&str) -> bool,
    skip: &BTreeSet<String>,
) -> (Layer, Option<String>, Vec<String>) {
    let mut layer = Layer::default();
    let mut config_file = None;
    let mut warnings = Vec::new();
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    for (name, value) in vars {
        let flag = name[ENV_PREFIX.len()..]
            .to_ascii_lowercase()
            .replace('_', "-");
        if flag == "config-file" {
            config_file = Some(value);
        } else if !known(&flag) {
            warnings.push(format!(
                "environment variable {name} names no wakunode flag: ignored"
            ));
        } else if !skip.contains(&flag) {
            layer.push(&flag, &value);
        }
    }
    (layer, config_file, warnings)
}

/// The flags of the TOML file at `path` that `skip` does not hold. Every
/// key must be a flag `known` accepts; lists give one argument per element.
pub fn file_layer(
    path: &Path,
    known: impl Fn(&str) -> bool,
    skip: &BTreeSet<String>,
) -> Result<Layer, SourceError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|reason| SourceError::Read {
        path: shown.clone(),
        reason,
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| SourceError::Syntax {
            path: shown.clone(),
            reason: e.message().to_owned(),
        })?;
    let mut layer = Layer::default();
    for (key, value) in &table {
        if key == "config-file" {
            continue;
        }
        if !known(key) {
            return Err(SourceError::UnknownKey {
                path: shown,
                key: key.clone(),
            });
        }
        let values = match value {
            toml::Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut texts = Vec::with_capacity(values.len());
        for value in values {
            texts.push(scalar(value).ok_or_else(|| SourceError::NotAValue {
                path: shown.clone(),
                key: key.clone(),
            })?);
        }
        if !skip.contains(key) {
            for text in texts {
                layer.push(key, &text);
            }
        }
    }
    Ok(layer)
}

/// A TOML scalar as a flag value.
fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn known(flag: &str) -> bool {
        ["cluster-id", "shard", "relay", "nat"].contains(&flag)
    }

    fn args(layer: &Layer) -> Vec<String> {
        layer
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn toml_keys_lists_and_booleans_become_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "cluster-id = 42\nshard = [0, 3]\nrelay = false\nnat = \"extip:1.2.3.4\"\n",
        )
        .unwrap();
        let layer = file_layer(&path, known, &BTreeSet::new()).unwrap();
        assert_eq!(
            args(&layer),
            [
                "--cluster-id=42",
                "--nat=extip:1.2.3.4",
                "--relay=false",
                "--shard=0",
                "--shard=3"
            ]
        );
        // A flag a higher source gives is left out, list and all.
        let skip = BTreeSet::from(["shard".to_owned()]);
        let layer = file_layer(&path, known, &skip).unwrap();
        assert!(!args(&layer).iter().any(|a| a.starts_with("--shard")));
    }

    #[test]
    fn bad_files_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        let error = |text: &str| {
            std::fs::write(&path, text).unwrap();
            file_layer(&path, known, &BTreeSet::new())
                .unwrap_err()
                .to_string()
        };
        assert!(error("clusterid = 1").ends_with("unknown key `clusterid`"));
        assert!(
            error("shard = [[1]]").ends_with("key `shard` must be a value or a list of values")
        );
        assert!(error("cluster-id = ").contains("is not valid TOML"));
        let missing = file_layer(&dir.path().join("none.toml"), known, &BTreeSet::new());
        assert!(matches!(missing, Err(SourceError::Read { .. })));
    }

    #[test]
    fn environment_variables_are_upper_snake_case_flags() {
        let vars = [
            ("WAKUNODE2_CLUSTER_ID", "7"),
            ("WAKUNODE2_CONFIG_FILE", "/etc/waku.toml"),
            ("WAKUNODE2_NO_SUCH_FLAG", "1"),
            ("WAKUNODE2_SHARD", "2"),
            ("HOME", "/root"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let skip = BTreeSet::from(["shard".to_owned()]);
        let (layer, file, warnings) = env_layer(vars, known, &skip);
        assert_eq!(args(&layer), ["--cluster-id=7"]);
        assert_eq!(file.as_deref(), Some("/etc/waku.toml"));
        assert_eq!(
            warnings,
            ["environment variable WAKUNODE2_NO_SUCH_FLAG names no wakunode flag: ignored"]
        );
    }
}

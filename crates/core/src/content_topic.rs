//! Content topics (23/WAKU2-TOPICS), with the generation prefix that
//! autosharding (RELAY-SHARDING) adds.
//!
//! Accepted forms: `/{application}/{version}/{name}/{encoding}` and
//! `/{generation}/{application}/{version}/{name}/{encoding}`, every field
//! non-empty, the generation a decimal integer without sign or leading zeros.
//! Like nwaku, and unlike js-waku, we reject topics without the leading `/`
//! (`x/app/1/name/proto`) and generations that are not plain integers
//! (`/0abc/...`, `/-1/...`, `/ 0/...`).

use std::fmt;
use std::str::FromStr;

/// A parsed content topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentTopic {
    generation: Option<u32>,
    application: String,
    version: String,
    name: String,
    encoding: String,
}

/// Why a string is not a content topic.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentTopicError {
    /// The topic is the empty string.
    #[error("content topic is empty")]
    Empty,
    /// The topic does not start with `/`.
    #[error("content topic {0:?} must start with '/'")]
    MissingLeadingSlash(String),
    /// The topic has neither 4 nor 5 `/`-separated fields.
    #[error(
        "content topic {topic:?} has {fields} fields, expected /app/version/name/encoding or /generation/app/version/name/encoding"
    )]
    WrongFieldCount {
        /// The rejected topic.
        topic: String,
        /// How many fields it has.
        fields: usize,
    },
    /// A field is empty.
    #[error("content topic {topic:?}: the {field} field is empty")]
    EmptyField {
        /// The rejected topic.
        topic: String,
        /// Which field (`application`, `version`, `name`, `encoding`, `generation`).
        field: &'static str,
    },
    /// The generation is not a decimal integer without sign or leading zeros.
    #[error("content topic {topic:?}: generation {generation:?} is not a non-negative integer")]
    InvalidGeneration {
        /// The rejected topic.
        topic: String,
        /// The generation field as written.
        generation: String,
    },
}

impl ContentTopic {
    /// A generation-less content topic from its four fields.
    pub fn new(
        application: impl Into<String>,
        version: impl Into<String>,
        name: impl Into<String>,
        encoding: impl Into<String>,
    ) -> Result<Self, ContentTopicError> {
        let topic = Self {
            generation: None,
            application: application.into(),
            version: version.into(),
            name: name.into(),
            encoding: encoding.into(),
        };
        // Re-parse the formatted form so fields holding '/' or nothing are rejected.
        topic.to_string().parse()
    }

    /// The generation as written; `None` when the topic has no generation field.
    pub fn generation_field(&self) -> Option<u32> {
        self.generation
    }

    /// The generation the topic belongs to (absent means 0).
    pub fn generation(&self) -> u32 {
        self.generation.unwrap_or(0)
    }

    /// The application field.
    pub fn application(&self) -> &str {
        &self.application
    }

    /// The version field.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The name field.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The encoding field.
    pub fn encoding(&self) -> &str {
        &self.encoding
    }
}

fn parse_generation(topic: &str, field: &str) -> Result<u32, ContentTopicError> {
    let invalid = || ContentTopicError::InvalidGeneration {
        topic: topic.to_owned(),
        generation: field.to_owned(),
    };
    if field.is_empty() {
        return Err(ContentTopicError::EmptyField {
            topic: topic.to_owned(),
            field: "generation",
        });
    }
    if !field.bytes().all(|b| b.is_ascii_digit()) || (field.len() > 1 && field.starts_with('0')) {
        return Err(invalid());
    }
    field.parse().map_err(|_| invalid())
}

impl FromStr for ContentTopic {
    type Err = ContentTopicError;

    fn from_str(topic: &str) -> Result<Self, Self::Err> {
        if topic.is_empty() {
            return Err(ContentTopicError::Empty);
        }
        let Some(rest) = topic.strip_prefix('/') else {
            return Err(ContentTopicError::MissingLeadingSlash(topic.to_owned()));
        };
        let fields: Vec<&str> = rest.split('/').collect();
        let (generation, named) = match fields.as_slice() {
            [app, ver, name, enc] => (None, [*app, *ver, *name, *enc]),
            [generation, app, ver, name, enc] => (
                Some(parse_generation(topic, generation)?),
                [*app, *ver, *name, *enc],
            ),
            _ => {
                return Err(ContentTopicError::WrongFieldCount {
                    topic: topic.to_owned(),
                    fields: fields.len(),
                });
            }
        };
        for (value, field) in named
            .iter()
            .zip(["application", "version", "name", "encoding"])
        {
            if value.is_empty() {
                return Err(ContentTopicError::EmptyField {
                    topic: topic.to_owned(),
                    field,
                });
            }
        }
        let [application, version, name, encoding] = named.map(str::to_owned);
        Ok(Self {
            generation,
            application,
            version,
            name,
            encoding,
        })
    }
}

impl fmt::Display for ContentTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(generation) = self.generation {
            write!(f, "/{generation}")?;
        }
        write!(
            f,
            "/{}/{}/{}/{}",
            self.application, self.version, self.name, self.encoding
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_parse_and_format_back() {
        for s in ["/app/1/chat/proto", "/0/app/1/chat/proto", "/7/a/b/c/d"] {
            let t: ContentTopic = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
        let t: ContentTopic = "/0/toychat/2/huilong/proto".parse().unwrap();
        assert_eq!(t.generation_field(), Some(0));
        assert_eq!(
            (t.application(), t.version(), t.name(), t.encoding()),
            ("toychat", "2", "huilong", "proto")
        );
    }

    #[test]
    fn new_rejects_fields_with_slashes() {
        assert!(ContentTopic::new("a/b", "1", "n", "e").is_err());
        assert!(ContentTopic::new("a", "", "n", "e").is_err());
        assert_eq!(
            ContentTopic::new("a", "1", "n", "e").unwrap().to_string(),
            "/a/1/n/e"
        );
    }
}

//! `enrtree://<key>@<domain>`: where a tree is published and who signs it.

use std::fmt;
use std::str::FromStr;

use enr::k256::ecdsa::VerifyingKey;

use super::encoding::{base32, base32_decode};

/// The URL scheme of an ENR tree.
pub const SCHEME: &str = "enrtree://";

/// Longest domain name DNS allows, in characters.
const MAX_DOMAIN_LEN: usize = 253;
/// Longest label of a domain name.
const MAX_LABEL_LEN: usize = 63;

/// Why an `enrtree://` URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The text does not start with `enrtree://`.
    #[error("not an ENR tree URL: expected it to start with {SCHEME}")]
    Scheme,
    /// No `@` separates the key from the domain.
    #[error("ENR tree URL has no `@` between the key and the domain")]
    MissingAt,
    /// The key part is not unpadded base32.
    #[error("ENR tree URL key {0:?} is not unpadded base32")]
    KeyEncoding(String),
    /// The key part decodes, but not to a compressed secp256k1 public key.
    #[error("ENR tree URL key {0:?} is not a compressed secp256k1 public key")]
    Key(String),
    /// The domain is empty, too long or holds characters a DNS name cannot.
    #[error("ENR tree URL domain {0:?} is not a valid DNS name")]
    Domain(String),
}

/// A parsed `enrtree://<key>@<domain>` URL: the tree is published at
/// `domain` and its root must be signed by `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeUrl {
    key: VerifyingKey,
    domain: String,
}

/// Checks a DNS name: labels of 1 to 63 letters, digits, `-` or `_`,
/// separated by dots, 253 characters at most. One trailing dot is dropped.
fn check_domain(domain: &str) -> Result<String, UrlError> {
    let bad = || UrlError::Domain(domain.to_owned());
    let name = domain.strip_suffix('.').unwrap_or(domain);
    if name.is_empty() || name.len() > MAX_DOMAIN_LEN {
        return Err(bad());
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !name.split('.').all(valid_label) {
        return Err(bad());
    }
    Ok(name.to_ascii_lowercase())
}

impl TreeUrl {
    /// The URL of a tree at `domain` signed by `key`.
    pub fn new(key: VerifyingKey, domain: &str) -> Result<Self, UrlError> {
        Ok(Self {
            key,
            domain: check_domain(domain)?,
        })
    }

    /// The key that signs the tree's root.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The domain (lower case, without a trailing dot).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The compressed (33-byte) form of the key.
    pub fn key_bytes(&self) -> [u8; 33] {
        let point = self.key.to_sec1_point(true);
        let mut out = [0u8; 33];
        let bytes = point.as_bytes();
        if bytes.len() == out.len() {
            out.copy_from_slice(bytes);
        }
        out
    }
}

impl FromStr for TreeUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<Self, UrlError> {
        let rest = text.trim().strip_prefix(SCHEME).ok_or(UrlError::Scheme)?;
        let (key_text, domain) = rest.split_once('@').ok_or(UrlError::MissingAt)?;
        let bytes =
            base32_decode(key_text).ok_or_else(|| UrlError::KeyEncoding(key_text.to_owned()))?;
        if bytes.len() != 33 {
            return Err(UrlError::Key(key_text.to_owned()));
        }
        let key = VerifyingKey::from_sec1_bytes(&bytes)
            .map_err(|_| UrlError::Key(key_text.to_owned()))?;
        Self::new(key, domain)
    }
}

impl fmt::Display for TreeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}@{}", base32(&self.key_bytes()), self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(
            check_domain("Nodes.Example.org."),
            Ok("nodes.example.org".into())
        );
        let long = "a".repeat(64);
        for bad in ["", ".", "a..b", "a b.org", "x.org/x", long.as_str()] {
            assert!(check_domain(bad).is_err(), "{bad:?}");
        }
    }
}

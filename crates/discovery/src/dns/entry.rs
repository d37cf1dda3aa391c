//! The four kinds of TXT record in an ENR tree, parsed and (for the root)
//! signed and verified.

use std::fmt;

use base64::Engine;
use enr::k256::ecdsa::signature::hazmat::PrehashVerifier;
use enr::k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use waku_enr::{EnrError, WakuEnr};

use super::encoding::{BASE64URL, decode_hash, keccak256};
use super::url::{SCHEME, TreeUrl, UrlError};

/// Prefix of a root record.
pub const ROOT_PREFIX: &str = "enrtree-root:v1";
/// Prefix of a branch record.
pub const BRANCH_PREFIX: &str = "enrtree-branch:";
/// Prefix of an ENR leaf.
pub const ENR_PREFIX: &str = "enr:";

/// Why a TXT record is not a valid tree entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The text starts with none of the entry prefixes.
    #[error("not an ENR tree entry")]
    Unknown,
    /// A root record that does not have the form
    /// `enrtree-root:v1 e=<hash> l=<hash> seq=<n> sig=<signature>`.
    #[error("malformed root record: {0}")]
    Root(&'static str),
    /// A hash (in a root or branch) that is not base32 of 12 to 32 bytes.
    #[error("invalid hash {0:?}")]
    Hash(String),
    /// The root signature is not base64url of 65 bytes.
    #[error("root signature is not 65 bytes of base64url")]
    SignatureEncoding,
    /// An `enr:` leaf that does not decode or whose signature fails.
    #[error("invalid ENR leaf: {0}")]
    Enr(#[from] EnrError),
    /// An `enrtree://` leaf that is not a valid URL.
    #[error("invalid link: {0}")]
    Link(#[from] UrlError),
}

/// The root of a tree: the hashes of its ENR and link subtrees, its
/// sequence number and the signature over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootEntry {
    /// Hash of the top entry of the ENR subtree.
    pub enr_root: String,
    /// Hash of the top entry of the link subtree.
    pub link_root: String,
    /// Sequence number; increases with each update of the tree.
    pub seq: u64,
    /// `r || s || v` (65 bytes) over keccak256 of [`RootEntry::signed_text`].
    pub signature: [u8; 65],
}

impl RootEntry {
    /// The text the signature covers: the record without ` sig=...`.
    pub fn signed_text(&self) -> String {
        format!(
            "{ROOT_PREFIX} e={} l={} seq={}",
            self.enr_root, self.link_root, self.seq
        )
    }

    /// A root over the two subtree hashes, signed with `key`.
    pub fn sign(enr_root: &str, link_root: &str, seq: u64, key: &SigningKey) -> Self {
        let mut root = Self {
            enr_root: enr_root.to_owned(),
            link_root: link_root.to_owned(),
            seq,
            signature: [0; 65],
        };
        let digest = keccak256(root.signed_text().as_bytes());
        let (signature, recovery) = key.sign_prehash_recoverable(&digest);
        root.signature[..64].copy_from_slice(&signature.to_bytes());
        root.signature[64] = recovery.to_byte();
        root
    }

    /// Whether the signature was made by `key`. The recovery byte is not
    /// needed (the key is known) and a high `s` is accepted.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        let Ok(signature) = Signature::from_slice(&self.signature[..64]) else {
            return false;
        };
        let digest = keccak256(self.signed_text().as_bytes());
        key.verify_prehash(&digest, &signature.normalize_s())
            .is_ok()
    }

    fn parse(text: &str) -> Result<Self, EntryError> {
        let mut parts = text.split_ascii_whitespace();
        if parts.next() != Some(ROOT_PREFIX) {
            return Err(EntryError::Root("expected enrtree-root:v1"));
        }
        let mut field = |name: &'static str| {
            parts
                .next()
                .and_then(|p| p.strip_prefix(name))
                .ok_or(EntryError::Root("expected e=, l=, seq= and sig= in order"))
        };
        let enr_root = check_hash(field("e=")?)?;
        let link_root = check_hash(field("l=")?)?;
        let seq = field("seq=")?
            .parse()
            .map_err(|_| EntryError::Root("seq is not a number"))?;
        let sig = BASE64URL
            .decode(field("sig=")?)
            .map_err(|_| EntryError::SignatureEncoding)?;
        let signature: [u8; 65] = sig.try_into().map_err(|_| EntryError::SignatureEncoding)?;
        if parts.next().is_some() {
            return Err(EntryError::Root("text after the signature"));
        }
        Ok(Self {
            enr_root,
            link_root,
            seq,
            signature,
        })
    }
}

impl fmt::Display for RootEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sig={}",
            self.signed_text(),
            BASE64URL.encode(self.signature)
        )
    }
}

/// Checks a hash label, keeping it as written.
fn check_hash(hash: &str) -> Result<String, EntryError> {
    match decode_hash(hash) {
        Some(_) => Ok(hash.to_owned()),
        None => Err(EntryError::Hash(hash.to_owned())),
    }
}

/// One TXT record of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `enrtree-root:v1 ...`, published at the tree's domain.
    Root(RootEntry),
    /// `enrtree-branch:<h1>,<h2>,...`: the hashes of child entries.
    Branch(Vec<String>),
    /// `enr:<base64url>`: a node record (signature checked).
    Enr(Box<WakuEnr>),
    /// `enrtree://<key>@<domain>`: another tree.
    Link(TreeUrl),
}

impl Entry {
    /// Parses one TXT record.
    pub fn parse(text: &str) -> Result<Self, EntryError> {
        if text.starts_with(ROOT_PREFIX) {
            return RootEntry::parse(text).map(Self::Root);
        }
        if let Some(list) = text.strip_prefix(BRANCH_PREFIX) {
            if list.is_empty() {
                return Ok(Self::Branch(Vec::new()));
            }
            return list
                .split(',')
                .map(check_hash)
                .collect::<Result<_, _>>()
                .map(Self::Branch);
        }
        if text.starts_with(ENR_PREFIX) {
            return Ok(Self::Enr(Box::new(WakuEnr::decode(text)?)));
        }
        if text.starts_with(SCHEME) {
            return Ok(Self::Link(text.parse()?));
        }
        Err(EntryError::Unknown)
    }

    /// Whether `text` starts like one of the entry kinds (a name may hold
    /// other TXT records too, such as SPF).
    pub fn is_entry_text(text: &str) -> bool {
        [ROOT_PREFIX, BRANCH_PREFIX, ENR_PREFIX, SCHEME]
            .iter()
            .any(|p| text.starts_with(p))
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root(root) => root.fmt(f),
            Self::Branch(hashes) => write!(f, "{BRANCH_PREFIX}{}", hashes.join(",")),
            Self::Enr(enr) => enr.fmt(f),
            Self::Link(url) => url.fmt(f),
        }
    }
}

//! Building and signing a tree: what a tree publisher does, and what the
//! tests and benchmarks use to make trees of known content.

use std::collections::BTreeMap;

use enr::k256::ecdsa::SigningKey;
use waku_enr::WakuEnr;

use super::encoding::subdomain;
use super::entry::{BRANCH_PREFIX, RootEntry};
use super::resolver::MemoryResolver;
use super::url::{TreeUrl, UrlError};

/// Most hashes in one branch record: 13 hashes of 26 characters with their
/// commas and the prefix make about 366 bytes, well inside one 512-byte
/// UDP DNS answer (the same bound go-ethereum's publisher uses).
pub const MAX_BRANCH_CHILDREN: usize = 13;

/// The content of a tree before it is signed.
#[derive(Debug, Clone, Default)]
pub struct TreeBuilder {
    seq: u64,
    enrs: Vec<String>,
    links: Vec<String>,
}

/// A signed tree: the root record and every other record by its hash.
#[derive(Debug, Clone)]
pub struct Tree {
    url: TreeUrl,
    root: RootEntry,
    entries: BTreeMap<String, String>,
}

impl TreeBuilder {
    /// An empty tree with sequence number `seq`.
    pub fn new(seq: u64) -> Self {
        Self {
            seq,
            ..Self::default()
        }
    }

    /// Adds ENR leaves.
    pub fn with_enrs<'a>(mut self, enrs: impl IntoIterator<Item = &'a WakuEnr>) -> Self {
        self.enrs.extend(enrs.into_iter().map(WakuEnr::encode));
        self
    }

    /// Adds links to other trees.
    pub fn with_links<'a>(mut self, links: impl IntoIterator<Item = &'a TreeUrl>) -> Self {
        self.links.extend(links.into_iter().map(TreeUrl::to_string));
        self
    }

    /// Builds the branches and signs the root with `key`, for publication
    /// at `domain`.
    pub fn sign(self, domain: &str, key: &SigningKey) -> Result<Tree, UrlError> {
        let url = TreeUrl::new(*key.verifying_key(), domain)?;
        let mut entries = BTreeMap::new();
        let enr_root = build(self.enrs, &mut entries);
        let link_root = build(self.links, &mut entries);
        let root = RootEntry::sign(&enr_root, &link_root, self.seq, key);
        Ok(Tree { url, root, entries })
    }
}

/// Adds the records of a subtree over `leaves` to `entries` and returns the
/// hash of its top record.
fn build(leaves: Vec<String>, entries: &mut BTreeMap<String, String>) -> String {
    let mut level = leaves;
    loop {
        if level.len() == 1
            && let Some(only) = level.pop()
        {
            let hash = subdomain(&only);
            entries.insert(hash.clone(), only);
            return hash;
        }
        if level.len() <= MAX_BRANCH_CHILDREN {
            let hashes: Vec<String> = level
                .into_iter()
                .map(|text| {
                    let hash = subdomain(&text);
                    entries.insert(hash.clone(), text);
                    hash
                })
                .collect();
            let branch = format!("{BRANCH_PREFIX}{}", hashes.join(","));
            let hash = subdomain(&branch);
            entries.insert(hash.clone(), branch);
            return hash;
        }
        level = level
            .chunks(MAX_BRANCH_CHILDREN)
            .map(|chunk| {
                let hashes: Vec<String> = chunk
                    .iter()
                    .map(|text| {
                        let hash = subdomain(text);
                        entries.insert(hash.clone(), text.clone());
                        hash
                    })
                    .collect();
                format!("{BRANCH_PREFIX}{}", hashes.join(","))
            })
            .collect();
    }
}

impl Tree {
    /// The tree's URL (its domain and the signer's key).
    pub fn url(&self) -> &TreeUrl {
        &self.url
    }

    /// The root record.
    pub fn root(&self) -> &RootEntry {
        &self.root
    }

    /// Every record but the root, by hash label.
    pub fn entries(&self) -> &BTreeMap<String, String> {
        &self.entries
    }

    /// Every record as `(name, TXT text)`, the root first (at the domain
    /// itself), then each entry at `<hash>.<domain>`.
    pub fn records(&self) -> Vec<(String, String)> {
        let domain = self.url.domain();
        let mut out = Vec::with_capacity(self.entries.len() + 1);
        out.push((domain.to_owned(), self.root.to_string()));
        out.extend(
            self.entries
                .iter()
                .map(|(hash, text)| (format!("{hash}.{domain}"), text.clone())),
        );
        out
    }

    /// Adds every record to `resolver`.
    pub fn publish(&self, resolver: &mut MemoryResolver) {
        resolver.extend(self.records());
    }

    /// A resolver holding this tree only.
    pub fn to_resolver(&self) -> MemoryResolver {
        self.records().into_iter().collect()
    }
}

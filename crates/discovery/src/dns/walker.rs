//! Walking a tree: resolve the root, check its signature, resolve every
//! entry below it, check each against its name, follow links.

use std::collections::{HashMap, HashSet, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use waku_enr::WakuEnr;

use super::encoding::hash_matches;
use super::entry::{Entry, EntryError, ROOT_PREFIX};
use super::resolver::{ResolveError, Resolver};
use super::url::TreeUrl;

/// Why part of a tree was not taken. Each names the DNS name concerned;
/// the rest of the tree is still walked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError {
    /// The TXT lookup of `name` failed.
    #[error("{name}: {error}")]
    Resolve {
        /// The name looked up.
        name: String,
        /// Why.
        error: ResolveError,
    },
    /// The tree's domain has no `enrtree-root:v1` record.
    #[error("{domain}: no enrtree-root record")]
    NoRoot {
        /// The tree's domain.
        domain: String,
    },
    /// The root's signature was not made by the key in the tree's URL.
    #[error("{domain}: root signature does not verify against the URL key")]
    BadSignature {
        /// The tree's domain.
        domain: String,
    },
    /// The root's sequence number is lower than one seen before for the
    /// same domain (a replayed, older tree).
    #[error("{domain}: root seq {seq} is older than the seq {seen} seen before")]
    StaleRoot {
        /// The tree's domain.
        domain: String,
        /// The sequence number found.
        seq: u64,
        /// The highest seen before.
        seen: u64,
    },
    /// `name` holds no TXT record that looks like a tree entry.
    #[error("{name}: no ENR tree entry")]
    NoEntry {
        /// The subdomain.
        name: String,
    },
    /// The record at `name` does not hash to the name: it was tampered with
    /// (or the name is wrong).
    #[error("{name}: record does not match the hash in its name")]
    HashMismatch {
        /// The subdomain.
        name: String,
    },
    /// The record at `name` (or the root at a domain) does not parse, or
    /// holds an ENR that does not decode or verify.
    #[error("{name}: {error}")]
    Malformed {
        /// The subdomain (or the domain, for a root).
        name: String,
        /// Why.
        error: EntryError,
    },
    /// A record of the wrong kind for its place: a link in the ENR subtree,
    /// an ENR in the link subtree, or a root below the top.
    #[error("{name}: unexpected {found} entry in the {subtree} subtree")]
    UnexpectedEntry {
        /// The subdomain.
        name: String,
        /// What was found (`root`, `enr`, `link`).
        found: &'static str,
        /// Where (`enr` or `link`).
        subtree: &'static str,
    },
    /// A link was not followed: it is deeper than
    /// [`WalkConfig::max_link_depth`].
    #[error("{url}: link deeper than {max} trees, not followed")]
    TooDeep {
        /// The link.
        url: String,
        /// The limit.
        max: usize,
    },
    /// The walk stopped after [`WalkConfig::max_lookups`] lookups; what
    /// was found until then is returned.
    #[error("stopped after {max} lookups")]
    LookupLimit {
        /// The limit.
        max: usize,
    },
}

/// Limits of a walk.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WalkConfig {
    /// How many links deep to follow: 0 reads the first tree only.
    pub max_link_depth: usize,
    /// Most DNS lookups in one walk, all trees together.
    pub max_lookups: usize,
    /// Most lookups in flight at once.
    pub concurrency: usize,
}

impl WalkConfig {
    /// Default [`WalkConfig::max_link_depth`].
    pub const DEFAULT_MAX_LINK_DEPTH: usize = 5;
    /// Default [`WalkConfig::max_lookups`]: room for about 9 000 ENRs.
    pub const DEFAULT_MAX_LOOKUPS: usize = 10_000;
    /// Default [`WalkConfig::concurrency`].
    pub const DEFAULT_CONCURRENCY: usize = 16;

    /// Sets [`WalkConfig::max_link_depth`].
    pub fn with_max_link_depth(mut self, depth: usize) -> Self {
        self.max_link_depth = depth;
        self
    }

    /// Sets [`WalkConfig::max_lookups`].
    pub fn with_max_lookups(mut self, lookups: usize) -> Self {
        self.max_lookups = lookups;
        self
    }

    /// Sets [`WalkConfig::concurrency`] (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }
}

impl Default for WalkConfig {
    fn default() -> Self {
        Self {
            max_link_depth: Self::DEFAULT_MAX_LINK_DEPTH,
            max_lookups: Self::DEFAULT_MAX_LOOKUPS,
            concurrency: Self::DEFAULT_CONCURRENCY,
        }
    }
}

/// A tree whose root verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitedTree {
    /// Its URL.
    pub url: TreeUrl,
    /// The root's sequence number.
    pub seq: u64,
    /// How many links lie between it and the tree the walk started at.
    pub depth: usize,
}

/// What a walk found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WalkOutcome {
    /// Every ENR that verified, once per node (the highest `seq` kept), in
    /// the order found.
    pub enrs: Vec<WakuEnr>,
    /// Every problem met; the parts concerned were skipped.
    pub errors: Vec<TreeError>,
    /// The trees whose root verified.
    pub trees: Vec<VisitedTree>,
}

impl WalkOutcome {
    /// Whether the whole tree verified.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Which subtree an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subtree {
    Enr,
    Link,
}

impl Subtree {
    fn name(self) -> &'static str {
        match self {
            Self::Enr => "enr",
            Self::Link => "link",
        }
    }
}

/// One lookup to make.
#[derive(Debug, Clone)]
enum Task {
    Root {
        url: TreeUrl,
        depth: usize,
    },
    Node {
        domain: String,
        hash: String,
        subtree: Subtree,
        depth: usize,
    },
}

impl Task {
    fn name(&self) -> String {
        match self {
            Self::Root { url, .. } => url.domain().to_owned(),
            Self::Node { domain, hash, .. } => format!("{hash}.{domain}"),
        }
    }
}

/// Walks ENR trees through a [`Resolver`].
///
/// It remembers the highest root sequence number seen for each domain, so a
/// later walk refuses an older root ([`TreeError::StaleRoot`]).
#[derive(Debug)]
pub struct Walker<R> {
    resolver: R,
    config: WalkConfig,
    seen_seq: HashMap<String, u64>,
}

/// The state of one walk.
struct Walk<'w, R> {
    resolver: &'w R,
    config: &'w WalkConfig,
    seen_seq: &'w mut HashMap<String, u64>,
    queue: VecDeque<Task>,
    visited_trees: HashSet<String>,
    visited_nodes: HashSet<(String, String)>,
    lookups: usize,
    outcome: WalkOutcome,
    by_node: HashMap<[u8; 32], usize>,
}

impl<R: Resolver> Walker<R> {
    /// A walker with the default limits.
    pub fn new(resolver: R) -> Self {
        Self::with_config(resolver, WalkConfig::default())
    }

    /// A walker with `config`.
    pub fn with_config(resolver: R, config: WalkConfig) -> Self {
        Self {
            resolver,
            config,
            seen_seq: HashMap::new(),
        }
    }

    /// The resolver.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }

    /// The resolver, to change (a test swapping the published records).
    pub fn resolver_mut(&mut self) -> &mut R {
        &mut self.resolver
    }

    /// The limits.
    pub fn config(&self) -> &WalkConfig {
        &self.config
    }

    /// Walks the tree at `url` and the trees it links to, returning the ENRs
    /// that verified and every problem met.
    pub async fn walk(&mut self, url: &TreeUrl) -> WalkOutcome {
        let mut walk = Walk {
            resolver: &self.resolver,
            config: &self.config,
            seen_seq: &mut self.seen_seq,
            queue: VecDeque::new(),
            visited_trees: HashSet::new(),
            visited_nodes: HashSet::new(),
            lookups: 0,
            outcome: WalkOutcome::default(),
            by_node: HashMap::new(),
        };
        walk.push_tree(url.clone(), 0);
        walk.run().await;
        walk.outcome
    }
}

impl<R: Resolver> Walk<'_, R> {
    async fn run(&mut self) {
        let resolver = self.resolver;
        let concurrency = self.config.concurrency.max(1);
        let max_lookups = self.config.max_lookups;
        let mut in_flight = FuturesUnordered::new();
        let mut limited = false;
        loop {
            while in_flight.len() < concurrency {
                let Some(task) = self.queue.pop_front() else {
                    break;
                };
                if self.lookups >= max_lookups {
                    limited = true;
                    self.queue.clear();
                    break;
                }
                self.lookups += 1;
                in_flight.push(async move {
                    let name = task.name();
                    let result = resolver.txt(&name).await;
                    (task, name, result)
                });
            }
            let Some((task, name, result)) = in_flight.next().await else {
                break;
            };
            match result {
                Err(error) => self.outcome.errors.push(TreeError::Resolve { name, error }),
                Ok(txts) => match task {
                    Task::Root { url, depth } => self.on_root(url, depth, &txts),
                    Task::Node {
                        domain,
                        hash,
                        subtree,
                        depth,
                    } => self.on_node(name, &domain, &hash, subtree, depth, &txts),
                },
            }
        }
        if limited {
            tracing::debug!(
                max = max_lookups,
                "ENR tree walk stopped at the lookup limit"
            );
            self.outcome
                .errors
                .push(TreeError::LookupLimit { max: max_lookups });
        }
    }

    /// Queues the root of a tree, unless already visited in this walk
    /// (the loop guard: a link back to a tree on the path, or to one seen
    /// through another link, is not followed again).
    fn push_tree(&mut self, url: TreeUrl, depth: usize) {
        if self.visited_trees.insert(url.domain().to_owned()) {
            self.queue.push_back(Task::Root { url, depth });
        } else {
            tracing::debug!(%url, "ENR tree already visited, link not followed");
        }
    }

    fn push_node(&mut self, domain: &str, hash: &str, subtree: Subtree, depth: usize) {
        let key = (domain.to_owned(), hash.to_ascii_uppercase());
        if self.visited_nodes.insert(key) {
            self.queue.push_back(Task::Node {
                domain: domain.to_owned(),
                hash: hash.to_owned(),
                subtree,
                depth,
            });
        }
    }

    fn on_root(&mut self, url: TreeUrl, depth: usize, txts: &[String]) {
        let domain = url.domain().to_owned();
        let Some(text) = txts.iter().find(|t| t.starts_with(ROOT_PREFIX)) else {
            self.outcome.errors.push(TreeError::NoRoot { domain });
            return;
        };
        let root = match Entry::parse(text) {
            Ok(Entry::Root(root)) => root,
            Ok(_) => return,
            Err(error) => {
                self.outcome.errors.push(TreeError::Malformed {
                    name: domain,
                    error,
                });
                return;
            }
        };
        if !root.verify(url.key()) {
            self.outcome.errors.push(TreeError::BadSignature { domain });
            return;
        }
        let seen = self.seen_seq.entry(domain.clone()).or_insert(0);
        if root.seq < *seen {
            self.outcome.errors.push(TreeError::StaleRoot {
                domain,
                seq: root.seq,
                seen: *seen,
            });
            return;
        }
        *seen = root.seq;
        tracing::debug!(%url, seq = root.seq, "ENR tree root verified");
        self.push_node(&domain, &root.enr_root, Subtree::Enr, depth);
        self.push_node(&domain, &root.link_root, Subtree::Link, depth);
        self.outcome.trees.push(VisitedTree {
            url,
            seq: root.seq,
            depth,
        });
    }

    fn on_node(
        &mut self,
        name: String,
        domain: &str,
        hash: &str,
        subtree: Subtree,
        depth: usize,
        txts: &[String],
    ) {
        let Some(text) = txts.iter().find(|t| Entry::is_entry_text(t)) else {
            self.outcome.errors.push(TreeError::NoEntry { name });
            return;
        };
        if !hash_matches(hash, text) {
            self.outcome.errors.push(TreeError::HashMismatch { name });
            return;
        }
        let unexpected = |found| TreeError::UnexpectedEntry {
            name: name.clone(),
            found,
            subtree: subtree.name(),
        };
        match (Entry::parse(text), subtree) {
            (Err(error), _) => self.outcome.errors.push(TreeError::Malformed {
                name: name.clone(),
                error,
            }),
            (Ok(Entry::Branch(children)), _) => {
                for child in &children {
                    self.push_node(domain, child, subtree, depth);
                }
            }
            (Ok(Entry::Enr(enr)), Subtree::Enr) => self.add_enr(*enr),
            (Ok(Entry::Link(url)), Subtree::Link) => {
                let max = self.config.max_link_depth;
                if depth >= max {
                    self.outcome.errors.push(TreeError::TooDeep {
                        url: url.to_string(),
                        max,
                    });
                } else {
                    self.push_tree(url, depth + 1);
                }
            }
            (Ok(Entry::Enr(_)), Subtree::Link) => self.outcome.errors.push(unexpected("enr")),
            (Ok(Entry::Link(_)), Subtree::Enr) => self.outcome.errors.push(unexpected("link")),
            (Ok(Entry::Root(_)), _) => self.outcome.errors.push(unexpected("root")),
        }
    }

    /// Keeps one record per node: the one with the highest `seq`.
    fn add_enr(&mut self, enr: WakuEnr) {
        let node = enr.node_id_bytes();
        match self.by_node.get(&node) {
            Some(&i) => {
                if let Some(known) = self.outcome.enrs.get_mut(i)
                    && enr.seq() > known.seq()
                {
                    *known = enr;
                }
            }
            None => {
                self.by_node.insert(node, self.outcome.enrs.len());
                self.outcome.enrs.push(enr);
            }
        }
    }
}

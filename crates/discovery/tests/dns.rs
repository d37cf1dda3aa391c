//! EIP-1459 DNS discovery: URLs, tree layout, signature and hash checks,
//! links, and the walker's guards. Trees are built here from known keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{enrs, key};
use data_encoding::BASE32_NOPAD;
use enr::k256::ecdsa::signature::hazmat::PrehashVerifier;
use enr::k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use futures::executor::block_on;
use sha3::{Digest, Keccak256};
use waku_discovery::dns::{
    Entry, EntryError, MemoryResolver, ResolveError, RootEntry, SigningKey, Tree, TreeBuilder,
    TreeError, TreeUrl, UrlError, WalkConfig, Walker,
};
use waku_enr::WakuEnr;

const SANDBOX: &str =
    "enrtree://AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O@sandbox.waku.nodes.status.im";
const STATUS_PROD: &str =
    "enrtree://AL65EKLJAUXKKPG43HVTML5EFFWEZ7L4LOKTLZCLJASG4DSESQZEC@prod.status.nodes.status.im";

/// The subdomain label of `text`, computed here independently of the crate.
fn label(text: &str) -> String {
    BASE32_NOPAD.encode(&Keccak256::digest(text.as_bytes())[..16])
}

fn node_ids(enrs: &[WakuEnr]) -> BTreeSet<[u8; 32]> {
    enrs.iter().map(WakuEnr::node_id_bytes).collect()
}

fn walk(resolver: &MemoryResolver, url: &TreeUrl) -> waku_discovery::dns::WalkOutcome {
    block_on(Walker::new(resolver).walk(url))
}

/// A one-level tree laid out by hand (no TreeBuilder): the ENR subtree is
/// one branch over `leaves`, the link subtree one branch over `links`.
fn hand_tree(
    domain: &str,
    key: &SigningKey,
    seq: u64,
    leaves: &[String],
    links: &[String],
) -> MemoryResolver {
    let mut resolver = MemoryResolver::new();
    let mut branch = |texts: &[String]| {
        let hashes: Vec<String> = texts.iter().map(|t| label(t)).collect();
        for (t, h) in texts.iter().zip(&hashes) {
            resolver.insert(&format!("{h}.{domain}"), t.clone());
        }
        let text = format!("enrtree-branch:{}", hashes.join(","));
        let h = label(&text);
        resolver.insert(&format!("{h}.{domain}"), text);
        h
    };
    let e = branch(leaves);
    let l = branch(links);
    let unsigned = format!("enrtree-root:v1 e={e} l={l} seq={seq}");
    let digest = Keccak256::digest(unsigned.as_bytes());
    let (sig, recid): (Signature, RecoveryId) = key.sign_prehash_recoverable(&digest);
    let mut bytes = sig.to_bytes().to_vec();
    bytes.push(recid.to_byte());
    resolver.insert(
        domain,
        format!("{unsigned} sig={}", URL_SAFE_NO_PAD.encode(bytes)),
    );
    resolver
}

fn url_of(key: &SigningKey, domain: &str) -> TreeUrl {
    TreeUrl::new(*key.verifying_key(), domain).unwrap()
}

// spec: DNS-002
#[test]
fn fleet_urls_parse_and_print_back() {
    for text in [SANDBOX, STATUS_PROD] {
        let url: TreeUrl = text.parse().unwrap();
        assert_eq!(url.to_string(), text);
    }
    let sandbox: TreeUrl = SANDBOX.parse().unwrap();
    assert_eq!(sandbox.domain(), "sandbox.waku.nodes.status.im");
    let key = BASE32_NOPAD
        .decode(b"AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O")
        .unwrap();
    assert_eq!(sandbox.key_bytes().to_vec(), key);
    assert_eq!(sandbox.key(), &VerifyingKey::from_sec1_bytes(&key).unwrap());
}

// spec: DNS-002
#[test]
fn bad_urls_are_refused_with_the_reason() {
    let key = "AIRVQ5DDA4FFWLRBCHJWUWOO6X6S4ZTZ5B667LQ6AJU6PEYDLRD5O";
    assert_eq!("matree://x@y.org".parse::<TreeUrl>(), Err(UrlError::Scheme));
    assert_eq!(
        format!("enrtree://{key}").parse::<TreeUrl>(),
        Err(UrlError::MissingAt)
    );
    assert!(matches!(
        "enrtree://NOT-BASE32!@nodes.example.org".parse::<TreeUrl>(),
        Err(UrlError::KeyEncoding(_))
    ));
    // Valid base32, but 20 bytes.
    assert!(matches!(
        format!(
            "enrtree://{}@nodes.example.org",
            BASE32_NOPAD.encode(&[2; 20])
        )
        .parse::<TreeUrl>(),
        Err(UrlError::Key(_))
    ));
    // 33 bytes, but not a point on the curve.
    let mut not_a_point = [0xffu8; 33];
    not_a_point[0] = 2;
    assert!(matches!(
        format!(
            "enrtree://{}@nodes.example.org",
            BASE32_NOPAD.encode(&not_a_point)
        )
        .parse::<TreeUrl>(),
        Err(UrlError::Key(_))
    ));
    for domain in ["", "nodes..example.org", "no des.example.org", "x/y.org"] {
        assert!(
            matches!(
                format!("enrtree://{key}@{domain}").parse::<TreeUrl>(),
                Err(UrlError::Domain(_))
            ),
            "{domain:?}"
        );
    }
}

// spec: DNS-001, DNS-004, DNS-005, DNS-007, DNS-009, DNS-010, DNS-014
#[test]
fn a_built_tree_is_laid_out_as_eip_1459_and_verifies() {
    let signer = key(1_000_000);
    let nodes = enrs(1..41);
    let tree = TreeBuilder::new(3)
        .with_enrs(&nodes)
        .sign("nodes.example.org", &signer)
        .unwrap();
    let records = tree.records();

    // Every entry sits at the hash of its own text.
    for (name, text) in &records[1..] {
        assert_eq!(name, &format!("{}.nodes.example.org", label(text)));
    }
    // The root: its fields, and a signature over the text before ` sig=`.
    let (root_name, root_text) = &records[0];
    assert_eq!(root_name, "nodes.example.org");
    let (unsigned, sig) = root_text.split_once(" sig=").unwrap();
    let fields: Vec<&str> = unsigned.split(' ').collect();
    assert_eq!(fields[0], "enrtree-root:v1");
    assert!(fields[1].starts_with("e=") && fields[2].starts_with("l="));
    assert_eq!(fields[3], "seq=3");
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    assert_eq!(sig.len(), 65);
    let digest = Keccak256::digest(unsigned.as_bytes());
    let signature = Signature::from_slice(&sig[..64]).unwrap();
    signer
        .verifying_key()
        .verify_prehash(&digest, &signature)
        .unwrap();
    let recovered = VerifyingKey::recover_from_prehash(
        &digest,
        &signature,
        RecoveryId::from_byte(sig[64]).unwrap(),
    )
    .unwrap();
    assert_eq!(&recovered, signer.verifying_key());
    // Branches list hashes; leaves are enr: records.
    let branches = records
        .iter()
        .filter(|(_, t)| t.starts_with("enrtree-branch:"))
        .count();
    assert!(branches >= 4, "{branches} branches for 40 leaves");
    let leaves = records
        .iter()
        .filter(|(_, t)| t.starts_with("enr:"))
        .count();
    assert_eq!(leaves, 40);

    let outcome = walk(&tree.to_resolver(), tree.url());
    assert!(outcome.is_clean(), "{:?}", outcome.errors);
    assert_eq!(node_ids(&outcome.enrs), node_ids(&nodes));
    assert_eq!(outcome.trees.len(), 1);
    assert_eq!(outcome.trees[0].seq, 3);
}

// spec: DNS-001, DNS-005, DNS-014
#[test]
fn a_tree_laid_out_by_hand_verifies() {
    let signer = key(7);
    let nodes = enrs(1..6);
    let leaves: Vec<String> = nodes.iter().map(WakuEnr::encode).collect();
    let resolver = hand_tree("hand.example.org", &signer, 9, &leaves, &[]);
    let outcome = walk(&resolver, &url_of(&signer, "hand.example.org"));
    assert!(outcome.is_clean(), "{:?}", outcome.errors);
    assert_eq!(node_ids(&outcome.enrs), node_ids(&nodes));
    // And the crate's own parser reads the hand-made root.
    let root = match Entry::parse(&resolver.get("hand.example.org").unwrap()[0]).unwrap() {
        Entry::Root(root) => root,
        other => panic!("{other:?}"),
    };
    assert_eq!(root.seq, 9);
    assert!(root.verify(signer.verifying_key()));
    assert!(!root.verify(key(8).verifying_key()));
}

// spec: DNS-003
#[test]
fn every_record_of_a_large_tree_fits_a_udp_answer() {
    let tree = TreeBuilder::new(1)
        .with_enrs(&enrs(1..1001))
        .sign("big.example.org", &key(99))
        .unwrap();
    let records = tree.records();
    assert!(records.len() > 1000);
    for (name, text) in &records {
        assert!(
            text.len() + name.len() < 512,
            "{name}: {} bytes",
            text.len()
        );
    }
}

/// A 40-node tree and its resolver.
fn forty() -> (Tree, MemoryResolver, Vec<WakuEnr>) {
    let nodes = enrs(1..41);
    let tree = TreeBuilder::new(1)
        .with_enrs(&nodes)
        .sign("nodes.example.org", &key(500))
        .unwrap();
    let resolver = tree.to_resolver();
    (tree, resolver, nodes)
}

// spec: DNS-013
#[test]
fn a_tampered_leaf_is_refused_and_the_rest_still_yields() {
    let (tree, mut resolver, nodes) = forty();
    let (name, _) = tree
        .records()
        .into_iter()
        .find(|(_, t)| t.starts_with("enr:"))
        .unwrap();
    // Another valid ENR put where this one was: signature fine, hash wrong.
    resolver.set(&name, vec![common::enr(77).encode()]);
    let outcome = walk(&resolver, tree.url());
    assert_eq!(
        outcome.errors,
        vec![TreeError::HashMismatch { name: name.clone() }]
    );
    assert_eq!(outcome.enrs.len(), nodes.len() - 1);
    assert!(outcome.errors[0].to_string().contains(&name));
}

// spec: DNS-013
#[test]
fn a_tampered_branch_loses_only_its_subtree() {
    let (tree, mut resolver, nodes) = forty();
    let top = tree.root().enr_root.clone();
    let (name, text) = tree
        .records()
        .into_iter()
        .find(|(n, t)| t.starts_with("enrtree-branch:") && !n.starts_with(&top) && t.contains(','))
        .unwrap();
    let children = text.matches(',').count() + 1;
    // Drop one child: a valid branch, but not the one the parent names.
    let shorter = text.rsplit_once(',').unwrap().0.to_owned();
    resolver.set(&name, vec![shorter]);
    let outcome = walk(&resolver, tree.url());
    assert_eq!(outcome.errors, vec![TreeError::HashMismatch { name }]);
    assert_eq!(outcome.enrs.len(), nodes.len() - children);
}

// spec: DNS-011
#[test]
fn a_root_not_signed_by_the_url_key_is_refused() {
    let (tree, resolver, _) = forty();
    // The URL names another key.
    let other = url_of(&key(501), "nodes.example.org");
    let outcome = walk(&resolver, &other);
    assert_eq!(
        outcome.errors,
        vec![TreeError::BadSignature {
            domain: "nodes.example.org".into()
        }]
    );
    assert!(outcome.enrs.is_empty() && outcome.trees.is_empty());

    // The root text altered (seq raised) but the old signature kept.
    let mut forged = resolver.clone();
    let root = tree.root().to_string().replace("seq=1 ", "seq=2 ");
    forged.set("nodes.example.org", vec![root]);
    let outcome = walk(&forged, tree.url());
    assert!(matches!(
        outcome.errors[..],
        [TreeError::BadSignature { .. }]
    ));
    assert!(outcome.enrs.is_empty());

    // A signature that is not 65 bytes.
    let mut short = resolver.clone();
    let root = format!("{} sig=AAAA", tree.root().signed_text());
    short.set("nodes.example.org", vec![root]);
    let outcome = walk(&short, tree.url());
    assert_eq!(
        outcome.errors,
        vec![TreeError::Malformed {
            name: "nodes.example.org".into(),
            error: EntryError::SignatureEncoding
        }]
    );
}

// spec: DNS-008
#[test]
fn links_are_followed_each_with_its_own_key() {
    let (a_key, b_key, c_key) = (key(600), key(601), key(602));
    let b = TreeBuilder::new(1)
        .with_enrs(&enrs(100..110))
        .sign("b.example.org", &b_key)
        .unwrap();
    let c = TreeBuilder::new(1)
        .with_enrs(&enrs(200..205))
        .sign("c.example.org", &c_key)
        .unwrap();
    // A links to B with B's key, and to C with the wrong key.
    let c_wrong = url_of(&key(603), "c.example.org");
    let a = TreeBuilder::new(1)
        .with_enrs(&enrs(1..4))
        .with_links([b.url(), &c_wrong])
        .sign("a.example.org", &a_key)
        .unwrap();
    let mut resolver = MemoryResolver::new();
    for tree in [&a, &b, &c] {
        tree.publish(&mut resolver);
    }
    let outcome = walk(&resolver, a.url());
    assert_eq!(outcome.enrs.len(), 3 + 10);
    assert_eq!(
        outcome.errors,
        vec![TreeError::BadSignature {
            domain: "c.example.org".into()
        }]
    );
    let depths: Vec<(String, usize)> = outcome
        .trees
        .iter()
        .map(|t| (t.url.domain().to_owned(), t.depth))
        .collect();
    assert!(depths.contains(&("a.example.org".into(), 0)));
    assert!(depths.contains(&("b.example.org".into(), 1)));
}

// spec: DNS-015
#[test]
fn link_loops_end_and_each_tree_is_read_once() {
    let (a_key, b_key) = (key(700), key(701));
    let a_url = url_of(&a_key, "a.example.org");
    let b_url = url_of(&b_key, "b.example.org");
    // A links to B and to itself; B links back to A.
    let a = TreeBuilder::new(1)
        .with_enrs(&enrs(1..3))
        .with_links([&b_url, &a_url])
        .sign("a.example.org", &a_key)
        .unwrap();
    let b = TreeBuilder::new(1)
        .with_enrs(&enrs(3..5))
        .with_links([&a_url])
        .sign("b.example.org", &b_key)
        .unwrap();
    let mut resolver = MemoryResolver::new();
    a.publish(&mut resolver);
    b.publish(&mut resolver);
    let outcome = walk(&resolver, &a_url);
    assert!(outcome.is_clean(), "{:?}", outcome.errors);
    assert_eq!(outcome.enrs.len(), 4);
    assert_eq!(outcome.trees.len(), 2);
}

// spec: DNS-015
#[test]
fn depth_and_lookup_limits_stop_the_walk() {
    // A chain a -> b -> c.
    let keys = [key(800), key(801), key(802)];
    let domains = ["a.example.org", "b.example.org", "c.example.org"];
    let mut resolver = MemoryResolver::new();
    for i in (0..3).rev() {
        let next = (i < 2).then(|| url_of(&keys[i + 1], domains[i + 1]));
        let start = 10 * i as u32 + 1;
        TreeBuilder::new(1)
            .with_enrs(&enrs(start..start + 2))
            .with_links(next.as_ref())
            .sign(domains[i], &keys[i])
            .unwrap()
            .publish(&mut resolver);
    }
    let a = url_of(&keys[0], domains[0]);

    let mut shallow = Walker::with_config(&resolver, WalkConfig::default().with_max_link_depth(1));
    let outcome = block_on(shallow.walk(&a));
    assert_eq!(outcome.enrs.len(), 4);
    assert!(matches!(
        &outcome.errors[..],
        [TreeError::TooDeep { url, max: 1 }] if url.contains("c.example.org")
    ));

    let mut few = Walker::with_config(&resolver, WalkConfig::default().with_max_lookups(4));
    let outcome = block_on(few.walk(&a));
    assert!(outcome.errors.contains(&TreeError::LookupLimit { max: 4 }));
    assert!(outcome.enrs.len() < 6);

    let outcome = walk(&resolver, &a);
    assert!(outcome.is_clean(), "{:?}", outcome.errors);
    assert_eq!(outcome.enrs.len(), 6);
}

// spec: DNS-006, DNS-012
#[test]
fn an_older_root_than_one_seen_is_refused() {
    let signer = key(900);
    let publish = |seq: u64| {
        TreeBuilder::new(seq)
            .with_enrs(&enrs(1..3))
            .sign("nodes.example.org", &signer)
            .unwrap()
            .to_resolver()
    };
    let url = url_of(&signer, "nodes.example.org");
    let (v5, v4) = (publish(5), publish(4));
    let mut walker = Walker::new(v5.clone());
    // The walker keeps what it saw; swap the published tree underneath.
    let outcome = block_on(walker.walk(&url));
    assert!(outcome.is_clean());
    *walker.resolver_mut() = v4;
    let outcome = block_on(walker.walk(&url));
    assert_eq!(
        outcome.errors,
        vec![TreeError::StaleRoot {
            domain: "nodes.example.org".into(),
            seq: 4,
            seen: 5
        }]
    );
    assert!(outcome.enrs.is_empty());
    *walker.resolver_mut() = v5;
    assert!(block_on(walker.walk(&url)).is_clean());
}

// spec: DNS-010
#[test]
fn the_root_is_found_among_other_txt_records() {
    let (tree, mut resolver, nodes) = forty();
    resolver.set(
        "nodes.example.org",
        vec!["v=spf1 -all".into(), tree.root().to_string()],
    );
    let outcome = walk(&resolver, tree.url());
    assert!(outcome.is_clean(), "{:?}", outcome.errors);
    assert_eq!(outcome.enrs.len(), nodes.len());

    resolver.set("nodes.example.org", vec!["v=spf1 -all".into()]);
    let outcome = walk(&resolver, tree.url());
    assert_eq!(
        outcome.errors,
        vec![TreeError::NoRoot {
            domain: "nodes.example.org".into()
        }]
    );
    let outcome = walk(&MemoryResolver::new(), tree.url());
    assert_eq!(
        outcome.errors,
        vec![TreeError::Resolve {
            name: "nodes.example.org".into(),
            error: ResolveError::NotFound
        }]
    );
}

// spec: DNS-009, DNS-013
#[test]
fn bad_leaves_are_named_and_skipped() {
    let signer = key(950);
    let good = common::enr(1).encode();
    // An ENR whose signature no longer verifies (one byte of the
    // signature changed), published under its own hash.
    let mut raw = common::enr(2).to_rlp_bytes();
    raw[5] ^= 1;
    let forged = format!("enr:{}", URL_SAFE_NO_PAD.encode(&raw));
    // A link in the ENR subtree, and an ENR in the link subtree.
    let link = url_of(&key(951), "other.example.org").to_string();
    let resolver = hand_tree(
        "bad.example.org",
        &signer,
        1,
        &[good, forged.clone(), link.clone()],
        &[common::enr(3).encode()],
    );
    let outcome = walk(&resolver, &url_of(&signer, "bad.example.org"));
    assert_eq!(outcome.enrs, vec![common::enr(1)]);
    assert_eq!(outcome.errors.len(), 3, "{:?}", outcome.errors);
    let forged_name = format!("{}.bad.example.org", label(&forged));
    assert!(outcome.errors.iter().any(|e| matches!(
        e,
        TreeError::Malformed { name, error: EntryError::Enr(_) } if *name == forged_name
    )));
    let link_name = format!("{}.bad.example.org", label(&link));
    assert!(outcome.errors.contains(&TreeError::UnexpectedEntry {
        name: link_name,
        found: "link",
        subtree: "enr"
    }));
    assert!(outcome.errors.iter().any(|e| matches!(
        e,
        TreeError::UnexpectedEntry {
            found: "enr",
            subtree: "link",
            ..
        }
    )));
}

#[test]
fn root_entries_print_and_parse_back() {
    let root = RootEntry::sign(
        "JWXYDBPXYWG6FX3GMDIBFA6CJ4",
        "C7HRFPF3BLGF3YR4DY5KX3SMBE",
        1,
        &key(5),
    );
    let text = root.to_string();
    assert_eq!(Entry::parse(&text), Ok(Entry::Root(root)));
    assert_eq!(Entry::parse("enrtree-branch:"), Ok(Entry::Branch(vec![])));
    assert!(matches!(
        Entry::parse("enrtree-branch:!!"),
        Err(EntryError::Hash(_))
    ));
    assert_eq!(Entry::parse("hello"), Err(EntryError::Unknown));
}

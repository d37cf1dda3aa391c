//! Autosharding (RELAY-SHARDING) against the js-waku vectors in
//! `vectors/autosharding.json`, the upstream example, and the shard mappers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use waku_core::{ContentTopic, ContentTopicError};
use waku_sharding::{
    AutoSharding, AutoshardError, MappingError, NetworkConfig, NetworkConfigError, RelayShard,
    ShardMapper, ShardTable, ShardTableKey, autoshard, autoshard_index,
};

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/autosharding.json")).unwrap()
}

// spec: SHARD-019, SHARD-022, SHARD-024, NET-034
#[test]
fn js_waku_shards_for_every_shard_count() {
    let doc = vectors();
    let mut checked = 0;
    for case in doc["valid"].as_array().unwrap() {
        let topic = case["content_topic"].as_str().unwrap();
        for (count, shard) in case["shard_by_num_shards"].as_object().unwrap() {
            let n: u16 = count.parse().unwrap();
            let ours = autoshard(topic, 1, n).unwrap();
            assert_eq!(
                u64::from(ours.shard),
                shard.as_u64().unwrap(),
                "{topic} / {n}"
            );
            checked += 1;
        }
        let twn = NetworkConfig::TWN.autoshard(topic).unwrap();
        assert_eq!(
            twn.to_string(),
            case["pubsub_topic_cluster1_8shards"].as_str().unwrap()
        );
        let c0 = autoshard(topic, 0, 8).unwrap();
        assert_eq!(
            c0.to_string(),
            case["pubsub_topic_cluster0_8shards"].as_str().unwrap()
        );
    }
    assert!(checked >= 100, "{checked}");
}

// spec: SHARD-019
#[test]
fn algorithm_is_last_eight_bytes_of_sha256_app_version_mod_n() {
    let doc = vectors();
    for case in doc["valid"].as_array().unwrap() {
        let parsed = &case["parsed"];
        let app = parsed["application"].as_str().unwrap();
        let version = parsed["version"].as_str().unwrap();
        let digest = Sha256::digest(format!("{app}{version}").as_bytes());
        assert_eq!(
            hex::encode(digest),
            case["informational_sha256_app_version_hex"]
                .as_str()
                .unwrap()
        );
        let tail = u64::from_be_bytes(digest[24..].try_into().unwrap());
        let topic: ContentTopic = case["content_topic"].as_str().unwrap().parse().unwrap();
        for n in [1u16, 5, 8, 1000, 1024] {
            assert_eq!(
                u64::from(autoshard_index(&topic, n).unwrap()),
                tail % u64::from(n)
            );
        }
    }
}

// spec: SHARD-021
#[test]
fn upstream_example_myapp_1_lands_on_shard_0() {
    let digest = hex::encode(Sha256::digest(b"myapp1"));
    assert!(digest.starts_with("8e541178"), "{digest}");
    assert!(digest.ends_with("802d4928"), "{digest}");
    assert_eq!(autoshard("/myapp/1/mytopic/cbor", 1, 8).unwrap().shard, 0);
}

// spec: SHARD-024, SHARD-023
#[test]
fn explicit_generation_zero_maps_like_no_generation() {
    assert_eq!(
        autoshard("/0/myapp/1/mytopic/cbor", 1, 8).unwrap(),
        autoshard("/myapp/1/mytopic/cbor", 1, 8).unwrap()
    );
}

// spec: SHARD-025
#[test]
fn other_generations_are_an_error() {
    assert_eq!(
        autoshard("/2/app/1/name/proto", 1, 8),
        Err(AutoshardError::UnsupportedGeneration {
            topic: "/2/app/1/name/proto".into(),
            generation: 2
        })
    );
}

// spec: TOPIC-005
#[test]
fn js_waku_invalid_topics_are_refused_and_lenient_ones_too() {
    let doc = vectors();
    for case in doc["invalid"].as_array().unwrap() {
        let topic = case["content_topic"].as_str().unwrap();
        assert!(autoshard(topic, 1, 8).is_err(), "{topic}");
    }
    for case in doc["js_waku_lenient_accepts"]["cases"].as_array().unwrap() {
        let topic = case["content_topic"].as_str().unwrap();
        let err = autoshard(topic, 1, 8).unwrap_err();
        assert!(
            matches!(err, AutoshardError::ContentTopic(_)),
            "{topic}: {err}"
        );
    }
    assert_eq!(
        autoshard("", 1, 8),
        Err(AutoshardError::ContentTopic(ContentTopicError::Empty))
    );
}

// spec: SHARD-017, NET-001
#[test]
fn the_waku_network_is_cluster_1_with_8_shards() {
    let twn = NetworkConfig::TWN;
    assert_eq!((twn.cluster_id, twn.num_shards), (1, 8));
    let topics: Vec<String> = twn.shards().map(|s| s.to_string()).collect();
    assert_eq!(topics.len(), 8);
    assert_eq!(topics[0], "/waku/2/rs/1/0");
    assert_eq!(topics[7], "/waku/2/rs/1/7");
    assert!(twn.contains(RelayShard::new(1, 7)));
    assert!(!twn.contains(RelayShard::new(1, 8)));
    assert!(!twn.contains(RelayShard::new(2, 0)));
}

// spec: SHARD-018, SHARD-017
#[test]
fn a_network_that_gives_no_shard_count_has_one_shard() {
    let other = NetworkConfig::for_cluster(7, None).unwrap();
    assert_eq!((other.cluster_id, other.num_shards), (7, 1));
    assert_eq!(NetworkConfig::DEFAULT_NUM_SHARDS, 1);
    assert_eq!(
        other.shards().map(|s| s.to_string()).collect::<Vec<_>>(),
        ["/waku/2/rs/7/0"]
    );
    // Every content topic lands on that one shard, including ones that
    // are not on shard 0 of The Waku Network.
    for topic in [
        "/app/1/chat/proto",
        "/toychat/2/huilong/proto",
        "/status/1/x/y",
    ] {
        assert_ne!(
            NetworkConfig::TWN.autoshard(topic).unwrap().shard,
            0,
            "{topic}"
        );
        assert_eq!(other.autoshard(topic).unwrap(), RelayShard::new(7, 0));
    }
    assert_eq!(
        NetworkConfig::TWN.autoshard("/app/1/chat/proto").unwrap(),
        RelayShard::new(1, 4)
    );
    // The Waku Network keeps its own count; a given count wins and is checked.
    assert_eq!(NetworkConfig::for_cluster(1, None), Ok(NetworkConfig::TWN));
    assert_eq!(
        NetworkConfig::for_cluster(7, Some(16)),
        NetworkConfig::new(7, 16)
    );
    assert_eq!(
        NetworkConfig::for_cluster(1, Some(2)).unwrap().num_shards,
        2
    );
    assert_eq!(
        NetworkConfig::for_cluster(7, Some(0)),
        Err(NetworkConfigError::ShardCount(0))
    );
}

#[test]
fn network_shard_count_is_checked() {
    assert_eq!(
        NetworkConfig::new(1, 0),
        Err(NetworkConfigError::ShardCount(0))
    );
    assert_eq!(
        NetworkConfig::new(1, 1025),
        Err(NetworkConfigError::ShardCount(1025))
    );
    assert!(NetworkConfig::new(1, 1024).is_ok());
    let t: ContentTopic = "/a/1/b/c".parse().unwrap();
    assert_eq!(autoshard_index(&t, 0), Err(AutoshardError::NoShards));
}

#[test]
fn shard_table_maps_exact_topics_then_applications() {
    let table = ShardTable::new(42)
        .with(ShardTableKey::Application("myapp".into()), 3)
        .with(
            ShardTableKey::ContentTopic("/myapp/1/special/proto".into()),
            9,
        );
    assert_eq!(
        table.shard_for("/myapp/1/chat/proto").unwrap(),
        RelayShard::new(42, 3)
    );
    assert_eq!(
        table.shard_for("/myapp/2/other/json").unwrap(),
        RelayShard::new(42, 3)
    );
    assert_eq!(
        table.shard_for("/myapp/1/special/proto").unwrap(),
        RelayShard::new(42, 9)
    );
    assert_eq!(
        table.shard_for("/other/1/chat/proto"),
        Err(MappingError::NotMapped("/other/1/chat/proto".into()))
    );
    assert!(matches!(
        table.shard_for("junk"),
        Err(MappingError::ContentTopic(_))
    ));

    // Both policies behind the same trait object.
    let mappers: Vec<Box<dyn ShardMapper>> =
        vec![Box::new(AutoSharding(NetworkConfig::TWN)), Box::new(table)];
    assert_eq!(
        mappers[0].shard_for("/app/1/chat/proto").unwrap(),
        RelayShard::new(1, 4)
    );
    assert_eq!(
        mappers[1].shard_for("/myapp/1/x/y").unwrap(),
        RelayShard::new(42, 3)
    );
}

proptest! {
    // spec: SHARD-016
    #[test]
    fn autoshard_stays_within_the_network(
        app in "[a-z]{1,10}", ver in "[0-9]{1,3}", n in 1u16..=1024, cluster in any::<u16>()
    ) {
        let s = autoshard(&format!("/{app}/{ver}/n/e"), cluster, n).unwrap();
        prop_assert!(s.shard < n);
        prop_assert_eq!(s.cluster, cluster);
    }

    // spec: SHARD-020
    #[test]
    fn name_and_encoding_never_change_the_shard(
        app in "[a-z]{1,10}", ver in "[0-9]{1,3}",
        n1 in "[a-z]{1,8}", e1 in "[a-z]{1,8}", n2 in "[a-z]{1,8}", e2 in "[a-z]{1,8}",
    ) {
        prop_assert_eq!(
            autoshard(&format!("/{app}/{ver}/{n1}/{e1}"), 1, 8).unwrap(),
            autoshard(&format!("/{app}/{ver}/{n2}/{e2}"), 1, 8).unwrap()
        );
    }
}

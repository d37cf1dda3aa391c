//! Static-sharding pubsub topic names (RELAY-SHARDING), against the js-waku
//! parsing cases in `vectors/autosharding.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::Value;
use waku_sharding::{MAX_SHARD_INDEX, PubsubTopicError, RelayShard};

// spec: SHARD-004, TOPIC-001, TOPIC-002
#[test]
fn pubsub_topic_is_waku_2_rs_cluster_shard_in_decimal() {
    assert_eq!(RelayShard::new(0, 2).pubsub_topic(), "/waku/2/rs/0/2");
    assert_eq!(RelayShard::new(1, 7).to_string(), "/waku/2/rs/1/7");
    assert_eq!(
        RelayShard::new(65535, 1023).to_string(),
        "/waku/2/rs/65535/1023"
    );
}

// spec: SHARD-002, SHARD-005
#[test]
fn js_waku_parsing_cases_and_our_stricter_choices() {
    let doc: Value = serde_json::from_str(include_str!("vectors/autosharding.json")).unwrap();
    for case in doc["pubsub_topic_parsing"]["cases"].as_array().unwrap() {
        let topic = case["pubsub_topic"].as_str().unwrap();
        let ours = topic.parse::<RelayShard>();
        // js-waku accepts a few junk forms that we refuse on purpose.
        let refused_by_us = matches!(
            topic,
            "/waku/2/rs/1/3abc" | "/waku/2/rs/-1/0" | "/waku/2/rs/1/99999" | "/waku/2/rs/01/02"
        ) || topic == "/waku/2/rs/65535/65535";
        if case["ok"].as_bool().unwrap() && !refused_by_us {
            let parsed = ours.unwrap();
            assert_eq!(u64::from(parsed.cluster), case["parsed"]["clusterId"]);
            assert_eq!(u64::from(parsed.shard), case["parsed"]["shard"]);
            assert_eq!(parsed.to_string(), topic);
        } else {
            assert!(ours.is_err(), "{topic} should be refused");
        }
    }
}

// spec: SHARD-002, SHARD-005
#[test]
fn errors_say_what_is_wrong() {
    let junk = "/waku/2/rs/1/3abc".parse::<RelayShard>().unwrap_err();
    assert!(matches!(
        junk,
        PubsubTopicError::InvalidNumber { field: "shard", .. }
    ));
    let negative = "/waku/2/rs/-1/0".parse::<RelayShard>().unwrap_err();
    assert!(matches!(
        negative,
        PubsubTopicError::InvalidNumber {
            field: "cluster",
            ..
        }
    ));
    let big_cluster = "/waku/2/rs/65536/0".parse::<RelayShard>().unwrap_err();
    assert!(matches!(
        big_cluster,
        PubsubTopicError::InvalidNumber {
            field: "cluster",
            ..
        }
    ));
    assert_eq!(
        "/waku/2/rs/1/1024".parse::<RelayShard>(),
        Err(PubsubTopicError::ShardOutOfRange(1024))
    );
    assert!("/waku/2/rs/1/1023".parse::<RelayShard>().is_ok());
    for missing in [
        "/waku/2/rs/1",
        "/waku/2/rs/1/",
        "/waku/2/rs//1",
        "/waku/2/rs/1/2/3",
    ] {
        assert!(missing.parse::<RelayShard>().is_err(), "{missing}");
    }
    assert!(matches!(
        "/waku/2/default-waku/proto".parse::<RelayShard>(),
        Err(PubsubTopicError::NotStaticSharding(_))
    ));
    assert_eq!(
        RelayShard::try_new(1, MAX_SHARD_INDEX + 1)
            .unwrap_err()
            .to_string(),
        "shard 1024 is out of range: a cluster has shards 0 to 1023"
    );
}

proptest! {
    // spec: SHARD-004, SHARD-005
    #[test]
    fn format_parse_round_trip(cluster in any::<u16>(), shard in 0u16..=MAX_SHARD_INDEX) {
        let s = RelayShard::try_new(cluster, shard).unwrap();
        prop_assert_eq!(s.to_string().parse::<RelayShard>().unwrap(), s);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "/waku/2/rs/.{0,12}") {
        let _ = s.parse::<RelayShard>();
    }
}

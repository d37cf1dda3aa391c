//! Content topic parsing (23/WAKU2-TOPICS plus the autosharding generation);
//! the invalid cases are those of the js-waku autosharding vectors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use waku_core::{ContentTopic, ContentTopicError, LEGACY_DEFAULT_PUBSUB_TOPIC};

// spec: TOPIC-004
#[test]
fn four_field_form_parses_into_its_parts() {
    let t: ContentTopic = "/toychat/2/huilong/proto".parse().unwrap();
    assert_eq!(t.application(), "toychat");
    assert_eq!(t.version(), "2");
    assert_eq!(t.name(), "huilong");
    assert_eq!(t.encoding(), "proto");
    assert_eq!(t.generation_field(), None);
    assert_eq!(t.generation(), 0);
}

#[test]
fn generation_prefixed_form_parses() {
    let t: ContentTopic = "/0/toychat/2/huilong/proto".parse().unwrap();
    assert_eq!(t.generation_field(), Some(0));
    assert_eq!(t.application(), "toychat");
    let t: ContentTopic = "/3/a/1/n/e".parse().unwrap();
    assert_eq!(t.generation(), 3);
}

// spec: TOPIC-005
#[test]
fn malformed_topics_are_refused_with_the_reason() {
    use ContentTopicError::*;
    type Check = fn(&ContentTopicError) -> bool;
    let cases: &[(&str, Check)] = &[
        ("", |e| matches!(e, Empty)),
        ("app/1/name/proto", |e| matches!(e, MissingLeadingSlash(_))),
        ("x/app/1/name/proto", |e| {
            matches!(e, MissingLeadingSlash(_))
        }),
        ("/app/1/name/proto/extra/more", |e| {
            matches!(e, WrongFieldCount { fields: 6, .. })
        }),
        ("/a/b/c/d/e/f/g", |e| {
            matches!(e, WrongFieldCount { fields: 7, .. })
        }),
        ("/a/b/c", |e| matches!(e, WrongFieldCount { fields: 3, .. })),
        ("/app//name/proto", |e| {
            matches!(
                e,
                EmptyField {
                    field: "version",
                    ..
                }
            )
        }),
        ("/app/1/name/", |e| {
            matches!(
                e,
                EmptyField {
                    field: "encoding",
                    ..
                }
            )
        }),
        ("//app/1/name/proto", |e| {
            matches!(
                e,
                EmptyField {
                    field: "generation",
                    ..
                }
            )
        }),
        ("/0/app//name/proto", |e| {
            matches!(
                e,
                EmptyField {
                    field: "version",
                    ..
                }
            )
        }),
        ("/0/app/1/name/", |e| {
            matches!(
                e,
                EmptyField {
                    field: "encoding",
                    ..
                }
            )
        }),
        ("//1/name/proto", |e| {
            matches!(
                e,
                EmptyField {
                    field: "application",
                    ..
                }
            )
        }),
        ("/app/1//proto", |e| {
            matches!(e, EmptyField { field: "name", .. })
        }),
        ("/0x1/app/1/name/proto", |e| {
            matches!(e, InvalidGeneration { .. })
        }),
        // Forms js-waku accepts leniently and nwaku refuses: we refuse them.
        ("/0abc/app/1/name/proto", |e| {
            matches!(e, InvalidGeneration { .. })
        }),
        ("/-1/app/1/name/proto", |e| {
            matches!(e, InvalidGeneration { .. })
        }),
        ("/ 0/app/1/name/proto", |e| {
            matches!(e, InvalidGeneration { .. })
        }),
        ("/00/app/1/name/proto", |e| {
            matches!(e, InvalidGeneration { .. })
        }),
        ("/99999999999/app/1/name/proto", |e| {
            matches!(e, InvalidGeneration { .. })
        }),
    ];
    for (topic, check) in cases {
        let err = topic.parse::<ContentTopic>().unwrap_err();
        assert!(check(&err), "{topic:?} gave {err:?}");
        assert!(err.to_string().contains("content topic"), "{err}");
    }
}

// spec: TOPIC-003
#[test]
fn legacy_default_pubsub_topic_is_exact() {
    assert_eq!(LEGACY_DEFAULT_PUBSUB_TOPIC, "/waku/2/default-waku/proto");
}

proptest! {
    // spec: TOPIC-006
    #[test]
    fn format_then_parse_round_trips(
        generation in proptest::option::of(0u32..1000),
        fields in proptest::array::uniform4("[a-zA-Z0-9_.\\-ü]{1,12}"),
    ) {
        let [app, ver, name, enc] = fields;
        let text = match generation {
            Some(g) => format!("/{g}/{app}/{ver}/{name}/{enc}"),
            None => format!("/{app}/{ver}/{name}/{enc}"),
        };
        let parsed: ContentTopic = text.parse().unwrap();
        prop_assert_eq!(parsed.to_string(), text);
        prop_assert_eq!(parsed.generation_field(), generation);
        prop_assert_eq!(parsed.application(), app.as_str());
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,64}") {
        let _ = s.parse::<ContentTopic>();
    }
}

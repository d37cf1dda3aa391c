//! The shared message checks: size limit, `meta` length, timestamp window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use waku_core::{
    DEFAULT_MAX_MESSAGE_SIZE, MessageValidator, ValidationError, WakuMessage, now_nanos,
};

const SECOND: i64 = 1_000_000_000;

#[test]
fn defaults_are_nwakus() {
    let v = MessageValidator::default();
    assert_eq!(v.max_message_size, 150 * 1024);
    assert_eq!(DEFAULT_MAX_MESSAGE_SIZE, 153_600);
    assert_eq!(v.max_timestamp_skew, Duration::from_secs(20));
}

#[test]
fn size_limit_is_inclusive() {
    let v = MessageValidator {
        max_message_size: 1000,
        ..Default::default()
    };
    assert_eq!(v.check_size(1000), Ok(()));
    assert_eq!(
        v.check_size(1001),
        Err(ValidationError::TooLarge {
            size: 1001,
            max: 1000
        })
    );
}

#[test]
fn validate_uses_the_serialized_size() {
    let v = MessageValidator::default();
    let m = WakuMessage::new(vec![0u8; DEFAULT_MAX_MESSAGE_SIZE], "/a/1/b/c");
    let err = v.validate(&m, m.encoded_len(), now_nanos()).unwrap_err();
    assert!(matches!(err, ValidationError::TooLarge { .. }), "{err}");
    let small = WakuMessage::new(vec![0u8; 1024], "/a/1/b/c");
    assert_eq!(v.validate(&small, small.encoded_len(), now_nanos()), Ok(()));
}

// spec: MSG-003
#[test]
fn meta_over_64_bytes_fails_validation() {
    let v = MessageValidator::default();
    let mut m = WakuMessage::new(&b""[..], "/a/1/b/c");
    m.meta = Some(vec![0u8; 64].into());
    assert_eq!(v.check_meta(&m), Ok(()));
    m.meta = Some(vec![0u8; 65].into());
    assert_eq!(v.check_meta(&m), Err(ValidationError::MetaTooLong(65)));
}

#[test]
fn timestamp_window_is_symmetric_and_configurable() {
    let v = MessageValidator::default();
    let now = 1_700_000_000 * SECOND;
    let at = |t: i64| {
        let mut m = WakuMessage::new(&b""[..], "/a/1/b/c");
        m.timestamp = Some(t);
        m
    };
    assert_eq!(v.check_timestamp(&at(now), now), Ok(()));
    assert_eq!(v.check_timestamp(&at(now - 20 * SECOND), now), Ok(()));
    assert_eq!(v.check_timestamp(&at(now + 20 * SECOND), now), Ok(()));
    let stale = v.check_timestamp(&at(now - 21 * SECOND), now).unwrap_err();
    assert!(stale.to_string().contains("21000 ms"), "{stale}");
    assert!(v.check_timestamp(&at(now + 21 * SECOND), now).is_err());
    assert!(v.check_timestamp(&at(i64::MIN + 1), now).is_err());

    let wide = MessageValidator {
        max_timestamp_skew: Duration::from_secs(60),
        ..Default::default()
    };
    assert_eq!(wide.check_timestamp(&at(now - 59 * SECOND), now), Ok(()));
}

#[test]
fn a_message_without_timestamp_passes_the_window_check() {
    let v = MessageValidator::default();
    let m = WakuMessage::new(&b""[..], "/a/1/b/c");
    assert_eq!(v.check_timestamp(&m, now_nanos()), Ok(()));
}

//! nwaku's JSON form of a `WakuMessage`: bytes as standard base64 (padding
//! optional on input), timestamps as nanosecond numbers.

use base64::Engine;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};
use waku_core::{WakuMessage, now_nanos};

/// Standard alphabet; accepts input with or without `=` padding, writes padding.
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A message as the REST API receives it. As nwaku's decoder, it refuses
/// fields it does not know and a `timestamp` given as `null` (leaving the
/// timestamp out is fine: the node stamps the message).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageIn {
    payload: Option<String>,
    content_topic: Option<String>,
    version: Option<u32>,
    #[serde(default, deserialize_with = "present_number")]
    timestamp: Option<i64>,
    meta: Option<String>,
    ephemeral: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    proof: Option<String>,
}

/// A field that may be left out but, when given, must be a number (`null`
/// is refused).
fn present_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    i64::deserialize(d).map(Some)
}

fn decode_b64(value: &str) -> Result<bytes::Bytes, String> {
    B64.decode(value.trim())
        .map(Into::into)
        .map_err(|_| "Incorrect base64 string".to_owned())
}

impl MessageIn {
    /// The message, with the node's clock as timestamp when none (or 0) is given.
    pub fn into_message(self) -> Result<WakuMessage, String> {
        let payload = self
            .payload
            .filter(|p| !p.trim().is_empty())
            .ok_or("Field `payload` is missing or empty")?;
        let content_topic = self
            .content_topic
            .filter(|t| !t.is_empty())
            .ok_or("Field `contentTopic` is missing or empty")?;
        let mut message = WakuMessage::new(decode_b64(&payload)?, content_topic);
        message.version = Some(self.version.unwrap_or(0));
        message.timestamp = Some(match self.timestamp {
            Some(ts) if ts != 0 => ts,
            _ => now_nanos(),
        });
        message.meta = self.meta.as_deref().map(decode_b64).transpose()?;
        message.ephemeral = Some(self.ephemeral.unwrap_or(false));
        Ok(message)
    }
}

/// A message as the relay REST API returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageOut {
    payload: String,
    content_topic: String,
    version: u32,
    timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<String>,
    ephemeral: bool,
    /// The relay API writes an empty proof; the filter API none.
    #[serde(skip_serializing_if = "Option::is_none")]
    proof: Option<String>,
}

impl From<&WakuMessage> for MessageOut {
    fn from(m: &WakuMessage) -> Self {
        Self {
            payload: B64.encode(&m.payload),
            content_topic: m.content_topic.clone(),
            version: m.version_or_zero(),
            timestamp: m.timestamp_or_zero(),
            meta: (!m.meta_bytes().is_empty()).then(|| B64.encode(m.meta_bytes())),
            ephemeral: m.is_ephemeral(),
            proof: Some(String::new()),
        }
    }
}

impl MessageOut {
    /// The form of `GET /filter/v2/messages`: no `proof` field.
    pub fn for_filter(m: &WakuMessage) -> Self {
        Self {
            proof: None,
            ..Self::from(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<WakuMessage, String> {
        serde_json::from_str::<MessageIn>(body)
            .map_err(|e| e.to_string())
            .and_then(MessageIn::into_message)
    }

    #[test]
    fn refuses_null_timestamps_and_unknown_fields_as_nwaku() {
        let ok = parse(r#"{"payload":"aGk=","contentTopic":"/a/1/b/proto","timestamp":5}"#);
        assert_eq!(ok.unwrap().timestamp, Some(5));
        // Left out: the node stamps it.
        let stamped = parse(r#"{"payload":"aGk=","contentTopic":"/a/1/b/proto"}"#).unwrap();
        assert!(stamped.timestamp.is_some_and(|t| t > 0));
        let null = parse(r#"{"payload":"aGk=","contentTopic":"/a/1/b/proto","timestamp":null}"#);
        assert!(null.is_err(), "{null:?}");
        let unknown = parse(r#"{"payload":"aGk=","contentTopic":"/a/1/b/proto","colour":"red"}"#);
        assert!(unknown.unwrap_err().contains("unknown field `colour`"));
        // The fields nwaku's relay GET writes may be sent back as they are.
        let echoed = parse(
            r#"{"payload":"aGk=","contentTopic":"/a/1/b/proto","version":0,"timestamp":7,"meta":"","ephemeral":false,"proof":""}"#,
        );
        assert!(echoed.is_ok(), "{echoed:?}");
    }
}

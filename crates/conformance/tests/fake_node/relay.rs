//! The fake node's relay: a gossipsub peer on the Waku relay protocol that
//! forwards a message only once its validator accepted it, and a
//! validator following 64/WAKU2-NETWORK and 11/WAKU2-RELAY (decodable,
//! at most 150 KiB, stamped within 20 s, unsigned), each rule switchable
//! off by a defect.

use libp2p::{gossipsub, identity};
use prost::Message;
use waku_core::proto::message::v1::WakuMessage;

use super::{Faults, TOPIC};

/// The largest WakuMessage relayed (NET-018).
const MAX_MESSAGE_SIZE: usize = 150 * 1024;

/// How far a message's timestamp may be from the clock (NET-027), in
/// nanoseconds.
const MAX_TIMESTAMP_SKEW_NS: u64 = 20 * 1_000_000_000;

/// The relay behaviour: publishes signed when `signs`, joins [`TOPIC`]
/// when `subscribes`, and holds every received message for [`validate`].
pub fn behaviour(key: &identity::Keypair, signs: bool, subscribes: bool) -> gossipsub::Behaviour {
    use sha2::Digest;
    let config = gossipsub::ConfigBuilder::default()
        .protocol_id(waku_core::protocol_id::RELAY, gossipsub::Version::V1_1)
        // Author fields are judged by `validate` (a signing fake cannot
        // use the anonymous mode, which rejects them; the permissive one
        // hands them on, and forwards them intact).
        .validation_mode(gossipsub::ValidationMode::Permissive)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId(sha2::Sha256::digest(&m.data).to_vec())
        })
        .max_transmit_size(1024 * 1024)
        .build()
        .unwrap();
    let authenticity = if signs {
        gossipsub::MessageAuthenticity::Signed(key.clone())
    } else {
        gossipsub::MessageAuthenticity::Anonymous
    };
    let mut relay = gossipsub::Behaviour::new(authenticity, config).unwrap();
    if subscribes {
        relay.subscribe(&gossipsub::IdentTopic::new(TOPIC)).unwrap();
    }
    relay
}

/// What the validator makes of a received message, and the WakuMessage to
/// take in when it is accepted and decodes.
pub fn validate(
    faults: &Faults,
    message: &gossipsub::Message,
) -> (gossipsub::MessageAcceptance, Option<WakuMessage>) {
    use gossipsub::MessageAcceptance::{Accept, Ignore, Reject};
    if faults.relay_drops_everything {
        return (Ignore, None);
    }
    let signed = message.source.is_some() || message.sequence_number.is_some();
    if signed && !faults.relay_forwards_signed {
        return (Reject, None);
    }
    let Ok(decoded) = WakuMessage::decode(message.data.as_slice()) else {
        let acceptance = if faults.relay_forwards_undecodable {
            Accept
        } else {
            Reject
        };
        return (acceptance, None);
    };
    if decoded.encoded_len() > MAX_MESSAGE_SIZE && !faults.relay_accepts_oversize {
        return (Reject, None);
    }
    let now = waku_core::now_nanos();
    let skew = decoded.timestamp.map_or(0, |t| t.abs_diff(now));
    if skew > MAX_TIMESTAMP_SKEW_NS && !faults.relay_forwards_stale {
        return (Reject, None);
    }
    (Accept, Some(decoded))
}

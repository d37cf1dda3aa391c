//! The unsigned-varint length-prefixed protobuf framing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::executor::block_on;
use futures::io::Cursor;
use serde_json::Value;
use waku_core::codec::{
    CodecError, decode_frame, encode_frame, read_frame, write_frame, write_frame_and_close,
};
use waku_core::proto::message::v1::WakuMessage as PbMessage;

const RPC_VECTORS: &str = include_str!("vectors/rpc.json");

/// A message with no known fields: decoding it only checks the framing.
#[derive(Clone, PartialEq, prost::Message)]
struct Opaque {}

fn sample() -> PbMessage {
    PbMessage {
        payload: vec![9u8; 300].into(),
        content_topic: "/app/1/chat/proto".into(),
        timestamp: Some(1_700_000_000_000_000_000),
        ..Default::default()
    }
}

fn read(bytes: Vec<u8>, max: usize) -> Result<PbMessage, CodecError> {
    block_on(read_frame::<PbMessage, _>(&mut Cursor::new(bytes), max))
}

#[test]
fn write_then_read_round_trips_with_a_two_byte_prefix() {
    let mut buf = Cursor::new(Vec::new());
    block_on(write_frame(&mut buf, &sample(), 1024)).unwrap();
    let bytes = buf.into_inner();
    let body_len = prost::Message::encoded_len(&sample());
    assert!(body_len > 127);
    assert_eq!(bytes.len(), body_len + 2);
    assert_eq!(read(bytes, 1024).unwrap(), sample());
}

#[test]
fn two_frames_on_one_stream_read_in_order() {
    let mut second = sample();
    second.payload = bytes::Bytes::from_static(b"second");
    let mut bytes = encode_frame(&sample());
    bytes.extend(encode_frame(&second));
    let mut io = Cursor::new(bytes);
    assert_eq!(
        block_on(read_frame::<PbMessage, _>(&mut io, 1024)).unwrap(),
        sample()
    );
    assert_eq!(
        block_on(read_frame::<PbMessage, _>(&mut io, 1024)).unwrap(),
        second
    );
    assert!(matches!(
        block_on(read_frame::<PbMessage, _>(&mut io, 1024)),
        Err(CodecError::Closed)
    ));
}

#[test]
fn empty_stream_is_closed_not_an_error_frame() {
    assert!(matches!(read(vec![], 10), Err(CodecError::Closed)));
}

#[test]
fn truncated_prefix_and_body_are_reported() {
    assert!(matches!(
        read(vec![0x80], 1000),
        Err(CodecError::Truncated {
            expected: 2,
            got: 1
        })
    ));
    assert!(matches!(
        read(vec![10, 1, 2, 3], 1000),
        Err(CodecError::Truncated {
            expected: 10,
            got: 3
        })
    ));
}

#[test]
fn oversized_frames_are_refused_before_reading_the_body() {
    // The prefix announces 1000 bytes but none follow: the size check comes first.
    let prefix = unsigned_varint_prefix(1000);
    assert!(matches!(
        read(prefix, 999),
        Err(CodecError::TooLarge {
            size: 1000,
            max: 999
        })
    ));
    let mut buf = Cursor::new(Vec::new());
    let err = block_on(write_frame(&mut buf, &sample(), 10)).unwrap_err();
    assert!(matches!(err, CodecError::TooLarge { max: 10, .. }));
    assert!(buf.into_inner().is_empty(), "nothing written");
}

#[test]
fn overlong_varint_is_malformed() {
    assert!(matches!(
        read(vec![0xff; 11], 1000),
        Err(CodecError::BadLength)
    ));
}

#[test]
fn undecodable_body_is_a_decode_error() {
    assert!(matches!(
        read(vec![2, 0xff, 0xff], 1000),
        Err(CodecError::Decode(_))
    ));
}

#[test]
fn decode_frame_waits_for_whole_frames() {
    let bytes = encode_frame(&sample());
    for cut in 0..bytes.len() {
        assert!(
            decode_frame::<PbMessage>(&bytes[..cut], 1024)
                .unwrap()
                .is_none()
        );
    }
    let (m, used) = decode_frame::<PbMessage>(&bytes, 1024).unwrap().unwrap();
    assert_eq!((m, used), (sample(), bytes.len()));
    assert!(matches!(
        decode_frame::<PbMessage>(&bytes, 10),
        Err(CodecError::TooLarge { .. })
    ));
}

#[test]
fn every_js_waku_rpc_frame_is_one_whole_frame() {
    let doc: Value = serde_json::from_str(RPC_VECTORS).unwrap();
    let mut n = 0;
    for group in [
        "filter_v2",
        "lightpush",
        "store_v3",
        "metadata",
        "peer_exchange",
    ] {
        for case in doc[group].as_array().unwrap() {
            let framed = hex::decode(case["length_prefixed_hex"].as_str().unwrap()).unwrap();
            let bare = hex::decode(case["hex"].as_str().unwrap()).unwrap();
            let (_, used) = decode_frame::<Opaque>(&framed, 1 << 20).unwrap().unwrap();
            assert_eq!(used, framed.len(), "{}", case["name"]);
            assert!(framed.ends_with(&bare), "{}", case["name"]);
            assert_eq!(
                framed.len() - bare.len(),
                unsigned_varint_prefix(bare.len()).len()
            );
            n += 1;
        }
    }
    assert!(n >= 30, "{n} frames");
}

#[test]
fn responder_closes_its_write_side() {
    let mut buf = Cursor::new(Vec::new());
    block_on(write_frame_and_close(&mut buf, &sample(), 1024)).unwrap();
    assert_eq!(read(buf.into_inner(), 1024).unwrap(), sample());
}

#[test]
fn codec_errors_map_to_io_kinds() {
    let eof: std::io::Error = CodecError::Closed.into();
    assert_eq!(eof.kind(), std::io::ErrorKind::UnexpectedEof);
    let big: std::io::Error = CodecError::TooLarge { size: 2, max: 1 }.into();
    assert_eq!(big.kind(), std::io::ErrorKind::InvalidData);
}

fn unsigned_varint_prefix(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

// What a service answers and what it drops: a whole frame that does not
// decode, or a length beyond the limit, is an inner error (answered); a
// stream that ends before or inside a frame is the outer error (dropped).
#[test]
fn request_frames_split_answerable_errors_from_ended_streams() {
    use waku_core::codec::read_request_frame;
    let read = |bytes: Vec<u8>, max| {
        block_on(read_request_frame::<PbMessage, _>(
            &mut Cursor::new(bytes),
            max,
        ))
    };
    let ok = encode_frame(&PbMessage::default());
    assert!(matches!(read(ok, 1024), Ok(Ok(_))));
    // Field 1 (payload, bytes) sent as a varint: not a WakuMessage.
    assert!(matches!(
        read(vec![2, 0x08, 0x01], 1024),
        Ok(Err(CodecError::Decode(_)))
    ));
    // A prefix of 1 025 bytes, body never sent: refused before reading it.
    assert!(matches!(
        read(vec![0x81, 0x08], 1024),
        Ok(Err(CodecError::TooLarge {
            size: 1025,
            max: 1024
        }))
    ));
    assert!(read(vec![], 1024).is_err());
    assert!(read(vec![5, 0x0a], 1024).is_err());
}

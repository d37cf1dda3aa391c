//! The `rs` (index list) and `rsv` (bit vector) entries of RELAY-SHARDING.
//!
//! - `rs`: cluster id (2 bytes, big-endian), shard count (1 byte), then each
//!   shard index (2 bytes, big-endian).
//! - `rsv`: cluster id (2 bytes, big-endian), then a 128-byte flag field for
//!   shards 0 to 1023. Shard `s` is bit `s % 8`, counted from the least
//!   significant bit, of flag byte `s / 8` (value byte `2 + s / 8`). This is the
//!   layout nwaku and go-waku write and read; the spec's prose and example
//!   disagree with each other, and some js-waku releases use the mirrored bit
//!   order (`1 << (7 - s % 8)`), which this crate does not read.
//!
//! Shard indices are bounded by RELAY-SHARDING, not by the 2-byte width of an
//! `rs` index: a cluster has 1024 shards, 0 to 1023 ([`MAX_SHARD_INDEX`], the
//! bound `waku_sharding::RelayShard` enforces too). An `rs` value naming a
//! shard above 1023 is refused when decoding and when encoding
//! ([`EnrError::ShardOutOfRange`]).

use waku_sharding::{ClusterId, MAX_SHARD_INDEX, RelayShards, ShardId};

use crate::error::EnrError;

/// The ENR key of the index list.
pub const RS_KEY: &str = "rs";
/// The ENR key of the bit vector.
pub const RSV_KEY: &str = "rsv";
/// From this many shards on, a record advertises them as `rsv` (below it, `rs`).
pub const BIT_VECTOR_THRESHOLD: usize = 64;
/// The highest shard index the bit vector can hold (the highest shard index
/// there is).
pub const MAX_BIT_VECTOR_SHARD: ShardId = MAX_SHARD_INDEX;
/// The length of an `rsv` value: 2 cluster bytes and 128 flag bytes.
pub const BIT_VECTOR_LEN: usize = 2 + 128;

/// Which of the two entries holds a node's shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShardsEncoding {
    /// The `rs` index list.
    IndexList,
    /// The `rsv` bit vector.
    BitVector,
}

impl ShardsEncoding {
    /// The ENR key of this encoding (`rs` or `rsv`).
    pub const fn key(self) -> &'static str {
        match self {
            ShardsEncoding::IndexList => RS_KEY,
            ShardsEncoding::BitVector => RSV_KEY,
        }
    }
}

/// The first shard of `shards` above [`MAX_SHARD_INDEX`], as the error of
/// the `field` entry.
fn check_range(field: &'static str, shards: &RelayShards) -> Result<(), EnrError> {
    match shards.shards.iter().find(|&&s| s > MAX_SHARD_INDEX) {
        Some(&shard) => Err(EnrError::ShardOutOfRange { field, shard }),
        None => Ok(()),
    }
}

/// Encodes `shards` as an `rs` value.
///
/// Fails when a shard index is above 1023 ([`EnrError::ShardOutOfRange`]) or
/// there are more than 255 shards (the count is one byte).
pub fn encode_index_list(shards: &RelayShards) -> Result<Vec<u8>, EnrError> {
    check_range(RS_KEY, shards)?;
    let count = u8::try_from(shards.shards.len()).map_err(|_| {
        EnrError::UnencodableShards(format!(
            "{} shards do not fit the 1-byte count of `rs`",
            shards.shards.len()
        ))
    })?;
    let mut out = Vec::with_capacity(3 + 2 * shards.shards.len());
    out.extend_from_slice(&shards.cluster.to_be_bytes());
    out.push(count);
    for shard in &shards.shards {
        out.extend_from_slice(&shard.to_be_bytes());
    }
    Ok(out)
}

/// Decodes an `rs` value.
///
/// Fails when it is shorter than 3 bytes or its length is not `3 + 2 * count`
/// ([`EnrError::MalformedField`]), or when it names a shard above 1023
/// ([`EnrError::ShardOutOfRange`]).
pub fn decode_index_list(value: &[u8]) -> Result<RelayShards, EnrError> {
    let malformed = |reason: String| EnrError::MalformedField {
        field: RS_KEY,
        reason,
    };
    let [c0, c1, count, rest @ ..] = value else {
        return Err(malformed(format!(
            "expected at least 3 bytes, got {}",
            value.len()
        )));
    };
    let count = usize::from(*count);
    if rest.len() != 2 * count {
        return Err(malformed(format!(
            "count says {count} shards ({} bytes) but {} bytes follow",
            2 * count,
            rest.len()
        )));
    }
    let cluster = ClusterId::from_be_bytes([*c0, *c1]);
    let shards = RelayShards::new(
        cluster,
        rest.chunks_exact(2)
            .map(|pair| ShardId::from_be_bytes([pair[0], pair[1]])),
    );
    check_range(RS_KEY, &shards)?;
    Ok(shards)
}

/// Encodes `shards` as an `rsv` value.
///
/// Fails when a shard index is above 1023 ([`EnrError::ShardOutOfRange`]).
pub fn encode_bit_vector(shards: &RelayShards) -> Result<Vec<u8>, EnrError> {
    check_range(RSV_KEY, shards)?;
    let mut out = vec![0u8; BIT_VECTOR_LEN];
    out[..2].copy_from_slice(&shards.cluster.to_be_bytes());
    for &shard in &shards.shards {
        let shard = usize::from(shard);
        out[2 + shard / 8] |= 1 << (shard % 8);
    }
    Ok(out)
}

/// Decodes an `rsv` value.
///
/// Fails when it is not exactly 130 bytes.
pub fn decode_bit_vector(value: &[u8]) -> Result<RelayShards, EnrError> {
    if value.len() != BIT_VECTOR_LEN {
        return Err(EnrError::MalformedField {
            field: RSV_KEY,
            reason: format!("expected {BIT_VECTOR_LEN} bytes, got {}", value.len()),
        });
    }
    let cluster = ClusterId::from_be_bytes([value[0], value[1]]);
    let mut shards = Vec::new();
    for (index, byte) in value[2..].iter().enumerate() {
        for bit in 0..8 {
            if byte & (1 << bit) != 0 {
                // index < 128, so the shard is at most 1023.
                shards.push((index * 8 + bit) as ShardId);
            }
        }
    }
    Ok(RelayShards::new(cluster, shards))
}

/// The entry a record built from `shards` uses: `rs` below 64 shards, `rsv`
/// from 64 on (either refuses a shard above 1023).
pub fn preferred_encoding(shards: &RelayShards) -> ShardsEncoding {
    if shards.shards.len() < BIT_VECTOR_THRESHOLD {
        ShardsEncoding::IndexList
    } else {
        ShardsEncoding::BitVector
    }
}

/// Encodes `shards` with [`preferred_encoding`], returning which entry to write
/// and its value.
pub fn encode_shards(shards: &RelayShards) -> Result<(ShardsEncoding, Vec<u8>), EnrError> {
    let encoding = preferred_encoding(shards);
    let value = match encoding {
        ShardsEncoding::IndexList => encode_index_list(shards)?,
        ShardsEncoding::BitVector => encode_bit_vector(shards)?,
    };
    Ok((encoding, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_list_round_trip() {
        let shards = RelayShards::new(16, [13, 14, 45]);
        let bytes = encode_index_list(&shards).unwrap();
        assert_eq!(hex::encode(&bytes), "001003000d000e002d");
        assert_eq!(decode_index_list(&bytes).unwrap(), shards);
    }

    #[test]
    fn bit_vector_layout() {
        let shards = RelayShards::new(16, [0, 13, 14, 45, 1023]);
        let bytes = encode_bit_vector(&shards).unwrap();
        assert_eq!(&bytes[..2], &[0, 16]);
        assert_eq!(bytes[2], 0x01);
        assert_eq!(bytes[3], 0b0110_0000);
        assert_eq!(bytes[2 + 5], 0b0010_0000);
        assert_eq!(bytes[129], 0x80);
        assert_eq!(decode_bit_vector(&bytes).unwrap(), shards);
    }

    #[test]
    fn choice_of_encoding() {
        assert_eq!(
            preferred_encoding(&RelayShards::new(1, 0..63)),
            ShardsEncoding::IndexList
        );
        assert_eq!(
            preferred_encoding(&RelayShards::new(1, 0..64)),
            ShardsEncoding::BitVector
        );
        for too_high in [
            RelayShards::new(1, (0..63).chain([4000])),
            RelayShards::new(1, 1000..1300),
        ] {
            assert!(matches!(
                encode_shards(&too_high),
                Err(EnrError::ShardOutOfRange { shard, .. }) if shard == 1024 || shard == 4000
            ));
        }
    }
}

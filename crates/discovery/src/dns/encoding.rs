//! The encodings EIP-1459 uses: unpadded base32 (RFC 4648) for hashes and
//! keys, unpadded URL-safe base64 for the root signature, and keccak256.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use data_encoding::BASE32_NOPAD;
use sha3::{Digest, Keccak256};

/// Unpadded base64url that also accepts `=` padding when reading.
pub(crate) const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Bytes of a keccak256 hash kept in a subdomain name.
pub const HASH_LEN: usize = 16;

/// Shortest and longest hash (in decoded bytes) accepted in a record, as
/// go-ethereum's client accepts abbreviated hashes.
const MIN_HASH_BYTES: usize = 12;
const MAX_HASH_BYTES: usize = 32;

/// keccak256 of `data`.
pub(crate) fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// Unpadded base32 of `bytes`.
pub(crate) fn base32(bytes: &[u8]) -> String {
    BASE32_NOPAD.encode(bytes)
}

/// Decodes unpadded base32, upper or lower case.
pub(crate) fn base32_decode(text: &str) -> Option<Vec<u8>> {
    BASE32_NOPAD
        .decode(text.to_ascii_uppercase().as_bytes())
        .ok()
}

/// The subdomain label under which the record `text` is published: base32
/// of the first 16 bytes of keccak256 of the text.
pub fn subdomain(text: &str) -> String {
    let hash = keccak256(text.as_bytes());
    base32(&hash[..HASH_LEN])
}

/// The decoded bytes of a hash label, if it is valid base32 of a plausible
/// length.
pub(crate) fn decode_hash(label: &str) -> Option<Vec<u8>> {
    base32_decode(label).filter(|b| (MIN_HASH_BYTES..=MAX_HASH_BYTES).contains(&b.len()))
}

/// Whether the record `text` matches the hash label `label`: the label
/// decodes to a prefix of keccak256 of the text.
pub(crate) fn hash_matches(label: &str, text: &str) -> bool {
    decode_hash(label).is_some_and(|want| keccak256(text.as_bytes()).starts_with(&want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips_and_ignores_case() {
        let bytes = [0u8, 1, 2, 250, 251, 252, 253];
        let text = base32(&bytes);
        assert!(!text.contains('='));
        assert_eq!(base32_decode(&text).as_deref(), Some(&bytes[..]));
        assert_eq!(
            base32_decode(&text.to_ascii_lowercase()).as_deref(),
            Some(&bytes[..])
        );
        assert_eq!(base32_decode("not base32!"), None);
    }

    #[test]
    fn subdomain_is_26_chars_and_matches() {
        let label = subdomain("enr:abc");
        assert_eq!(label.len(), 26);
        assert!(hash_matches(&label, "enr:abc"));
        assert!(hash_matches(&label.to_ascii_lowercase(), "enr:abc"));
        assert!(!hash_matches(&label, "enr:abd"));
        assert!(!hash_matches("AAAA", "enr:abc"));
    }
}

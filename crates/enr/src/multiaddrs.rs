//! The `multiaddrs` entry of 31/WAKU2-ENR and the circuit-relay rule.
//!
//! The value is a concatenation of entries, each a 2-byte big-endian length
//! followed by that many bytes of binary multiaddr. Entries carry no `/p2p/`
//! peer id of the node itself. A stored entry that contains a `/p2p/` part is a
//! circuit-relay address whose `/p2p-circuit` suffix was left out: the part is
//! the relay's id, and a reader appends `/p2p-circuit` (then the node's own
//! `/p2p/` id to dial it).

use libp2p_identity::PeerId;
use multiaddr::{Multiaddr, Protocol};

use crate::error::EnrError;

/// The ENR key of the entry.
pub const MULTIADDRS_KEY: &str = "multiaddrs";

/// Encodes `addrs` as a `multiaddrs` value, each as it is given.
pub fn encode_multiaddrs(addrs: &[Multiaddr]) -> Result<Vec<u8>, EnrError> {
    let mut out = Vec::new();
    for addr in addrs {
        let bytes = addr.as_ref();
        let len = u16::try_from(bytes.len()).map_err(|_| EnrError::InvalidMultiaddr {
            addr: addr.clone(),
            reason: format!("{} bytes do not fit a 2-byte length", bytes.len()),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// Decodes a `multiaddrs` value into its entries, as stored.
///
/// Fails on a truncated length prefix, a length running past the end of the
/// value, an empty entry, or bytes that are not a multiaddr.
pub fn decode_multiaddrs(value: &[u8]) -> Result<Vec<Multiaddr>, EnrError> {
    let malformed = |reason: String| EnrError::MalformedField {
        field: MULTIADDRS_KEY,
        reason,
    };
    let mut addrs = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let [hi, lo, tail @ ..] = rest else {
            return Err(malformed(format!(
                "truncated length prefix at byte {}",
                value.len() - rest.len()
            )));
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        if len == 0 {
            return Err(malformed("empty multiaddr entry".to_string()));
        }
        if tail.len() < len {
            return Err(malformed(format!(
                "entry of {len} bytes runs past the end ({} left)",
                tail.len()
            )));
        }
        let (bytes, next) = tail.split_at(len);
        let addr = Multiaddr::try_from(bytes.to_vec())
            .map_err(|e| malformed(format!("invalid multiaddr: {e}")))?;
        addrs.push(addr);
        rest = next;
    }
    Ok(addrs)
}

/// The address to dial the node `peer_id` through the stored entry `stored`.
///
/// - An entry without `/p2p/` gets `/p2p/<peer_id>` appended.
/// - An entry with a `/p2p/` part (a circuit-relay address stored without its
///   `/p2p-circuit`) gets `/p2p-circuit/p2p/<peer_id>` appended.
/// - An entry already ending in `/p2p-circuit` gets `/p2p/<peer_id>`.
/// - An entry already ending in `/p2p/<peer_id>`, or a complete circuit
///   address ending in some `/p2p/`, is returned unchanged.
pub fn dial_address(stored: &Multiaddr, peer_id: &PeerId) -> Multiaddr {
    let has_circuit = stored.iter().any(|p| p == Protocol::P2pCircuit);
    match stored.iter().last() {
        Some(Protocol::P2p(last)) if last == *peer_id || has_circuit => return stored.clone(),
        _ => {}
    }
    let has_p2p = stored.iter().any(|p| matches!(p, Protocol::P2p(_)));
    let mut addr = stored.clone();
    if has_p2p && !has_circuit {
        addr.push(Protocol::P2pCircuit);
    }
    addr.push(Protocol::P2p(*peer_id));
    addr
}

/// Brings a multiaddr given to the builder to its stored form.
///
/// A circuit-relay address `.../p2p/<relay>/p2p-circuit[/p2p/<own>]` loses its
/// `/p2p-circuit` suffix (and the node's own id after it). Any other use of the
/// node's own id is refused, as is a `/p2p-circuit` anywhere but at the end.
pub(crate) fn to_stored_form(addr: &Multiaddr, own: &PeerId) -> Result<Multiaddr, EnrError> {
    let mut stored = addr.clone();
    if addr.iter().any(|p| p == Protocol::P2pCircuit) {
        if stored.iter().last() == Some(Protocol::P2p(*own)) {
            stored.pop();
        }
        if stored.iter().last() == Some(Protocol::P2pCircuit) {
            stored.pop();
        }
        if stored.iter().any(|p| p == Protocol::P2pCircuit) {
            return Err(EnrError::InvalidMultiaddr {
                addr: addr.clone(),
                reason:
                    "a circuit-relay address must end in /p2p-circuit or /p2p-circuit/p2p/<own id>"
                        .to_string(),
            });
        }
        if !stored.iter().any(|p| matches!(p, Protocol::P2p(_))) {
            return Err(EnrError::InvalidMultiaddr {
                addr: addr.clone(),
                reason: "a circuit-relay address needs the relay's /p2p/ id".to_string(),
            });
        }
    }
    if stored.iter().any(|p| p == Protocol::P2p(*own)) {
        return Err(EnrError::OwnPeerId { addr: addr.clone() });
    }
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ma(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn round_trip_and_layout() {
        let addrs = vec![
            ma("/ip4/127.0.0.1/tcp/443/wss"),
            ma("/dns4/a.b/tcp/8000/ws"),
        ];
        let bytes = encode_multiaddrs(&addrs).unwrap();
        assert_eq!(&bytes[..2], &[0, addrs[0].as_ref().len() as u8]);
        assert_eq!(decode_multiaddrs(&bytes).unwrap(), addrs);
        assert_eq!(decode_multiaddrs(&[]).unwrap(), Vec::<Multiaddr>::new());
    }

    #[test]
    fn malformed_values() {
        let good = encode_multiaddrs(&[ma("/ip4/1.2.3.4/tcp/1")]).unwrap();
        assert!(decode_multiaddrs(&good[..1]).is_err());
        assert!(decode_multiaddrs(&good[..good.len() - 1]).is_err());
        let mut extra = good.clone();
        extra.push(0);
        assert!(decode_multiaddrs(&extra).is_err());
        assert!(decode_multiaddrs(&[0, 0]).is_err());
        assert!(decode_multiaddrs(&[0, 2, 0xff, 0xff]).is_err());
    }

    #[test]
    fn circuit_relay_rule() {
        let me: PeerId = "16Uiu2HAm3cuhhRL2msUuLF62KRSfneFDx94RsuouyW25Ho42cFMq"
            .parse()
            .unwrap();
        let relay: PeerId = "16Uiu2HAmSH2XVgZqYHWucap5kuPzLnt2TsNQkoppVxB5eJGvaXwm"
            .parse()
            .unwrap();
        let plain = ma("/dns4/x.y/tcp/443/wss");
        assert_eq!(
            dial_address(&plain, &me),
            plain.clone().with(Protocol::P2p(me))
        );
        let stored = ma(&format!("/ip4/1.2.3.4/tcp/5/p2p/{relay}"));
        let full = ma(&format!(
            "/ip4/1.2.3.4/tcp/5/p2p/{relay}/p2p-circuit/p2p/{me}"
        ));
        assert_eq!(dial_address(&stored, &me), full);
        assert_eq!(dial_address(&full, &me), full);
        assert_eq!(to_stored_form(&full, &me).unwrap(), stored);
        assert_eq!(to_stored_form(&stored, &me).unwrap(), stored);
        let own = plain.clone().with(Protocol::P2p(me));
        assert_eq!(dial_address(&own, &me), own);
        assert!(matches!(
            to_stored_form(&own, &me),
            Err(EnrError::OwnPeerId { .. })
        ));
        assert!(to_stored_form(&ma("/ip4/1.2.3.4/tcp/5/p2p-circuit"), &me).is_err());
    }
}

//! The fake node's peer-exchange service: a fixed set of signed records,
//! answered with nwaku's status codes, unless a defect says otherwise.

use std::net::{IpAddr, Ipv4Addr};

use prost::Message;
use waku_discovery::peer_exchange::proto::{
    PeerExchangeQuery, PeerExchangeResponse, PeerExchangeRpc, PeerInfo,
};
use waku_enr::{SigningKey, WakuEnrBuilder};

use super::Faults;
use super::codec::Request;

/// How many records the fake hands out at most.
pub const RECORDS: usize = 5;

/// [`RECORDS`] signed records of made-up peers on loopback (the last one
/// with a byte changed after signing when `bad_record`).
pub fn records(bad_record: bool) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..RECORDS)
        .map(|i| {
            let key = SigningKey::from_slice(&[i as u8 + 1; 32]).unwrap();
            WakuEnrBuilder::new()
                .ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
                .tcp(61000 + i as u16)
                .build(&key)
                .unwrap()
                .to_rlp_bytes()
        })
        .collect();
    if bad_record && let Some(last) = out.last_mut() {
        // The tcp port's low byte: the content no longer matches the
        // signature.
        let at = last.len() - 1;
        last[at] ^= 0x01;
    }
    out
}

/// The answer to `request`, or `None` to leave the stream hanging.
pub fn answer(faults: &Faults, records: &[Vec<u8>], request: &Request) -> Option<Vec<u8>> {
    let status = |code: u32| (!faults.px_without_status).then_some(code);
    let all = || -> Vec<PeerInfo> {
        records
            .iter()
            .map(|enr| PeerInfo { enr: enr.clone() })
            .collect()
    };
    let asked = match request {
        Request::Frame(body) => PeerExchangeRpc::decode(body.as_slice())
            .ok()
            .and_then(|rpc| rpc.query)
            .map(|q| q.num_peers),
        _ => None,
    };
    let response = match asked {
        Some(n) if n == u64::MAX && faults.px_hangs_on_huge => return None,
        Some(n) => {
            let mut peers = all();
            if !faults.px_ignores_num_peers {
                peers.truncate(usize::try_from(n).unwrap_or(usize::MAX));
            }
            PeerExchangeResponse {
                peer_infos: peers,
                status_code: status(200),
                status_desc: None,
            }
        }
        None if faults.px_lenient => PeerExchangeResponse {
            peer_infos: all(),
            status_code: status(200),
            status_desc: None,
        },
        None => PeerExchangeResponse {
            peer_infos: Vec::new(),
            status_code: status(400),
            status_desc: None,
        },
    };
    Some(
        PeerExchangeRpc {
            query: faults
                .px_echoes_query
                .then_some(PeerExchangeQuery { num_peers: 1 }),
            response: Some(response),
        }
        .encode_to_vec(),
    )
}

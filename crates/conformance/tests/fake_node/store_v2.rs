//! The fake node's legacy store (`/vac/waku/store/2.0.0-beta4`) over the
//! messages it stored, unless a defect says otherwise.

use prost::Message;
use sha2::Digest;
use waku_core::proto::message::v1::WakuMessage;
use waku_store::proto::v2beta4::{
    HistoryResponse, HistoryRpc, Index, PagingInfo, history_response, paging_info,
};

use super::codec::Request;
use super::{Faults, Stored};

fn index_of(faults: &Faults, s: &Stored) -> Index {
    let mut digest = sha2::Sha256::new();
    if !faults.legacy_store_wrong_digest {
        digest.update(s.message.content_topic.as_bytes());
    }
    let digest = digest.chain_update(&s.message.payload).finalize().to_vec();
    Index {
        digest: Some(digest),
        receiver_time: s.message.timestamp,
        sender_time: s.message.timestamp,
        pubsub_topic: Some(s.topic.clone()),
    }
}

/// The answer to `request`.
pub fn answer(faults: &Faults, stored: &[Stored], request: &Request) -> Option<Vec<u8>> {
    let Request::Frame(body) = request else {
        return None;
    };
    let rpc = HistoryRpc::decode(body.as_slice()).ok()?;
    let query = rpc.query?;
    let topic = query.pubsub_topic.clone().unwrap_or_default();
    let topics: Vec<&str> = query
        .content_filters
        .iter()
        .map(|f| f.content_topic.as_str())
        .collect();
    let mut matching: Vec<&Stored> = stored
        .iter()
        .filter(|s| topic.is_empty() || s.topic == topic)
        .filter(|s| {
            faults.legacy_store_ignores_content_filter
                || topics.is_empty()
                || topics.contains(&s.message.content_topic.as_str())
        })
        .filter(|s| {
            let t = s.message.timestamp.unwrap_or_default();
            faults.legacy_store_ignores_time_range
                || (query.start_time.is_none_or(|start| t >= start)
                    && query.end_time.is_none_or(|end| t <= end))
        })
        .collect();
    matching.sort_by_key(|s| s.message.timestamp);
    let paging = query.paging_info.unwrap_or_default();
    let forward = paging.direction == Some(paging_info::Direction::Forward as i32);
    let size = match paging.page_size {
        _ if faults.legacy_store_ignores_page_size => usize::MAX,
        Some(n) if n > 0 => n.min(100) as usize,
        _ => 20,
    };
    let mut error = history_response::Error::None;
    if let Some(cursor) = &paging.cursor {
        match matching
            .iter()
            .position(|s| index_of(faults, s).digest == cursor.digest)
        {
            Some(at) if forward => matching = matching[at + 1..].to_vec(),
            Some(at) => matching.truncate(at),
            None if faults.legacy_store_accepts_unknown_cursor => {}
            None => {
                error = history_response::Error::InvalidCursor;
                matching.clear();
            }
        }
    }
    let more = matching.len() > size;
    let page: Vec<&Stored> = if forward {
        matching.iter().take(size).copied().collect()
    } else {
        matching[matching.len().saturating_sub(size)..].to_vec()
    };
    let cursor = if more && !faults.legacy_store_no_cursor {
        let edge = if forward { page.last() } else { page.first() };
        edge.map(|s| index_of(faults, s))
    } else {
        None
    };
    let mut messages: Vec<WakuMessage> = page.iter().map(|s| s.message.clone()).collect();
    if faults.legacy_store_ignores_content_filter {
        messages.push(WakuMessage {
            payload: b"another topic".to_vec().into(),
            content_topic: "/other/1/topic/proto".into(),
            ..WakuMessage::default()
        });
    }
    if faults.legacy_store_newest_first {
        messages.reverse();
    }
    let request_id = if faults.legacy_store_wrong_request_id {
        "not-the-request-id".to_owned()
    } else {
        rpc.request_id
    };
    Some(
        HistoryRpc {
            request_id,
            query: None,
            response: Some(HistoryResponse {
                messages,
                paging_info: Some(PagingInfo {
                    page_size: Some(page.len() as u64),
                    cursor,
                    direction: paging.direction,
                }),
                error: Some(error as i32),
            }),
        }
        .encode_to_vec(),
    )
}

//! SQL shared by the SQLite and PostgreSQL backends: the row form of a
//! message and the page query, written once for both dialects.

use std::fmt::Write as _;

use waku_core::{MessageHash, Timestamp, WakuMessage};

use crate::message_store::{MessageQuery, PageEntry, StoreError, StoredMessage};

/// Bytes counted per row on top of the encoded message and the topic by the
/// logical size measure (hash, timestamp, index entries).
#[cfg(feature = "postgres")]
pub(crate) const ROW_OVERHEAD: i64 = 96;

/// The columns a stored message is written as.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub hash: MessageHash,
    pub timestamp: Timestamp,
    pub pubsub_topic: String,
    pub content_topic: String,
    /// The protobuf encoding of the message (exact: optional fields keep
    /// their presence).
    pub message: Vec<u8>,
}

impl From<StoredMessage> for Row {
    fn from(m: StoredMessage) -> Self {
        Self {
            hash: m.hash,
            timestamp: m.timestamp(),
            message: m.message.encode_to_vec(),
            content_topic: m.message.content_topic,
            pubsub_topic: m.pubsub_topic,
        }
    }
}

/// A bound parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// Placeholder syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `?1`, `?2`, ...
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    /// `$1`, `$2`, ...
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
}

/// SQL text with its parameters.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    pub params: Vec<Param>,
}

struct Builder {
    dialect: Dialect,
    params: Vec<Param>,
}

impl Builder {
    fn bind(&mut self, p: Param) -> String {
        self.params.push(p);
        let n = self.params.len();
        match self.dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

/// The columns selected for a page, in the order [`entry_from_columns`]
/// reads them.
fn columns(include_data: bool) -> &'static str {
    if include_data {
        "hash, timestamp, pubsub_topic, message"
    } else {
        "hash, timestamp, pubsub_topic"
    }
}

/// The page query: up to `page_size + 1` rows in walk order, after the
/// cursor position `(timestamp, hash)` when there is one.
///
/// Several content topics are read as one ordered, limited sub-query per
/// topic merged by `UNION ALL`, so each part walks the
/// `(pubsub_topic, content_topic, timestamp, hash)` index in order instead
/// of sorting every match.
pub(crate) fn page_query(
    dialect: Dialect,
    q: &MessageQuery,
    cursor: Option<(Timestamp, MessageHash)>,
) -> Sql {
    let mut b = Builder {
        dialect,
        params: Vec::new(),
    };
    let f = &q.filter;
    let limit = i64::try_from(q.page_size.saturating_add(1)).unwrap_or(i64::MAX);
    let (cmp, dir) = if q.forward {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let order = format!("ORDER BY timestamp {dir}, hash {dir}");

    let mut common = Vec::new();
    if let Some(t) = &f.pubsub_topic {
        common.push(format!("pubsub_topic = {}", b.bind(Param::Text(t.clone()))));
    }
    if let Some(s) = f.time_start {
        common.push(format!("timestamp >= {}", b.bind(Param::Int(s))));
    }
    if let Some(e) = f.time_end {
        common.push(format!("timestamp < {}", b.bind(Param::Int(e))));
    }
    if !f.hashes.is_empty() {
        let list: Vec<String> = f
            .hashes
            .iter()
            .map(|h| b.bind(Param::Blob(h.0.to_vec())))
            .collect();
        common.push(format!("hash IN ({})", list.join(", ")));
    }
    if let Some((ts, hash)) = cursor {
        let ts = b.bind(Param::Int(ts));
        let hash = b.bind(Param::Blob(hash.0.to_vec()));
        common.push(format!("(timestamp, hash) {cmp} ({ts}, {hash})"));
    }
    let cols = columns(q.include_data);
    let limit_p = b.bind(Param::Int(limit));

    let member = |b: &mut Builder, topic: Option<&String>| {
        let mut conds = common.clone();
        if let Some(t) = topic {
            conds.push(format!(
                "content_topic = {}",
                b.bind(Param::Text(t.clone()))
            ));
        }
        let mut text = format!("SELECT {cols} FROM messages");
        if !conds.is_empty() {
            let _ = write!(text, " WHERE {}", conds.join(" AND "));
        }
        let _ = write!(text, " {order} LIMIT {limit_p}");
        text
    };

    let text = match f.content_topics.as_slice() {
        [] => member(&mut b, None),
        [one] => member(&mut b, Some(one)),
        many => {
            let parts: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(i, t)| format!("SELECT * FROM ({}) AS m{i}", member(&mut b, Some(t))))
                .collect();
            format!(
                "SELECT * FROM ({}) AS u {order} LIMIT {limit_p}",
                parts.join(" UNION ALL ")
            )
        }
    };
    Sql {
        text,
        params: b.params,
    }
}

/// Turns the selected columns of one row into a page entry.
pub(crate) fn entry_from_columns(
    hash: &[u8],
    timestamp: Timestamp,
    pubsub_topic: String,
    message: Option<&[u8]>,
) -> Result<PageEntry, StoreError> {
    let hash = MessageHash::from_slice(hash)
        .ok_or_else(|| StoreError::Corrupt(format!("hash of {} bytes", hash.len())))?;
    let message = message
        .map(|bytes| {
            WakuMessage::decode(bytes).map_err(|e| StoreError::Corrupt(format!("{hash}: {e}")))
        })
        .transpose()?;
    Ok(PageEntry {
        hash,
        timestamp,
        pubsub_topic,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message_store::MessageFilter;

    fn query(filter: MessageFilter) -> MessageQuery {
        MessageQuery {
            filter,
            cursor: None,
            forward: true,
            page_size: 20,
            include_data: true,
        }
    }

    #[test]
    fn several_content_topics_become_a_union_of_ordered_parts() {
        let q = query(MessageFilter {
            pubsub_topic: Some("/waku/2/rs/1/0".into()),
            content_topics: vec!["/a/1/x/proto".into(), "/a/1/y/proto".into()],
            ..Default::default()
        });
        let sql = page_query(Dialect::Postgres, &q, Some((5, MessageHash([1; 32]))));
        assert_eq!(sql.text.matches("UNION ALL").count(), 1);
        assert!(sql.text.contains("(timestamp, hash) > ($2, $3)"));
        assert!(
            sql.text
                .ends_with("ORDER BY timestamp ASC, hash ASC LIMIT $4")
        );
        // topic, cursor (2), limit, two content topics.
        assert_eq!(sql.params.len(), 6);
    }

    #[test]
    fn backward_walks_down() {
        let mut q = query(MessageFilter::default());
        q.forward = false;
        let sql = page_query(Dialect::Sqlite, &q, Some((5, MessageHash([1; 32]))));
        assert_eq!(
            sql.text,
            "SELECT hash, timestamp, pubsub_topic, message FROM messages \
             WHERE (timestamp, hash) < (?1, ?2) ORDER BY timestamp DESC, hash DESC LIMIT ?3"
        );
    }
}

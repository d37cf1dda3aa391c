//! A minimal client of a target's nwaku-style REST API (`--rest
//! http://host:port`): plain HTTP/1.1 over TCP, one request per
//! connection, enough to read `GET /debug/v1/info` and publish with `POST
//! /relay/v1/messages/{topic}`.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest response the client reads.
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// `host:port` of an `http://host:port[/]` base address.
fn authority(base: &str) -> Result<&str, String> {
    let rest = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base}: only http:// REST addresses are supported"))?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err(format!("{base}: expected http://host:port"));
    }
    Ok(authority)
}

/// Undoes `Transfer-Encoding: chunked`.
fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunk size line without an end")?;
        let size_text = std::str::from_utf8(&body[..line_end]).map_err(|e| e.to_string())?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|e| format!("chunk size {size_text:?}: {e}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = body.get(..size).ok_or("chunk runs past the end")?;
        out.extend_from_slice(chunk);
        body = body.get(size + 2..).unwrap_or_default();
    }
}

/// `GET path` from the REST API at `base`: the status and the body.
pub async fn get(base: &str, path: &str, timeout: Duration) -> Result<(u16, Vec<u8>), String> {
    exchange(base, "GET", path, None, timeout).await
}

/// `POST path` with a JSON `body` to the REST API at `base`: the status and
/// the body of the answer.
pub async fn post_json(
    base: &str,
    path: &str,
    body: &str,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    exchange(base, "POST", path, Some(body), timeout).await
}

/// One request on a connection of its own.
async fn exchange(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    let authority = authority(base)?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\n"
    );
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        request.push_str("\r\n");
    }
    let talk = async {
        let mut stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|e| format!("connecting to {authority}: {e}"))?;
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_end(&mut raw)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(raw)
    };
    let raw = tokio::time::timeout(timeout, talk)
        .await
        .map_err(|_| format!("{method} {base}{path}: no answer within {timeout:?}"))??;
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{method} {base}{path}: no HTTP header"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {base}{path}: no status line"))?;
    let body = &raw[head_end + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

/// A pubsub topic as one path segment (`/` and other reserved bytes
/// percent-encoded).
pub fn path_segment(topic: &str) -> String {
    topic
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The target's ENR (`enrUri` of `GET /debug/v1/info`).
pub async fn enr_uri(base: &str, timeout: Duration) -> Result<String, String> {
    let (status, body) = get(base, "/debug/v1/info", timeout).await?;
    if status != 200 {
        return Err(format!("GET /debug/v1/info answered {status}"));
    }
    let info: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("GET /debug/v1/info: not JSON ({e})"))?;
    info.get("enrUri")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "GET /debug/v1/info has no enrUri".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined_and_bases_need_http() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n").ok(),
            Some(b"abcde".to_vec())
        );
        assert!(dechunk(b"5\r\nab").is_err());
        assert_eq!(authority("http://127.0.0.1:8645/"), Ok("127.0.0.1:8645"));
        assert!(authority("https://x:1").is_err());
        assert!(authority("http://x:1/path").is_err());
        assert_eq!(path_segment("/waku/2/rs/0/1"), "%2Fwaku%2F2%2Frs%2F0%2F1");
    }
}

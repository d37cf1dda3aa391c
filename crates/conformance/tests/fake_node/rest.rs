//! The fake node's REST API: `GET /debug/v1/info` (its ENR) and `POST
//! /relay/v1/messages/{topic}` (handed to the node to publish), enough for
//! the runner's `--rest`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedSender;
use waku_core::proto::message::v1::WakuMessage;

use super::Faults;

/// Serves on a free loopback port; its `http://host:port`.
pub async fn serve(faults: Faults, enr: String, publish: UnboundedSender<WakuMessage>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let enr = enr.clone();
            let publish = publish.clone();
            tokio::spawn(async move {
                let Some((head, body)) = read_request(&mut stream).await else {
                    return;
                };
                let (status, answer) = if head.starts_with("GET /debug/v1/info ") {
                    (200, serde_json::json!({ "enrUri": enr }).to_string())
                } else if head.starts_with("POST /relay/v1/messages/") {
                    match message_of(&body) {
                        Some(m) => {
                            if !faults.rest_publish_drops {
                                let _ = publish.send(m);
                            }
                            (200, "OK".to_owned())
                        }
                        None => (400, "bad message".to_owned()),
                    }
                } else {
                    (404, "not found".to_owned())
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    base
}

/// The request line and headers, and the body (by Content-Length).
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            while raw.len() < end + 4 + length {
                let n = stream.read(&mut buf).await.ok()?;
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buf[..n]);
            }
            return Some((head, raw[end + 4..].to_vec()));
        }
    }
}

/// The WakuMessage of a REST JSON body.
fn message_of(body: &[u8]) -> Option<WakuMessage> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let payload = data_encoding::BASE64
        .decode(json["payload"].as_str()?.as_bytes())
        .ok()?;
    Some(WakuMessage {
        payload: payload.into(),
        content_topic: json["contentTopic"].as_str()?.to_owned(),
        timestamp: json["timestamp"].as_i64(),
        ..WakuMessage::default()
    })
}

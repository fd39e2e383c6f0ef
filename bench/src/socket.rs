//! A minimal Realtime client speaking what realtime-js speaks with vsn 2.0.0: JSON-array
//! text frames for joins and heartbeats, kind-3 binary frames for broadcasts out, kind-4
//! binary frames for broadcasts in.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const REPLY_WAIT: Duration = Duration::from_secs(30);

pub async fn connect(url: &str) -> Result<Ws, String> {
    // TCP_NODELAY, as browsers set it for WebSockets.
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(ws)
}

/// Joins `realtime:<sub_topic>` and waits for the reply; `Err` with the reason if refused.
pub async fn join(
    ws: &mut Ws,
    sub_topic: &str,
    config: Value,
    token: Option<&str>,
) -> Result<(), String> {
    let topic = format!("realtime:{sub_topic}");
    let mut payload = json!({ "config": config });
    if let Some(token) = token {
        payload["access_token"] = json!(token);
    }
    let frame = json!(["1", "1", topic, "phx_join", payload]);
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .map_err(|e| format!("join: {e}"))?;
    let reply = expect_text(ws, &topic, "phx_reply").await?;
    match reply["status"].as_str() {
        Some("ok") => Ok(()),
        _ => Err(format!("join of {topic} refused: {reply}")),
    }
}

/// The payload of the next text frame with this topic and event.
pub async fn expect_text(ws: &mut Ws, topic: &str, event: &str) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + REPLY_WAIT;
    loop {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .map_err(|_| format!("no {event} on {topic}"))?
            .ok_or("socket closed")?
            .map_err(|e| e.to_string())?;
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if frame[2] == topic && frame[3] == event {
                return Ok(frame[4].clone());
            }
        }
    }
}

/// A kind-3 user broadcast push with a JSON payload (realtime-js `channel.send`).
pub fn user_broadcast(
    join_ref: &str,
    reference: &str,
    topic: &str,
    event: &str,
    payload: &[u8],
) -> Message {
    let mut bytes = vec![
        3,
        join_ref.len() as u8,
        reference.len() as u8,
        topic.len() as u8,
        event.len() as u8,
        0, // no metadata
        1, // JSON payload
    ];
    for part in [join_ref, reference, topic, event] {
        bytes.extend_from_slice(part.as_bytes());
    }
    bytes.extend_from_slice(payload);
    Message::Binary(bytes.into())
}

/// The JSON payload of a kind-4 user broadcast, if `bytes` is one.
pub fn user_broadcast_payload(bytes: &[u8]) -> Option<Value> {
    let [4, topic_len, event_len, meta_len, 1, rest @ ..] = bytes else {
        return None;
    };
    let header = usize::from(*topic_len) + usize::from(*event_len) + usize::from(*meta_len);
    serde_json::from_slice(rest.get(header..)?).ok()
}

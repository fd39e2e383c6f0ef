//! What the other figures leave out: private channels, whose joins are authorised by the
//! `realtime.messages` policies (a database query per join); one change fanned out to many
//! subscribers (an RLS check per subscriber); and database broadcasts (`realtime.send` from
//! the messages' insert trigger) while messages are inserted at a steady rate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::changes::CONVERSATION;
use crate::server::Server;
use crate::socket;
use crate::stats::{now_micros, Summary};

const TRAINER: &str = "trainer@example.com";
const CLIENT: &str = "client@example.com";
/// The seeded client's user id: its inbox is the private topic `user:{id}`.
const CLIENT_ID: &str = "a1000000-0000-4000-8000-000000000002";
const WAIT: Duration = Duration::from_secs(10);

fn conversation_config(changes: bool) -> Value {
    let mut config = json!({
        "broadcast": {"self": false, "ack": false}, "presence": {"enabled": false}, "private": true,
    });
    if changes {
        config["postgres_changes"] = json!([{"event": "INSERT", "schema": "public",
            "table": "messages", "filter": format!("conversation_id=eq.{CONVERSATION}")}]);
    }
    config
}

/// Joins of `conversation:{id}` by its client, each on a new socket: phx_join → ok.
pub async fn joins(server: &Server, samples: usize) -> Result<Summary, String> {
    let client = server.sign_in(CLIENT).await?;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let mut ws = socket::connect(&server.websocket_url()).await?;
        let started = now_micros();
        let sub_topic = format!("conversation:{CONVERSATION}");
        socket::join(
            &mut ws,
            &sub_topic,
            conversation_config(false),
            Some(&client),
        )
        .await?;
        times.push(now_micros() - started);
        let _ = ws.close(None).await;
    }
    Ok(Summary::of_micros(times))
}

/// Broadcasts from the trainer to the client on their private conversation channel, one
/// at a time: sent → received. Returns the summary and how many were lost.
pub async fn broadcasts(server: &Server, samples: usize) -> Result<(Summary, usize), String> {
    let trainer = server.sign_in(TRAINER).await?;
    let client = server.sign_in(CLIENT).await?;
    let sub_topic = format!("conversation:{CONVERSATION}");
    let topic = format!("realtime:{sub_topic}");
    let mut sender = socket::connect(&server.websocket_url()).await?;
    let mut receiver = socket::connect(&server.websocket_url()).await?;
    socket::join(
        &mut sender,
        &sub_topic,
        conversation_config(false),
        Some(&trainer),
    )
    .await?;
    socket::join(
        &mut receiver,
        &sub_topic,
        conversation_config(false),
        Some(&client),
    )
    .await?;
    let (mut times, mut lost) = (Vec::with_capacity(samples), 0);
    for n in 0..samples {
        let sent = now_micros();
        let payload = json!({ "n": n, "sent": sent }).to_string();
        let push = socket::user_broadcast("1", &n.to_string(), &topic, "bench", payload.as_bytes());
        sender.send(push).await.map_err(|e| e.to_string())?;
        let arrived = async {
            while let Some(Ok(message)) = receiver.next().await {
                if let Message::Binary(bytes) = message {
                    if socket::user_broadcast_payload(&bytes).is_some_and(|p| p["n"] == n) {
                        return Some(now_micros());
                    }
                }
            }
            None
        };
        match tokio::time::timeout(WAIT, arrived).await {
            Ok(Some(arrived)) => times.push(arrived - sent),
            _ => lost += 1,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((Summary::of_micros(times), lost))
}

/// One change, many subscribers: `subscribers` sockets of the client listen for the
/// conversation's inserts; each of `samples` inserts is timed from the request to its
/// arrival at every subscriber. Returns (every arrival, the last arrival per insert, lost).
pub async fn fan_out(
    server: &Server,
    subscribers: usize,
    samples: usize,
) -> Result<(Summary, Summary, usize), String> {
    let trainer = server.sign_in(TRAINER).await?;
    let client = server.sign_in(CLIENT).await?;
    let sub_topic = format!("conversation:{CONVERSATION}");
    let topic = format!("realtime:{sub_topic}");
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<(String, u64)>();
    let mut readers = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let mut ws = socket::connect(&server.websocket_url()).await?;
        socket::join(
            &mut ws,
            &sub_topic,
            conversation_config(true),
            Some(&client),
        )
        .await?;
        let ready = socket::expect_text(&mut ws, &topic, "system").await?;
        if ready["status"] != "ok" {
            return Err(format!("postgres_changes not subscribed: {ready}"));
        }
        let (tx, topic) = (arrivals_tx.clone(), topic.clone());
        readers.push(tokio::spawn(async move {
            while let Some(Ok(message)) = ws.next().await {
                let arrived = now_micros();
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if frame[2] == topic.as_str() && frame[3] == "postgres_changes" {
                    let body = frame[4]["data"]["record"]["body"]
                        .as_str()
                        .unwrap_or_default();
                    if tx.send((body.to_string(), arrived)).is_err() {
                        return;
                    }
                }
            }
        }));
    }
    let (mut every, mut last, mut lost) = (Vec::new(), Vec::new(), 0);
    for sample in 0..samples {
        let body = format!("fan-out {sample}");
        let started = now_micros();
        insert(server, &trainer, &body).await?;
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + WAIT;
        while got < subscribers {
            match tokio::time::timeout_at(deadline, arrivals.recv()).await {
                Ok(Some((seen, arrived))) if seen == body => {
                    got += 1;
                    every.push(arrived - started);
                    if got == subscribers {
                        last.push(arrived - started);
                    }
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        lost += subscribers - got;
    }
    for reader in readers {
        reader.abort();
    }
    Ok((Summary::of_micros(every), Summary::of_micros(last), lost))
}

async fn insert(server: &Server, token: &str, body: &str) -> Result<(), String> {
    send_insert(insert_request(server, token, body)).await
}

fn insert_request(server: &Server, token: &str, body: &str) -> reqwest::RequestBuilder {
    server
        .rest(reqwest::Method::POST, "messages", token)
        .header("Prefer", "return=minimal")
        .json(&json!({"conversation_id": CONVERSATION, "body": body}))
}

async fn send_insert(request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    match response.status().as_u16() {
        201 => Ok(()),
        status => Err(format!("insert refused: {status}")),
    }
}

/// Database broadcasts under load.
pub struct SendLoad {
    pub target_per_second: usize,
    pub inserted: usize,
    pub seconds: f64,
    /// Insert request started → the inbox broadcast arrived.
    pub latency: Summary,
    pub lost: usize,
}

/// The trainer inserts `rate` messages a second for `seconds` (each request on its own
/// task, at its due instant); the client's socket on its private inbox `user:{id}` times
/// each `realtime.send` broadcast the insert trigger makes.
pub async fn database_broadcasts(
    server: &Server,
    rate: usize,
    seconds: u64,
) -> Result<SendLoad, String> {
    let trainer = server.sign_in(TRAINER).await?;
    let client = server.sign_in(CLIENT).await?;
    let mut inbox = socket::connect(&server.websocket_url()).await?;
    let sub_topic = format!("user:{CLIENT_ID}");
    let config =
        json!({"broadcast": {"self": false}, "presence": {"enabled": false}, "private": true});
    socket::join(&mut inbox, &sub_topic, config, Some(&client)).await?;

    let sent: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let total = rate * seconds as usize;
    let run = format!("load-{}", now_micros());
    let started = tokio::time::Instant::now();
    let mut inserts = Vec::with_capacity(total);
    for n in 0..total {
        let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
        let body = format!("{run} {n}");
        let request = insert_request(server, &trainer, &body);
        let sent = sent.clone();
        inserts.push(tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            sent.lock().unwrap().insert(body, now_micros());
            send_insert(request).await
        }));
    }
    let mut times = Vec::with_capacity(total);
    let receiving = async {
        while times.len() < total {
            let Some(Ok(message)) = inbox.next().await else {
                break;
            };
            let arrived = now_micros();
            let Message::Binary(bytes) = message else {
                continue;
            };
            let Some(payload) = socket::user_broadcast_payload(&bytes) else {
                continue;
            };
            let body = payload["body"].as_str().unwrap_or_default();
            if let Some(at) = sent.lock().unwrap().get(body) {
                times.push(arrived - at);
            }
        }
    };
    let window = Duration::from_secs(seconds) + WAIT;
    let _ = tokio::time::timeout(window, receiving).await;
    let mut inserted = 0;
    for task in inserts {
        if matches!(task.await, Ok(Ok(()))) {
            inserted += 1;
        }
    }
    Ok(SendLoad {
        target_per_second: rate,
        inserted,
        seconds: seconds as f64,
        lost: inserted.saturating_sub(times.len()),
        latency: Summary::of_micros(times),
    })
}

//! Postgres Changes latency: the trainer inserts a message through REST; the client,
//! subscribed to INSERTs of its conversation on a private channel (RLS applies), times
//! the change from the start of the insert request to its arrival.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::server::Server;
use crate::socket;
use crate::stats::{now_micros, Summary};

pub const CONVERSATION: &str = "c1000000-0000-4000-8000-000000000001";
const TRAINER: &str = "trainer@example.com";
const CLIENT: &str = "client@example.com";
/// The signed-in hostile subscribers' account: a participant of the measured
/// conversation, so each of its conditions is evaluated for every measured change.
pub const HOSTILE_USER: &str = TRAINER;
const CHANGE_WAIT: Duration = Duration::from_secs(5);

pub struct ChangesResult {
    /// Insert request sent → change received by the subscriber.
    pub change: Summary,
    /// Insert request sent → REST answered 201.
    pub insert: Summary,
    pub lost: usize,
}

pub async fn run(server: &Server, samples: usize, gap: Duration) -> Result<ChangesResult, String> {
    let trainer = server.sign_in(TRAINER).await?;
    let client = server.sign_in(CLIENT).await?;
    let mut ws = socket::connect(&server.websocket_url()).await?;
    let sub_topic = format!("conversation:{CONVERSATION}");
    let config = json!({
        "broadcast": {"self": false, "ack": false}, "presence": {"enabled": false}, "private": true,
        "postgres_changes": [{"event": "INSERT", "schema": "public", "table": "messages",
                              "filter": format!("conversation_id=eq.{CONVERSATION}")}],
    });
    socket::join(&mut ws, &sub_topic, config, Some(&client)).await?;
    let topic = format!("realtime:{sub_topic}");
    let ready = socket::expect_text(&mut ws, &topic, "system").await?;
    if ready["status"] != "ok" {
        return Err(format!("postgres_changes not subscribed: {ready}"));
    }

    let (mut change, mut insert, mut lost) = (Vec::new(), Vec::new(), 0);
    for sample in 0..samples {
        let body = format!("bench {sample}");
        let started = now_micros();
        let response = server
            .rest(reqwest::Method::POST, "messages", &trainer)
            .header("Prefer", "return=minimal")
            .json(&json!({"conversation_id": CONVERSATION, "body": body}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != 201 {
            return Err(format!("insert refused: {}", response.status()));
        }
        insert.push(now_micros() - started);
        match wait_for_body(&mut ws, &topic, &body).await {
            Some(arrived) => change.push(arrived - started),
            None => lost += 1,
        }
        tokio::time::sleep(gap).await;
    }
    Ok(ChangesResult {
        change: Summary::of_micros(change),
        insert: Summary::of_micros(insert),
        lost,
    })
}

/// Opens `connections` sockets — anonymous, or signed in with `token` — that each
/// subscribe to every change of `public.messages` with as many listeners and conditions as
/// localbase allows one connection (20 × 10 distinct ones): the most expensive
/// subscriptions a client can hold. A signed-in one's conditions are evaluated for every
/// change it may read: `neq` on text, or with `ordering` `lt` on a timestamp (which SQL
/// decides). Returns them, to be kept open while a normal subscriber is measured.
pub async fn hostile_subscribers(
    server: &Server,
    connections: usize,
    token: Option<&str>,
    ordering: bool,
) -> Result<Vec<socket::Ws>, String> {
    let mut held = Vec::with_capacity(connections);
    for n in 0..connections {
        let mut ws = socket::connect(&server.websocket_url()).await?;
        let listeners: Vec<serde_json::Value> = (0..20)
            .map(|l| {
                // `neq` on text is decided by comparing texts; `lt` on a timestamp by SQL.
                let filter = (0..10)
                    .map(|c| match ordering {
                        false => format!("body=neq.h{n}-{l}-{c}"),
                        true => format!("created_at=lt.2{n:03}-{:02}-{:02}", l % 12 + 1, c + 1),
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                json!({"event": "*", "schema": "public", "table": "messages", "filter": filter})
            })
            .collect();
        let sub_topic = format!("hostile-{n}");
        let config = json!({"private": false, "postgres_changes": listeners});
        socket::join(&mut ws, &sub_topic, config, token).await?;
        let ready =
            socket::expect_text(&mut ws, &format!("realtime:{sub_topic}"), "system").await?;
        if ready["status"] != "ok" {
            return Err(format!("hostile subscription refused: {ready}"));
        }
        held.push(ws);
    }
    Ok(held)
}

/// The arrival instant (µs) of the INSERT change of the message `body`.
async fn wait_for_body(ws: &mut socket::Ws, topic: &str, body: &str) -> Option<u64> {
    let deadline = tokio::time::Instant::now() + CHANGE_WAIT;
    loop {
        let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await else {
            return None;
        };
        let arrived = now_micros();
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(frame) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if frame[2] == topic
            && frame[3] == "postgres_changes"
            && frame[4]["data"]["record"]["body"] == body
        {
            return Some(arrived);
        }
    }
}

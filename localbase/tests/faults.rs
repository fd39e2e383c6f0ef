//! localbase's fault injection (for end-to-end tests): only the service role may set
//! faults, and each kind does what it says.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

async fn set_faults(server: &TestServer, key: &str, faults: Value) -> reqwest::StatusCode {
    server
        .http
        .put(format!("{}/localbase/v1/faults", server.base))
        .header("apikey", key)
        .json(&faults)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn faults_delay_spoil_or_refuse_only_what_they_match() {
    let server = TestServer::start().await;
    let (client, _) = server.sign_in(CLIENT).await;
    let refused = set_faults(&server, &server.anon_key, json!({"rules": []})).await;
    assert_eq!(refused, 401, "the anon key may not set faults");
    let service = server.state.keys.service_role_key();
    let rules = json!({"rules": [
        {"method": "GET", "path": "/rest/v1/messages", "query": "limit=1", "delay_ms": 600},
        {"method": "POST", "path": "/rest/v1/messages", "status_after": 503, "times": 1},
    ], "refuse_postgres_changes": true});
    assert_eq!(set_faults(&server, &service, rules).await, 204);

    let started = Instant::now();
    let slow = server
        .rest(Method::GET, "messages?select=id&limit=1", &client)
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(600));
    let started = Instant::now();
    server
        .rest(Method::GET, "messages?select=id&limit=1", &client)
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(600), "used up");

    let id = "d0000000-0000-4000-8000-0000000000f1";
    let spoiled = server
        .rest(Method::POST, "messages", &client)
        .json(&json!({"id": id, "conversation_id": CONVERSATION, "body": "stored anyway"}))
        .send()
        .await
        .unwrap();
    assert_eq!(spoiled.status(), 503);
    let stored: Vec<Value> = server
        .rest(Method::GET, &format!("messages?id=eq.{id}"), &client)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "the 503 came after the commit");

    let mut socket = server.socket("2.0.0").await;
    let topic = format!("conversation:{CONVERSATION}");
    let config = json!({"broadcast": {"self": false}, "private": true,
        "postgres_changes": [{"event": "INSERT", "schema": "public", "table": "messages"}]});
    let reply = socket.join(&topic, config, Some(&client)).await;
    assert_eq!(reply["status"], "ok");
    let system = socket
        .expect(
            &format!("realtime:{topic}"),
            "system",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(system.payload["status"], "error", "{:?}", system.payload);
    assert_eq!(system.payload["extension"], "postgres_changes");
}

#[tokio::test]
async fn dropped_client_broadcasts_are_lost_until_the_fault_is_cleared() {
    let server = TestServer::start().await;
    let service = server.state.keys.service_role_key();
    let config = json!({"broadcast": {"self": false}, "private": false});
    let (mut sender, mut receiver) = (server.socket("1.0.0").await, server.socket("1.0.0").await);
    for socket in [&mut sender, &mut receiver] {
        assert_eq!(
            socket.join("room", config.clone(), None).await["status"],
            "ok"
        );
    }
    let say = |text: &str| json!({"type": "broadcast", "event": "say", "payload": {"text": text}});
    let heard = |frame: Option<Received>| frame.map(|f| f.payload["payload"]["text"].clone());

    let faults = json!({"drop_client_broadcasts": true});
    assert_eq!(set_faults(&server, &service, faults).await, 204);
    sender
        .push(None, "realtime:room", "broadcast", say("lost"))
        .await;
    assert_eq!(heard(receiver.next(Duration::from_millis(500)).await), None);

    assert_eq!(set_faults(&server, &service, json!({})).await, 204);
    sender
        .push(None, "realtime:room", "broadcast", say("heard"))
        .await;
    assert_eq!(
        heard(receiver.next(Duration::from_secs(5)).await),
        Some(json!("heard"))
    );
}

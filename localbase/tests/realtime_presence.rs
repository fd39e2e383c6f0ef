//! Presence on a private conversation channel: state after join, diffs on track, update
//! and disconnect, server-made keys, and malformed tracks refused.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(3);

fn config(key: &str) -> Value {
    json!({"presence": {"enabled": true, "key": key}, "private": true})
}

#[tokio::test]
async fn presence_state_and_diffs_follow_tracks_and_disconnects() {
    let server = TestServer::start().await;
    let (trainer, trainer_id) = server.sign_in(TRAINER).await;
    let (client, client_id) = server.sign_in(CLIENT).await;
    let sub_topic = format!("conversation:{CONVERSATION}");
    let topic = format!("realtime:{sub_topic}");

    let mut a = server.socket("2.0.0").await;
    assert_eq!(
        a.join(&sub_topic, config(&trainer_id), Some(&trainer))
            .await["status"],
        "ok"
    );
    assert_eq!(
        a.expect(&topic, "presence_state", WAIT).await.payload,
        json!({})
    );
    a.push(
        Some("1"),
        &topic,
        "presence",
        json!({"type": "presence", "event": "track", "payload": {"name": "Мария"}}),
    )
    .await;
    let joined = a.expect(&topic, "presence_diff", WAIT).await.payload;
    let meta = &joined["joins"][&trainer_id]["metas"][0];
    assert_eq!(meta["name"], "Мария");
    assert!(meta["phx_ref"].is_string());
    assert_eq!(
        a.expect(&topic, "phx_reply", WAIT).await.payload["status"],
        "ok"
    );

    let mut b = server.socket("1.0.0").await;
    assert_eq!(
        b.join(&sub_topic, config(&client_id), Some(&client)).await["status"],
        "ok"
    );
    let state = b.expect(&topic, "presence_state", WAIT).await.payload;
    assert_eq!(state[&trainer_id]["metas"][0]["name"], "Мария");
    b.push(
        Some("1"),
        &topic,
        "presence",
        json!({"type": "presence", "event": "TRACK", "payload": {"name": "Иван"}}),
    )
    .await;
    let diff = a.expect(&topic, "presence_diff", WAIT).await.payload;
    assert_eq!(diff["joins"][&client_id]["metas"][0]["name"], "Иван");
    let own = b.expect(&topic, "presence_diff", WAIT).await.payload;
    assert_eq!(own, diff, "the tracker hears its own join too");

    a.push(
        Some("1"),
        &topic,
        "presence",
        json!({"type": "presence", "event": "track", "payload": {"name": "Мария П."}}),
    )
    .await;
    let update = b.expect(&topic, "presence_diff", WAIT).await.payload;
    assert_eq!(update["leaves"][&trainer_id]["metas"][0]["name"], "Мария");
    assert_eq!(
        update["joins"][&trainer_id]["metas"][0]["phx_ref_prev"],
        meta["phx_ref"]
    );

    let own_update = a.expect(&topic, "presence_diff", WAIT).await.payload;
    assert_eq!(own_update, update);
    drop(b);
    let left = a.expect(&topic, "presence_diff", WAIT).await.payload;
    assert_eq!(left["joins"], json!({}));
    assert_eq!(left["leaves"][&client_id]["metas"][0]["name"], "Иван");
}

#[tokio::test]
async fn empty_keys_are_made_by_the_server_and_bad_tracks_refused() {
    let server = TestServer::start().await;
    let mut socket = server.socket("2.0.0").await;
    // A key is stored with every presence and sent in every diff: a long one is refused.
    let long = json!({"presence": {"enabled": true, "key": "k".repeat(256)}, "private": false});
    let refused = socket.join("lobby", long, None).await;
    assert_eq!(refused["status"], "error");
    assert_eq!(
        refused["response"]["reason"],
        "InvalidPresenceKey: a presence key is at most 255 bytes"
    );
    let public = json!({"presence": {"enabled": true, "key": ""}, "private": false});
    assert_eq!(socket.join("lobby", public, None).await["status"], "ok");
    socket
        .expect("realtime:lobby", "presence_state", WAIT)
        .await;
    socket
        .push(
            Some("1"),
            "realtime:lobby",
            "presence",
            json!({"type": "presence", "event": "track", "payload": "me"}),
        )
        .await;
    let refused = socket
        .expect("realtime:lobby", "phx_reply", WAIT)
        .await
        .payload;
    assert_eq!(
        refused["response"]["reason"],
        "Presence track payload must be a map"
    );
    socket
        .push(
            Some("1"),
            "realtime:lobby",
            "presence",
            json!({"type": "presence", "event": "track", "payload": {}}),
        )
        .await;
    let diff = socket
        .expect("realtime:lobby", "presence_diff", WAIT)
        .await
        .payload;
    let keys: Vec<&String> = diff["joins"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 1);
    assert!(
        uuid::Uuid::parse_str(keys[0]).is_ok(),
        "a generated UUID key: {keys:?}"
    );
}

#[tokio::test]
async fn a_sixth_presence_call_within_thirty_seconds_shuts_the_channel_down() {
    let server = TestServer::start().await;
    let (trainer, trainer_id) = server.sign_in(TRAINER).await;
    let sub_topic = format!("conversation:{CONVERSATION}");
    let topic = format!("realtime:{sub_topic}");
    let mut socket = server.socket("1.0.0").await;
    assert_eq!(
        socket
            .join(&sub_topic, config(&trainer_id), Some(&trainer))
            .await["status"],
        "ok"
    );
    for n in 0..5 {
        socket
            .push(
                Some("1"),
                &topic,
                "presence",
                json!({"type": "presence", "event": "track", "payload": {"n": n}}),
            )
            .await;
        let reply = socket.expect(&topic, "phx_reply", WAIT).await;
        assert_eq!(
            reply.payload["status"], "ok",
            "call {n} is within the limit"
        );
    }
    socket
        .push(
            Some("1"),
            &topic,
            "presence",
            json!({"type": "presence", "event": "track", "payload": {"n": 5}}),
        )
        .await;
    let system = socket.expect(&topic, "system", WAIT).await;
    assert_eq!(system.payload["status"], "error");
    assert_eq!(
        system.payload["message"],
        "Client presence rate limit exceeded"
    );
    socket.expect(&topic, "phx_close", WAIT).await;
    assert!(
        socket.heartbeat(WAIT).await,
        "the socket itself stays usable"
    );
}

/// The limit is per join, as in hosted Realtime: a person who opens one conversation
/// after another on one socket (leave, join, track) is never cut off for it.
#[tokio::test]
async fn opening_conversations_again_and_again_is_not_a_presence_flood() {
    let server = TestServer::start().await;
    let (trainer, trainer_id) = server.sign_in(TRAINER).await;
    let sub_topic = format!("conversation:{CONVERSATION}");
    let topic = format!("realtime:{sub_topic}");
    let mut socket = server.socket("1.0.0").await;
    for n in 0..8 {
        let joined = socket
            .join(&sub_topic, config(&trainer_id), Some(&trainer))
            .await;
        assert_eq!(joined["status"], "ok", "join {n}");
        socket
            .push(
                Some("1"),
                &topic,
                "presence",
                json!({"type": "presence", "event": "track", "payload": {"n": n}}),
            )
            .await;
        let reply = socket.expect(&topic, "phx_reply", WAIT).await;
        assert_eq!(reply.payload["status"], "ok", "track after join {n}");
        socket.push(Some("1"), &topic, "phx_leave", json!({})).await;
        socket.expect(&topic, "phx_reply", WAIT).await;
    }
}

/// A tab that crashed or lost its network sends nothing more, not even heartbeats: once the
/// idle timeout passes, the server closes its socket and the others see it leave.
#[tokio::test]
async fn a_socket_that_falls_silent_leaves_after_the_idle_timeout() {
    let idle = Duration::from_secs(2);
    let server = TestServer::start_with(localbase::Settings {
        idle_timeout: idle,
        channel_error_backoff: Duration::from_millis(10),
        ..localbase::Settings::default()
    })
    .await;
    let (trainer, trainer_id) = server.sign_in(TRAINER).await;
    let (client, client_id) = server.sign_in(CLIENT).await;
    let sub_topic = format!("conversation:{CONVERSATION}");
    let topic = format!("realtime:{sub_topic}");

    let mut watcher = server.socket("2.0.0").await;
    watcher
        .join(&sub_topic, config(&client_id), Some(&client))
        .await;
    watcher.expect(&topic, "presence_state", WAIT).await;
    let mut silent = server.socket("2.0.0").await;
    silent
        .join(&sub_topic, config(&trainer_id), Some(&trainer))
        .await;
    silent
        .push(
            Some("1"),
            &topic,
            "presence",
            json!({"type": "presence", "event": "track", "payload": {"name": "Мария"}}),
        )
        .await;
    let joined = watcher.expect(&topic, "presence_diff", WAIT).await.payload;
    assert!(joined["joins"].get(&trainer_id).is_some(), "{joined}");
    let last_word = std::time::Instant::now();

    // The watcher keeps its own socket alive with heartbeats; the other says nothing.
    let left = 'waiting: loop {
        assert!(
            last_word.elapsed() < idle * 3,
            "still present {:?} after its last frame",
            last_word.elapsed()
        );
        watcher.push(None, "phoenix", "heartbeat", json!({})).await;
        let beat = tokio::time::Instant::now() + Duration::from_millis(500);
        while let Some(frame) = watcher
            .next(beat.saturating_duration_since(tokio::time::Instant::now()))
            .await
        {
            if frame.event == "presence_diff" {
                break 'waiting frame.payload;
            }
        }
    };
    let after = last_word.elapsed();
    assert_eq!(left["leaves"][&trainer_id]["metas"][0]["name"], "Мария");
    assert!(
        after >= idle - Duration::from_millis(100),
        "it left after the idle timeout, not before: {after:?}"
    );
    assert!(silent.closed(WAIT).await.is_some(), "its socket is closed");
}

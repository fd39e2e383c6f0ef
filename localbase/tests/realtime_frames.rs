//! v2 binary user broadcasts (kind 3 in, kind 4 out, JSON for v1 sockets), token expiry
//! and refresh on joined channels, and the per-connection limits.

mod common;

use std::time::Duration;

use common::*;
use localbase::Settings;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(3);
const QUIET: Duration = Duration::from_millis(400);

fn conversation_topic() -> (String, String) {
    let sub_topic = format!("conversation:{CONVERSATION}");
    (format!("realtime:{sub_topic}"), sub_topic)
}

#[tokio::test]
async fn a_binary_push_reaches_v2_as_binary_and_v1_as_json() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let (client, _) = server.sign_in(CLIENT).await;
    let (topic, sub_topic) = conversation_topic();
    let mut sender = server.socket("2.0.0").await;
    assert_eq!(
        sender.join_private(&sub_topic, &trainer).await["status"],
        "ok"
    );
    let mut v2 = server.socket("2.0.0").await;
    assert_eq!(v2.join_private(&sub_topic, &client).await["status"], "ok");
    let mut v1 = server.socket("1.0.0").await;
    assert_eq!(v1.join_private(&sub_topic, &client).await["status"], "ok");

    let body = br#"{"id":"m1","body":"Hi"}"#;
    sender
        .push_user_broadcast("1001", &topic, "new_message", body, true)
        .await;
    let ack = sender.expect(&topic, "phx_reply", WAIT).await;
    assert_eq!(
        ack.payload["status"], "ok",
        "ack: true answers binary pushes too"
    );
    let binary = v2.expect(&topic, "broadcast", WAIT).await;
    assert!(binary.binary, "v2 receives a kind-4 frame");
    assert_eq!(binary.payload["event"], "new_message");
    assert_eq!(binary.payload["payload"], json!({"id": "m1", "body": "Hi"}));
    assert!(
        binary.payload.get("meta").is_none(),
        "client metadata is not forwarded"
    );
    let text = v1.expect(&topic, "broadcast", WAIT).await;
    assert!(!text.binary);
    assert_eq!(
        text.payload,
        json!({"type": "broadcast", "event": "new_message", "payload": {"id": "m1", "body": "Hi"}})
    );

    sender
        .push_user_broadcast("1001", &topic, "raw", &[0, 159, 255], false)
        .await;
    let raw = v2.expect(&topic, "broadcast", WAIT).await;
    assert_eq!(raw.payload["payload"], json!([0, 159, 255]));
    let dropped = v1.next(QUIET).await;
    assert!(
        dropped.is_none(),
        "binary payloads are dropped for v1: {dropped:?}"
    );
}

#[tokio::test]
async fn database_broadcasts_reach_v2_as_binary_with_the_row_id() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let (client, client_id) = server.sign_in(CLIENT).await;
    let mut inbox = server.socket("2.0.0").await;
    assert_eq!(
        inbox
            .join_private(&format!("user:{client_id}"), &client)
            .await["status"],
        "ok"
    );
    server
        .rest(reqwest::Method::POST, "messages", &trainer)
        .json(&json!({"conversation_id": CONVERSATION, "body": "Утре?"}))
        .send()
        .await
        .unwrap();
    let announced = inbox
        .expect(&format!("realtime:user:{client_id}"), "broadcast", WAIT)
        .await;
    assert!(announced.binary);
    assert!(announced.payload["meta"]["id"].is_string());
    assert_eq!(announced.payload["payload"]["body"], "Утре?");
}

#[tokio::test]
async fn an_expiring_token_closes_the_channel_unless_refreshed() {
    let server = TestServer::start().await;
    let (_, client2_id) = server.sign_in(CLIENT2).await;
    let (topic, sub_topic) = conversation_topic();
    let token = |lifetime: i64, sub: &str| {
        let exp = localbase::jwt::now() + lifetime;
        server
            .state
            .keys
            .sign(&json!({"role": "authenticated", "aud": "authenticated", "exp": exp, "sub": sub}))
    };
    let mut expiring = server.socket("2.0.0").await;
    assert_eq!(
        expiring
            .join_private(&sub_topic, &token(2, CLIENT_ID))
            .await["status"],
        "ok"
    );
    let mut refreshed = server.socket("1.0.0").await;
    assert_eq!(
        refreshed
            .join_private(&sub_topic, &token(2, CLIENT_ID))
            .await["status"],
        "ok"
    );
    refreshed
        .push(
            Some("1"),
            &topic,
            "access_token",
            json!({"access_token": token(60, CLIENT_ID)}),
        )
        .await;

    let system = expiring
        .expect(&topic, "system", Duration::from_secs(5))
        .await;
    assert_eq!(system.payload["extension"], "system");
    assert_eq!(system.payload["status"], "error");
    let message = system.payload["message"].as_str().unwrap();
    assert!(
        message.starts_with("Token has expired ") && message.ends_with(" seconds ago"),
        "{message}"
    );
    expiring.expect(&topic, "phx_close", WAIT).await;
    assert!(
        refreshed.next(Duration::from_secs(1)).await.is_none(),
        "a refreshed channel stays"
    );

    // A token of someone who may not read the topic ends the channel at once.
    refreshed
        .push(
            Some("1"),
            &topic,
            "access_token",
            json!({"access_token": token(60, &client2_id)}),
        )
        .await;
    let denied = refreshed.expect(&topic, "system", WAIT).await;
    assert_eq!(
        denied.payload["message"],
        format!("You no longer have permission to read from this Channel topic: {sub_topic}")
    );
    refreshed.expect(&topic, "phx_close", WAIT).await;
}

#[tokio::test]
async fn limits_close_only_the_abusive_connection() {
    let server = TestServer::start_with(Settings {
        channel_error_backoff: Duration::from_millis(10),
        max_events_per_second: 10,
        max_channels_per_client: 2,
        max_payload_bytes: 100,
        ..Settings::default()
    })
    .await;
    let public = json!({"broadcast": {"ack": true}, "private": false});
    let mut flooder = server.socket("2.0.0").await;
    let mut listener = server.socket("2.0.0").await;
    let mut polite = server.socket("1.0.0").await;
    for socket in [&mut flooder, &mut listener, &mut polite] {
        assert_eq!(
            socket.join("room", public.clone(), None).await["status"],
            "ok"
        );
    }
    assert_eq!(
        flooder.join("second", public.clone(), None).await["status"],
        "ok"
    );
    let third = flooder.join("third", public.clone(), None).await;
    assert_eq!(
        third["response"]["reason"],
        "ChannelRateLimitReached: Too many channels"
    );

    let big = "x".repeat(200);
    polite
        .push(
            Some("1"),
            "realtime:room",
            "broadcast",
            json!({"type": "broadcast", "event": "big", "payload": {"text": big}}),
        )
        .await;
    let refused = polite.expect("realtime:room", "phx_reply", WAIT).await;
    assert_eq!(
        refused.payload,
        json!({"status": "error", "response": {"error": "payload_size_exceeded"}})
    );

    for n in 0..15 {
        flooder
            .push(
                Some("1"),
                "realtime:room",
                "broadcast",
                json!({"type": "broadcast", "event": "flood", "payload": {"n": n}}),
            )
            .await;
    }
    let system = flooder.expect("realtime:room", "system", WAIT).await;
    assert_eq!(system.payload["message"], "Too many messages per second");
    flooder.expect("realtime:room", "phx_close", WAIT).await;
    let mut delivered = 0;
    while let Some(frame) = listener.next(QUIET).await {
        assert_eq!(
            frame.payload["event"], "flood",
            "the oversized broadcast was not relayed"
        );
        delivered += 1;
    }
    assert!(
        delivered <= 10,
        "at most the allowed messages were relayed: {delivered}"
    );

    polite
        .push(
            Some("1"),
            "realtime:room",
            "broadcast",
            json!({"type": "broadcast", "event": "fine", "payload": {}}),
        )
        .await;
    assert_eq!(
        listener
            .expect("realtime:room", "broadcast", WAIT)
            .await
            .payload["event"],
        "fine"
    );
}

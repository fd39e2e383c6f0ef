//! Realtime over a real WebSocket: private-channel authorisation by RLS, broadcast to the
//! other participant and nobody else, database broadcasts to the inbox topic, and
//! survival of malformed input.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn heartbeat_is_answered_in_both_serializers() {
    let server = TestServer::start().await;
    for vsn in ["1.0.0", "2.0.0"] {
        let mut socket = server.socket(vsn).await;
        let reference = socket.push(None, "phoenix", "heartbeat", json!({})).await;
        let reply = socket.expect("phoenix", "phx_reply", SECOND).await;
        assert_eq!(reply.reference, json!(reference));
        assert_eq!(reply.payload, json!({"status": "ok", "response": {}}));
    }
}

#[tokio::test]
async fn only_participants_may_join_a_conversation_channel() {
    let server = TestServer::start().await;
    let (client, _) = server.sign_in(CLIENT).await;
    let (stranger, _) = server.sign_in(CLIENT2).await;
    let mut socket = server.socket("2.0.0").await;
    let allowed = socket
        .join_private(&format!("conversation:{CONVERSATION}"), &client)
        .await;
    assert_eq!(allowed["status"], "ok");

    let mut other = server.socket("2.0.0").await;
    let denied = other
        .join_private(&format!("conversation:{CONVERSATION}"), &stranger)
        .await;
    assert_eq!(denied["status"], "error");
    assert_eq!(
        denied["response"]["reason"],
        format!("Unauthorized: You do not have permissions to read from this Channel topic: conversation:{CONVERSATION}")
    );
    let inbox_of_someone_else = other
        .join_private(&format!("user:{CLIENT_ID}"), &stranger)
        .await;
    assert_eq!(inbox_of_someone_else["status"], "error");
    let garbage_topic = other
        .join_private("conversation:'; drop table x; --", &stranger)
        .await;
    assert_eq!(garbage_topic["status"], "error");

    let expired = server
        .state
        .keys
        .sign(&json!({"role": "authenticated", "exp": 1, "sub": CLIENT_ID}));
    let too_late = other
        .join_private(&format!("conversation:{CONVERSATION}"), &expired)
        .await;
    assert!(too_late["response"]["reason"]
        .as_str()
        .unwrap()
        .starts_with("InvalidJWTToken: Token has expired"));
}

#[tokio::test]
async fn broadcast_reaches_the_other_participant_and_nobody_else() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let (client, _) = server.sign_in(CLIENT).await;
    let topic = format!("realtime:conversation:{CONVERSATION}");

    let mut sender = server.socket("2.0.0").await;
    assert_eq!(
        sender
            .join_private(&format!("conversation:{CONVERSATION}"), &trainer)
            .await["status"],
        "ok"
    );
    let mut receiver = server.socket("1.0.0").await;
    assert_eq!(
        receiver
            .join_private(&format!("conversation:{CONVERSATION}"), &client)
            .await["status"],
        "ok"
    );
    // Someone on the public channel of the same name must not hear private traffic.
    let mut eavesdropper = server.socket("2.0.0").await;
    eavesdropper
        .push(
            Some("9"),
            &topic,
            "phx_join",
            json!({"config": {"private": false}}),
        )
        .await;
    assert_eq!(
        eavesdropper
            .expect(&topic, "phx_reply", SECOND)
            .await
            .payload["status"],
        "ok"
    );

    let message = json!({"id": "m1", "body": "Здравей!"});
    let push_ref = sender
        .push(
            Some("1001"),
            &topic,
            "broadcast",
            json!({"type": "broadcast", "event": "new_message", "payload": message}),
        )
        .await;
    let ack = sender.expect(&topic, "phx_reply", SECOND).await;
    assert_eq!(ack.reference, json!(push_ref), "ack: true is honoured");

    let received = receiver.expect(&topic, "broadcast", SECOND).await;
    assert_eq!(received.payload["event"], "new_message");
    assert_eq!(received.payload["payload"], message);
    assert!(
        sender.next(Duration::from_millis(300)).await.is_none(),
        "self: false"
    );
    assert!(
        eavesdropper
            .next(Duration::from_millis(300))
            .await
            .is_none(),
        "the public channel hears nothing"
    );
}

#[tokio::test]
async fn a_new_message_is_announced_on_the_recipients_inbox_by_the_database() {
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

    let response = server
        .rest(reqwest::Method::POST, "messages", &trainer)
        .json(&json!({"conversation_id": CONVERSATION, "body": "Утре в 7?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let announced = inbox
        .expect(
            &format!("realtime:user:{client_id}"),
            "broadcast",
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(announced.payload["event"], "new_message");
    assert_eq!(announced.payload["payload"]["body"], "Утре в 7?");
    assert!(
        announced.payload["meta"]["id"].is_string(),
        "database broadcasts carry meta.id"
    );
}

#[tokio::test]
async fn malformed_frames_are_survived_and_leave_stops_delivery() {
    let server = TestServer::start().await;
    let (client, _) = server.sign_in(CLIENT).await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let topic = format!("realtime:conversation:{CONVERSATION}");
    let mut socket = server.socket("2.0.0").await;
    for junk in [
        "",
        "not json",
        "[1,2]",
        "{\"topic\":1}",
        "[null,null,null,null,null]",
        "\u{0}\u{1}",
    ] {
        socket.send_raw(Message::Text(junk.into())).await;
    }
    socket
        .send_raw(Message::Binary(vec![0xff, 0, 1, 2].into()))
        .await;
    socket
        .push(None, "realtime:nowhere", "broadcast", json!({"event": "x"}))
        .await;
    assert_eq!(
        socket
            .expect("realtime:nowhere", "phx_reply", SECOND)
            .await
            .payload["status"],
        "error"
    );
    assert_eq!(
        socket
            .join_private(&format!("conversation:{CONVERSATION}"), &client)
            .await["status"],
        "ok"
    );

    let mut sender = server.socket("2.0.0").await;
    sender
        .join_private(&format!("conversation:{CONVERSATION}"), &trainer)
        .await;
    sender
        .push(
            Some("1001"),
            &topic,
            "broadcast",
            json!({"type": "broadcast", "event": "ping", "payload": {}}),
        )
        .await;
    socket.expect(&topic, "broadcast", SECOND).await;

    socket
        .push(Some("1002"), &topic, "phx_leave", json!({}))
        .await;
    socket.expect(&topic, "phx_close", SECOND).await;
    sender
        .push(
            Some("1001"),
            &topic,
            "broadcast",
            json!({"type": "broadcast", "event": "ping", "payload": {}}),
        )
        .await;
    let late = socket.next(Duration::from_millis(300)).await;
    assert!(
        late.as_ref().is_none_or(|f| f.event != "broadcast"),
        "no delivery after leaving: {late:?}"
    );
}

#[tokio::test]
async fn a_leave_for_a_replaced_join_leaves_the_current_join_alone() {
    let server = TestServer::start().await;
    let mut socket = server.socket("2.0.0").await;
    let topic = "realtime:room";
    let key = localbase::realtime::TopicKey {
        private: false,
        topic: topic.into(),
    };
    let config = json!({"config": {"broadcast": {"self": false}, "private": false}});
    for join_ref in ["j1", "j2"] {
        socket
            .push(Some(join_ref), topic, "phx_join", config.clone())
            .await;
        socket.expect(topic, "phx_reply", SECOND).await;
    }
    assert_eq!(server.state.hub.subscriber_count(&key), 1, "j2 replaced j1");

    // A client that timed out on j1 leaves it late, as Phoenix clients do.
    socket.push(Some("j1"), topic, "phx_leave", json!({})).await;
    socket.expect(topic, "phx_reply", SECOND).await;
    assert_eq!(
        server.state.hub.subscriber_count(&key),
        1,
        "the stale leave did not end j2"
    );

    socket.push(Some("j2"), topic, "phx_leave", json!({})).await;
    socket.expect(topic, "phx_close", SECOND).await;
    assert_eq!(server.state.hub.subscriber_count(&key), 0);
}

#[tokio::test]
async fn an_expired_connect_token_opens_no_channel() {
    let server = TestServer::start_with(localbase::Settings {
        jwt_expiry_seconds: 2,
        channel_error_backoff: Duration::from_millis(10),
        ..localbase::Settings::default()
    })
    .await;
    let (token, user_id) = server.sign_in(CLIENT).await;
    // The user's own token as the socket's key: joins without a token fall back to it.
    let mut socket = server.socket_with_key("2.0.0", &token).await;
    let config = json!({"config": {"broadcast": {"self": false}, "private": true}});
    let topic = format!("realtime:user:{user_id}");
    socket
        .push(Some("j1"), &topic, "phx_join", config.clone())
        .await;
    let reply = socket.expect(&topic, "phx_reply", SECOND).await;
    assert_eq!(
        reply.payload["status"], "ok",
        "valid at first: {:?}",
        reply.payload
    );
    socket
        .push(Some("j1"), &topic, "phx_leave", json!({}))
        .await;
    socket.expect(&topic, "phx_close", SECOND).await;

    tokio::time::sleep(Duration::from_millis(2_200)).await; // the token expires
    socket.push(Some("j2"), &topic, "phx_join", config).await;
    let reply = socket.expect(&topic, "phx_reply", SECOND).await;
    assert_eq!(reply.payload["status"], "error");
    let reason = reply.payload["response"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("InvalidJWTToken: Token has expired"),
        "{reason}"
    );
}

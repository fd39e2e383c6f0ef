//! Broadcast replay on private channels: the newest stored broadcasts since `since`, at
//! most `limit` (25 at the most), oldest first, marked `replayed`; refused on public ones.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_private_join_replays_recent_broadcasts_and_a_public_one_is_refused() {
    let server = TestServer::start().await;
    let (client, client_id) = server.sign_in(CLIENT).await;
    let admin = server.admin().await;
    let topic = format!("user:{client_id}");
    for n in 1..=3 {
        admin
            .execute(
                "select realtime.send(jsonb_build_object('n', $1::int), 'note', $2)",
                &[&n, &topic],
            )
            .await
            .unwrap();
    }

    for vsn in ["1.0.0", "2.0.0"] {
        let mut socket = server.socket(vsn).await;
        let config = json!({"broadcast": {"replay": {"since": 0, "limit": 2}}, "private": true});
        let reply = socket.join(&topic, config, Some(&client)).await;
        assert_eq!(reply["status"], "ok", "{vsn}");
        let mut replayed = Vec::new();
        for _ in 0..2 {
            let frame = socket
                .expect(
                    &format!("realtime:{topic}"),
                    "broadcast",
                    Duration::from_secs(2),
                )
                .await;
            assert_eq!(frame.payload["meta"]["replayed"], true, "{vsn}");
            assert!(frame.payload["meta"]["id"].is_string());
            replayed.push(frame.payload["payload"]["n"].as_i64().unwrap());
        }
        assert_eq!(replayed, [2, 3], "the newest two, oldest first ({vsn})");
    }

    let mut public = server.socket("2.0.0").await;
    let config = json!({"broadcast": {"replay": {"since": 0}}, "private": false});
    let refused = public.join("room", config, Some(&client)).await;
    assert_eq!(refused["status"], "error");
    assert_eq!(
        refused["response"]["reason"],
        "UnableToReplayMessages: Replay is not allowed for public channels"
    );
}

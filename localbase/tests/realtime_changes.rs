//! Postgres Changes over a real WebSocket: listeners declared at join, changes read from
//! the WAL, filtered, and delivered only to subscribers whose role and claims may SELECT
//! the row under RLS; commit order kept; bad listeners explained without closing the
//! channel.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(600);

fn listener(filter: Option<&str>) -> Value {
    let mut params = json!({"event": "*", "schema": "public", "table": "messages"});
    if let Some(filter) = filter {
        params["filter"] = json!(filter);
    }
    params
}

/// Joins a public channel with Postgres Changes listeners and waits until they are live.
async fn subscribe(
    socket: &mut Socket,
    sub_topic: &str,
    listeners: Value,
    token: &str,
) -> Vec<u64> {
    let config =
        json!({"broadcast": {"self": true}, "postgres_changes": listeners, "private": false});
    let reply = socket.join(sub_topic, config, Some(token)).await;
    assert_eq!(reply["status"], "ok", "{reply}");
    let entries = reply["response"]["postgres_changes"]
        .as_array()
        .unwrap()
        .clone();
    let system = socket
        .expect(&format!("realtime:{sub_topic}"), "system", WAIT)
        .await;
    assert_eq!(
        system.payload,
        json!({"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL", "channel": sub_topic})
    );
    entries.iter().map(|e| e["id"].as_u64().unwrap()).collect()
}

/// A socket of `token`'s user listening on channel "normal" for the conversation's changes,
/// as the app does.
async fn normal_subscriber(server: &TestServer, token: &str) -> Socket {
    let mut normal = server.socket("2.0.0").await;
    let filter = format!("conversation_id=eq.{CONVERSATION}");
    subscribe(
        &mut normal,
        "normal",
        json!([listener(Some(&filter))]),
        token,
    )
    .await;
    normal
}

async fn post_message(server: &TestServer, token: &str, conversation: &str, body: &str) -> Value {
    let response = server
        .rest(reqwest::Method::POST, "messages", token)
        .header("Prefer", "return=representation")
        .json(&json!({"conversation_id": conversation, "body": body}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()[0].clone()
}

#[tokio::test]
async fn a_participant_receives_inserts_and_updates_and_a_stranger_nothing() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let (client, _) = server.sign_in(CLIENT).await;
    let (stranger, _) = server.sign_in(CLIENT2).await;
    let filter = format!("conversation_id=eq.{CONVERSATION}");

    let mut participant = server.socket("2.0.0").await;
    let config = json!({"postgres_changes": [listener(Some(&filter))], "private": false});
    let reply = participant.join("changes", config, Some(&client)).await;
    let entry = &reply["response"]["postgres_changes"][0];
    assert_eq!(
        entry["filter"],
        filter.as_str(),
        "the client's params come back"
    );
    assert_eq!(
        (&entry["event"], &entry["table"]),
        (&json!("*"), &json!("messages"))
    );
    let id = entry["id"].as_u64().expect("integer id");
    participant.expect("realtime:changes", "system", WAIT).await;
    // The stranger listens to the whole table on a v1 socket.
    let mut other = server.socket("1.0.0").await;
    let stranger_ids = subscribe(&mut other, "changes", json!([listener(None)]), &stranger).await;

    let row = post_message(&server, &trainer, CONVERSATION, "Утре в 7?").await;
    let insert = participant
        .expect("realtime:changes", "postgres_changes", WAIT)
        .await;
    assert_eq!(insert.payload["ids"], json!([id]));
    let data = &insert.payload["data"];
    assert_eq!(data["type"], "INSERT");
    assert_eq!(
        (&data["schema"], &data["table"]),
        (&json!("public"), &json!("messages"))
    );
    assert_eq!(data["record"], row, "same JSON as PostgREST: {data}");
    assert_eq!(data["errors"], Value::Null);
    assert!(data.get("old_record").is_none());
    assert!(data["columns"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "created_at", "type": "timestamptz"})));
    let stamp = data["commit_timestamp"].as_str().unwrap();
    assert_eq!(
        (stamp.len(), &stamp[10..11], &stamp[23..]),
        (24, "T", "Z"),
        "{stamp}"
    );

    let response = server
        .rest(
            reqwest::Method::PATCH,
            &format!("messages?id=eq.{}", row["id"].as_str().unwrap()),
            &client,
        )
        .header("Prefer", "return=representation")
        .json(&json!({"read_at": "2026-11-25T14:29:15.123456+00:00"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    // The database stamps the receipt with its own time (read receipts only go forward).
    let stored_read_at = response.json::<Value>().await.unwrap()[0]["read_at"].clone();
    let update = participant
        .expect("realtime:changes", "postgres_changes", WAIT)
        .await;
    assert_eq!(update.payload["data"]["type"], "UPDATE");
    assert_eq!(update.payload["data"]["record"]["read_at"], stored_read_at);
    assert_eq!(
        update.payload["data"]["old_record"],
        json!({"id": row["id"]})
    );

    let heard = other.next(QUIET).await;
    assert!(
        heard.is_none(),
        "RLS hides the row from a non-participant: {heard:?}"
    );
    // …who does hear their own conversation, over v1.
    post_message(&server, &trainer, CLIENT2_CONVERSATION, "Здравей, Елена").await;
    let own = other
        .expect("realtime:changes", "postgres_changes", WAIT)
        .await;
    assert_eq!(own.payload["ids"], json!(stranger_ids));
    assert_eq!(own.payload["data"]["record"]["body"], "Здравей, Елена");
    assert!(
        participant.next(QUIET).await.is_none(),
        "the filter keeps other conversations out"
    );
}

#[tokio::test]
async fn neq_and_in_filters_select_rows() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let mut socket = server.socket("2.0.0").await;
    let ids = subscribe(
        &mut socket,
        "filters",
        json!([
            listener(Some(&format!("conversation_id=in.({CONVERSATION},{CLIENT2_CONVERSATION})"))),
            listener(Some(&format!("conversation_id=neq.{CONVERSATION}"))),
            {"event": "DELETE", "schema": "public", "table": "messages"},
        ]),
        &trainer,
    )
    .await;
    assert_eq!(ids.len(), 3);
    assert_ne!(ids[0], ids[1]);

    post_message(&server, &trainer, CONVERSATION, "one").await;
    let first = socket
        .expect("realtime:filters", "postgres_changes", WAIT)
        .await;
    assert_eq!(first.payload["ids"], json!([ids[0]]));
    post_message(&server, &trainer, CLIENT2_CONVERSATION, "two").await;
    let second = socket
        .expect("realtime:filters", "postgres_changes", WAIT)
        .await;
    assert_eq!(second.payload["ids"], json!([ids[0], ids[1]]));
    assert_eq!(second.payload["data"]["record"]["body"], "two");
}

#[tokio::test]
async fn changes_arrive_in_commit_order_and_deletes_carry_only_the_key() {
    let server = TestServer::start().await;
    let (trainer, trainer_id) = server.sign_in(TRAINER).await;
    let mut socket = server.socket("2.0.0").await;
    let filter = format!("conversation_id=eq.{CONVERSATION}");
    let deletes = json!({"event": "DELETE", "schema": "public", "table": "messages"});
    let ids = subscribe(
        &mut socket,
        "order",
        json!([listener(Some(&filter)), deletes]),
        &trainer,
    )
    .await;
    let database = server.admin().await;
    let insert = "insert into public.messages (conversation_id, sender_id, body) values ($1::text::uuid, $2::text::uuid, $3)";
    for n in 0..20 {
        database
            .execute(insert, &[&CONVERSATION, &trainer_id, &format!("n{n}")])
            .await
            .unwrap();
    }
    for n in 0..20 {
        let change = socket
            .expect("realtime:order", "postgres_changes", WAIT)
            .await;
        assert_eq!(change.payload["data"]["record"]["body"], format!("n{n}"));
    }
    let deleted: String = database
        .query_one(
            "delete from public.messages where body = 'n3' returning id::text",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let delete = socket
        .expect("realtime:order", "postgres_changes", WAIT)
        .await;
    assert_eq!(delete.payload["data"]["type"], "DELETE");
    // Only the primary key survives a delete (no replica identity full), so the filtered
    // listener cannot match it; the unfiltered one does.
    assert_eq!(delete.payload["ids"], json!([ids[1]]));
    assert_eq!(delete.payload["data"]["old_record"], json!({"id": deleted}));
    assert!(delete.payload["data"].get("record").is_none());
}

#[tokio::test]
async fn bad_listeners_are_explained_and_the_channel_stays_open() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let mut socket = server.socket("2.0.0").await;
    let cases = [
        (json!({"event": "*", "schema": "public", "table": "profiles"}), "Unable to subscribe to changes with given parameters. Please check Realtime is enabled"),
        (listener(Some("conversation_id=like.x")), "Error parsing `filter` params: [\"like\", \"x\"]"),
        (listener(Some("nope=eq.1")), "invalid column for filter nope"),
        (listener(Some("conversation_id=eq.not-a-uuid")), "invalid input syntax for type uuid"),
    ];
    for (n, (params, expected)) in cases.into_iter().enumerate() {
        let sub_topic = format!("bad{n}");
        let topic = format!("realtime:{sub_topic}");
        let config = json!({"broadcast": {"self": true}, "postgres_changes": [params]});
        let reply = socket.join(&sub_topic, config, Some(&trainer)).await;
        assert_eq!(reply["status"], "ok");
        let system = socket.expect(&topic, "system", WAIT).await;
        assert_eq!(system.payload["status"], "error");
        assert_eq!(system.payload["extension"], "postgres_changes");
        let message = system.payload["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
        socket
            .push(
                Some("1"),
                &topic,
                "broadcast",
                json!({"type": "broadcast", "event": "still", "payload": {}}),
            )
            .await;
        socket.expect(&topic, "broadcast", WAIT).await;
    }
    assert_eq!(server.state.changes.len(), 0);
}

#[tokio::test]
async fn leaving_or_disconnecting_removes_the_listeners() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let mut socket = server.socket("2.0.0").await;
    subscribe(&mut socket, "a", json!([listener(None)]), &trainer).await;
    subscribe(&mut socket, "b", json!([listener(None)]), &trainer).await;
    assert_eq!(server.state.changes.len(), 2);
    socket
        .push(None, "realtime:a", "phx_leave", json!({}))
        .await;
    socket.expect("realtime:a", "phx_close", WAIT).await;
    assert_eq!(server.state.changes.len(), 1);
    drop(socket);
    for _ in 0..50 {
        if server.state.changes.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("listeners of a closed socket remain");
}

#[tokio::test]
async fn listeners_and_conditions_are_bounded_and_the_others_keep_receiving() {
    let server = TestServer::start().await;
    let (trainer, _) = server.sign_in(TRAINER).await;
    let (client, _) = server.sign_in(CLIENT).await;
    let mut normal = normal_subscriber(&server, &client).await;

    let mut hostile = server.socket("2.0.0").await;
    let many_conditions: String = (0..6000)
        .map(|i| format!("body=neq.x{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let too_many_listeners: Vec<Value> = (0..21)
        .map(|i| listener(Some(&format!("body=eq.{i}"))))
        .collect();
    for (topic, listeners, expected) in [
        (
            "conditions",
            json!([listener(Some(&many_conditions))]),
            "6000 conditions (at most 10)",
        ),
        ("listeners", json!(too_many_listeners), "21 (at most 20)"),
    ] {
        let config = json!({"postgres_changes": listeners, "private": false});
        let reply = hostile.join(topic, config, Some(&trainer)).await;
        assert_eq!(reply["status"], "ok", "the channel itself opens");
        let system = hostile
            .expect(&format!("realtime:{topic}"), "system", WAIT)
            .await;
        assert_eq!(system.payload["status"], "error");
        let message = system.payload["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    assert!(
        server.state.changes.len() == 1,
        "only the normal subscriber listens"
    );

    // 20 listeners of 10 conditions fill one connection's allowance; one more condition on
    // another channel is refused, and a rejoin of the full channel is not counted twice.
    let wide: Vec<Value> = (0..20)
        .map(|l| {
            let conditions: Vec<String> = (0..10).map(|c| format!("body=neq.w{l}-{c}")).collect();
            listener(Some(&conditions.join(",")))
        })
        .collect();
    subscribe(&mut hostile, "wide", json!(wide), &trainer).await;
    let one_more = json!({"postgres_changes": [listener(Some("body=eq.x"))], "private": false});
    let reply = hostile.join("one-more", one_more, Some(&trainer)).await;
    assert_eq!(reply["status"], "ok");
    let system = hostile.expect("realtime:one-more", "system", WAIT).await;
    assert_eq!(system.payload["status"], "error");
    let message = system.payload["message"].as_str().unwrap();
    assert!(
        message.contains("on one connection: 201 (at most 200)"),
        "{message}"
    );
    assert_eq!(
        server.state.changes.len(),
        2,
        "the normal and the wide channel"
    );

    let row = post_message(&server, &trainer, CONVERSATION, "still flowing").await;
    let change = normal
        .expect("realtime:normal", "postgres_changes", WAIT)
        .await;
    assert_eq!(change.payload["data"]["record"]["id"], row["id"]);
    let change = hostile
        .expect("realtime:wide", "postgres_changes", WAIT)
        .await;
    assert_eq!(change.payload["data"]["record"]["id"], row["id"]);
}

/// Thousands of conditions (once one SQL parameter each, and past 32,767 in all every
/// change was lost): every change is still decided for everyone, each condition rightly —
/// those PostgreSQL decides grouped into a few array parameters, equalities on a uuid
/// column by text, whatever case the client wrote.
#[tokio::test]
async fn thousands_of_conditions_still_decide_every_change() {
    let server = TestServer::start_with(localbase::Settings {
        max_filter_conditions: 800,
        max_conditions_per_connection: 5_000,
        ..localbase::Settings::default()
    })
    .await;
    let (trainer, trainer_id) = server.sign_in(TRAINER).await;
    let (client, _) = server.sign_in(CLIENT).await;
    let mut many = server.socket("2.0.0").await;
    // Three channels with one listener of 800 conditions that all pass for the message
    // below, and one whose four listeners each have one that fails: a result handed to the
    // wrong condition changes who hears it, wherever the channels fall in the order.
    let body = "decided";
    let upper = CONVERSATION.to_uppercase();
    let by_text = [
        ("eq-upper", format!("conversation_id=eq.{upper}"), true),
        (
            "in",
            format!("conversation_id=in.({},{upper})", uuid_like(1)),
            true,
        ),
        ("neq-sender", format!("sender_id=neq.{trainer_id}"), false),
        (
            "eq-other",
            format!("conversation_id=eq.{}", uuid_like(2)),
            false,
        ),
    ];
    for (k, name) in ["all-0", "all-1", "none", "all-2"].into_iter().enumerate() {
        let listeners: Vec<Value> = if name == "none" {
            (0..4)
                .map(|l| listener(Some(&format!("created_at=lt.2000-01-0{}", l + 1))))
                .collect()
        } else {
            let conditions: Vec<String> = (0..800)
                .map(|c| format!("created_at=lt.210{k}-01-01T00:{:02}:{:02}Z", c / 60, c % 60))
                .collect();
            vec![listener(Some(&conditions.join(",")))]
        };
        subscribe(&mut many, name, json!(listeners), &trainer).await;
    }
    for (name, filter, _) in &by_text {
        subscribe(&mut many, name, json!([listener(Some(filter))]), &trainer).await;
    }
    let mut normal = normal_subscriber(&server, &client).await;

    let row = post_message(&server, &trainer, CONVERSATION, body).await;
    let change = normal
        .expect(
            "realtime:normal",
            "postgres_changes",
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(change.payload["data"]["record"]["id"], row["id"]);
    let mut heard = Vec::new();
    while let Some(received) = many.next(QUIET * 5).await {
        if received.event == "postgres_changes" {
            heard.push(received.topic.clone());
        }
    }
    heard.sort();
    let mut expected: Vec<String> = ["all-0", "all-1", "all-2"]
        .into_iter()
        .chain(
            by_text
                .iter()
                .filter(|(_, _, passes)| *passes)
                .map(|(name, _, _)| *name),
        )
        .map(|name| format!("realtime:{name}"))
        .collect();
    expected.sort();
    assert_eq!(
        heard, expected,
        "every listener whose conditions all pass, and no other"
    );
}

/// A uuid that is not the conversation's.
fn uuid_like(n: u8) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// On PostgreSQL builds that accept only listed output plugins, wal2json joins the list for
/// the poller's session; on stock PostgreSQL, without that setting, nothing happens and
/// nothing fails. (A placeholder setting stands in for such a build's own.)
#[tokio::test]
async fn wal2json_is_allowed_where_output_plugins_are_restricted() {
    let server = TestServer::start().await;
    let client = server.admin().await;
    let setting = "localbase_test.output_plugin_libraries";
    let current = || async {
        client
            .query_one("select current_setting($1, true)", &[&setting])
            .await
            .unwrap()
            .get::<_, Option<String>>(0)
    };
    localbase::realtime::allow_wal2json(&client, setting)
        .await
        .expect("no such setting: nothing to do");
    assert_eq!(current().await, None);
    for (listed, allowed) in [
        ("pgoutput", "pgoutput, wal2json"),
        ("pgoutput, wal2json", "pgoutput, wal2json"),
        ("", "wal2json"),
    ] {
        client
            .execute("select set_config($1, $2, false)", &[&setting, &listed])
            .await
            .unwrap();
        localbase::realtime::allow_wal2json(&client, setting)
            .await
            .unwrap();
        assert_eq!(current().await.as_deref(), Some(allowed), "from {listed:?}");
    }
}

//! Hostile and unlucky conditions: garbage on a socket, an oversize frame, a thousand joins
//! at once, a client that never reads during a flood, a server shutdown, and PostgreSQL
//! restarting under a running localbase. Each time the offender alone is affected and
//! everyone else keeps being served.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::heap::live_heap_kib;
use common::*;
use localbase::cluster::Cluster;
use localbase::Settings;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(5);

/// Held by the tests that measure this process's memory or move hundreds of megabytes,
/// so that one's traffic does not count in another's measurement.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const QUIET: Duration = Duration::from_millis(300);

fn public() -> Value {
    json!({"broadcast": {"self": false}, "private": false})
}

/// Sends one JSON broadcast on `topic` from `socket` (joined there).
async fn say(socket: &mut Socket, topic: &str, event: &str, payload: Value) {
    socket
        .push(
            Some("1"),
            topic,
            "broadcast",
            json!({"type": "broadcast", "event": event, "payload": payload}),
        )
        .await;
}

/// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn garbage_and_unknown_events_leave_the_socket_and_its_neighbours_working() {
    let server = TestServer::start().await;
    let mut vandal = server.socket("2.0.0").await;
    let mut neighbour = server.socket("1.0.0").await;
    for socket in [&mut vandal, &mut neighbour] {
        assert_eq!(socket.join("room", public(), None).await["status"], "ok");
    }

    for seed in 1..=60u64 {
        let bytes = noise(seed, (seed as usize * 37) % 900 + 1);
        vandal.send_raw(Message::Binary(bytes.clone().into())).await;
        // Every frame kind byte, followed by noise that cannot be a valid header.
        let mut kinds = vec![(seed % 6) as u8];
        kinds.extend_from_slice(&bytes[..bytes.len().min(5)]);
        vandal.send_raw(Message::Binary(kinds.into())).await;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        vandal.send_raw(Message::Text(text.into())).await;
    }
    for junk in [
        "[",
        "{\"a\":",
        "[null,null,\"realtime:room\",\"broadcast\"]",
        "[null,null,\"realtime:room\",\"broadcast\",{},6]",
        "[1e999,null,\"phoenix\",\"heartbeat\",{}]",
        "[[],{},\"phoenix\",\"heartbeat\",{}]",
        "{\"topic\":\"phoenix\",\"event\":\"heartbeat\"}",
        "null",
        "\"just a string\"",
        &"[".repeat(10_000),
        &format!(
            "[null,null,\"realtime:room\",\"broadcast\",{}]",
            "[".repeat(5_000)
        ),
    ] {
        vandal.send_raw(Message::Text(junk.into())).await;
    }
    vandal.send_raw(Message::Ping(vec![1, 2, 3].into())).await;
    // Well-formed frames with events and topics the server does not know.
    for (topic, event) in [
        ("realtime:room", "no_such_event"),
        ("realtime:room", "phx_reply"),
        ("realtime:elsewhere", "no_such_event"),
        ("realtime:elsewhere", "phx_leave"),
        ("realtime:elsewhere", "access_token"),
        ("phoenix", "no_such_event"),
        ("", ""),
    ] {
        vandal.push(Some("7"), topic, event, json!({"x": 1})).await;
    }
    say(&mut vandal, "realtime:room", "x", json!("not an object")).await;
    vandal
        .push(Some("7"), "realtime:room", "broadcast", json!([1, 2]))
        .await;

    assert!(
        vandal.heartbeat(WAIT).await,
        "the vandal's socket still works"
    );
    assert!(neighbour.heartbeat(WAIT).await);
    say(&mut neighbour, "realtime:room", "hello", json!({"n": 1})).await;
    let heard = vandal.expect("realtime:room", "broadcast", WAIT).await;
    assert_eq!(heard.payload["payload"], json!({"n": 1}));
    say(&mut vandal, "realtime:room", "hello", json!({"n": 2})).await;
    let heard = neighbour.expect("realtime:room", "broadcast", WAIT).await;
    assert_eq!(heard.payload["payload"], json!({"n": 2}));
}

#[tokio::test]
async fn an_oversize_frame_closes_only_that_connection() {
    let server = TestServer::start().await;
    let mut offender = server.socket("2.0.0").await;
    let mut bystander = server.socket("2.0.0").await;
    let mut speaker = server.socket("1.0.0").await;
    for socket in [&mut offender, &mut bystander, &mut speaker] {
        assert_eq!(socket.join("room", public(), None).await["status"], "ok");
    }

    // Just under hosted Realtime's 5 MB frame limit: ignored as malformed, not fatal.
    let below = "x".repeat(4_900_000);
    offender.send_raw(Message::Text(below.into())).await;
    assert!(offender.heartbeat(WAIT).await, "a large frame is survived");

    let above = format!(
        "[\"1\",\"2\",\"realtime:room\",\"broadcast\",{{\"type\":\"broadcast\",\"event\":\"big\",\"payload\":\"{}\"}}]",
        "y".repeat(5_100_000)
    );
    // The server may stop reading half-way through, so the write itself may fail.
    let _ = offender.try_send_raw(Message::Text(above.into())).await;
    assert!(
        offender.closed(WAIT).await.is_some(),
        "a frame over 5 MB ends the connection"
    );

    assert!(bystander.heartbeat(WAIT).await);
    say(&mut speaker, "realtime:room", "after", json!({"ok": true})).await;
    let heard = bystander.expect("realtime:room", "broadcast", WAIT).await;
    assert_eq!(
        heard.payload["event"], "after",
        "the oversize broadcast was never relayed"
    );
}

/// Sends `count` joins of public channels `<prefix>-<n>` without waiting, then collects
/// the join replies (ok count, error reasons in order) until `quiet` passes without one.
async fn join_many(socket: &mut Socket, prefix: &str, count: usize) -> (usize, Vec<String>) {
    for n in 0..count {
        let frame = json!([format!("j{n}"), format!("r{n}"), format!("realtime:{prefix}-{n}"),
                           "phx_join", {"config": public()}]);
        // A server that has had enough may close the socket while joins are still sent.
        if !socket
            .try_send_raw(Message::Text(frame.to_string().into()))
            .await
        {
            break;
        }
    }
    let (mut ok, mut refused) = (0, Vec::new());
    while let Some(frame) = socket.next(Duration::from_secs(2)).await {
        if frame.event != "phx_reply" {
            continue;
        }
        match frame.payload["status"].as_str() {
            Some("ok") => ok += 1,
            _ => refused.push(
                frame.payload["response"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ),
        }
        if ok + refused.len() == count {
            break;
        }
    }
    (ok, refused)
}

#[tokio::test]
async fn a_thousand_joins_on_one_connection_meet_the_channel_limit_and_nobody_else_notices() {
    let server = TestServer::start_with(Settings {
        channel_error_backoff: Duration::from_millis(10),
        max_joins_per_second: 100_000,
        ..Settings::default()
    })
    .await;
    let mut neighbour = server.socket("2.0.0").await;
    let mut speaker = server.socket("2.0.0").await;
    for socket in [&mut neighbour, &mut speaker] {
        assert_eq!(socket.join("many-0", public(), None).await["status"], "ok");
    }
    let mut greedy = server.socket("2.0.0").await;
    let (ok, refused) = join_many(&mut greedy, "many", 1000).await;
    assert_eq!(ok, 100, "hosted Realtime's 100 channels per connection");
    assert_eq!(refused.len(), 900, "every other join is answered");
    assert!(
        refused
            .iter()
            .all(|reason| reason == "ChannelRateLimitReached: Too many channels"),
        "{:?}",
        refused
            .iter()
            .find(|r| *r != "ChannelRateLimitReached: Too many channels")
    );
    assert!(
        greedy.heartbeat(WAIT).await,
        "the greedy socket still works"
    );

    assert!(neighbour.heartbeat(WAIT).await);
    say(&mut speaker, "realtime:many-0", "hi", json!({})).await;
    neighbour.expect("realtime:many-0", "broadcast", WAIT).await;
    greedy.expect("realtime:many-0", "broadcast", WAIT).await;
}

#[tokio::test]
async fn joins_beyond_the_per_second_limit_close_only_that_connection() {
    let server = TestServer::start().await;
    let mut neighbour = server.socket("2.0.0").await;
    let mut speaker = server.socket("2.0.0").await;
    for socket in [&mut neighbour, &mut speaker] {
        assert_eq!(socket.join("burst-0", public(), None).await["status"], "ok");
    }
    let mut greedy = server.socket("2.0.0").await;
    let (ok, refused) = join_many(&mut greedy, "burst", 1000).await;
    assert_eq!(ok, 100, "joins within the limit are accepted");
    assert_eq!(
        refused.first().map(String::as_str),
        Some("ClientJoinRateLimitReached: Too many joins per second")
    );
    assert!(
        greedy.closed(WAIT).await.is_some(),
        "then it is disconnected"
    );

    assert!(neighbour.heartbeat(WAIT).await);
    say(&mut speaker, "realtime:burst-0", "hi", json!({})).await;
    neighbour
        .expect("realtime:burst-0", "broadcast", WAIT)
        .await;
    assert_eq!(
        server
            .state
            .hub
            .subscriber_count(&localbase::realtime::TopicKey {
                private: false,
                topic: "realtime:burst-0".into(),
            }),
        2,
        "the closed connection's channels are gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_stop_delivery_and_memory_stays_bounded() {
    let _heavy = HEAVY.lock().await;
    const MESSAGES: usize = 30_000;
    const PAYLOAD_BYTES: usize = 2_000;
    const BATCH: usize = 250;
    let server = TestServer::start_with(Settings {
        max_events_per_second: 1_000_000,
        ..Settings::default()
    })
    .await;
    let topic = "realtime:flood";
    let mut stuck = server.socket("2.0.0").await;
    let mut reader = server.socket("2.0.0").await;
    let mut sender = server.socket("2.0.0").await;
    for socket in [&mut stuck, &mut reader, &mut sender] {
        assert_eq!(socket.join("flood", public(), None).await["status"], "ok");
    }
    // `stuck` is never read from again until the end.
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let reading = tokio::spawn(async move {
        while counter.load(Ordering::Relaxed) < MESSAGES {
            match reader.next(WAIT).await {
                Some(frame) if frame.event == "broadcast" => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {}
                None => break,
            }
        }
        reader
    });

    let before = live_heap_kib();
    let filler = "z".repeat(PAYLOAD_BYTES);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    for sent in 0..MESSAGES {
        // Paced by the reader (at most two batches ahead), never by the stuck client.
        while sent >= received.load(Ordering::Relaxed) + 2 * BATCH {
            assert!(
                tokio::time::Instant::now() < deadline,
                "delivery to the reader stalled at {}",
                received.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        say(
            &mut sender,
            topic,
            "flood",
            json!({"n": sent, "filler": filler}),
        )
        .await;
    }
    let mut reader = reading.await.unwrap();
    let after = live_heap_kib();
    assert_eq!(
        received.load(Ordering::Relaxed),
        MESSAGES,
        "the reading subscriber got every message"
    );
    let flood_kib = (MESSAGES * PAYLOAD_BYTES / 1024) as u64;
    let growth = after.saturating_sub(before);
    eprintln!("flood of {flood_kib} KiB: live heap {before} -> {after} KiB");
    assert!(
        growth < flood_kib / 2,
        "memory grew by {growth} KiB for a {flood_kib} KiB flood: the stuck client's backlog is not bounded"
    );
    assert!(reader.heartbeat(WAIT).await);
    // The stuck client got the first messages and then lost the rest, not everyone else.
    let mut backlog = 0;
    while stuck.next(QUIET).await.is_some() {
        backlog += 1;
    }
    assert!(
        backlog < MESSAGES,
        "the stuck client's backlog was cut: {backlog}"
    );
}

#[tokio::test]
async fn shutdown_closes_every_socket() {
    let server = TestServer::start().await;
    let mut sockets = Vec::new();
    for vsn in ["1.0.0", "2.0.0", "2.0.0"] {
        let mut socket = server.socket(vsn).await;
        assert_eq!(socket.join("room", public(), None).await["status"], "ok");
        sockets.push(socket);
    }
    let idle = server.socket("2.0.0").await;
    sockets.push(idle);
    server.state.begin_shutdown();
    for socket in &mut sockets {
        assert_eq!(
            socket.closed(WAIT).await,
            Some(1001),
            "closed with 1001 going away"
        );
    }
}

#[tokio::test]
async fn shutdown_ends_the_database_readers_even_while_postgresql_never_answers() {
    let server = TestServer::start().await;
    // A "PostgreSQL" that accepts connections and never says a word, and one that refuses.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!(
        "postgres://postgres@{}/postgres?connect_timeout=0",
        silent.local_addr().unwrap()
    );
    let held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            kept.push(stream);
        }
    });
    let refused_url = "postgres://postgres@127.0.0.1:1/postgres".to_string();
    let mut readers = Vec::new();
    for url in [silent_url, refused_url] {
        readers.push(tokio::spawn(localbase::realtime::run_changes_poller(
            server.state.clone(),
            url.clone(),
        )));
        readers.push(tokio::spawn(localbase::realtime::run_database_listener(
            server.state.clone(),
            url,
        )));
    }
    tokio::time::sleep(Duration::from_millis(700)).await; // retrying by now
    server.state.begin_shutdown();
    for reader in readers {
        tokio::time::timeout(Duration::from_secs(3), reader)
            .await
            .expect("a database reader ends within seconds of shutdown")
            .unwrap();
    }
    held.abort();
}

#[tokio::test]
async fn a_subscriber_that_never_reads_is_dropped_before_it_pins_memory() {
    let _heavy = HEAVY.lock().await;
    const BROADCASTS: usize = 250;
    let server = TestServer::start_with(Settings {
        max_events_per_second: 1_000_000,
        ..Settings::default()
    })
    .await;
    let mut stuck = server.socket("2.0.0").await;
    let mut sender = server.socket("2.0.0").await;
    for socket in [&mut stuck, &mut sender] {
        assert_eq!(socket.join("big", public(), None).await["status"], "ok");
    }
    let before = live_heap_kib();
    let megabyte = "m".repeat(1024 * 1024);
    for n in 0..BROADCASTS {
        say(
            &mut sender,
            "realtime:big",
            "big",
            json!({"n": n, "data": megabyte}),
        )
        .await;
    }
    assert!(
        sender.heartbeat(WAIT).await,
        "the sender is served throughout"
    );
    let growth_mib = live_heap_kib().saturating_sub(before) / 1024;
    eprintln!("{BROADCASTS} MiB broadcast to a client that never reads: +{growth_mib} MiB");
    assert!(
        growth_mib < 80,
        "memory grew by {growth_mib} MiB: the non-reader's backlog is not bounded in bytes"
    );
    // The non-reader finds its connection closed with a reason once it looks.
    let mut code = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while code.is_none() && tokio::time::Instant::now() < deadline {
        code = stuck.closed(Duration::from_secs(1)).await;
    }
    assert_eq!(code, Some(1013), "closed as a slow consumer");
}

#[tokio::test]
async fn huge_refs_are_refused_and_heartbeats_count_towards_the_rate_limit() {
    let _heavy = HEAVY.lock().await;
    let server = TestServer::start().await;
    let mut socket = server.socket("2.0.0").await;
    let before = live_heap_kib();
    let huge = "1".repeat(1024 * 1024);
    for _ in 0..300 {
        let frame = json!([null, huge, "phoenix", "heartbeat", {}]).to_string();
        socket.send_raw(Message::Text(frame.into())).await;
    }
    assert!(
        socket.next(QUIET).await.is_none(),
        "no megabyte ref is echoed back"
    );
    let growth_mib = live_heap_kib().saturating_sub(before) / 1024;
    eprintln!("300 frames with a 1 MiB ref: live heap +{growth_mib} MiB");
    assert!(growth_mib < 16, "memory grew by {growth_mib} MiB");

    // 150 ordinary heartbeats in a burst: the first 100 are answered, the rest are not.
    for _ in 0..150 {
        socket.push(None, "phoenix", "heartbeat", json!({})).await;
    }
    let mut replies = 0;
    while socket.next(QUIET).await.is_some() {
        replies += 1;
    }
    assert_eq!(replies, 100, "heartbeats are messages like any other");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        socket.heartbeat(WAIT).await,
        "and the next second they are answered again"
    );
}

/// The private cluster of the restart test, stopped however the test ends.
struct OwnCluster(Cluster);

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.0.stop();
    }
}

/// Inserts a message as `token`'s user; the HTTP status (0 when there was no answer).
async fn post_message(server: &TestServer, token: &str, body: &str) -> u16 {
    server
        .rest(reqwest::Method::POST, "messages", token)
        .json(&json!({"conversation_id": CONVERSATION, "body": body}))
        .timeout(WAIT)
        .send()
        .await
        .map_or(0, |response| response.status().as_u16())
}

/// Waits for both paths of the message `body`: its Postgres Change on the conversation
/// channel and its database broadcast on the inbox. True if both arrive within `within`.
async fn both_paths_deliver(
    socket: &mut Socket,
    conversation: &str,
    inbox: &str,
    body: &str,
    within: Duration,
) -> bool {
    let (mut change, mut broadcast) = (false, false);
    let deadline = tokio::time::Instant::now() + within;
    while !(change && broadcast) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(frame) = socket.next(left).await else {
            return false;
        };
        if frame.topic == conversation
            && frame.event == "postgres_changes"
            && frame.payload["data"]["record"]["body"] == body
        {
            change = true;
        }
        if frame.topic == inbox
            && frame.event == "broadcast"
            && frame.payload["payload"]["body"] == body
        {
            broadcast = true;
        }
    }
    true
}

/// Joins the conversation channel (with a Postgres Changes listener for its inserts) and
/// the inbox channel as `token`'s user.
async fn join_both(socket: &mut Socket, token: &str, client_id: &str) {
    let conversation = format!("conversation:{CONVERSATION}");
    let config = json!({
        "broadcast": {"self": false}, "private": true,
        "postgres_changes": [{"event": "INSERT", "schema": "public", "table": "messages",
                              "filter": format!("conversation_id=eq.{CONVERSATION}")}],
    });
    assert_eq!(
        socket.join(&conversation, config, Some(token)).await["status"],
        "ok"
    );
    let system = socket
        .expect(&format!("realtime:{conversation}"), "system", WAIT)
        .await;
    assert_eq!(system.payload["status"], "ok", "{}", system.payload);
    assert_eq!(
        socket
            .join_private(&format!("user:{client_id}"), token)
            .await["status"],
        "ok"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localbase_recovers_when_postgresql_restarts() {
    // Not beside a memory measurement: its own traffic would be counted there.
    let _heavy = HEAVY.lock().await;
    let (dir, port) = private_cluster_location("restart");
    let cluster = tokio::task::spawn_blocking(move || Cluster::ensure_running(&dir, port))
        .await
        .unwrap()
        .expect("private PostgreSQL cluster");
    let cluster = Arc::new(OwnCluster(cluster.0));
    // A permanent slot, as `localbase serve` uses: it outlives the restart.
    let slot = format!("restart_{}", uuid::Uuid::new_v4().simple());
    let server = TestServer::start_on(
        &cluster.0.url("postgres"),
        Settings {
            channel_error_backoff: Duration::from_millis(10),
            replication_slot: Some(slot.clone()),
            ..Settings::default()
        },
    )
    .await;
    let conversation = format!("realtime:conversation:{CONVERSATION}");
    let (trainer, _) = server.sign_in(TRAINER).await;
    let (client, client_id) = server.sign_in(CLIENT).await;
    let inbox = format!("realtime:user:{client_id}");
    let mut before = server.socket("2.0.0").await;
    join_both(&mut before, &client, &client_id).await;
    assert_eq!(post_message(&server, &trainer, "before").await, 201);
    assert!(both_paths_deliver(&mut before, &conversation, &inbox, "before", WAIT).await);

    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || {
        restarting.0.stop().expect("stop PostgreSQL");
    })
    .await
    .unwrap();
    assert_ne!(
        post_message(&server, &trainer, "while down").await,
        201,
        "nothing is stored while PostgreSQL is down"
    );
    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || {
        let dir = private_cluster_location("restart").0;
        Cluster::ensure_running(&dir, restarting.0.port()).expect("start PostgreSQL again");
    })
    .await
    .unwrap();

    // REST: the pool replaces its dead connections by itself.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let body = format!("after restart {attempt}");
        let status = post_message(&server, &trainer, &body).await;
        // Both paths reconnect by themselves; the socket opened before is still served.
        if status == 201
            && both_paths_deliver(&mut before, &conversation, &inbox, &body, QUIET * 3).await
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no recovery within 30 s (last REST status {status})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (fresh_token, _) = server.sign_in(CLIENT).await;
    let mut after = server.socket("2.0.0").await;
    join_both(&mut after, &fresh_token, &client_id).await;
    assert_eq!(post_message(&server, &trainer, "fresh").await, 201);
    assert!(both_paths_deliver(&mut after, &conversation, &inbox, "fresh", WAIT).await);
    assert!(both_paths_deliver(&mut before, &conversation, &inbox, "fresh", WAIT).await);

    // Leave the private cluster clean for the next run: no slot holding WAL back.
    server.state.begin_shutdown();
    let admin = cluster.0.url("postgres");
    let (db, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let database = server.database_url.rsplit('/').next().unwrap().to_string();
    for _ in 0..50 {
        let dropped = db
            .execute(
                "select pg_drop_replication_slot(slot_name) from pg_replication_slots \
                 where slot_name = $1 and not active",
                &[&slot],
            )
            .await
            .unwrap();
        if dropped == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = db
        .batch_execute(&format!("drop database if exists {database} with (force)"))
        .await;
}

#[tokio::test]
async fn the_private_cluster_lets_nobody_in_without_its_password() {
    let server = TestServer::start().await;
    // The same URL without the password, as any local user could try it.
    let (userinfo, rest) = server.database_url.split_once('@').unwrap();
    let (user, password) = userinfo.rsplit_once(':').unwrap();
    assert!(password.len() >= 32, "a generated password");
    let without = format!("{user}@{rest}");
    let refused = tokio_postgres::connect(&without, tokio_postgres::NoTls).await;
    let error = refused.err().expect("no password, no connection");
    assert!(
        format!("{error:?}").contains("password"),
        "the server asks for a password: {error:?}"
    );
    let wrong = format!("{user}:wrong-password@{rest}");
    let error = tokio_postgres::connect(&wrong, tokio_postgres::NoTls)
        .await
        .err()
        .expect("a wrong password, no connection");
    let message = error.as_db_error().map(|db| db.message().to_string());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("password authentication failed")),
        "{error:?}"
    );
    // The password is kept beside the cluster's files, readable by their owner only.
    let dir: String = server
        .admin()
        .await
        .query_one("show data_directory", &[])
        .await
        .unwrap()
        .get(0);
    let file = std::path::Path::new(&dir).join("localbase_password");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "{} is private", file.display());
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), password);
}

#[tokio::test]
async fn pooled_statements_and_waits_for_a_connection_are_bounded() {
    let server = TestServer::start().await;
    let client = server.state.pool.get().await.unwrap();
    let timeout: String = client
        .query_one("show statement_timeout", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(timeout, "15s", "a runaway statement is cancelled");
    drop(client);
    // A pool whose only connection is taken answers the next caller with an error.
    let pool = localbase::db::pool(&server.database_url, 1).unwrap();
    let _held = pool.get().await.unwrap();
    let started = std::time::Instant::now();
    assert!(
        pool.get().await.is_err(),
        "no endless queue for a connection"
    );
    assert!(started.elapsed() < localbase::db::DEFAULT_TIMEOUTS.pool_wait + Duration::from_secs(2));
}

//! Integration-test harness: one PostgreSQL cluster per machine (started on first use in
//! `target/localbase-test-pg`, stopped by `scripts/test.sh`), a fresh database per test,
//! and localbase's HTTP app on an ephemeral port.

#![allow(dead_code)]

pub mod heap;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use localbase::cluster::Cluster;
use localbase::{app, db, jwt, AppState, Settings};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const TRAINER: &str = "trainer@example.com";
pub const CLIENT: &str = "client@example.com";
pub const CLIENT2: &str = "client2@example.com";
pub const PASSWORD: &str = "demo-password";
pub const CONVERSATION: &str = "c1000000-0000-4000-8000-000000000001";
pub const CLIENT2_CONVERSATION: &str = "c1000000-0000-4000-8000-000000000002";
pub const CLIENT_ID: &str = "a1000000-0000-4000-8000-000000000002";

/// Each checkout gets its own port, so two clones on one machine never share a cluster.
fn test_db_port() -> u16 {
    let path = workspace().canonicalize().unwrap_or_else(|_| workspace());
    let hash = path
        .to_string_lossy()
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
    54400 + (hash % 500) as u16
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The admin URL of the shared test cluster (started once per process, reused across runs).
fn cluster_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    URL.get_or_init(|| {
        let _guard = LOCK.lock().unwrap();
        let dir = workspace().join("target/localbase-test-pg");
        let (cluster, _) =
            Cluster::ensure_running(&dir, test_db_port()).expect("test PostgreSQL cluster");
        cluster.url("postgres")
    })
    .clone()
}

pub struct TestServer {
    pub base: String,
    pub anon_key: String,
    pub state: Arc<AppState>,
    pub database_url: String,
    pub http: reqwest::Client,
}

impl TestServer {
    /// A fresh, seeded database and a running server.
    pub async fn start() -> TestServer {
        TestServer::start_with(Settings {
            channel_error_backoff: Duration::from_millis(10),
            ..Settings::default()
        })
        .await
    }

    pub async fn start_with(settings: Settings) -> TestServer {
        TestServer::start_on(&cluster_url(), settings).await
    }

    /// A fresh, seeded database in the cluster at `admin` (its `postgres` database URL)
    /// and a running server on it.
    pub async fn start_on(admin: &str, mut settings: Settings) -> TestServer {
        let admin = admin.to_string();
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("create database {name}"))
            .await
            .unwrap();
        let database_url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        let pool = db::pool(&database_url, 8).unwrap();
        db::prepare(&pool, &workspace().join("supabase"))
            .await
            .expect("migrations and seed");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        settings.public_url = format!("http://{address}");
        let keys = jwt::Keys::new(jwt::DEFAULT_SECRET);
        let state = AppState::new(pool, keys.clone(), settings);
        state.reload_catalog().await.unwrap();
        tokio::spawn(localbase::realtime::run_database_listener(
            state.clone(),
            database_url.clone(),
        ));
        tokio::spawn(localbase::realtime::run_changes_poller(
            state.clone(),
            database_url.clone(),
        ));
        let router = app(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        TestServer {
            base: format!("http://{address}"),
            anon_key: keys.anon_key(),
            state,
            database_url,
            http: reqwest::Client::new(),
        }
    }

    /// A superuser connection to this test's database (RLS does not apply).
    pub async fn admin(&self) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.database_url, tokio_postgres::NoTls)
                .await
                .expect("superuser connection");
        tokio::spawn(connection);
        client
    }

    /// Signs in and returns (access token, user id).
    pub async fn sign_in(&self, email: &str) -> (String, String) {
        let response = self
            .http
            .post(format!("{}/auth/v1/token?grant_type=password", self.base))
            .header("apikey", &self.anon_key)
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "sign-in of {email}");
        let body: Value = response.json().await.unwrap();
        (
            body["access_token"].as_str().unwrap().into(),
            body["user"]["id"].as_str().unwrap().into(),
        )
    }

    pub fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/rest/v1/{path}", self.base))
            .header("apikey", &self.anon_key)
            .header("Authorization", format!("Bearer {token}"))
    }

    pub async fn socket(&self, vsn: &str) -> Socket {
        self.socket_with_key(vsn, &self.anon_key).await
    }

    /// A socket opened with `key` as its `apikey` (e.g. a user's access token).
    pub async fn socket_with_key(&self, vsn: &str, key: &str) -> Socket {
        let url = format!(
            "{}/realtime/v1/websocket?apikey={key}&vsn={vsn}",
            self.base.replace("http://", "ws://"),
        );
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket");
        Socket {
            stream,
            v2: vsn == "2.0.0",
            next_ref: 0,
        }
    }
}

/// Folder and port for a test that needs a PostgreSQL cluster of its own (one it may
/// stop and start), next to the shared one and on a port derived from it.
pub fn private_cluster_location(name: &str) -> (PathBuf, u16) {
    let dir = workspace().join(format!("target/localbase-test-pg-{name}"));
    (dir, test_db_port() + 600)
}

/// A raw Phoenix client for tests, speaking v1 or v2 text frames.
pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    v2: bool,
    next_ref: u64,
}

/// A decoded frame: (join_ref, ref, topic, event, payload).
#[derive(Debug, Clone)]
pub struct Received {
    pub join_ref: Value,
    pub reference: Value,
    pub topic: String,
    pub event: String,
    pub payload: Value,
    /// Arrived as a kind-4 binary frame rather than text.
    pub binary: bool,
}

impl Socket {
    pub async fn send_raw(&mut self, message: Message) {
        self.stream.send(message).await.unwrap();
    }

    /// Like `send_raw`, for frames the server may cut off half-way: false if it did.
    pub async fn try_send_raw(&mut self, message: Message) -> bool {
        self.stream.send(message).await.is_ok()
    }

    pub async fn push(
        &mut self,
        join_ref: Option<&str>,
        topic: &str,
        event: &str,
        payload: Value,
    ) -> String {
        self.next_ref += 1;
        let reference = self.next_ref.to_string();
        let text = if self.v2 {
            json!([join_ref, reference, topic, event, payload]).to_string()
        } else {
            json!({"join_ref": join_ref, "ref": reference, "topic": topic, "event": event, "payload": payload}).to_string()
        };
        self.send_raw(Message::Text(text.into())).await;
        reference
    }

    /// The next frame, or `None` after `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Received> {
        loop {
            let message = tokio::time::timeout(within, self.stream.next())
                .await
                .ok()??
                .ok()?;
            let text = match message {
                Message::Text(text) => text,
                Message::Binary(bytes) => match decode_user_broadcast(&bytes) {
                    Some(received) => return Some(received),
                    None => continue,
                },
                _ => continue,
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            return Some(if self.v2 {
                Received {
                    join_ref: value[0].clone(),
                    reference: value[1].clone(),
                    topic: value[2].as_str().unwrap().into(),
                    event: value[3].as_str().unwrap().into(),
                    payload: value[4].clone(),
                    binary: false,
                }
            } else {
                Received {
                    join_ref: value["join_ref"].clone(),
                    reference: value["ref"].clone(),
                    topic: value["topic"].as_str().unwrap().into(),
                    event: value["event"].as_str().unwrap().into(),
                    payload: value["payload"].clone(),
                    binary: false,
                }
            });
        }
    }

    /// Waits for a frame matching `event` on `topic`, skipping others.
    pub async fn expect(&mut self, topic: &str, event: &str, within: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no {event} on {topic} within {within:?}"));
            if frame.topic == topic && frame.event == event {
                return frame;
            }
        }
    }

    /// Sends a heartbeat; true when its reply arrives within `within` (other frames are
    /// skipped).
    pub async fn heartbeat(&mut self, within: Duration) -> bool {
        let reference = self.push(None, "phoenix", "heartbeat", json!({})).await;
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(frame) if frame.topic == "phoenix" && frame.reference == json!(reference) => {
                    return frame.payload["status"] == "ok";
                }
                Some(_) => {}
                None => return false,
            }
        }
    }

    /// Reads until the server ends the connection: `Some(close code)` (0 without a close
    /// frame) when it does within `within`, `None` when it is still open.
    pub async fn closed(&mut self, within: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.stream.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Some(frame.map_or(0, |f| u16::from(f.code)))
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return Some(0),
            }
        }
    }

    /// Joins `realtime:<sub_topic>` with `config`; returns the join reply's payload.
    pub async fn join(&mut self, sub_topic: &str, config: Value, token: Option<&str>) -> Value {
        let topic = format!("realtime:{sub_topic}");
        self.next_ref += 1;
        let join_ref = (self.next_ref + 1000).to_string();
        let mut payload = json!({ "config": config });
        if let Some(token) = token {
            payload["access_token"] = json!(token);
        }
        self.push(Some(&join_ref), &topic, "phx_join", payload)
            .await;
        self.expect(&topic, "phx_reply", Duration::from_secs(5))
            .await
            .payload
    }

    /// Sends a kind-3 binary user broadcast, as realtime-js does with vsn 2.0.0
    /// (`json` selects payload encoding 1, else 0).
    pub async fn push_user_broadcast(
        &mut self,
        join_ref: &str,
        topic: &str,
        event: &str,
        payload: &[u8],
        json: bool,
    ) {
        self.next_ref += 1;
        let reference = self.next_ref.to_string();
        let mut bytes = vec![
            3,
            join_ref.len() as u8,
            reference.len() as u8,
            topic.len() as u8,
            event.len() as u8,
            0,
            u8::from(json),
        ];
        for part in [join_ref, reference.as_str(), topic, event] {
            bytes.extend_from_slice(part.as_bytes());
        }
        bytes.extend_from_slice(payload);
        self.send_raw(Message::Binary(bytes.into())).await;
    }

    /// Joins a private channel; returns the join reply's payload.
    pub async fn join_private(&mut self, sub_topic: &str, token: &str) -> Value {
        let topic = format!("realtime:{sub_topic}");
        self.next_ref += 1;
        let join_ref = (self.next_ref + 1000).to_string();
        let payload = json!({
            "config": {"broadcast": {"ack": true, "self": false}, "presence": {"key": "", "enabled": false},
                       "postgres_changes": [], "private": true},
            "access_token": token,
        });
        self.push(Some(&join_ref), &topic, "phx_join", payload)
            .await;
        self.expect(&topic, "phx_reply", Duration::from_secs(5))
            .await
            .payload
    }
}

/// A kind-4 binary user broadcast decoded the way realtime-js does: event `broadcast`,
/// payload `{type, event, payload, meta?}`; a binary payload becomes an array of bytes.
fn decode_user_broadcast(bytes: &[u8]) -> Option<Received> {
    let [4, topic_len, event_len, meta_len, encoding, rest @ ..] = bytes else {
        return None;
    };
    let (topic, rest) = rest.split_at_checked(*topic_len as usize)?;
    let (event, rest) = rest.split_at_checked(*event_len as usize)?;
    let (meta, body) = rest.split_at_checked(*meta_len as usize)?;
    let user_payload = match encoding {
        1 => serde_json::from_slice(body).ok()?,
        _ => json!(body),
    };
    let mut payload = json!({
        "type": "broadcast",
        "event": std::str::from_utf8(event).ok()?,
        "payload": user_payload,
    });
    if !meta.is_empty() {
        payload["meta"] = serde_json::from_slice(meta).ok()?;
    }
    Some(Received {
        join_ref: Value::Null,
        reference: Value::Null,
        topic: std::str::from_utf8(topic).ok()?.to_string(),
        event: "broadcast".into(),
        payload,
        binary: true,
    })
}

/// `request.send_json().await`: sends and reads a JSON body, failing the test otherwise.
pub(crate) trait SendJson {
    async fn send_json<T: serde::de::DeserializeOwned>(self) -> T;
}

impl SendJson for reqwest::RequestBuilder {
    async fn send_json<T: serde::de::DeserializeOwned>(self) -> T {
        let response = self.send().await.expect("request sent");
        response.json().await.expect("a JSON body")
    }
}

//! localbase as its own process, as users run it, against what an anonymous client can
//! send: nothing brings the process down, and it still stops cleanly, PostgreSQL included.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

const ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// A `localbase serve` child with its own cluster; killed (and its folder removed) on drop.
struct Server {
    child: Child,
    dir: PathBuf,
    api: u16,
    db: u16,
}

impl Server {
    fn start() -> Server {
        Server::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Server {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../target/localbase-hostile-{}-{number}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let (api, db) = (free_port(), free_port());
        let child = spawn(&dir, api, db, extra);
        Server {
            child,
            dir,
            api,
            db,
        }
    }

    /// Starts localbase again on this server's folder and ports (after it died).
    fn start_again(&mut self) {
        self.child = spawn(&self.dir, self.api, self.db, &[]);
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// `localbase serve` on `dir` and the given ports, once it answers.
fn spawn(dir: &PathBuf, api: u16, db: u16, extra: &[&str]) -> Child {
    let log = std::fs::File::create(dir.with_extension("log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_localbase"))
        // The workspace root, where `supabase/` (migrations and seed) is.
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--port", &api.to_string(), "--db-port", &db.to_string()])
        .args(extra)
        .env_remove("DATABASE_URL")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start localbase");
    let deadline = Instant::now() + Duration::from_secs(90);
    while !listening(api) {
        assert!(
            Instant::now() < deadline,
            "localbase never listened on {api} ({}): {:?}, {}",
            dir.display(),
            child.try_wait(),
            std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new(env!("CARGO_BIN_EXE_localbase"))
            .args(["stop-db", "--data-dir"])
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(self.dir.with_extension("log"));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_anonymous_request_brings_the_process_down_and_it_stops_cleanly() {
    let mut server = Server::start();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", server.api);
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .header("apikey", ANON_KEY)
            .send()
    };
    let deep_select = format!("{}id{}", "a(".repeat(600), ")".repeat(600));
    let deep_or = format!("({}id.eq.1{})", "or(".repeat(1000), ")".repeat(1000));
    for path in [
        format!("/rest/v1/conversations?select={deep_select}"),
        format!("/rest/v1/conversations?or={deep_or}"),
    ] {
        let response = get(path).await.expect("an answer, not a dead server");
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "PGRST100", "{body}");
    }
    assert!(server.alive(), "still running");
    let still_serving = get("/rest/v1/messages?select=id".into()).await.unwrap();
    assert!(still_serving.status().as_u16() < 500);

    // SIGTERM stops it within seconds, and its PostgreSQL with it.
    let pid = server.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.alive() {
        assert!(
            Instant::now() < deadline,
            "localbase did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!listening(server.db), "its PostgreSQL stopped too");
}

/// Reads until the server closes the connection or `within` passes; true if it closed.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn trickling_and_idle_connections_are_closed_and_too_many_are_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Server::start_with(&[
        "--header-timeout-ms",
        "1000",
        "--max-connections-per-address",
        "30",
    ]);
    let address = format!("127.0.0.1:{}", server.api);

    // Slowloris: 20 connections sending a header byte every 300 ms.
    let mut trickling = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /rest/v1/ HTTP/1.1\r\n")
            .await
            .unwrap();
        trickling.push(stream);
    }
    let started = Instant::now();
    let mut open = trickling.len();
    while open > 0 && started.elapsed() < Duration::from_secs(5) {
        open = 0;
        for stream in &mut trickling {
            if stream.write_all(b"X").await.is_ok()
                && !closed_within(stream, Duration::from_millis(10)).await
            {
                open += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(open, 0, "every trickling connection was closed");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "within the header timeout"
    );

    // A connection that never speaks is closed as well.
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    assert!(closed_within(&mut idle, Duration::from_secs(3)).await);

    // Beyond 30 connections from one address, a clear 503 at once.
    let mut held = Vec::new();
    for _ in 0..30 {
        held.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    let mut one_more = tokio::net::TcpStream::connect(&address).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(2), one_more.read_to_string(&mut answer))
        .await
        .expect("answered at once")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too many connections"));
    drop(held);

    // Once they are gone, requests are served again.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = http
            .get(format!("http://{address}/rest/v1/messages?select=id"))
            .header("apikey", ANON_KEY)
            .send()
            .await;
        if response.is_ok_and(|r| r.status() != 503) {
            break;
        }
        assert!(Instant::now() < deadline, "served again after the cap");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ups_from_one_address_are_rate_limited() {
    let server = Server::start_with(&["--max-signups-per-window", "3"]);
    let http = reqwest::Client::new();
    let sign_up = |n: usize| {
        http.post(format!("http://127.0.0.1:{}/auth/v1/signup", server.api))
            .header("apikey", ANON_KEY)
            .json(&serde_json::json!({"email": format!("flood{n}@example.com"), "password": "secret-1"}))
            .send()
    };
    for n in 0..3 {
        assert_eq!(sign_up(n).await.unwrap().status(), 200);
    }
    let refused = sign_up(3).await.unwrap();
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error_code"], "over_request_rate_limit", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_localbase_leaves_no_postgresql_and_the_next_one_recovers() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let mut server = Server::start();
    server.child.kill().unwrap(); // SIGKILL: no clean-up of its own
    server.child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while listening(server.db) {
        assert!(Instant::now() < deadline, "its PostgreSQL was left running");
        std::thread::sleep(Duration::from_millis(100));
    }

    server.start_again();
    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!(
            "http://127.0.0.1:{}/auth/v1/token?grant_type=password",
            server.api
        ))
        .header("apikey", ANON_KEY)
        .json(&serde_json::json!({"email": "client@example.com", "password": "demo-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["access_token"]
        .as_str()
        .expect("signed in")
        .to_string();
    // Postgres Changes come back too (the replication slot survived the crash).
    let url = format!(
        "ws://127.0.0.1:{}/realtime/v1/websocket?apikey={ANON_KEY}&vsn=1.0.0",
        server.api
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let join = serde_json::json!({"topic": "realtime:after-crash", "event": "phx_join", "ref": "1",
        "join_ref": "1", "payload": {"config": {"private": false, "postgres_changes":
        [{"event": "*", "schema": "public", "table": "messages"}]}, "access_token": token}});
    socket
        .send(Message::Text(join.to_string().into()))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let next = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a system message about Postgres Changes")
            .unwrap()
            .unwrap();
        let Message::Text(text) = next else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["event"] == "system" {
            assert_eq!(frame["payload"]["status"], "ok", "{frame}");
            break;
        }
    }
}

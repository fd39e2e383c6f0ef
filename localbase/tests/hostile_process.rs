//! localbase as its own process, as users run it, against what an anonymous client can
//! send: nothing brings the process down, and it still stops cleanly, PostgreSQL included.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
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
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "../target/localbase-hostile-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let (api, db) = (free_port(), free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_localbase"))
            .args(["serve", "--data-dir"])
            .arg(&dir)
            .args(["--port", &api.to_string(), "--db-port", &db.to_string()])
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start localbase");
        let deadline = Instant::now() + Duration::from_secs(90);
        while !listening(api) {
            assert!(Instant::now() < deadline, "localbase never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            dir,
            api,
            db,
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new(env!("CARGO_BIN_EXE_localbase"))
            .args(["stop-db", "--data-dir"])
            .arg(&self.dir)
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
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

//! The localbase under test: started as its own process (release build) on a fresh data
//! folder and its own ports, stopped with SIGTERM (which also stops its PostgreSQL).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// Seed accounts of `supabase/seed.sql`.
pub const PASSWORD: &str = "demo-password";

pub struct Server {
    child: Child,
    pub base: String,
    pub anon_key: String,
    pub http: reqwest::Client,
}

/// How to start localbase.
pub struct Launch<'a> {
    pub binary: &'a Path,
    pub data_dir: &'a Path,
    pub supabase_dir: &'a Path,
    pub port: u16,
    pub db_port: u16,
}

impl Server {
    /// Starts localbase with limits high enough that the load, not a limit, is measured;
    /// its log goes to `<data_dir>/../localbase.log`.
    pub fn start(launch: &Launch) -> Result<Server, String> {
        if launch.data_dir.exists() {
            std::fs::remove_dir_all(launch.data_dir)
                .map_err(|e| format!("cannot clear {}: {e}", launch.data_dir.display()))?;
        }
        let log_path = launch.data_dir.parent().map_or_else(
            || PathBuf::from("localbase.log"),
            |p| p.join("localbase.log"),
        );
        std::fs::create_dir_all(launch.data_dir.parent().unwrap_or(Path::new(".")))
            .map_err(|e| e.to_string())?;
        let mut child = Command::new(launch.binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(launch.data_dir)
            .arg("--supabase-dir")
            .arg(launch.supabase_dir)
            .args(["--port", &launch.port.to_string()])
            .args(["--db-port", &launch.db_port.to_string()])
            .args(["--max-events-per-second", "1000000"])
            .args(["--max-joins-per-second", "1000000"])
            .args(["--max-channels-per-client", "1000"])
            .args(["--channel-error-backoff-ms", "0"])
            .args(["--replication-slot", "bench_changes"])
            .env("RUST_LOG", "localbase=warn")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.binary.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (key_tx, key_rx) = std::sync::mpsc::channel();
        // localbase logs to stdout: keep draining it into the log file, after picking
        // the anon key out of the start-up lines.
        std::thread::spawn(move || {
            let mut log = std::fs::File::create(log_path).ok();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(key) = line.strip_prefix("anon key") {
                    let _ = key_tx.send(key.trim().to_string());
                }
                if let Some(log) = log.as_mut() {
                    let _ = writeln!(log, "{line}");
                }
            }
        });
        let anon_key = match key_rx.recv_timeout(Duration::from_secs(120)) {
            Ok(key) => key,
            Err(_) => {
                let _ = child.kill();
                return Err("localbase did not start within 120 s (see localbase.log)".into());
            }
        };
        Ok(Server {
            child,
            base: format!("http://127.0.0.1:{}", launch.port),
            anon_key,
            http: reqwest::Client::new(),
        })
    }

    /// Resident memory of the localbase process in KiB (PostgreSQL not included).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    pub fn websocket_url(&self) -> String {
        format!(
            "{}/realtime/v1/websocket?apikey={}&vsn=2.0.0",
            self.base.replace("http://", "ws://"),
            self.anon_key
        )
    }

    /// Signs a seed user in; returns the access token.
    pub async fn sign_in(&self, email: &str) -> Result<String, String> {
        let response = self
            .http
            .post(format!("{}/auth/v1/token?grant_type=password", self.base))
            .header("apikey", &self.anon_key)
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        body["access_token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("sign-in of {email} failed: {body}"))
    }

    /// A PostgREST request as the user of `token`.
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
}

impl Drop for Server {
    /// SIGTERM lets localbase stop its PostgreSQL cluster; a kill is the last resort.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..200 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

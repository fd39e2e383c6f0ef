//! End-to-end harness: a private localbase (its own PostgreSQL, seeded, serving the built
//! app) and chromedriver, both stopped when dropped, plus a small browser-session helper.

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

static NEXT_SLOT: AtomicU16 = AtomicU16::new(0);

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn wait_for_port(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A running localbase with a fresh, seeded database, serving `dist/`.
pub struct Localbase {
    child: Option<Child>,
    data_dir: PathBuf,
    pub api_port: u16,
    pub db_port: u16,
    pub app_port: u16,
    extra_args: Vec<String>,
}

impl Localbase {
    pub fn start() -> Localbase {
        Localbase::start_with(&[])
    }

    pub fn start_with(extra_args: &[&str]) -> Localbase {
        let dist = workspace().join("dist/index.html");
        assert!(
            dist.exists(),
            "{} is missing: build the app first (trunk build --release)",
            dist.display()
        );
        // Ports in use (a server of another test binary still stopping) are skipped.
        let base = loop {
            let slot = NEXT_SLOT.fetch_add(1, Ordering::SeqCst) + std::process::id() as u16 % 50;
            let base = 55000 + slot % 400 * 10;
            let free = (1..=3)
                .all(|offset| std::net::TcpListener::bind(("127.0.0.1", base + offset)).is_ok());
            if free {
                break base;
            }
        };
        let data_dir = workspace().join(format!("target/e2e/localbase-{base}"));
        let _ = std::fs::remove_dir_all(&data_dir);
        let mut localbase = Localbase {
            child: None,
            data_dir,
            api_port: base + 1,
            db_port: base + 2,
            app_port: base + 3,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
        };
        localbase.spawn();
        localbase
    }

    fn binary() -> PathBuf {
        std::env::var_os("LOCALBASE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/debug/localbase"))
    }

    fn spawn(&mut self) {
        let binary = Localbase::binary();
        assert!(
            binary.exists(),
            "{} is missing: cargo build -p localbase",
            binary.display()
        );
        let log = std::fs::File::create(
            workspace().join(format!("target/e2e/localbase-{}.log", self.api_port)),
        )
        .or_else(|_| {
            std::fs::create_dir_all(workspace().join("target/e2e"))?;
            std::fs::File::create(
                workspace().join(format!("target/e2e/localbase-{}.log", self.api_port)),
            )
        })
        .expect("log file");
        let child = Command::new(binary)
            .current_dir(workspace())
            .args(["serve", "--data-dir"])
            .arg(&self.data_dir)
            .args(["--db-port", &self.db_port.to_string()])
            .args(["--port", &self.api_port.to_string()])
            .args([
                "--app-dir",
                "dist",
                "--app-port",
                &self.app_port.to_string(),
            ])
            .args(["--channel-error-backoff-ms", "200"])
            .arg("--mail-dir")
            .arg(self.mail_dir())
            .args(&self.extra_args)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::from(log.try_clone().expect("log file")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start localbase");
        self.child = Some(child);
        wait_for_port(self.api_port, Duration::from_secs(90));
        wait_for_port(self.app_port, Duration::from_secs(10));
    }

    /// Stops the server (PostgreSQL included) and starts it again on the same data.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Starts a stopped server again on the same data.
    pub fn resume(&mut self) {
        if self.child.is_none() {
            self.spawn();
        }
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }

    pub fn app_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.app_port)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where its e-mail notifier writes digests (`.eml` files).
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.with_extension("mail")
    }
}

impl Drop for Localbase {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        let _ = std::fs::remove_dir_all(self.mail_dir());
    }
}

/// The built app served by a plain static file server (not by localbase), so the page
/// still loads while the backend is down — as it would from a CDN.
pub struct StaticApp {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

impl StaticApp {
    pub fn serve(api_url: &str) -> StaticApp {
        StaticApp::serve_with_script(api_url, None)
    }

    /// Like `serve`, with `script` run first thing in the page (before the app loads),
    /// e.g. to skew the page's clock.
    pub fn serve_with_script(api_url: &str, script: Option<&str>) -> StaticApp {
        let slot = NEXT_SLOT.fetch_add(1, Ordering::SeqCst) + std::process::id() as u16 % 50;
        let port = 56000 + slot;
        let dir = workspace().join(format!("target/e2e/static-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        copy_dir(&workspace().join("dist"), &dir);
        let config = json!({ "supabase_url": api_url, "supabase_anon_key": ANON_KEY });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        if let Some(script) = script {
            let index = dir.join("index.html");
            let html = std::fs::read_to_string(&index).unwrap();
            let html = first_in_page(&html, &format!("<script>{script}</script>"));
            std::fs::write(index, html).unwrap();
        }
        let child = serve_folder(&dir, port);
        StaticApp { child, dir, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The folder it serves (to deploy a new version into it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for StaticApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serves the files of `dir` on `port` (python's http.server) once it listens.
/// `html` with `insert` as the first thing of the page's head, whether the (minified)
/// page spells out its `<head>` tag or not.
pub fn first_in_page(html: &str, insert: &str) -> String {
    let at = match html.find("<head>") {
        Some(head) => head + "<head>".len(),
        None => html.find("<meta").expect("a page with a <meta> tag"),
    };
    format!("{}{insert}{}", &html[..at], &html[at..])
}

pub fn serve_folder(dir: &Path, port: u16) -> Child {
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 http.server");
    wait_for_port(port, Duration::from_secs(10));
    child
}

/// Copies the files and folders of `from` into `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).expect("dist/ is built") {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, target).unwrap();
        }
    }
}

/// chromedriver on its own port.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn start() -> Driver {
        let slot = NEXT_SLOT.fetch_add(1, Ordering::SeqCst) + std::process::id() as u16 % 50;
        let port = 9600 + slot;
        let child =
            Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver (apt-get install chromium-driver)");
        wait_for_port(port, Duration::from_secs(20));
        Driver { child, port }
    }

    /// A new, independent browser (its own profile, storage and cookies).
    pub async fn browser(&self) -> Client {
        self.browser_with_prefs(json!({})).await
    }

    /// A browser whose person already allowed notifications (as after the permission
    /// prompt), so the service worker's notifications can be observed.
    pub async fn browser_allowing_notifications(&self) -> Client {
        self.browser_with_prefs(
            json!({ "profile.default_content_setting_values.notifications": 1 }),
        )
        .await
    }

    async fn browser_with_prefs(&self, prefs: serde_json::Value) -> Client {
        let capabilities = json!({
            "goog:chromeOptions": {
                "prefs": prefs,
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--lang=bg-BG", "--accept-lang=bg-BG", "--window-size=1100,800"],
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const TRAINER: &str = "trainer@example.com";
pub const CLIENT: &str = "client@example.com";
pub const CLIENT2: &str = "client2@example.com";
pub const PASSWORD: &str = "demo-password";
pub const TRAINER_CLIENT_CONVERSATION: &str = "c1000000-0000-4000-8000-000000000001";
/// The demo trainer's conversation with the second demo client (Елена).
pub const ELENA_CONVERSATION: &str = "c1000000-0000-4000-8000-000000000002";

/// Polls `check` every 20 ms until it returns `Some`, or panics with `what` after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Signs in through the form.
pub async fn sign_in(browser: &Client, app_url: &str, email: &str, password: &str) {
    browser.goto(app_url).await.expect("open app");
    let email_input = browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("input[name=email]"))
        .await
        .expect("sign-in form");
    email_input.send_keys(email).await.expect("type email");
    browser
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    browser
        .find(Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Opens a conversation from the list and waits until its channel is SUBSCRIBED.
pub async fn open_conversation(browser: &Client, conversation_id: &str) {
    let selector = format!("button.conversation[data-conversation='{conversation_id}']");
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&selector))
        .await
        .expect("conversation in the list");
    click(browser, &selector).await;
    wait_subscribed(browser).await;
}

pub async fn wait_subscribed(browser: &Client) {
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(
            ".chat .channel-status[data-status=SUBSCRIBED]",
        ))
        .await
        .expect("channel SUBSCRIBED");
}

/// What the page shows, for a failure's message.
pub async fn page_text(browser: &Client) -> String {
    browser
        .execute("return document.body.innerText.slice(0, 2000)", vec![])
        .await
        .ok()
        .and_then(|text| text.as_str().map(str::to_string))
        .unwrap_or_else(|| "(unreadable)".into())
}

/// Types into the composer (a newline as Shift+Enter, as a person would) and presses Enter.
pub async fn send(browser: &Client, text: &str) {
    use fantoccini::key::Key;
    let composer = match browser.find(Locator::Css(".composer textarea")).await {
        Ok(composer) => composer,
        Err(error) => panic!(
            "no composer ({error}); the page says: {}",
            page_text(browser).await
        ),
    };
    let shift_enter: String = [
        char::from(Key::Shift),
        char::from(Key::Enter),
        char::from(Key::Null),
    ]
    .iter()
    .collect();
    composer
        .send_keys(&text.replace('\n', &shift_enter))
        .await
        .expect("type");
    composer
        .send_keys(&char::from(fantoccini::key::Key::Enter).to_string())
        .await
        .expect("Enter");
}

/// Texts shown that start with `prefix`, top to bottom.
pub async fn texts_with(browser: &Client, prefix: &str) -> Vec<String> {
    bubble_texts(browser)
        .await
        .into_iter()
        .filter(|t| t.starts_with(prefix))
        .collect()
}

/// One's own bubbles not yet confirmed by the server.
pub async fn pending_bubbles(browser: &Client) -> usize {
    let script = "return document.querySelectorAll('.bubble.mine').length - \
        document.querySelectorAll('.bubble.mine .ticks[title=Изпратено], .bubble.mine .ticks[title=Прочетено], \
        .bubble.mine .ticks[title=Sent], .bubble.mine .ticks[title=Read]').length";
    browser
        .execute(script, vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::MAX) as usize
}

/// Waits until `browser` shows `count` texts with `prefix` and nothing pending; panics
/// with what it saw otherwise.
pub async fn wait_for_all(
    browser: &Client,
    who: &str,
    prefix: &str,
    count: usize,
    within: Duration,
) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let texts = texts_with(browser, prefix).await;
        let pending = pending_bubbles(browser).await;
        if texts.len() >= count && pending == 0 {
            return texts;
        }
        if Instant::now() > deadline {
            let status = match browser.find(Locator::Css(".channel-status")).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => "no conversation open".into(),
            };
            panic!(
                "{who}: {} of {count} messages, {pending} pending, status {status:?}: {texts:?}",
                texts.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The message texts shown, top to bottom.
pub async fn bubble_texts(browser: &Client) -> Vec<String> {
    let script = "return Array.from(document.querySelectorAll('.messages .bubble .body')).map(e => e.textContent)";
    let value = browser.execute(script, vec![]).await.unwrap_or_default();
    serde_json::from_value(value).unwrap_or_default()
}

/// A text nobody else will send.
pub fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{label} {nanos}")
}

/// Starts recording every value the open conversation's status badge takes.
pub async fn record_statuses(browser: &Client) {
    let script = "window.__statuses = [];
        const seen = () => document.querySelectorAll('.channel-status').forEach(e => window.__statuses.push(e.dataset.status));
        seen();
        new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });";
    browser
        .execute(script, vec![])
        .await
        .expect("install status recorder");
}

/// The statuses recorded since `record_statuses`.
pub async fn recorded_statuses(browser: &Client) -> Vec<String> {
    let value = browser
        .execute("return window.__statuses || []", vec![])
        .await
        .unwrap_or_default();
    serde_json::from_value(value).unwrap_or_default()
}

/// The Supabase CLI's well-known local anon key (localbase's default secret).
pub const ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";

/// The Supabase CLI's well-known local service-role key (localbase's default secret).
pub const SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

/// One plain HTTP/1.0 request to localbase's API; returns the status and the body.
pub fn http(
    localbase: &Localbase,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", localbase.api_port)).expect("connect");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad answer: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

/// How many connections localbase has joined to a private topic (its diagnostic endpoint).
pub fn subscribers(localbase: &Localbase, sub_topic: &str) -> u64 {
    let path = format!("/realtime/v1/api/localbase/subscribers?topic={sub_topic}&private=true");
    let (_, body) = http(
        localbase,
        "GET",
        &path,
        &[("apikey", SERVICE_ROLE_KEY)],
        None,
    );
    let value: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("bad answer: {body}"));
    value["subscribers"]
        .as_u64()
        .unwrap_or_else(|| panic!("bad answer: {body}"))
}

/// Sets localbase's injected faults (see localbase/src/faults.rs); `json!({})` clears them.
pub fn set_faults(localbase: &Localbase, faults: serde_json::Value) {
    let (status, body) = http(
        localbase,
        "PUT",
        "/localbase/v1/faults",
        &[("apikey", SERVICE_ROLE_KEY)],
        Some(&faults),
    );
    assert_eq!(status, 204, "faults set: {body}");
}

/// Signs a demo account in over HTTP; returns (access token, user id).
pub fn api_sign_in(localbase: &Localbase, email: &str) -> (String, String) {
    let (status, body) = http(
        localbase,
        "POST",
        "/auth/v1/token?grant_type=password",
        &[("apikey", ANON_KEY)],
        Some(&json!({ "email": email, "password": PASSWORD })),
    );
    assert_eq!(status, 200, "sign-in of {email}: {body}");
    let session: serde_json::Value = serde_json::from_str(&body).unwrap();
    (
        session["access_token"].as_str().unwrap().into(),
        session["user"]["id"].as_str().unwrap().into(),
    )
}

/// Stores a message as the holder of `token`, over REST.
pub fn api_send(localbase: &Localbase, token: &str, conversation: &str, body: &str) {
    let bearer = format!("Bearer {token}");
    let (status, answer) = http(
        localbase,
        "POST",
        "/rest/v1/messages",
        &[("apikey", ANON_KEY), ("Authorization", &bearer)],
        Some(&json!({ "conversation_id": conversation, "body": body })),
    );
    assert_eq!(status, 201, "message stored: {answer}");
}

/// `count` new clients of the demo trainer, each invited (the trainer's invitation, the
/// client's sign-up and acceptance) and with a first message to the trainer.
pub fn seed_clients(localbase: &Localbase, count: usize) {
    let trainer = api_sign_in(localbase, TRAINER).0;
    for n in 0..count {
        let email = format!("bench-client-{n:03}@example.com");
        let (status, body) = http(
            localbase,
            "POST",
            "/auth/v1/signup",
            &[("apikey", ANON_KEY)],
            Some(&json!({ "email": email, "password": PASSWORD,
                          "data": { "full_name": format!("Клиент {n:03}") } })),
        );
        assert_eq!(status, 200, "sign-up of {email}: {body}");
        let session: serde_json::Value = serde_json::from_str(&body).unwrap();
        let token = session["access_token"]
            .as_str()
            .expect("a session")
            .to_string();
        let invitation = rpc(localbase, &trainer, "create_invitation", json!({}));
        let conversation = rpc(
            localbase,
            &token,
            "accept_invitation",
            json!({ "token": invitation[0]["token"] }),
        );
        api_send(
            localbase,
            &token,
            conversation.as_str().expect("a conversation"),
            &format!("Здравейте! Аз съм клиент {n:03}."),
        );
    }
}

/// Calls a database function over REST as the holder of `token`; its answer.
pub fn rpc(
    localbase: &Localbase,
    token: &str,
    function: &str,
    args: serde_json::Value,
) -> serde_json::Value {
    let bearer = format!("Bearer {token}");
    let (status, body) = http(
        localbase,
        "POST",
        &format!("/rest/v1/rpc/{function}"),
        &[("apikey", ANON_KEY), ("Authorization", &bearer)],
        Some(&args),
    );
    assert_eq!(status, 200, "{function}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Starts recording the page's uncaught errors (a Rust panic shows as `unreachable`).
pub async fn record_errors(browser: &Client) {
    browser
        .execute(
            "window.__errors = [];
             addEventListener('error', e => window.__errors.push(String(e.message || e.error)));
             addEventListener('unhandledrejection', e => window.__errors.push(String(e.reason)));",
            vec![],
        )
        .await
        .expect("install error recorder");
}

/// The uncaught errors recorded since `record_errors`.
pub async fn recorded_errors(browser: &Client) -> Vec<String> {
    let value = browser
        .execute("return window.__errors || []", vec![])
        .await
        .unwrap_or_default();
    serde_json::from_value(value).unwrap_or_default()
}

/// Makes the page believe it is hidden (another tab, a minimised window) or visible
/// again, as the browser would tell it.
pub async fn set_hidden(browser: &Client, hidden: bool) {
    let script = "const hidden = arguments[0];
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => hidden ? 'hidden' : 'visible' });
        document.dispatchEvent(new Event('visibilitychange'));";
    browser
        .execute(script, vec![json!(hidden)])
        .await
        .expect("visibility changed");
}

/// The delivery state (tick title) of one's own bubble with exactly `text`.
pub async fn ticks_of(browser: &Client, text: &str) -> Option<String> {
    let script = "return Array.from(document.querySelectorAll('.bubble.mine'))
        .filter(b => b.querySelector('.body').textContent === arguments[0])
        .map(b => b.querySelector('.ticks').getAttribute('title'))[0] || null";
    browser
        .execute(script, vec![json!(text)])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

/// Waits until one's own bubble with `text` shows `state` ("Изпратено", "Прочетено", …).
pub async fn wait_for_ticks(browser: &Client, text: &str, state: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let shown = ticks_of(browser, text).await;
        if shown.as_deref() == Some(state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {text:?} shown as {state}; it shows {shown:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Clicks the first element matching `selector`. The list redraws a conversation's row when
/// its summary changes (a message, a read receipt, last seen), so an element found a moment
/// ago may be gone: it is found again, as a person would aim again.
pub async fn click(browser: &Client, selector: &str) {
    let started = Instant::now();
    loop {
        let element = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|_| panic!("{selector} on the page"));
        match element.click().await {
            Ok(()) => return,
            Err(error) if started.elapsed() > Duration::from_secs(10) => {
                panic!("{selector} clicked: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The text of the first element matching `selector`, if there is one.
pub async fn text_of(browser: &Client, selector: &str) -> Option<String> {
    browser
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null",
            vec![json!(selector)],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

/// Whether an element matching `selector` is on the page now.
pub async fn shows(browser: &Client, selector: &str) -> bool {
    browser.find(Locator::Css(selector)).await.is_ok()
}

/// The trainer and the client, each in their own browser, signed in at `app_url`, with
/// their shared conversation open and live on both sides.
pub struct Chat {
    pub trainer: Client,
    pub client: Client,
    /// Declared last: dropped after the sessions that talk to it.
    pub driver: Driver,
}

impl Chat {
    pub async fn open(app_url: &str) -> Chat {
        let driver = Driver::start();
        let trainer = driver.browser().await;
        let client = driver.browser().await;
        sign_in(&trainer, app_url, TRAINER, PASSWORD).await;
        sign_in(&client, app_url, CLIENT, PASSWORD).await;
        open_conversation(&trainer, TRAINER_CLIENT_CONVERSATION).await;
        // A client with one conversation has it opened for them.
        wait_subscribed(&client).await;
        Chat {
            trainer,
            client,
            driver,
        }
    }

    pub async fn close(self) {
        let _ = self.trainer.close().await;
        let _ = self.client.close().await;
    }
}

/// A Chrome DevTools command sent through chromedriver (`goog/cdp/execute`), to the page's
/// own DevTools session.
#[derive(Debug)]
struct DevTools {
    method: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.method, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Runs `script` inside the page's service worker (through DevTools: WebDriver itself
/// cannot reach a worker). What it returns is not awaited.
pub async fn run_in_service_worker(browser: &Client, script: &str) {
    let targets = browser
        .issue_cmd(DevTools {
            method: "Target.getTargets",
            params: json!({}),
        })
        .await
        .expect("DevTools targets");
    let worker = targets["targetInfos"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["type"] == "service_worker")
        .unwrap_or_else(|| panic!("no service worker among {targets}"));
    let attached = browser
        .issue_cmd(DevTools {
            method: "Target.attachToTarget",
            params: json!({ "targetId": worker["targetId"], "flatten": false }),
        })
        .await
        .expect("attached to the service worker");
    let message = json!({ "id": 1, "method": "Runtime.evaluate",
                          "params": { "expression": script } });
    browser
        .issue_cmd(DevTools {
            method: "Target.sendMessageToTarget",
            params: json!({ "sessionId": attached["sessionId"], "message": message.to_string() }),
        })
        .await
        .expect("script sent to the service worker");
}

//! The benchmark itself (the host side: localbase, two sites, chromedriver).

#[path = "../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use support::*;

const CLIENT2_CONVERSATION: &str = "c1000000-0000-4000-8000-000000000002";

/// Installed in both apps' pages before anything else runs: notes when each benchmark
/// message (`bench#N#`) first appears inside `ol.messages`, and when the first
/// `button.conversation` appears (ms since navigation).
const WATCH: &str = r#"
window.__seen = {}; window.__waiting = {}; window.__listAt = null; window.__marks = {}; window.__lists = {};
window.__wait = (key) => new Promise((resolve) => {
  if (window.__seen[key]) resolve(window.__seen[key]); else window.__waiting[key] = resolve;
});
new MutationObserver((records) => {
  const now = performance.timeOrigin + performance.now();
  if (window.__listAt === null && document.querySelector('button.conversation')) {
    window.__listAt = performance.now();
  }
  // A list of N conversations on screen: the list says it holds N and its first rows are in.
  const list = document.querySelector('.conversations ul[data-count]');
  if (list && !(list.dataset.count in window.__lists)) {
    const count = Number(list.dataset.count);
    if (list.querySelectorAll('button.conversation').length >= Math.min(count, 10)) {
      window.__lists[list.dataset.count] = performance.now();
    }
  }
  for (const selector of ['.loading', '.shell', '.conversations', 'header']) {
    if (!(selector in window.__marks) && document.querySelector(selector)) {
      window.__marks[selector] = performance.now();
    }
  }
  for (const record of records) {
    const nodes = record.type === 'characterData' ? [record.target] : record.addedNodes;
    for (const node of nodes) {
      const text = node.textContent;
      if (!text || !text.includes('bench#')) continue;
      const element = node.nodeType === 1 ? node : node.parentElement;
      if (!element || !element.closest('ol.messages')) continue;
      for (const match of text.matchAll(/bench#(\d+)#/g)) {
        const key = match[1];
        if (window.__seen[key]) continue;
        window.__seen[key] = now;
        const waiting = window.__waiting[key];
        if (waiting) { delete window.__waiting[key]; waiting(now); }
      }
    }
  }
}).observe(document, { childList: true, subtree: true, characterData: true });
// Where the time goes: when a benchmark message leaves in a request body, leaves on the
// socket, and arrives on the socket (both apps create sockets and call fetch after this).
window.__trace = {};
const traceAt = (stage, text, at) => {
  const match = /bench#(\d+)#/.exec(text || '');
  if (!match) return;
  const entry = window.__trace[match[1]] || (window.__trace[match[1]] = {});
  if (entry[stage] === undefined) entry[stage] = at;
};
const now = () => performance.timeOrigin + performance.now();
const decode = (data) => typeof data === 'string' ? data
  : data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? new TextDecoder().decode(data) : '';
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    if (!('socket' in window.__marks)) window.__marks.socket = performance.now();
    super(...args);
    this.addEventListener('message', (event) => traceAt('received', decode(event.data), now()));
  }
  send(data) { traceAt('socket', decode(data), now()); return super.send(data); }
};
const nativeFetch = window.fetch;
window.fetch = function (input, init) {
  const at = now();
  const body = init && typeof init.body === 'string' ? Promise.resolve(init.body)
    : input instanceof Request && input.method === 'POST' ? input.clone().text() : null;
  const answer = nativeFetch.apply(this, arguments);
  // Also when the page learns the insert's answer (the promise settles when the main
  // thread is free): what follows until the socket is the app's own work.
  if (body) {
    const url = input instanceof Request ? input.url : new URL(String(input), location.href).href;
    const started = at - performance.timeOrigin;
    const answered = answer.then(() => now(), () => undefined);
    body.then((text) => {
      traceAt('posted', text, at);
      answered.then((when) => {
        if (!when) return;
        traceAt('answered', text, when);
        // When the answer came off the network (resource timing, whatever the main
        // thread was doing): the entry is written once the body is read.
        setTimeout(() => {
          const entry = performance.getEntriesByName(url)
            .find((e) => e.startTime >= started - 1 && e.startTime <= started + 50);
          if (entry) traceAt('arrived', text, performance.timeOrigin + entry.responseEnd);
        }, 50);
      });
    });
  }
  return answer;
};
"#;

struct Options {
    messages: usize,
    gap: Duration,
    loads: usize,
    rate: usize,
    seconds: usize,
    history: usize,
    clients: usize,
    write: bool,
}

impl Options {
    fn parse() -> Options {
        let mut options = Options {
            messages: 300,
            gap: Duration::from_millis(100),
            loads: 5,
            rate: 100,
            seconds: 10,
            history: 10_000,
            clients: 200,
            write: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut number = || -> usize {
                let value = args.next().unwrap_or_default();
                value
                    .parse()
                    .unwrap_or_else(|_| panic!("{arg} needs a number, not {value:?}"))
            };
            match arg.as_str() {
                "--messages" => options.messages = number(),
                "--gap-ms" => options.gap = Duration::from_millis(number() as u64),
                "--loads" => options.loads = number(),
                "--rate" => options.rate = number(),
                "--seconds" => options.seconds = number(),
                "--history" => options.history = number(),
                "--clients" => options.clients = number(),
                "--write" => options.write = true,
                "--bench" => {} // added by `cargo bench`
                other => panic!("unknown option {other}"),
            }
        }
        options
    }
}

/// The reference page served like the app: its HTML (with `WATCH` first in the head),
/// supabase-js' UMD build and a `config.json` naming localbase.
struct ReferenceSite {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl ReferenceSite {
    fn serve(api_url: &str, anon_key: &str) -> ReferenceSite {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let port = free_port();
        let dir = root.join(format!("target/bench-browser/reference-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let html = std::fs::read_to_string(root.join("bench/reference/index.html")).unwrap();
        let html = html.replacen("<head>", &format!("<head><script>{WATCH}</script>"), 1);
        std::fs::write(dir.join("index.html"), html).unwrap();
        let umd =
            root.join("bench/reference/node_modules/@supabase/supabase-js/dist/umd/supabase.js");
        std::fs::copy(&umd, dir.join("supabase.js")).unwrap_or_else(|error| {
            panic!(
                "{}: {error} (run scripts/bench-browser.sh, which installs it)",
                umd.display()
            )
        });
        let config = json!({ "supabase_url": api_url, "supabase_anon_key": anon_key });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let child = serve_folder(&dir, port);
        ReferenceSite { child, dir, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for ReferenceSite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Which app a browser pair runs: how it sends, how it signs in, what it stores.
#[derive(Clone, Copy, PartialEq)]
enum App {
    Ours,
    Reference,
}

impl App {
    fn name(self) -> &'static str {
        match self {
            App::Ours => "Coach Chat",
            App::Reference => "supabase-js reference",
        }
    }

    /// The localStorage entries that make a browser signed in.
    fn session_keys(self) -> &'static [&'static str] {
        match self {
            App::Ours => &["coach-chat.session", "coach-chat.clock"],
            App::Reference => &["reference.session"],
        }
    }

    /// Sends `text` from the page; returns the wall-clock ms at which it was sent.
    async fn send(self, browser: &Client, text: &str) -> f64 {
        let script = match self {
            // As a person does: the draft's input event, then Enter.
            App::Ours => {
                "const box = document.querySelector('.composer textarea');
                 box.value = arguments[0];
                 box.dispatchEvent(new Event('input', { bubbles: true }));
                 const sent = performance.timeOrigin + performance.now();
                 box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
                 return sent;"
            }
            App::Reference => {
                "const sent = performance.timeOrigin + performance.now();
                 window.reference.send(arguments[0]);
                 return sent;"
            }
        };
        let sent = browser
            .execute(script, vec![json!(text)])
            .await
            .expect("send");
        sent.as_f64().expect("a time")
    }
}

/// One app's sender and receiver pages, signed in and subscribed.
struct Pair {
    app: App,
    sender: Client,
    receiver: Client,
}

async fn our_pair(driver: &Driver, url: &str) -> Pair {
    let sender = driver.browser().await;
    let receiver = driver.browser().await;
    sign_in(&sender, url, TRAINER, PASSWORD).await;
    sign_in(&receiver, url, CLIENT, PASSWORD).await;
    open_conversation(&sender, TRAINER_CLIENT_CONVERSATION).await;
    wait_subscribed(&receiver).await;
    Pair {
        app: App::Ours,
        sender,
        receiver,
    }
}

async fn reference_pair(driver: &Driver, url: &str) -> Pair {
    let sender = driver.browser().await;
    let receiver = driver.browser().await;
    for (browser, email, path) in [
        (
            &sender,
            TRAINER,
            format!("{url}?conversation={CLIENT2_CONVERSATION}"),
        ),
        (&receiver, CLIENT2, url.to_string()),
    ] {
        browser.goto(&path).await.expect("open reference");
        eventually(Duration::from_secs(20), "reference page ready", || async {
            let ready = browser
                .execute("return !!window.reference", vec![])
                .await
                .ok()?;
            ready.as_bool().filter(|ready| *ready)
        })
        .await;
        browser
            .execute_async(
                "const [email, password, done] = arguments;
                 window.reference.signIn(email, password).then(() => done(null), (e) => done(String(e)));",
                vec![json!(email), json!(PASSWORD)],
            )
            .await
            .expect("reference sign-in");
        browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css("body[data-status=SUBSCRIBED]"))
            .await
            .expect("reference channel SUBSCRIBED");
    }
    Pair {
        app: App::Reference,
        sender,
        receiver,
    }
}

/// Delivery times (ms) of one app on one path; `missed` never arrived within 10 s.
#[derive(Default)]
struct Deliveries {
    times: Vec<f64>,
    missed: usize,
    /// Per delivered message, ms spent: Enter → insert request, → the insert's answer off
    /// the network, → that answer in the page's code, → on the sender's socket, → on the
    /// receiver's socket, → in the DOM.
    stages: [Vec<f64>; 6],
}

/// Sends `count` messages from each pair in turn, each after the last one arrived.
async fn deliver(pairs: &[Pair], count: usize, gap: Duration, next: &mut usize) -> Vec<Deliveries> {
    let mut results: Vec<Deliveries> = pairs.iter().map(|_| Deliveries::default()).collect();
    for _ in 0..count {
        for (pair, result) in pairs.iter().zip(results.iter_mut()) {
            *next += 1;
            let key = next.to_string();
            let sent = pair.app.send(&pair.sender, &format!("bench#{key}#")).await;
            let shown = pair
                .receiver
                .execute_async(
                    "const [key, done] = arguments;
                     const timer = setTimeout(() => done(null), 10000);
                     window.__wait(key).then((at) => { clearTimeout(timer); done(at); });",
                    vec![json!(key)],
                )
                .await
                .expect("wait for delivery");
            match shown.as_f64() {
                Some(shown) => {
                    result.times.push(shown - sent);
                    // The gap first: the sender notes when the answer came off the network
                    // a moment after it was read.
                    tokio::time::sleep(gap).await;
                    let trace = "return window.__trace[arguments[0]] || {}";
                    let (sender, receiver) = (
                        pair.sender
                            .execute(trace, vec![json!(key)])
                            .await
                            .unwrap_or_default(),
                        pair.receiver
                            .execute(trace, vec![json!(key)])
                            .await
                            .unwrap_or_default(),
                    );
                    let points = [
                        Some(sent),
                        sender["posted"].as_f64(),
                        sender["arrived"].as_f64(),
                        sender["answered"].as_f64(),
                        sender["socket"].as_f64(),
                        receiver["received"].as_f64(),
                        Some(shown),
                    ];
                    for (stage, pair) in points.windows(2).enumerate() {
                        if let [Some(from), Some(to)] = pair {
                            result.stages[stage].push(to - from);
                        }
                    }
                }
                None => {
                    result.missed += 1;
                    tokio::time::sleep(gap).await;
                }
            }
        }
    }
    results
}

/// A fresh browser (cold cache) holding only `session` in the site's storage.
async fn signed_in_browser(driver: &Driver, url: &str, session: &[(String, Value)]) -> Client {
    let browser = driver.browser().await;
    // A page of the site that is not the app, to write the session into its storage.
    browser.goto(&format!("{url}config.json")).await.unwrap();
    for (key, value) in session {
        browser
            .execute(
                "localStorage.setItem(arguments[0], arguments[1])",
                vec![json!(key), value.clone()],
            )
            .await
            .unwrap();
    }
    browser
}

/// Navigation → conversation list in the DOM (ms): cold in a fresh browser holding only
/// the session, then warm on the next visit.
async fn load_times(
    driver: &Driver,
    app: App,
    url: &str,
    session: &[(String, Value)],
) -> (f64, f64) {
    let at_list = "const done = arguments[0];
        const check = () => window.__listAt !== null ? done(window.__listAt) : setTimeout(check, 5);
        check();";
    visit_twice(driver, url, session, at_list, vec![])
        .await
        .unwrap_or_else(|| panic!("{}: no conversation list", app.name()))
}

/// Two visits of `url` in a fresh browser holding only `session` (cold, then warm); each
/// ends when `script` (async; its callback is the last argument) answers the time (ms).
async fn visit_twice(
    driver: &Driver,
    url: &str,
    session: &[(String, Value)],
    script: &str,
    args: Vec<Value>,
) -> Option<(f64, f64)> {
    let browser = signed_in_browser(driver, url, session).await;
    let mut times = [0.0; 2];
    for (time, visit) in times.iter_mut().zip(["cold", "warm"]) {
        browser.goto(url).await.unwrap();
        let at = browser.execute_async(script, args.clone()).await.ok()?;
        *time = at.as_f64()?;
        print_startup(&browser, visit, *time).await;
    }
    let _ = browser.close().await;
    Some((times[0], times[1]))
}

/// Prints what the page fetched before the list showed (`at` ms after navigation), from
/// the browser's resource timing: which request waited for which.
async fn print_startup(browser: &Client, visit: &str, at: f64) {
    let Ok(entries) = browser
        .execute(
            "return performance.getEntriesByType('resource')
               .concat(performance.getEntriesByType('navigation'))
               .map(e => [e.name.replace(/^.*\\/(?=[^/]+\\/?$)/, '').slice(0, 40), e.startTime, e.responseEnd])
               .concat(Object.entries(window.__marks || {}).map(([name, at]) => [name, at, at]));",
            vec![],
        )
        .await
    else {
        return;
    };
    let mut line = format!("    {visit} ({at:.0} ms):");
    for entry in entries.as_array().into_iter().flatten() {
        let (Some(name), Some(start), Some(end)) =
            (entry[0].as_str(), entry[1].as_f64(), entry[2].as_f64())
        else {
            continue;
        };
        if start <= at {
            line.push_str(&format!(" {name} {start:.0}–{end:.0};"));
        }
    }
    println!("{line}");
}

/// Started in a receiving page: sums how late a 10 ms timer fires beyond 1 ms, i.e. how
/// long the main thread was busy with other work.
const LAG: &str = "
const lag = window.__lag = { busy: 0, worst: 0, from: performance.now(), stop: false };
let last = performance.now();
const tick = () => {
  const now = performance.now();
  const late = now - last - 10;
  if (late > 1) { lag.busy += late; lag.worst = Math.max(lag.worst, late); }
  last = now;
  if (!lag.stop) setTimeout(tick, 10);
};
setTimeout(tick, 10);";

/// Reads and stops the lag sampler: (busy share of the time since it started, worst ms).
async fn read_lag(browser: &Client) -> (f64, f64) {
    let lag = browser
        .execute(
            "window.__lag.stop = true;
             return [window.__lag.busy / (performance.now() - window.__lag.from), window.__lag.worst];",
            vec![],
        )
        .await
        .expect("lag");
    (
        lag[0].as_f64().unwrap_or(f64::NAN),
        lag[1].as_f64().unwrap_or(f64::NAN),
    )
}

fn wall_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// Records in the page when the open chat starts or stops showing the other person online.
const PRESENCE_WATCH: &str = "
const seen = window.__presence = [];
let online = !!document.querySelector('.chat .presence.online');
new MutationObserver(() => {
  const now = !!document.querySelector('.chat .presence.online');
  if (now !== online) {
    online = now;
    seen.push({ online, at: performance.timeOrigin + performance.now() });
  }
}).observe(document.body, { subtree: true, childList: true, attributes: true });";

/// Clicks `selector` in the page; returns when (wall clock, ms).
async fn click_at(browser: &Client, selector: &str) -> f64 {
    let at = browser
        .execute(
            "const at = performance.timeOrigin + performance.now();
             document.querySelector(arguments[0]).click();
             return at;",
            vec![json!(selector)],
        )
        .await
        .expect("clicked");
    at.as_f64().expect("a time")
}

/// How long, after `since`, until `watcher`'s open chat shows the other person `online` (ms).
async fn presence_shown(watcher: &Client, online: bool, since: f64) -> f64 {
    eventually(Duration::from_secs(10), "presence shown", || async {
        let seen = watcher
            .execute("return window.__presence", vec![])
            .await
            .ok()?;
        seen.as_array()?.iter().find_map(|change| {
            let at = change["at"].as_f64()?;
            (change["online"] == json!(online) && at >= since).then_some(at - since)
        })
    })
    .await
}

/// Presence in the open chat, `rounds` times: the other person (`pair.receiver`) goes
/// back to the list (leaving the conversation's channel) and opens the conversation again;
/// how long until the sender's open chat shows them gone, then online. (ms: leaving,
/// arriving.)
async fn presence_times(pair: &Pair, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    pair.sender
        .execute(PRESENCE_WATCH, vec![])
        .await
        .expect("presence watch");
    let row = format!("button.conversation[data-conversation='{TRAINER_CLIENT_CONVERSATION}']");
    let (mut leaving, mut arriving) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let at = click_at(&pair.receiver, ".chat button.back").await;
        leaving.push(presence_shown(&pair.sender, false, at).await);
        let at = click_at(&pair.receiver, &row).await;
        arriving.push(presence_shown(&pair.sender, true, at).await);
    }
    (leaving, arriving)
}

/// What one app's receiving page did under a steady stream of messages.
struct LoadResult {
    sent: usize,
    deliveries: Deliveries,
    idle_busy: f64,
    busy: f64,
    worst_lag: f64,
}

/// Inserts `rate` messages a second for `seconds` into `conversation` over REST (as the
/// holder of `token`) while `receiver` has it open; how many it showed, how late, and how
/// busy its main thread was (against an idle window of the same page before).
async fn receive_load(
    localbase: &Localbase,
    receiver: &Client,
    token: &str,
    conversation: &str,
    (rate, seconds): (usize, usize),
    next: &mut usize,
) -> LoadResult {
    receiver.execute(LAG, vec![]).await.expect("lag sampler");
    let (idle_busy, _) = read_lag(receiver).await;
    receiver.execute(LAG, vec![]).await.expect("lag sampler");
    let count = rate * seconds;
    let keys: Vec<String> = (0..count)
        .map(|_| {
            *next += 1;
            next.to_string()
        })
        .collect();
    let sent: Vec<f64> = tokio::task::block_in_place(|| {
        let start = std::time::Instant::now();
        keys.iter()
            .enumerate()
            .map(|(index, key)| {
                let due = start + Duration::from_secs_f64(index as f64 / rate as f64);
                std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
                let at = wall_ms();
                api_send(localbase, token, conversation, &format!("bench#{key}#"));
                at
            })
            .collect()
    });
    let script = "return arguments[0].map((key) => window.__seen[key] || null)";
    let mut shown = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        shown = receiver
            .execute(script, vec![json!(keys)])
            .await
            .expect("seen")
            .as_array()
            .cloned()
            .unwrap_or_default();
        if shown.iter().all(|at| !at.is_null()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (busy, worst_lag) = read_lag(receiver).await;
    let mut deliveries = Deliveries::default();
    for (at, sent) in shown.iter().zip(&sent) {
        match at.as_f64() {
            Some(at) => deliveries.times.push(at - sent),
            None => deliveries.missed += 1,
        }
    }
    LoadResult {
        sent: count,
        deliveries,
        idle_busy,
        busy,
        worst_lag,
    }
}

/// Stores `count` messages in `conversation` (as the holder of `token`), 200 per request,
/// the last one carrying `bench#{key}#`.
fn store_history(localbase: &Localbase, token: &str, conversation: &str, count: usize, key: &str) {
    let bearer = format!("Bearer {token}");
    let mut left = count.saturating_sub(1);
    while left > 0 {
        let batch = left.min(200);
        let rows: Vec<Value> = (0..batch)
            .map(|n| json!({ "conversation_id": conversation, "body": format!("history {left} {n}") }))
            .collect();
        let (status, body) = http(
            localbase,
            "POST",
            "/rest/v1/messages",
            &[
                ("apikey", ANON_KEY),
                ("Authorization", &bearer),
                ("Prefer", "return=minimal"),
            ],
            Some(&Value::Array(rows)),
        );
        assert_eq!(status, 201, "history stored: {body}");
        left -= batch;
    }
    api_send(localbase, token, conversation, &format!("bench#{key}#"));
}

/// In a fresh browser holding the session: from the click on `conversation` in the list to
/// its newest message (`bench#{key}#`) in the DOM (ms).
async fn open_long_conversation(
    driver: &Driver,
    app: App,
    url: &str,
    session: &[(String, Value)],
    conversation: &str,
    key: &str,
) -> f64 {
    let browser = signed_in_browser(driver, url, session).await;
    browser.goto(url).await.unwrap();
    let button = format!("button.conversation[data-conversation='{conversation}']");
    let clicked = browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&button))
        .await
        .unwrap_or_else(|error| panic!("{}: no {button}: {error}", app.name()));
    drop(clicked);
    let at = browser
        .execute(
            "const at = performance.timeOrigin + performance.now();
             document.querySelector(arguments[0]).click();
             return at;",
            vec![json!(button)],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    let shown = browser
        .execute_async(
            "const [key, done] = arguments;
             const timer = setTimeout(() => done(null), 20000);
             window.__wait(key).then((at) => { clearTimeout(timer); done(at); });",
            vec![json!(key)],
        )
        .await
        .unwrap();
    let _ = browser.close().await;
    shown
        .as_f64()
        .unwrap_or_else(|| panic!("{}: the newest message never showed", app.name()))
        - at
}

/// Navigation → a list of `count` conversations on screen (ms): the list says it holds them
/// all and its rows in view are in the DOM (rows further down are built as one scrolls).
/// Cold in a fresh browser holding only the session, then warm on the next visit.
async fn long_list_times(
    driver: &Driver,
    url: &str,
    session: &[(String, Value)],
    count: usize,
) -> (f64, f64) {
    // The moment the page's observer saw it, not when this script (sent after the page's
    // load event) looks.
    let all_listed = "const [count, done] = arguments;
        const started = performance.now();
        const check = () => {
          const at = window.__lists[String(count)];
          if (at !== undefined) return done(at);
          if (performance.now() - started > 20000) return done(null);
          setTimeout(check, 2);
        };
        check();";
    visit_twice(driver, url, session, all_listed, vec![json!(count)])
        .await
        .unwrap_or_else(|| panic!("the list never showed {count} conversations"))
}

async fn stored_session(browser: &Client, app: App) -> Vec<(String, Value)> {
    let mut entries = Vec::new();
    for key in app.session_keys() {
        let value = browser
            .execute(
                "return localStorage.getItem(arguments[0])",
                vec![json!(key)],
            )
            .await
            .unwrap();
        if !value.is_null() {
            entries.push((key.to_string(), value));
        }
    }
    assert!(!entries.is_empty(), "{}: no stored session", app.name());
    entries
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Summary {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    count: usize,
    missed: usize,
}

fn summarise(deliveries: &Deliveries) -> Summary {
    let mut sorted = deliveries.times.clone();
    sorted.sort_by(f64::total_cmp);
    Summary {
        p50: percentile(&sorted, 0.50),
        p95: percentile(&sorted, 0.95),
        p99: percentile(&sorted, 0.99),
        max: sorted.last().copied().unwrap_or(f64::NAN),
        count: sorted.len(),
        missed: deliveries.missed,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(values, 0.5)
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    format!(
        "{} cores ({cpu}), {}",
        command_output("nproc", &[]),
        command_output(&chromium, &["--version"])
    )
}

const START: &str = "<!-- bench-browser: start -->";
const END: &str = "<!-- bench-browser: end -->";

fn write_benchmarks(section: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let block = format!("{START}\n{section}{END}");
    let updated = match (text.find(START), text.find(END)) {
        (Some(start), Some(end)) => {
            format!("{}{block}{}", &text[..start], &text[end + END.len()..])
        }
        _ => format!("{}\n{block}\n", text.trim_end()),
    };
    std::fs::write(&path, updated).unwrap();
    println!("wrote {}", path.display());
}

pub async fn main() {
    let options = Options::parse();
    // The long list's clients sign up as people would; localbase's per-address limit is
    // for strangers, not for this.
    let signups = (options.clients + 50).to_string();
    let localbase = Localbase::start_with(&["--max-signups-per-window", &signups]);
    let ours = StaticApp::serve_with_script(&localbase.api_url(), Some(WATCH));
    let reference = ReferenceSite::serve(&localbase.api_url(), ANON_KEY);
    let driver = Driver::start();
    let pairs = [
        our_pair(&driver, &ours.url()).await,
        reference_pair(&driver, &reference.url()).await,
    ];
    let mut next = 0;
    eprintln!("warming up…");
    deliver(&pairs, 10, options.gap, &mut next).await;
    eprintln!("{} messages per app through broadcast…", options.messages);
    let broadcast = deliver(&pairs, options.messages, options.gap, &mut next).await;
    set_faults(&localbase, json!({ "drop_client_broadcasts": true }));
    eprintln!(
        "{} messages per app through Postgres Changes alone…",
        options.messages
    );
    let changes = deliver(&pairs, options.messages, options.gap, &mut next).await;
    set_faults(&localbase, json!({}));

    eprintln!("{} cold and warm visits per app…", options.loads);
    let sessions = [
        stored_session(&pairs[0].sender, App::Ours).await,
        stored_session(&pairs[1].sender, App::Reference).await,
    ];
    let urls = [ours.url(), reference.url()];
    let mut loads = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for _ in 0..options.loads {
        for (index, app) in [App::Ours, App::Reference].into_iter().enumerate() {
            let (cold, warm) = load_times(&driver, app, &urls[index], &sessions[index]).await;
            loads[index].0.push(cold);
            loads[index].1.push(warm);
        }
    }
    eprintln!(
        "{} messages a second for {} s into each open conversation…",
        options.rate, options.seconds
    );
    let (trainer_token, _) = api_sign_in(&localbase, TRAINER);
    let mut under_load = Vec::new();
    for (pair, conversation) in pairs
        .iter()
        .zip([TRAINER_CLIENT_CONVERSATION, CLIENT2_CONVERSATION])
    {
        under_load.push(
            receive_load(
                &localbase,
                &pair.receiver,
                &trainer_token,
                conversation,
                (options.rate, options.seconds),
                &mut next,
            )
            .await,
        );
    }
    eprintln!("presence: the client leaves and opens the conversation 20 times…");
    let (mut leaving, mut arriving) = presence_times(&pairs[0], 20).await;
    for pair in pairs {
        let _ = pair.sender.close().await;
        let _ = pair.receiver.close().await;
    }

    eprintln!(
        "{} stored messages in each app's conversation, then opening it…",
        options.history
    );
    let history_keys = [(next + 1).to_string(), (next + 2).to_string()];
    let conversations = [TRAINER_CLIENT_CONVERSATION, CLIENT2_CONVERSATION];
    for (conversation, key) in conversations.iter().zip(&history_keys) {
        tokio::task::block_in_place(|| {
            store_history(
                &localbase,
                &trainer_token,
                conversation,
                options.history,
                key,
            )
        });
    }
    let mut opening = [Vec::new(), Vec::new()];
    for _ in 0..3 {
        for (index, app) in [App::Ours, App::Reference].into_iter().enumerate() {
            opening[index].push(
                open_long_conversation(
                    &driver,
                    app,
                    &urls[index],
                    &sessions[index],
                    conversations[index],
                    &history_keys[index],
                )
                .await,
            );
        }
    }

    eprintln!(
        "{} more clients for the trainer, then their list…",
        options.clients
    );
    tokio::task::block_in_place(|| seed_clients(&localbase, options.clients));
    let listed = options.clients + 2; // and the demo's two
    let (mut long_cold, mut long_warm) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let (cold, warm) = long_list_times(&driver, &urls[0], &sessions[0], listed).await;
        long_cold.push(cold);
        long_warm.push(warm);
    }

    let mut out = String::new();
    out += &format!(
        "Measured {} on {} by `scripts/bench-browser.sh` (localbase: `{}`, headless Chromium, \
         loopback; {} messages per app and path, {} ms apart, the two apps interleaved).\n\n",
        command_output("date", &["-u", "+%Y-%m-%d"]),
        machine(),
        std::env::var("LOCALBASE_BIN").unwrap_or_else(|_| "target/debug/localbase".into()),
        options.messages,
        options.gap.as_millis(),
    );
    out += "| path | app | p50 ms | p95 ms | p99 ms | max ms | delivered | missed |\n|---|---|---|---|---|---|---|---|\n";
    let mut ratios = Vec::new();
    for (path, results) in [
        ("broadcast", &broadcast),
        ("Postgres Changes only", &changes),
    ] {
        let summaries: Vec<Summary> = results.iter().map(summarise).collect();
        for (pair, s) in pairs_names().iter().zip(&summaries) {
            out += &format!(
                "| {path} | {pair} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |\n",
                s.p50, s.p95, s.p99, s.max, s.count, s.missed
            );
        }
        ratios.push(format!(
            "{path}: p50 {:.2}, p95 {:.2}, p99 {:.2}",
            summaries[0].p50 / summaries[1].p50,
            summaries[0].p95 / summaries[1].p95,
            summaries[0].p99 / summaries[1].p99
        ));
    }
    out += "\nWhere the time goes (p50 ms of each stage; the socket stages only where the message crosses a socket):\n\n";
    out += "| path | app | Enter → insert request | → answer off the network | → answer in the page | → on the sender's socket | → on the receiver's socket | → in the DOM |\n|---|---|---|---|---|---|---|---|\n";
    for (path, results) in [
        ("broadcast", &broadcast),
        ("Postgres Changes only", &changes),
    ] {
        for (name, result) in pairs_names().iter().zip(results.iter()) {
            let cells: Vec<String> = result
                .stages
                .iter()
                .map(|stage| {
                    let mut sorted = stage.clone();
                    sorted.sort_by(f64::total_cmp);
                    if sorted.is_empty() {
                        "–".to_string()
                    } else {
                        format!("{:.1}", percentile(&sorted, 0.5))
                    }
                })
                .collect();
            out += &format!("| {path} | {name} | {} |\n", cells.join(" | "));
        }
    }
    out += "\nNavigation → conversation list in the DOM, signed in, median of the visits (ms):\n\n";
    out += "| app | cold (fresh browser) | warm (next visit) |\n|---|---|---|\n";
    let mut load_medians = Vec::new();
    for (name, (cold, warm)) in pairs_names().iter().zip(loads.iter_mut()) {
        let (cold, warm) = (median(cold), median(warm));
        load_medians.push((cold, warm));
        out += &format!("| {name} | {cold:.0} | {warm:.0} |\n");
    }
    ratios.push(format!(
        "list: cold {:.2}, warm {:.2}",
        load_medians[0].0 / load_medians[1].0,
        load_medians[0].1 / load_medians[1].1
    ));
    out += &format!(
        "\nReceiving {} messages a second for {} s in the open conversation (inserted over REST; \
         shown = in the receiver's DOM; main thread busy = how late a 10 ms timer fired, idle \
         page beforehand in brackets):\n\n",
        options.rate, options.seconds
    );
    out += "| app | shown | missed | insert → shown p50 ms | p99 ms | main thread busy | longest stall ms |\n|---|---|---|---|---|---|---|\n";
    for (name, load) in pairs_names().iter().zip(&under_load) {
        let s = summarise(&load.deliveries);
        out += &format!(
            "| {name} | {} of {} | {} | {:.1} | {:.1} | {:.0}% ({:.0}%) | {:.0} |\n",
            s.count,
            load.sent,
            s.missed,
            s.p50,
            s.p99,
            load.busy * 100.0,
            load.idle_busy * 100.0,
            load.worst_lag
        );
    }
    out += &format!(
        "\nOpening a conversation of {} stored messages: click in the list → newest message in the \
         DOM, median of 3 fresh browsers (ms):\n\n| app | ms |\n|---|---|\n",
        options.history
    );
    let mut open_medians = Vec::new();
    for (name, times) in pairs_names().iter().zip(opening.iter_mut()) {
        let median = median(times);
        open_medians.push(median);
        out += &format!("| {name} | {median:.0} |\n");
    }
    ratios.push(format!(
        "long conversation: {:.2}",
        open_medians[0] / open_medians[1]
    ));
    out += &format!(
        "\nA trainer with {listed} clients: navigation → the list of {listed} conversations on \
         screen, median of 3 (ms): cold {:.0}, warm {:.0} (Coach Chat only: the reference page has \
         no list).\n",
        median(&mut long_cold),
        median(&mut long_warm)
    );
    leaving.sort_by(f64::total_cmp);
    arriving.sort_by(f64::total_cmp);
    out += &format!(
        "\nPresence in the open chat (Coach Chat only: the reference page has none), {} rounds: \
         the other person opens the conversation → shown online p50 {:.0} ms, max {:.0}; goes \
         back to the list → shown gone p50 {:.0} ms, max {:.0}.\n",
        arriving.len(),
        percentile(&arriving, 0.5),
        arriving.last().copied().unwrap_or(f64::NAN),
        percentile(&leaving, 0.5),
        leaving.last().copied().unwrap_or(f64::NAN),
    );
    out += &format!(
        "\nRatio Coach Chat / reference (below 1: we are faster): {}.\n",
        ratios.join("; ")
    );
    println!("{out}");
    if options.write {
        write_benchmarks(&out);
    }
}

fn pairs_names() -> [&'static str; 2] {
    [App::Ours.name(), App::Reference.name()]
}

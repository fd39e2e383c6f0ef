//! End-to-end: real use beyond the scripted path — a quick switch while a request is
//! slow, Back on a phone, a tab coming back from the background, two tabs of one person,
//! a skewed clock, hostile broadcasts, requests that hang or fail after the commit, and a
//! long unread history.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;

const TRAINER_ID: &str = "a1000000-0000-4000-8000-000000000001";
const CLIENT_ID: &str = "a1000000-0000-4000-8000-000000000002";
const SENT: &str = "Изпратено";
const READ: &str = "Прочетено";
const NOT_SENT: &str = "Не е изпратено";

fn conversation_button(id: &str) -> String {
    format!("button.conversation[data-conversation='{id}']")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quick_switch_back_on_a_phone_a_hidden_tab_and_sign_out_mid_send() {
    let localbase = Localbase::start();
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);
    record_errors(trainer).await;
    record_errors(client).await;

    // Switching back and forth while every history request takes 1.5 s.
    set_faults(
        &localbase,
        json!({"rules": [{"method": "GET", "path": "/rest/v1/messages",
                          "query": "order=created_at.desc", "delay_ms": 1500, "times": 20}]}),
    );
    for id in [
        ELENA_CONVERSATION,
        TRAINER_CLIENT_CONVERSATION,
        ELENA_CONVERSATION,
        TRAINER_CLIENT_CONVERSATION,
    ] {
        click(trainer, &conversation_button(id)).await;
    }
    // The last one's history arrives after the answers to the abandoned requests.
    eventually(
        Duration::from_secs(15),
        "the history switched to",
        || async {
            bubble_texts(trainer)
                .await
                .iter()
                .any(|t| t.starts_with("Нормално е."))
                .then_some(())
        },
    )
    .await;
    set_faults(&localbase, json!({}));
    assert_eq!(
        recorded_errors(trainer).await,
        Vec::<String>::new(),
        "answers for conversations switched away from break nothing"
    );

    // On a phone, Back leaves the lone conversation closed, whatever arrives.
    client.set_window_size(400, 800).await.unwrap();
    click(client, ".chat button.back").await;
    let first = unique("Back-1");
    let second = unique("Back-2");
    for (text, count) in [(&first, "1"), (&second, "2")] {
        send(trainer, text).await;
        let badge = format!(
            "{} .unread",
            conversation_button(TRAINER_CLIENT_CONVERSATION)
        );
        eventually(
            Duration::from_secs(10),
            "the unread count on the list",
            || async {
                let element = client.find(fantoccini::Locator::Css(&badge)).await.ok()?;
                (element.text().await.ok()? == count).then_some(())
            },
        )
        .await;
    }
    assert!(
        !shows(client, "section.chat[data-conversation]").await,
        "the conversation stays closed after Back"
    );
    for text in [&first, &second] {
        assert_eq!(
            ticks_of(trainer, text).await.as_deref(),
            Some(SENT),
            "not read"
        );
    }

    // Opened, they are read; then a hidden tab reads nothing until it is seen again.
    client.set_window_size(1100, 800).await.unwrap();
    open_conversation(client, TRAINER_CLIENT_CONVERSATION).await;
    for text in [&first, &second] {
        wait_for_ticks(trainer, text, READ, Duration::from_secs(10)).await;
    }
    set_hidden(client, true).await;
    let while_away = [unique("Away-1"), unique("Away-2")];
    for text in &while_away {
        send(trainer, text).await;
        eventually(
            Duration::from_secs(10),
            "arrival in the hidden tab",
            || async { bubble_texts(client).await.contains(text).then_some(()) },
        )
        .await;
    }
    for text in &while_away {
        assert_eq!(
            ticks_of(trainer, text).await.as_deref(),
            Some(SENT),
            "nobody looked"
        );
    }
    set_hidden(client, false).await;
    for text in &while_away {
        wait_for_ticks(trainer, text, READ, Duration::from_secs(10)).await;
    }

    // Signing out while an insert is still out: the late answer breaks nothing.
    set_faults(
        &localbase,
        json!({"rules": [{"method": "POST", "path": "/rest/v1/messages", "delay_ms": 1500}]}),
    );
    let last = unique("Last");
    send(client, &last).await;
    click(client, ".topbar button.sign-out").await;
    click(client, ".confirm button.sign-out-anyway").await;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css("form.card"))
        .await
        .expect("signed out");
    // Signing out abandoned the request; had it not, its answer would be in by now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(recorded_errors(client).await, Vec::<String>::new());
    assert_eq!(recorded_errors(trainer).await, Vec::<String>::new());
    chat.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_tabs_of_one_person_share_unsent_messages_and_one_session() {
    let mut localbase = Localbase::start_with(&["--jwt-expiry", "20"]);
    let site = StaticApp::serve_with_script(&localbase.api_url(), Some(COUNT_REQUESTS));
    let chat = Chat::open(&site.url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);
    let first_tab = client.window().await.unwrap();
    let second_tab = client.new_window(true).await.unwrap().handle;
    client.switch_to_window(second_tab.clone()).await.unwrap();
    client.goto(&site.url()).await.unwrap();
    wait_subscribed(client).await; // the session is shared: no second sign-in

    // Offline, each tab queues messages; each shows all of them waiting.
    tokio::task::block_in_place(|| localbase.stop());
    let run = unique("Tabs").replace(' ', "");
    let expected: Vec<String> = ["B0", "B1", "B2", "A0", "A1", "A2"]
        .iter()
        .map(|label| format!("{run} {label}"))
        .collect();
    for text in &expected[..3] {
        send(client, text).await;
    }
    client.switch_to_window(first_tab.clone()).await.unwrap();
    for text in &expected[3..] {
        send(client, text).await;
    }
    for tab in [&first_tab, &second_tab] {
        client.switch_to_window(tab.clone()).await.unwrap();
        let texts = eventually(Duration::from_secs(10), "all six in this tab", || async {
            let texts = texts_with(client, &run).await;
            (texts.len() == 6).then_some(texts)
        })
        .await;
        assert_eq!(texts, expected, "in the order they were written");
        assert_eq!(pending_bubbles(client).await, 6, "all waiting, visibly");
    }

    tokio::task::block_in_place(|| localbase.resume());
    let at_trainer = wait_for_all(trainer, "trainer", &run, 6, Duration::from_secs(60)).await;
    assert_eq!(at_trainer, expected, "each once, in order");
    for tab in [&first_tab, &second_tab] {
        client.switch_to_window(tab.clone()).await.unwrap();
        let texts = wait_for_all(client, "client tab", &run, 6, Duration::from_secs(30)).await;
        assert_eq!(texts, expected);
        // Recovered from the outage (sending needs no channel, so it may still be rejoining).
        wait_subscribed(client).await;
        record_statuses(client).await;
    }

    // 20-second tokens: both tabs live through several refreshes of one session.
    let talk = unique("Refresh").replace(' ', "");
    let mut said = Vec::new();
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(45) {
        let tab = if said.len() % 2 == 0 {
            &first_tab
        } else {
            &second_tab
        };
        client.switch_to_window(tab.clone()).await.unwrap();
        let text = format!("{talk} {:02}", said.len());
        send(client, &text).await;
        said.push(text);
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let at_trainer = wait_for_all(
        trainer,
        "trainer",
        &talk,
        said.len(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(at_trainer, said);
    for tab in [&first_tab, &second_tab] {
        client.switch_to_window(tab.clone()).await.unwrap();
        assert!(
            shows(client, ".topbar").await && !shows(client, "form.card").await,
            "still signed in"
        );
        let statuses = recorded_statuses(client).await;
        assert!(
            !statuses
                .iter()
                .any(|s| s == "CHANNEL_ERROR" || s == "CLOSED"),
            "the channel never failed: {statuses:?}"
        );
    }
    // One tab (the Web Lock's holder) sent everything: each insert went through once.
    let tabs = [first_tab, second_tab];
    assert_eq!(
        counted(client, &tabs, "__inserts").await,
        (expected.len() + said.len()) as u64,
        "one insert per message, not one per tab"
    );

    // A refresh the server is slow to answer, and a storm of wake-ups in both tabs
    // meanwhile: still one refresh request.
    let before = counted(client, &tabs, "__refreshes").await;
    // Every refresh is slow from now on (the trainer's too: a rule for one request could be
    // spent on theirs).
    set_faults(
        &localbase,
        json!({"rules": [{"method": "POST", "path": "/auth/v1/token",
            "query": "grant_type=refresh_token", "delay_ms": 2500, "times": 1000}]}),
    );
    eventually(Duration::from_secs(15), "a refresh under way", || async {
        (counted(client, &tabs, "__refreshes").await > before).then_some(())
    })
    .await;
    let spent = stored_refresh_token(client).await;
    for tab in &tabs {
        client.switch_to_window(tab.clone()).await.unwrap();
        client.execute(WAKE_STORM, vec![]).await.unwrap();
    }
    eventually(Duration::from_secs(10), "the refreshed session", || async {
        (stored_refresh_token(client).await != spent).then_some(())
    })
    .await;
    // Anything queued behind the slow refresh would follow it at once.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut log = Vec::new(); // each tab's refreshes and answers, for a failure's message
    for tab in &tabs {
        client.switch_to_window(tab.clone()).await.unwrap();
        log.push(
            client
                .execute("return window.__refreshLog", vec![])
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        counted(client, &tabs, "__refreshes").await,
        before + 1,
        "one refresh for every caller in both tabs: {log:?}"
    );
    chat.close().await;
}

/// Runs before the app: counts this tab's token refreshes (and logs when each went and
/// was answered, in ms) and its inserts the server accepted.
const COUNT_REQUESTS: &str = "(() => {
  window.__refreshes = 0;
  window.__inserts = 0;
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    const method = (init && init.method) || input.method || 'GET';
    const answer = realFetch.apply(this, arguments);
    if (url.includes('grant_type=refresh_token')) {
      window.__refreshes++;
      const log = (window.__refreshLog = window.__refreshLog || []);
      log.push(Date.now() % 100000);
      answer.then((r) => log.push('answer ' + r.status + ' at ' + Date.now() % 100000),
                  (e) => log.push('error ' + e + ' at ' + Date.now() % 100000));
    }
    if (method === 'POST' && url.includes('/rest/v1/messages')) {
      answer.then((r) => { if (r.ok) window.__inserts++; }, () => {});
    }
    return answer;
  };
})();";

/// Every kind of wake-up the app listens for, six times over 1.25 s.
const WAKE_STORM: &str = "for (let i = 0; i < 6; i++) setTimeout(() => {
  for (const kind of ['online', 'focus', 'pageshow']) window.dispatchEvent(new Event(kind));
  document.dispatchEvent(new Event('visibilitychange'));
}, i * 250);";

/// The sum of a `COUNT_REQUESTS` counter over the tabs.
async fn counted(
    browser: &fantoccini::Client,
    tabs: &[fantoccini::wd::WindowHandle],
    counter: &str,
) -> u64 {
    let mut total = 0;
    for tab in tabs {
        browser.switch_to_window(tab.clone()).await.unwrap();
        let value = browser
            .execute(&format!("return window.{counter}"), vec![])
            .await
            .unwrap();
        total += value.as_u64().expect("a counter");
    }
    total
}

async fn stored_refresh_token(browser: &fantoccini::Client) -> String {
    browser
        .execute(
            "return JSON.parse(localStorage.getItem('coach-chat.session')).refresh_token",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs in the trainer's page: a second socket with the trainer's own token, sending
/// what a modified client could — a message the database never stored, one claiming
/// to come from the client, a read receipt for a message nobody read, and a typing
/// indicator whose stop never comes.
const FORGE: &str = "
const [wsUrl, apikey, conversation, trainerId, clientId, unreadId, done] = arguments;
const token = JSON.parse(localStorage.getItem('coach-chat.session')).access_token;
const topic = 'realtime:conversation:' + conversation;
const now = new Date().toISOString();
const message = (id, sender, body) => ({ id, conversation_id: conversation, sender_id: sender,
    body, created_at: now, read_at: null });
const ws = new WebSocket(wsUrl + '/realtime/v1/websocket?apikey=' + apikey + '&vsn=1.0.0');
const push = (event, payload, ref) => ws.send(JSON.stringify({ topic, event, payload, ref, join_ref: '1' }));
ws.onopen = () => push('phx_join', { config: { private: true, broadcast: { self: false } }, access_token: token }, '1');
ws.onmessage = (m) => {
  const frame = JSON.parse(m.data);
  if (frame.ref !== '1' || frame.event !== 'phx_reply') return;
  const say = (event, payload, ref) => push('broadcast', { type: 'broadcast', event, payload }, ref);
  say('new_message', message(crypto.randomUUID(), trainerId, 'ФАНТОМ'), '2');
  say('new_message', message(crypto.randomUUID(), clientId, 'ПОДМЯНА'), '3');
  say('message_read', { ids: [unreadId], read_at: now }, '4');
  // 'Typing', and the stop never comes (a tab that crashed mid-word).
  say('typing', { user_id: trainerId, typing: true }, '5');
  setTimeout(() => { ws.close(); done(frame.payload.status); }, 300);
};";

#[tokio::test(flavor = "multi_thread")]
async fn hostile_broadcasts_hung_requests_and_errors_after_the_commit_lose_nothing() {
    let localbase = Localbase::start();
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);
    client
        .execute(
            "window.__seen = new Set();
             window.__typing = {};
             new MutationObserver(() => {
               document.querySelectorAll('.bubble .body').forEach(b => window.__seen.add(b.textContent));
               const typing = !!document.querySelector('.chat .presence.typing');
               if (typing && !window.__typing.on) window.__typing.on = performance.now();
               if (!typing && window.__typing.on && !window.__typing.off) window.__typing.off = performance.now();
             }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });",
            vec![],
        )
        .await
        .unwrap();

    // The trainer looks elsewhere, so the client's message stays unread.
    open_conversation(trainer, ELENA_CONVERSATION).await;
    let unread = unique("Unread");
    send(client, &unread).await;
    wait_for_ticks(client, &unread, SENT, Duration::from_secs(10)).await;
    let unread_id = client
        .execute(
            "return Array.from(document.querySelectorAll('.bubble.mine'))
               .find(b => b.querySelector('.body').textContent === arguments[0]).dataset.id",
            vec![json!(unread)],
        )
        .await
        .unwrap();
    let ws_url = localbase.api_url().replace("http://", "ws://");
    let joined = trainer
        .execute_async(
            FORGE,
            vec![
                json!(ws_url),
                json!(ANON_KEY),
                json!(TRAINER_CLIENT_CONVERSATION),
                json!(TRAINER_ID),
                json!(CLIENT_ID),
                unread_id,
            ],
        )
        .await
        .unwrap();
    assert_eq!(joined, json!("ok"), "a participant may broadcast");
    eventually(
        Duration::from_secs(5),
        "the forged message shown as a hint",
        || async {
            bubble_texts(client)
                .await
                .contains(&"ФАНТОМ".to_string())
                .then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "the forged message gone: the database never had it",
        || async {
            (!bubble_texts(client).await.contains(&"ФАНТОМ".to_string())).then_some(())
        },
    )
    .await;
    wait_for_ticks(client, &unread, SENT, Duration::from_secs(10)).await;
    let seen: Vec<String> = serde_json::from_value(
        client
            .execute("return Array.from(window.__seen)", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        !seen.iter().any(|t| t == "ПОДМЯНА"),
        "a broadcast in the client's own name is never shown: {seen:?}"
    );
    // The lost stop: "typing" showed, and cleared by itself after about 6 s.
    let shown_ms = eventually(
        Duration::from_secs(12),
        "typing shown, then cleared although its stop was lost",
        || async {
            let typing = client
                .execute("return window.__typing", vec![])
                .await
                .ok()?;
            Some(typing["off"].as_f64()? - typing["on"].as_f64()?)
        },
    )
    .await;
    assert!(
        (4_000.0..9_000.0).contains(&shown_ms),
        "typing shown for about 6 s, not {shown_ms} ms"
    );

    // Five 503s, each after the commit: the message is stored, so it is sent, not failed.
    open_conversation(trainer, TRAINER_CLIENT_CONVERSATION).await;
    set_faults(
        &localbase,
        json!({"rules": [{"method": "POST", "path": "/rest/v1/messages", "status_after": 503, "times": 5}]}),
    );
    let stored = unique("Stored despite 503");
    send(client, &stored).await;
    eventually(Duration::from_secs(45), "stored, not failed", || async {
        let ticks = ticks_of(client, &stored).await?;
        assert_ne!(ticks, NOT_SENT, "a stored message shown as failed");
        (ticks == SENT || ticks == READ).then_some(())
    })
    .await;
    let at_trainer = eventually(Duration::from_secs(10), "at the trainer", || async {
        let texts = texts_with(trainer, &stored).await;
        (!texts.is_empty()).then_some(texts)
    })
    .await;
    assert_eq!(at_trainer.len(), 1, "once");

    // An insert that never answers holds up nothing for long.
    set_faults(
        &localbase,
        json!({"rules": [{"method": "POST", "path": "/rest/v1/messages", "hang": true}]}),
    );
    let run = unique("Hang").replace(' ', "");
    let expected: Vec<String> = (0..3).map(|i| format!("{run} {i}")).collect();
    for text in &expected {
        send(client, text).await;
    }
    let at_trainer = wait_for_all(trainer, "trainer", &run, 3, Duration::from_secs(40)).await;
    assert_eq!(at_trainer, expected, "each once, in order");
    wait_for_all(client, "client", &run, 3, Duration::from_secs(10)).await;

    // The network comes back (a switch to another network): an insert out for more than 3 s
    // is abandoned and sent again at once, not after its 15 s deadline.
    set_faults(
        &localbase,
        json!({"rules": [{"method": "POST", "path": "/rest/v1/messages", "hang": true}]}),
    );
    let switched = unique("Network switch");
    send(client, &switched).await;
    tokio::time::sleep(Duration::from_millis(3_500)).await; // the request goes stale
    let woke = std::time::Instant::now();
    client
        .execute("window.dispatchEvent(new Event('online'))", vec![])
        .await
        .unwrap();
    wait_for_all(trainer, "trainer", &switched, 1, Duration::from_secs(15)).await;
    assert!(
        woke.elapsed() < Duration::from_secs(6),
        "sent again on the wake-up, not at the deadline: {:?}",
        woke.elapsed()
    );

    // When the server cannot offer the backup path, the conversation says so.
    set_faults(&localbase, json!({"refuse_postgres_changes": true}));
    open_conversation(trainer, ELENA_CONVERSATION).await;
    click(trainer, &conversation_button(TRAINER_CLIENT_CONVERSATION)).await;
    trainer
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(".chat .backup-off"))
        .await
        .expect("the backup path's absence is shown");

    // Refused after the commit, and no backup path to bring the row in: shown as not
    // sent. Delete asks the database first, finds it, and shows it sent instead of hiding
    // a message the trainer has.
    client.refresh().await.unwrap();
    wait_subscribed(client).await;
    set_faults(
        &localbase,
        json!({"refuse_postgres_changes": true,
               "rules": [{"method": "POST", "path": "/rest/v1/messages", "status_after": 422}]}),
    );
    let refused = unique("Refused after the commit");
    send(client, &refused).await;
    wait_for_ticks(client, &refused, NOT_SENT, Duration::from_secs(10)).await;
    click(client, ".bubble.failed .delete").await;
    eventually(
        Duration::from_secs(10),
        "shown as sent, not hidden",
        || async {
            let ticks = ticks_of(client, &refused).await;
            matches!(ticks.as_deref(), Some(SENT | READ)).then_some(())
        },
    )
    .await;
    let at_trainer = eventually(Duration::from_secs(10), "at the trainer", || async {
        let texts = texts_with(trainer, &refused).await;
        (!texts.is_empty()).then_some(texts)
    })
    .await;
    assert_eq!(at_trainer.len(), 1, "once");
    set_faults(&localbase, json!({}));
    chat.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_unread_history_opens_without_holes() {
    let localbase = Localbase::start();
    let (trainer_token, _) = api_sign_in(&localbase, TRAINER);
    let (elena_token, _) = api_sign_in(&localbase, CLIENT2);
    let run = unique("Hist").replace(' ', "");
    // 320 messages, 135 of them Elena's and unread, between the trainer's replies.
    let written: Vec<String> = (0..320).map(|i| format!("{run} {i:03}")).collect();
    for (i, text) in written.iter().enumerate() {
        let token = if i % 64 < 27 {
            &elena_token
        } else {
            &trainer_token
        };
        api_send(&localbase, token, ELENA_CONVERSATION, text);
    }
    let driver = Driver::start();
    let trainer = driver.browser().await;
    sign_in(&trainer, &localbase.app_url(), TRAINER, PASSWORD).await;
    // What the list says is unread decides how far back the conversation opens.
    let badge = format!("{} .unread", conversation_button(ELENA_CONVERSATION));
    let unread: usize = eventually(Duration::from_secs(20), "the unread badge", || async {
        text_of(&trainer, &badge).await?.trim().parse().ok()
    })
    .await;
    assert!(unread >= 135, "{unread} unread in the list");
    open_conversation(&trainer, ELENA_CONVERSATION).await;
    // Reading marks all 135 read; their updates arrive before any later insert.
    eventually(
        Duration::from_secs(15),
        "the unread count cleared",
        || async {
            let badge = format!("{} .unread", conversation_button(ELENA_CONVERSATION));
            (!shows(&trainer, &badge).await).then_some(())
        },
    )
    .await;
    let marker = format!("{run} after");
    api_send(&localbase, &elena_token, ELENA_CONVERSATION, &marker);
    let shown = eventually(Duration::from_secs(10), "the message after", || async {
        let texts = texts_with(&trainer, &run).await;
        texts.contains(&marker).then_some(texts)
    })
    .await;
    // It opens with enough to reach back towards the first unread (135 + 10), in order,
    // and nothing older wedged in by the gap fill.
    let opened_with = shown.len() - 1;
    assert_eq!(
        opened_with,
        unread + 10,
        "opened with {opened_with} of the {unread} unread"
    );
    let mut expected: Vec<String> = written[written.len() - opened_with..].to_vec();
    expected.push(marker);
    assert_eq!(shown, expected, "a tail of the history, then the new one");
    trainer.close().await.unwrap();
}

/// Run before the app loads: the page's clock reads an hour ahead of the world, and
/// every token refresh is counted.
const CLOCK_AN_HOUR_AHEAD: &str = "(() => {
  const skew = 3600e3, Real = Date;
  function Skewed(...args) {
    if (!new.target) return new Real(Real.now() + skew).toString();
    return args.length ? new Real(...args) : new Real(Real.now() + skew);
  }
  Skewed.prototype = Real.prototype;
  Skewed.now = () => Real.now() + skew;
  Skewed.parse = Real.parse;
  Skewed.UTC = Real.UTC;
  globalThis.Date = Skewed;
  window.__refreshes = 0;
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    if (url.includes('grant_type=refresh_token')) window.__refreshes++;
    return realFetch.apply(this, arguments);
  };
})();";

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_an_hour_ahead_neither_loops_refreshes_nor_misplaces_messages() {
    let localbase = Localbase::start_with(&["--jwt-expiry", "20"]);
    let skewed = StaticApp::serve_with_script(&localbase.api_url(), Some(CLOCK_AN_HOUR_AHEAD));
    let driver = Driver::start();
    let trainer = driver.browser().await;
    let client = driver.browser().await;
    sign_in(&trainer, &localbase.app_url(), TRAINER, PASSWORD).await;
    sign_in(&client, &skewed.url(), CLIENT, PASSWORD).await;
    open_conversation(&trainer, TRAINER_CLIENT_CONVERSATION).await;
    wait_subscribed(&client).await;
    record_statuses(&client).await;

    let run = unique("Skew").replace(' ', "");
    let mut said = Vec::new();
    for i in 0..8 {
        let (who, browser) = if i % 2 == 0 {
            ("C", &client)
        } else {
            ("T", &trainer)
        };
        let text = format!("{run} {who}{i}");
        send(browser, &text).await;
        said.push(text);
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    assert_eq!(
        wait_for_all(&client, "client", &run, 8, Duration::from_secs(20)).await,
        said
    );
    let refreshes = client
        .execute("return window.__refreshes", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(
        (2..=8).contains(&refreshes),
        "about one refresh per 10 s of a 20 s token, not a loop: {refreshes} in 40 s"
    );
    let statuses = recorded_statuses(&client).await;
    assert!(
        !statuses
            .iter()
            .any(|s| s == "CHANNEL_ERROR" || s == "CLOSED"),
        "{statuses:?}"
    );

    // A message waiting for the server is stamped by the server's clock, not the page's.
    set_faults(
        &localbase,
        json!({"rules": [{"method": "POST", "path": "/rest/v1/messages", "delay_ms": 3000}]}),
    );
    let pending = unique("Pending");
    send(&client, &pending).await;
    let gap = client
        .execute(
            "const mine = Array.from(document.querySelectorAll('.bubble.mine'))
               .find(b => b.querySelector('.body').textContent === arguments[0]);
             const theirs = Array.from(document.querySelectorAll('.bubble:not(.mine)')).pop();
             return (new Date(mine.querySelector('time').getAttribute('datetime'))
               - new Date(theirs.querySelector('time').getAttribute('datetime'))) / 1000;",
            vec![json!(pending)],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(
        (0.0..60.0).contains(&gap),
        "the pending bubble is {gap} s after the trainer's last message, not an hour"
    );
    assert_eq!(
        ticks_of(&client, &pending).await.as_deref(),
        Some("Изпраща се")
    );
    let texts = wait_for_all(&client, "client", &pending, 1, Duration::from_secs(15)).await;
    assert_eq!(texts.len(), 1);
    trainer.close().await.unwrap();
    client.close().await.unwrap();
}

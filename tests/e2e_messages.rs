//! Messages one can work with (issue 12), and finding them: both react to messages (live on both sides, one
//! reaction each) and answer a specific one (the quote shows, and takes one to the
//! original, loading older pages); search finds a word fragment; the sender edits a message (the other side sees
//! the new text, marked edited, at once) and deletes it (a placeholder on both sides, the
//! text gone from the other's screen, list and history); an edit made while the message
//! is still on its way goes after it; after 15 minutes only deleting is offered.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Client;
use serde_json::json;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

/// The id of the bubble that says exactly `text`.
async fn bubble_id(browser: &Client, text: &str) -> Option<String> {
    browser
        .execute(
            "return Array.from(document.querySelectorAll('.messages .bubble'))
                .filter(b => b.querySelector('.body').textContent === arguments[0])
                .map(b => b.dataset.id)[0] || null",
            vec![json!(text)],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

async fn wait_bubble(browser: &Client, text: &str) -> String {
    eventually(WAIT, &format!("a bubble saying {text:?}"), || {
        bubble_id(browser, text)
    })
    .await
}

/// What the bubble of message `id` says, and whether it is marked edited or deleted.
async fn bubble(browser: &Client, id: &str) -> Option<(String, bool, bool)> {
    let value = browser
        .execute(
            "const b = document.querySelector(`.messages .bubble[data-id='${arguments[0]}']`);
             return b ? [b.querySelector('.body').textContent, !!b.querySelector('.edited'),
                         b.classList.contains('deleted')] : null",
            vec![json!(id)],
        )
        .await
        .ok()?;
    serde_json::from_value(value).ok()
}

async fn wait_until_says(browser: &Client, who: &str, id: &str, wanted: (&str, bool, bool)) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let shown = bubble(browser, id).await;
        if shown
            .as_ref()
            .is_some_and(|(text, edited, deleted)| (text.as_str(), *edited, *deleted) == wanted)
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{who}: message {id} shows {shown:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Opens the menu of one's own message `id` and chooses Edit; types `text` over the old
/// one and presses Enter.
async fn edit(browser: &Client, id: &str, text: &str) {
    click(browser, &format!(".bubble[data-id='{id}'] button.more")).await;
    click(browser, &format!(".bubble[data-id='{id}'] button.edit")).await;
    eventually(WAIT, "the composer in edit mode", || async {
        shows(browser, ".composer.editing").await.then_some(())
    })
    .await;
    let composer = browser
        .find(fantoccini::Locator::Css(".composer textarea"))
        .await
        .unwrap();
    let select_all: String = [char::from(Key::Control), 'a', char::from(Key::Null)]
        .iter()
        .collect();
    composer.send_keys(&select_all).await.unwrap();
    composer
        .send_keys(&format!("{text}{}", char::from(Key::Enter)))
        .await
        .unwrap();
}

async fn delete_for_everyone(browser: &Client, id: &str) {
    click(browser, &format!(".bubble[data-id='{id}'] button.more")).await;
    click(
        browser,
        &format!(".bubble[data-id='{id}'] button.delete-sent"),
    )
    .await;
    // Asked once more: "Delete for everyone".
    eventually(WAIT, "the confirmation", || async {
        text_of(
            browser,
            &format!(".bubble[data-id='{id}'] button.delete-sent"),
        )
        .await
        .filter(|said| said == "Изтрий за всички")
    })
    .await;
    click(
        browser,
        &format!(".bubble[data-id='{id}'] button.delete-sent"),
    )
    .await;
}

/// The reaction chips under message `id`: ("💪 1", pressed by this person).
async fn chips(browser: &Client, id: &str) -> Vec<(String, bool)> {
    let value = browser
        .execute(
            "return Array.from(document.querySelectorAll(`.bubble[data-id='${arguments[0]}'] .reaction`))
                .map(b => [b.textContent, b.getAttribute('aria-pressed') === 'true'])",
            vec![json!(id)],
        )
        .await
        .unwrap_or_default();
    serde_json::from_value(value).unwrap_or_default()
}

async fn wait_chips(browser: &Client, who: &str, id: &str, wanted: &[(&str, bool)]) {
    let wanted: Vec<(String, bool)> = wanted.iter().map(|(t, p)| (t.to_string(), *p)).collect();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let shown = chips(browser, id).await;
        if shown == wanted {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{who}: reactions {shown:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reacts to message `id` with `emoji` from its "⋯" menu (opened again if the bubble was
/// redrawn before the pick, as a person would).
async fn react(browser: &Client, id: &str, emoji: &str) {
    eventually(WAIT, &format!("{emoji} picked from the menu"), || async {
        let menu_open = format!(".bubble[data-id='{id}'] button.react");
        if !shows(browser, &menu_open).await {
            click(browser, &format!(".bubble[data-id='{id}'] button.more")).await;
        }
        let picked = browser
            .execute(
                "const b = Array.from(document.querySelectorAll(`.bubble[data-id='${arguments[0]}'] button.react`))
                    .find(b => b.textContent === arguments[1]);
                 if (b) b.click();
                 return !!b",
                vec![json!(id), json!(emoji)],
            )
            .await
            .ok()?;
        (picked == json!(true)).then_some(())
    })
    .await;
}

/// Waits until message `id` is on screen in the message list, flashed.
async fn brought_into_view(browser: &Client, id: &str) {
    eventually(WAIT, &format!("message {id} brought into view"), || async {
        browser
            .execute(
                "const b = document.querySelector(`.bubble[data-id='${arguments[0]}']`);
                 if (!b || !b.classList.contains('highlight')) return false;
                 const r = b.getBoundingClientRect(), l = document.querySelector('.messages').getBoundingClientRect();
                 return r.top >= l.top && r.bottom <= l.bottom",
                vec![json!(id)],
            )
            .await
            .ok()
            .filter(|v| *v == json!(true))
    })
    .await;
}

async fn page_html(browser: &Client) -> String {
    browser
        .execute("return document.body.innerHTML", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn reactions_edits_and_deletions_are_seen_live_on_both_sides_and_kept() {
    let localbase = Localbase::start();
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);
    for browser in [trainer, client] {
        record_errors(browser).await;
    }

    // Reactions: on the other's message and one's own, live on both sides, one per person,
    // taken back by pressing one's own again.
    let plan = unique("Днес: 5 × 5 клекове");
    send(trainer, &plan).await;
    let plan_id = wait_bubble(client, &plan).await;
    react(client, &plan_id, "💪").await;
    wait_chips(client, "client", &plan_id, &[("💪 1", true)]).await;
    wait_chips(trainer, "trainer", &plan_id, &[("💪 1", false)]).await;
    react(trainer, &plan_id, "👍").await;
    wait_chips(
        trainer,
        "trainer",
        &plan_id,
        &[("👍 1", true), ("💪 1", false)],
    )
    .await;
    wait_chips(
        client,
        "client",
        &plan_id,
        &[("👍 1", false), ("💪 1", true)],
    )
    .await;
    react(client, &plan_id, "❤️").await; // replaces the client's 💪
    wait_chips(
        trainer,
        "trainer",
        &plan_id,
        &[("👍 1", true), ("❤️ 1", false)],
    )
    .await;
    click(
        client,
        &format!(".bubble[data-id='{plan_id}'] button.reaction[aria-pressed=true]"),
    )
    .await;
    wait_chips(client, "client", &plan_id, &[("👍 1", false)]).await;
    wait_chips(trainer, "trainer", &plan_id, &[("👍 1", true)]).await;

    // A reply: the quote shows on both sides. Sixty messages later, the trainer opens the
    // conversation afresh: the quote still shows (its original is fetched), and pressing
    // it loads the older pages and brings the original into view.
    click(client, &format!(".bubble[data-id='{plan_id}'] button.more")).await;
    click(
        client,
        &format!(".bubble[data-id='{plan_id}'] button.reply"),
    )
    .await;
    eventually(WAIT, "the reply banner", || async {
        text_of(client, ".chat > .replying")
            .await
            .filter(|t| t.contains("В отговор на") && t.contains(&plan))
    })
    .await;
    let (trainer_token, _) = tokio::task::block_in_place(|| api_sign_in(&localbase, TRAINER));
    tokio::task::block_in_place(|| {
        for n in 0..60 {
            api_send(
                &localbase,
                &trainer_token,
                TRAINER_CLIENT_CONVERSATION,
                &format!("пълнеж {n:02}"),
            );
        }
    });
    let question = unique("Колко почивка между сериите?");
    send(client, &question).await;
    assert!(
        !shows(client, ".chat > .replying").await,
        "the banner goes with the message"
    );
    let reply_id = wait_bubble(trainer, &question).await;
    let quote = format!(".bubble[data-id='{reply_id}'] .quote");
    eventually(WAIT, "the quote at the trainer's", || async {
        text_of(trainer, &quote)
            .await
            .filter(|t| t.starts_with("Вие: ") && t.contains(&plan))
    })
    .await;
    trainer.refresh().await.unwrap();
    open_conversation(trainer, TRAINER_CLIENT_CONVERSATION).await;
    wait_bubble(trainer, &question).await;
    assert!(
        bubble_id(trainer, &plan).await.is_none(),
        "the original is older than the first page"
    );
    eventually(WAIT, "the quote of an unloaded original", || async {
        text_of(trainer, &quote).await.filter(|t| t.contains(&plan))
    })
    .await;
    click(trainer, &quote).await;
    brought_into_view(trainer, &plan_id).await;
    wait_chips(
        trainer,
        "trainer after a reload",
        &plan_id,
        &[("👍 1", true)],
    )
    .await;

    // An edit: the new text on both sides, marked edited, still one bubble.
    let first = unique("Тренировката е в 18:00");
    send(client, &first).await;
    let id = wait_bubble(trainer, &first).await;
    wait_for_all(client, "client", &first, 1, WAIT).await; // stored: nothing pending
    let fixed = unique("Тренировката е в 19:00");
    edit(client, &id, &fixed).await;
    wait_until_says(client, "client", &id, (&fixed, true, false)).await;
    wait_until_says(trainer, "trainer", &id, (&fixed, true, false)).await;
    assert_eq!(
        texts_with(trainer, "Тренировката е в").await,
        [fixed.as_str()]
    );
    let theirs = format!(".bubble[data-id='{id}']");
    click(trainer, &format!("{theirs} button.more")).await;
    assert!(shows(trainer, &format!("{theirs} button.react")).await);
    assert!(
        !shows(trainer, &format!("{theirs} button.edit")).await
            && !shows(trainer, &format!("{theirs} button.delete-sent")).await,
        "nobody is offered to change the other person's messages"
    );
    click(trainer, &format!("{theirs} button.more")).await;
    assert!(
        !shows(client, ".composer.editing").await,
        "the composer is back to writing"
    );

    // A deletion: a placeholder on both sides; the text is gone from the trainer's screen,
    // list and (after a reload) history.
    delete_for_everyone(client, &id).await;
    let placeholder = ("Съобщението е изтрито", false, true);
    wait_until_says(client, "client", &id, placeholder).await;
    wait_until_says(trainer, "trainer", &id, placeholder).await;
    let row = format!("button.conversation[data-conversation='{TRAINER_CLIENT_CONVERSATION}']");
    eventually(WAIT, "the list's preview says it was deleted", || async {
        text_of(trainer, &row)
            .await
            .filter(|t| t.contains("Съобщението е изтрито"))
    })
    .await;
    trainer.refresh().await.unwrap();
    open_conversation(trainer, TRAINER_CLIENT_CONVERSATION).await;
    wait_until_says(trainer, "trainer after a reload", &id, placeholder).await;
    assert!(
        !page_html(trainer).await.contains(&fixed),
        "no deleted text anywhere"
    );

    // Search: a Cyrillic fragment in capitals finds the plan (60 messages back), the match
    // marked; pressing it brings the plan into view.
    trainer
        .find(fantoccini::Locator::Css("input.search"))
        .await
        .unwrap()
        .send_keys("КЛЕК")
        .await
        .unwrap();
    let found = format!(".found-message[data-id='{plan_id}']");
    eventually(WAIT, "the plan found, the match marked", || async {
        text_of(trainer, &format!("{found} mark"))
            .await
            .filter(|marked| marked == "клек")
    })
    .await;
    click(trainer, &found).await;
    brought_into_view(trainer, &plan_id).await;
    record_errors(trainer).await;

    // An edit while the message is still on its way (the server answers slowly): it shows
    // at once, unmarked, and goes after the message; the trainer ends with the new text.
    set_faults(
        &localbase,
        json!({ "rules": [{ "method": "POST", "path": "/rest/v1/messages", "delay_ms": 4000 }] }),
    );
    let slow = unique("Ще закъснея");
    send(client, &slow).await;
    let slow_id = wait_bubble(client, &slow).await;
    assert_eq!(
        ticks_of(client, &slow).await.as_deref(),
        Some("Изпраща се"),
        "still on its way"
    );
    let later = unique("Ще закъснея с 10 минути");
    edit(client, &slow_id, &later).await;
    wait_until_says(client, "client", &slow_id, (&later, false, false)).await;
    wait_until_says(trainer, "trainer", &slow_id, (&later, true, false)).await;
    wait_for_all(client, "client", &later, 1, WAIT).await;
    set_faults(&localbase, json!({}));

    // After 15 minutes a message can still be deleted, not edited.
    let old = unique("Старо съобщение");
    send(client, &old).await;
    let old_id = wait_bubble(trainer, &old).await;
    wait_for_all(client, "client", &old, 1, WAIT).await;
    let stamp = format!(".bubble[data-id='{old_id}'] time");
    let stamped = || async {
        client
            .execute(
                "const t = document.querySelector(arguments[0]); return t ? t.getAttribute('datetime') : null",
                vec![json!(stamp)],
            )
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    };
    let sent_at = stamped().await.expect("the bubble's time");
    let now_micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let quarter_ago = coach_chat::time::format_micros(now_micros - 16 * 60 * 1_000_000);
    let (status, body) = http(
        &localbase,
        "PATCH",
        &format!("/rest/v1/messages?id=eq.{old_id}"),
        &[
            ("apikey", SERVICE_ROLE_KEY),
            ("Authorization", &format!("Bearer {SERVICE_ROLE_KEY}")),
        ],
        Some(&json!({ "created_at": quarter_ago })),
    );
    assert!(status < 300, "backdated: {status} {body}");
    // The change reaches the open conversation (Postgres Changes): the message moves back.
    eventually(WAIT, "the message dated 16 minutes ago", || async {
        stamped().await.filter(|at| *at != sent_at)
    })
    .await;
    click(client, &format!(".bubble[data-id='{old_id}'] button.more")).await;
    assert!(
        shows(
            client,
            &format!(".bubble[data-id='{old_id}'] button.delete-sent")
        )
        .await
    );
    assert!(
        !shows(client, &format!(".bubble[data-id='{old_id}'] button.edit")).await,
        "editing is over after 15 minutes"
    );

    for (who, browser) in [("trainer", trainer), ("client", client)] {
        assert_eq!(
            recorded_errors(browser).await,
            Vec::<String>::new(),
            "{who}"
        );
    }
    chat.close().await;
}

/// The messages of one conversation saying exactly `text`, as its client reads them.
fn copies_at(localbase: &Localbase, token: &str, conversation: &str, text: &str) -> usize {
    let bearer = format!("Bearer {token}");
    let path = format!("/rest/v1/messages?conversation_id=eq.{conversation}&select=id,body");
    let (status, body) = http(
        localbase,
        "GET",
        &path,
        &[("apikey", ANON_KEY), ("Authorization", &bearer)],
        None,
    );
    assert_eq!(status, 200, "history: {body}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    rows.iter().filter(|row| row["body"] == text).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_announcement_reaches_the_chosen_clients_once_each_and_nobody_else() {
    let localbase = Localbase::start();
    tokio::task::block_in_place(|| seed_clients(&localbase, 4));
    // Each client's token and conversation with the trainer.
    let clients: Vec<(String, String)> = (0..4)
        .map(|n| {
            let (token, _) = api_sign_in(&localbase, &format!("bench-client-{n:03}@example.com"));
            let list = rpc(&localbase, &token, "conversation_summaries", json!({}));
            let conversation = list[0]["conversation_id"].as_str().unwrap().to_string();
            (token, conversation)
        })
        .collect();

    let driver = Driver::start();
    let trainer = driver.browser().await;
    sign_in(&trainer, &localbase.app_url(), TRAINER, PASSWORD).await;
    let first = format!("input[type=checkbox][value='{}']", clients[0].1);
    trainer
        .wait()
        .at_most(WAIT)
        .for_element(fantoccini::Locator::Css(".announce-toggle"))
        .await
        .expect("the trainer may announce");
    click(&trainer, ".announce-toggle").await;
    let text = unique("Обявление: утре тренировката е в 7:00");
    trainer
        .find(fantoccini::Locator::Css(".announcement-text"))
        .await
        .unwrap()
        .send_keys(&text)
        .await
        .unwrap();

    // Nobody chosen: said, and nothing goes.
    click(&trainer, ".send-announcement").await;
    let said = eventually(WAIT, "why nothing went", || {
        text_of(&trainer, ".announcement .error")
    })
    .await;
    assert_eq!(said, "Изберете поне един клиент.");

    // Three chosen; the first copy's insert is stored but answered 503 (retried, and
    // stored once all the same).
    set_faults(
        &localbase,
        json!({ "rules": [{ "method": "POST", "path": "/rest/v1/messages", "status_after": 503 }] }),
    );
    eventually(WAIT, "the clients to choose from", || async {
        shows(&trainer, &first).await.then_some(())
    })
    .await;
    // "All clients" ticks every client (the two of the seed and the four new ones), and
    // untick them all again.
    click(&trainer, ".all-recipients").await;
    assert_eq!(
        text_of(&trainer, ".send-announcement").await.as_deref(),
        Some("Изпрати до 6")
    );
    click(&trainer, ".all-recipients").await;
    for (_, conversation) in &clients[..3] {
        click(
            &trainer,
            &format!("input[type=checkbox][value='{conversation}']"),
        )
        .await;
    }
    assert_eq!(
        text_of(&trainer, ".send-announcement").await.as_deref(),
        Some("Изпрати до 3")
    );
    click(&trainer, ".send-announcement").await;
    eventually(WAIT, "all three copies stored", || async {
        let status = text_of(&trainer, ".announcement-status").await?;
        (status == "Изпратено до 3 клиента.").then_some(())
    })
    .await;

    for (n, (token, conversation)) in clients.iter().enumerate() {
        let expected = usize::from(n < 3);
        assert_eq!(
            copies_at(&localbase, token, conversation, &text),
            expected,
            "client {n} has the announcement {expected} time(s)"
        );
        // An ordinary message of their own conversation: unread until they read it.
        let list = rpc(&localbase, token, "conversation_summaries", json!({}));
        assert_eq!(
            list[0]["unread_count"],
            json!(expected),
            "client {n}'s unread"
        );
    }
    // The trainer sees it once in each conversation, as any message they sent.
    open_conversation(&trainer, &clients[1].1).await;
    let shown = eventually(WAIT, "the copy in the conversation", || async {
        let shown = texts_with(&trainer, &text).await;
        (!shown.is_empty()).then_some(shown)
    })
    .await;
    assert_eq!(shown, vec![text.clone()]);
    trainer.close().await.unwrap();
}

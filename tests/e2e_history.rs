//! End-to-end: a conversation's whole history, read as people read it — older pages
//! loaded by scrolling up without the message being read moving, the "new messages ↓"
//! pill instead of a jump while reading old ones, the unread divider on opening, day
//! separators, links, and a hostile message shown as text.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;
use support::*;

/// The `.messages` list's scroll state and where the bubble `id_text` sits in it.
const MEASURE: &str = "const list = document.querySelector('.messages');
    const bubble = Array.from(list.querySelectorAll('.bubble'))
        .find(b => b.querySelector('.body').textContent === arguments[0]);
    return { top: list.scrollTop, height: list.scrollHeight, client: list.clientHeight,
             offset: bubble ? bubble.getBoundingClientRect().top - list.getBoundingClientRect().top : null };";

async fn measure(browser: &Client, text: &str) -> serde_json::Value {
    browser
        .execute(MEASURE, vec![json!(text)])
        .await
        .expect("measured")
}

async fn scroll_to_top(browser: &Client) {
    browser
        .execute("document.querySelector('.messages').scrollTop = 0", vec![])
        .await
        .expect("scrolled");
}

async fn count_shown(browser: &Client, prefix: &str, count: usize) -> Vec<String> {
    eventually(
        Duration::from_secs(15),
        &format!("{count} messages shown"),
        || async {
            let texts = texts_with(browser, prefix).await;
            (texts.len() == count).then_some(texts)
        },
    )
    .await
}

/// Waits for the unread badge `selector` to read `count`; says what it read last if not.
async fn badge_reaches(browser: &Client, selector: &str, count: &str, within: Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let shown = text_of(browser, selector).await;
        if shown.as_deref() == Some(count) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "after {within:?} the unread badge reads {shown:?}, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_history_reads_like_a_messenger() {
    let localbase = Localbase::start();
    let (trainer_token, _) = api_sign_in(&localbase, TRAINER);
    let (elena_token, _) = api_sign_in(&localbase, CLIENT2);
    let run = unique("Page").replace(' ', "");
    // 130 of the trainer's own messages (nothing unread), a link and a hostile one among them.
    let written: Vec<String> = (0..130).map(|i| format!("{run} {i:03}")).collect();
    for text in &written {
        api_send(&localbase, &trainer_token, ELENA_CONVERSATION, text);
    }
    let link = format!("{run} plan: https://coach.example/plan?week=2. javascript:alert(1)");
    let hostile = format!("{run} <img src=x onerror=\"window.__pwned=1\">");
    api_send(&localbase, &trainer_token, ELENA_CONVERSATION, &link);
    api_send(&localbase, &trainer_token, ELENA_CONVERSATION, &hostile);

    let driver = Driver::start();
    let trainer = driver.browser().await;
    sign_in(&trainer, &localbase.app_url(), TRAINER, PASSWORD).await;
    record_errors(&trainer).await;
    // The first two history reads fail (the server answers 503): the conversation tries
    // again by itself, without waiting for the channel to rejoin.
    set_faults(
        &localbase,
        json!({"rules": [{"method": "GET", "path": "/rest/v1/messages",
                          "query": "order=created_at.desc", "status_after": 503, "times": 2}]}),
    );
    open_conversation(&trainer, ELENA_CONVERSATION).await;

    // It opens on the newest page, at the bottom.
    let shown = count_shown(&trainer, &run, 50).await;
    let mut newest: Vec<String> = written[82..].to_vec();
    newest.extend([link.clone(), hostile.clone()]);
    assert_eq!(shown, newest, "the newest 50, oldest first");
    let at_open = eventually(Duration::from_secs(5), "scrolled to the bottom", || async {
        let m = measure(&trainer, &hostile).await;
        let gap = m["height"].as_f64()? - m["top"].as_f64()? - m["client"].as_f64()?;
        (gap < 2.0).then_some(m)
    })
    .await;
    assert!(at_open["height"].as_f64() > at_open["client"].as_f64());
    assert_eq!(
        text_of(&trainer, ".messages .day").await.as_deref(),
        Some("Днес"),
        "a day separator heads today's messages"
    );

    // The message and its link are text and a safe link; the hostile one is only text.
    let anchors = trainer
        .execute(
            "return Array.from(document.querySelectorAll('.messages a')).map(a => [a.getAttribute('href'), a.rel, a.target])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        anchors,
        json!([[
            "https://coach.example/plan?week=2",
            "noopener noreferrer",
            "_blank"
        ]])
    );
    let pwned = trainer
        .execute(
            "return [window.__pwned === undefined, document.querySelectorAll('.messages img').length]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pwned, json!([true, 0]), "message text is never HTML");

    // Scrolling up loads the page before; the message that was at the top stays put.
    let first = written[82].clone();
    // Measured in the same script that scrolls, before the page can react to it.
    let before = trainer
        .execute(
            &format!(
                "document.querySelector('.messages').scrollTop = 0; {}",
                MEASURE
            ),
            vec![json!(first)],
        )
        .await
        .expect("scrolled and measured");
    let shown = count_shown(&trainer, &run, 100).await;
    assert_eq!(shown[..50], written[32..82], "the page before, in order");
    let after = eventually(
        Duration::from_secs(5),
        "the reader's place kept",
        || async {
            let m = measure(&trainer, &first).await;
            let moved = (m["offset"].as_f64()? - before["offset"].as_f64()?).abs();
            (m["height"].as_f64()? > before["height"].as_f64()? && moved < 2.0).then_some(m)
        },
    )
    .await;
    assert!(
        after["top"].as_f64() > Some(1000.0),
        "the list scrolled down by the new page's height, so nothing jumped: {after}"
    );

    // Up to the very first message; then the conversation's start is marked.
    scroll_to_top(&trainer).await;
    count_shown(&trainer, &run, 132).await;
    eventually(Duration::from_secs(5), "the start marked", || async {
        shows(&trainer, ".messages .start").await.then_some(())
    })
    .await;
    assert!(!shows(&trainer, ".messages .older").await);
    assert_eq!(texts_with(&trainer, &run).await[..130], written[..]);

    // Reading old messages, two new ones arrive: no jump, a pill counts them.
    scroll_to_top(&trainer).await;
    let reading = measure(&trainer, &written[0]).await;
    for i in 0..2 {
        api_send(
            &localbase,
            &elena_token,
            ELENA_CONVERSATION,
            &format!("{run} new {i}"),
        );
    }
    let pill = eventually(Duration::from_secs(10), "the pill", || async {
        text_of(&trainer, ".new-below")
            .await
            .filter(|t| t.starts_with('2'))
    })
    .await;
    assert_eq!(pill, "2 нови съобщения ↓");
    // A screen reader hears the newest one, with who wrote it; nothing of the history.
    let heard = text_of(&trainer, ".message-pane [aria-live]")
        .await
        .unwrap_or_default();
    assert!(
        heard.ends_with(&format!(": {run} new 1")) && heard.len() > run.len() + 8,
        "live region: {heard:?}"
    );
    let still = measure(&trainer, &written[0]).await;
    assert_eq!(still["top"], reading["top"], "the reader was not moved");
    click(&trainer, ".new-below").await;
    eventually(
        Duration::from_secs(5),
        "at the newest, pill gone",
        || async {
            let m = measure(&trainer, &format!("{run} new 1")).await;
            let gap = m["height"].as_f64()? - m["top"].as_f64()? - m["client"].as_f64()?;
            (gap < 2.0 && !shows(&trainer, ".new-below").await).then_some(())
        },
    )
    .await;

    // Away in another conversation, 60 arrive from Elena; reopening starts at the first.
    open_conversation(&trainer, TRAINER_CLIENT_CONVERSATION).await;
    let unread: Vec<String> = (0..60).map(|i| format!("{run} unread {i:02}")).collect();
    let badge = format!("button.conversation[data-conversation='{ELENA_CONVERSATION}'] .unread");
    // Leaving marked what the trainer saw (no badge), even right after it arrived.
    eventually(
        Duration::from_secs(5),
        "nothing unread left behind",
        || async { (!shows(&trainer, &badge).await).then_some(()) },
    )
    .await;
    // The first: while the server fails the list three times — the list asks again by
    // itself (nothing else would bring the count in).
    set_faults(
        &localbase,
        json!({"rules": [{"method": "POST", "path": "/rest/v1/rpc/conversation_summaries",
                          "status_after": 503, "times": 3}]}),
    );
    api_send(&localbase, &elena_token, ELENA_CONVERSATION, &unread[0]);
    badge_reaches(&trainer, &badge, "1", Duration::from_secs(10)).await;
    for text in &unread[1..] {
        api_send(&localbase, &elena_token, ELENA_CONVERSATION, text);
    }
    badge_reaches(&trainer, &badge, "60", Duration::from_secs(15)).await;
    open_conversation(&trainer, ELENA_CONVERSATION).await;
    let placed = eventually(
        Duration::from_secs(10),
        "the divider before the first unread, at the top",
        || async {
            let found = trainer
                .execute(
                    "const d = document.querySelector('.messages .unread-divider');
                     if (!d) return null;
                     const list = document.querySelector('.messages');
                     const next = d.nextElementSibling;
                     return { next: next && next.querySelector('.body').textContent,
                              offset: d.getBoundingClientRect().top - list.getBoundingClientRect().top };",
                    vec![],
                )
                .await
                .ok()?;
            (found["offset"].as_f64()?.abs() < 40.0).then_some(found)
        },
    )
    .await;
    assert_eq!(placed["next"], json!(unread[0]), "{placed}");
    assert!(
        texts_with(&trainer, &run).await.len() >= 70,
        "the first page reaches back to the first unread message"
    );
    assert_eq!(recorded_errors(&trainer).await, Vec::<String>::new());
    trainer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trainer_with_many_clients_sees_the_top_at_once_and_finds_anyone() {
    let localbase = Localbase::start_with(&["--max-signups-per-window", "100"]);
    tokio::task::block_in_place(|| seed_clients(&localbase, 60));
    let driver = Driver::start();
    let trainer = driver.browser().await;
    sign_in(&trainer, &localbase.app_url(), TRAINER, PASSWORD).await;
    record_errors(&trainer).await;
    let rendered = || async {
        trainer
            .execute(
                "const list = document.querySelector('.conversations ul');
                 return list ? [Number(list.dataset.count), list.querySelectorAll('button.conversation').length] : null",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| serde_json::from_value::<(usize, usize)>(v).ok())
    };
    // 62 conversations (and the demo's two); the first rows are built, the rest wait.
    let (total, built) = eventually(Duration::from_secs(20), "the list of 62", || async {
        rendered().await.filter(|(total, _)| *total == 62)
    })
    .await;
    assert!(
        (10..62).contains(&built),
        "{built} of {total} rows built at first"
    );

    // Search finds a client whose row was not built yet.
    let search = trainer.find(Locator::Css("input.search")).await.unwrap();
    search.send_keys("клиент 003").await.unwrap();
    eventually(Duration::from_secs(5), "the one searched for", || async {
        let names = trainer
            .execute(
                "return Array.from(document.querySelectorAll('button.conversation .name')).map(n => n.textContent)",
                vec![],
            )
            .await
            .ok()?;
        (names == json!(["Клиент 003"])).then_some(())
    })
    .await;
    search.clear().await.unwrap();
    search.send_keys(" ").await.unwrap();

    // Scrolling down builds the rest.
    eventually(Duration::from_secs(10), "every row, scrolling down", || async {
        trainer
            .execute(
                "const nav = document.querySelector('.conversations'); nav.scrollTop = nav.scrollHeight",
                vec![],
            )
            .await
            .ok()?;
        rendered().await.filter(|(total, built)| *total == 62 && *built == 62)
    })
    .await;
    assert_eq!(recorded_errors(&trainer).await, Vec::<String>::new());
    trainer.close().await.unwrap();
}

//! End-to-end: notifications through the service worker, opening a conversation from one,
//! and the installed shell — an offline reload opens the app with its queued messages.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use fantoccini::Client;
use serde_json::{json, Value};
use support::*;

/// Runs `script` (which may await) in the page and returns its value.
async fn run(browser: &Client, script: &str) -> Value {
    let wrapped = format!(
        "const done = arguments[arguments.length - 1];
         (async () => {{ {script} }})().then(done, (e) => done({{ error: String(e) }}));"
    );
    browser
        .execute_async(&wrapped, vec![])
        .await
        .expect("script ran")
}

/// The notifications the service worker shows now: `[{title, body, tag}]`.
async fn notifications(browser: &Client) -> Vec<Value> {
    let shown = run(
        browser,
        "const registration = await navigator.serviceWorker.ready;
         return (await registration.getNotifications()).map(n => ({ title: n.title, body: n.body, tag: n.tag }));",
    )
    .await;
    shown.as_array().cloned().unwrap_or_default()
}

async fn button_text(browser: &Client) -> String {
    let value = browser
        .execute("const b = document.querySelector('button.notifications'); return b ? b.textContent : ''", vec![])
        .await
        .unwrap_or_default();
    value.as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hidden_tab_gets_a_notification_and_a_notification_opens_its_conversation() {
    let localbase = Localbase::start();
    let driver = Driver::start();
    let trainer = driver.browser().await;
    let client = driver.browser_allowing_notifications().await;
    sign_in(&trainer, &localbase.app_url(), TRAINER, PASSWORD).await;
    sign_in(&client, &localbase.app_url(), CLIENT, PASSWORD).await;
    open_conversation(&trainer, TRAINER_CLIENT_CONVERSATION).await;
    wait_subscribed(&client).await;

    // Never asked on load: the trainer (not yet allowed) sees a control, no prompt.
    assert_eq!(button_text(&trainer).await, "Включи известията");
    // The client allowed them: on, and the control turns them off and on again.
    assert_eq!(button_text(&client).await, "Известия: вкл.");

    // Reading the conversation: no notification.
    send(&trainer, "Виждаш ли това?").await;
    eventually(Duration::from_secs(5), "message shown", || async {
        bubble_texts(&client)
            .await
            .iter()
            .any(|t| t == "Виждаш ли това?")
            .then_some(())
    })
    .await;
    assert!(
        notifications(&client).await.is_empty(),
        "nothing for a message being read"
    );

    // The tab goes to the background: the next message raises one, by the service worker.
    set_hidden(&client, true).await;
    send(&trainer, "Утре тренировката е в 8:00,\nне закъснявай!").await;
    let shown = eventually(Duration::from_secs(10), "a notification", || async {
        let shown = notifications(&client).await;
        (!shown.is_empty()).then_some(shown)
    })
    .await;
    assert_eq!(
        shown,
        vec![json!({
            "title": "Мария Петрова",
            "body": "Утре тренировката е в 8:00, не закъснявай!",
            "tag": format!("conversation-{TRAINER_CLIENT_CONVERSATION}"),
        })]
    );
    // One per conversation: the next replaces it.
    send(&trainer, "И вземи вода.").await;
    eventually(
        Duration::from_secs(10),
        "the newer notification",
        || async {
            let shown = notifications(&client).await;
            (shown.len() == 1 && shown[0]["body"] == "И вземи вода.").then_some(())
        },
    )
    .await;

    // Turned off: nothing more.
    set_hidden(&client, false).await;
    click(&client, "button.notifications").await;
    assert_eq!(button_text(&client).await, "Известия: изкл.");
    run(&client, "for (const n of await (await navigator.serviceWorker.ready).getNotifications()) n.close(); return null;").await;
    set_hidden(&client, true).await;
    send(&trainer, "Тишина").await;
    eventually(Duration::from_secs(10), "the message arrived", || async {
        bubble_texts(&client)
            .await
            .iter()
            .any(|t| t == "Тишина")
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(notifications(&client).await.is_empty(), "off means off");

    // On again, but the conversation muted: no notification and no count in the title,
    // while the list still shows the unread badge. Unmuted, both come back.
    set_hidden(&client, false).await;
    click(&client, "button.notifications").await;
    assert_eq!(button_text(&client).await, "Известия: вкл.");
    click(&client, ".chat button.mute").await;
    eventually(
        Duration::from_secs(10),
        "muted, in the list too",
        || async {
            shows(&client, "button.conversation .flag.muted")
                .await
                .then_some(())
        },
    )
    .await;
    set_hidden(&client, true).await;
    send(&trainer, "Заглушено").await;
    eventually(
        Duration::from_secs(10),
        "the muted message arrived",
        || async {
            bubble_texts(&client)
                .await
                .iter()
                .any(|t| t == "Заглушено")
                .then_some(())
        },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "the unread badge of the muted conversation",
        || async { text_of(&client, "button.conversation .unread").await },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        notifications(&client).await.is_empty(),
        "muted: no notification"
    );
    assert_eq!(
        client.title().await.unwrap(),
        "Coach Chat",
        "muted: no count"
    );
    click(&client, ".chat button.mute").await;
    eventually(
        Duration::from_secs(10),
        "the count back in the title",
        || async {
            let title = client.title().await.ok()?;
            title.starts_with('(').then_some(())
        },
    )
    .await;
    send(&trainer, "Вече се чува").await;
    eventually(Duration::from_secs(10), "a notification again", || async {
        let shown = notifications(&client).await;
        (shown.len() == 1 && shown[0]["body"] == "Вече се чува").then_some(())
    })
    .await;

    // A click on it, with the client back on the list: the service worker's
    // `notificationclick` closes it and has the open page show its conversation. (Dispatched
    // in the worker through DevTools; a browser has no way to click a system notification.)
    set_hidden(&client, false).await;
    run(
        &client,
        "document.querySelector('.chat button.back').click(); return null;",
    )
    .await;
    let client_chat = format!(".chat[data-conversation='{TRAINER_CLIENT_CONVERSATION}']");
    eventually(Duration::from_secs(5), "the client on the list", || async {
        (!shows(&client, &client_chat).await).then_some(())
    })
    .await;
    run_in_service_worker(
        &client,
        "self.registration.getNotifications().then(([shown]) => self.dispatchEvent(
             new NotificationEvent('notificationclick', { notification: shown })))",
    )
    .await;
    eventually(
        Duration::from_secs(5),
        "the notification's conversation open",
        || async { shows(&client, &client_chat).await.then_some(()) },
    )
    .await;
    assert!(
        notifications(&client).await.is_empty(),
        "the clicked notification is closed"
    );

    // The page's side of it for another conversation: the trainer, in one conversation,
    // is told to open another (the message the worker posts).
    run(
        &trainer,
        &format!(
            "navigator.serviceWorker.dispatchEvent(new MessageEvent('message', {{ data: {{ type: 'open-conversation', conversation: '{ELENA_CONVERSATION}' }} }})); return null;"
        ),
    )
    .await;
    eventually(
        Duration::from_secs(5),
        "the second conversation open",
        || async {
            shows(
                &trainer,
                &format!(".chat[data-conversation='{ELENA_CONVERSATION}']"),
            )
            .await
            .then_some(())
        },
    )
    .await;
    // Pinned, this older conversation leads the trainer's list, also after a reload.
    click(&trainer, ".chat button.pin").await;
    let first_row = "button.conversation";
    for reload in [false, true] {
        if reload {
            trainer.refresh().await.unwrap();
        }
        eventually(Duration::from_secs(10), "the pinned conversation first", || async {
            let first = run(
                &trainer,
                &format!("const b = document.querySelector('{first_row}'); return b && b.dataset.conversation === '{ELENA_CONVERSATION}' && !!b.querySelector('.flag.pinned')"),
            )
            .await;
            (first == json!(true)).then_some(())
        })
        .await;
    }
    // With no window open, it opens the app on `?conversation=`.
    trainer
        .goto(&format!(
            "{}?conversation={TRAINER_CLIENT_CONVERSATION}",
            localbase.app_url()
        ))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "the conversation from the address",
        || async {
            shows(
                &trainer,
                &format!(".chat[data-conversation='{TRAINER_CLIENT_CONVERSATION}']"),
            )
            .await
            .then_some(())
        },
    )
    .await;
    let url = trainer.current_url().await.unwrap();
    assert!(url.query().is_none(), "a reload does not reopen it: {url}");

    let _ = trainer.close().await;
    let _ = client.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_offline_reload_opens_the_app_with_its_queued_messages() {
    let mut localbase = Localbase::start();
    let driver = Driver::start();
    let client = driver.browser().await;
    sign_in(&client, &localbase.app_url(), CLIENT, PASSWORD).await;
    wait_subscribed(&client).await;
    // The service worker controls the page and holds the shell.
    eventually(Duration::from_secs(20), "the shell cached", || async {
        let ready = run(
            &client,
            "if (!navigator.serviceWorker.controller) return false;
             for (const name of await caches.keys()) {
               if (await (await caches.open(name)).match('index.html')) return true;
             }
             return false;",
        )
        .await;
        (ready == json!(true)).then_some(())
    })
    .await;
    // Let the list and session be saved, then the whole server goes away (API and site).
    localbase.stop();
    send(&client, "Написано без връзка").await;
    eventually(Duration::from_secs(5), "queued", || async {
        (pending_bubbles(&client).await == 1).then_some(())
    })
    .await;

    client
        .refresh()
        .await
        .expect("an offline reload still opens the app");
    eventually(
        Duration::from_secs(20),
        "the app, its list and its queue, offline",
        || async {
            let list = shows(
                &client,
                &format!("button.conversation[data-conversation='{TRAINER_CLIENT_CONVERSATION}']"),
            )
            .await;
            let queued = bubble_texts(&client)
                .await
                .iter()
                .any(|t| t == "Написано без връзка");
            (list && queued).then_some(())
        },
    )
    .await;
    assert_eq!(pending_bubbles(&client).await, 1);

    localbase.resume();
    wait_for_ticks(
        &client,
        "Написано без връзка",
        "Изпратено",
        Duration::from_secs(30),
    )
    .await;
    let _ = client.close().await;
}

/// `localbase serve` runs the e-mail notifier: the demo's unread messages become digests
/// in its mail folder, in the recipient's language, once each.
#[tokio::test(flavor = "multi_thread")]
async fn localbase_serve_mails_digests_of_unread_messages_to_its_folder() {
    let localbase = Localbase::start_with(&[
        "--notify-delay-minutes",
        "0",
        "--notify-interval-seconds",
        "0.2",
    ]);
    let mail_dir = localbase.mail_dir();
    let read_all = || -> Vec<String> {
        std::fs::read_dir(&mail_dir)
            .map(|entries| {
                entries
                    .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    // The seed leaves one unread message for each client, from the trainer.
    let mail = eventually(Duration::from_secs(20), "two digests", || async {
        let mail = read_all();
        (mail.len() >= 2).then_some(mail)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await; // a few more rounds
    assert_eq!(read_all().len(), 2, "once each: {mail:?}");
    let to_ivan = mail
        .iter()
        .find(|m| m.contains("To: client@example.com"))
        .expect("a digest to the client");
    assert!(to_ivan.contains("List-Unsubscribe"), "{to_ivan}");
    assert!(mail.iter().any(|m| m.contains("To: client2@example.com")));
}

/// The shell's cache follows deploys: a new index.html is cached under a new version on
/// the next start, and the old version is deleted — never a mix of the two.
#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_replaces_the_cached_shell_on_the_next_start() {
    let localbase = Localbase::start();
    let site = StaticApp::serve(&localbase.api_url());
    let driver = Driver::start();
    let browser = driver.browser().await;
    browser.goto(&site.url()).await.unwrap();
    let shells = || async {
        let value = run(
            &browser,
            "const out = [];
             for (const name of await caches.keys()) {
               const page = await (await caches.open(name)).match('index.html');
               out.push([name, page ? await page.text() : null]);
             }
             return out;",
        )
        .await;
        serde_json::from_value::<Vec<(String, Option<String>)>>(value).unwrap_or_default()
    };
    let first = eventually(
        Duration::from_secs(20),
        "the first shell cached",
        || async {
            let all = shells().await;
            (all.len() == 1 && all[0].1.is_some()).then(|| all[0].0.clone())
        },
    )
    .await;

    // Deploy: a new page (as a new build would bring, with its new hashed files).
    let index = site.dir().join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, first_in_page(&html, "<!-- release 2 -->")).unwrap();
    browser.refresh().await.unwrap();
    let all = eventually(
        Duration::from_secs(20),
        "only the new shell cached",
        || async {
            let all = shells().await;
            (all.len() == 1 && all[0].0 != first).then_some(all)
        },
    )
    .await;
    assert!(
        all[0]
            .1
            .as_deref()
            .is_some_and(|page| page.contains("release 2")),
        "the new version holds the new page: {all:?}"
    );
    let _ = browser.close().await;
}

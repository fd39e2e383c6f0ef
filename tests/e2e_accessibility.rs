//! End-to-end: the app for people who use a keyboard, a screen reader, a phone, or dark
//! mode. axe-core (pinned in package.json) checks the sign-in, list and chat screens in
//! both themes and fails on any serious or critical violation; the keyboard reaches and
//! opens conversations; the composer is ready when a chat opens; Esc goes back on a phone.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use fantoccini::{key::Key, Client, Locator};
use serde_json::json;
use support::*;

/// Runs axe-core on the page; the serious and critical violations, one line each.
async fn violations(browser: &Client, screen: &str) -> Vec<String> {
    let axe = std::fs::read_to_string(workspace().join("node_modules/axe-core/axe.min.js"))
        .expect("axe-core installed (scripts/setup.sh)");
    browser
        .execute(&format!("{axe}; return true"), vec![])
        .await
        .expect("axe-core injected");
    let found = browser
        .execute(
            "return axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 4)
                    .map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160))
                    .join(' | ')))",
            vec![],
        )
        .await
        .expect("axe ran");
    let found: Vec<String> = serde_json::from_value(found).unwrap_or_default();
    found
        .into_iter()
        .map(|v| format!("{screen}: {v}"))
        .collect()
}

/// Saves what the browser shows into `docs/screenshots/` (the README shows them).
async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("screenshot");
    let folder = workspace().join("docs/screenshots");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

async fn set_theme(browser: &Client, theme: &str) {
    click(browser, "button.theme").await;
    eventually(Duration::from_secs(5), theme, || async {
        let now = browser
            .execute(
                "return document.documentElement.dataset.theme || null",
                vec![],
            )
            .await
            .ok()?;
        (now == json!(theme)).then_some(())
    })
    .await;
}

async fn focused(browser: &Client) -> String {
    browser
        .execute(
            "const e = document.activeElement;
             return e.tagName.toLowerCase() + (e.className ? '.' + e.className.split(' ').join('.') : '')",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn press(browser: &Client, key: Key) {
    let active = browser.active_element().await.expect("something has focus");
    active
        .send_keys(&char::from(key).to_string())
        .await
        .expect("key pressed");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_screen_passes_axe_in_both_themes_and_works_from_the_keyboard() {
    let localbase = Localbase::start();
    let driver = Driver::start();
    let trainer = driver.browser().await;
    let mut found = Vec::new();

    trainer.goto(&localbase.app_url()).await.unwrap();
    trainer
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("form.sign-in-form, .sign-in form"))
        .await
        .expect("sign-in form");
    found.extend(violations(&trainer, "sign-in, light").await);
    set_theme(&trainer, "dark").await;
    found.extend(violations(&trainer, "sign-in, dark").await);

    sign_in(&trainer, &localbase.app_url(), TRAINER, PASSWORD).await;
    trainer
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("button.conversation"))
        .await
        .expect("the list");
    // The theme chosen on the sign-in screen is remembered.
    let theme = trainer
        .execute("return document.documentElement.dataset.theme", vec![])
        .await
        .unwrap();
    assert_eq!(theme, json!("dark"), "the chosen theme stays");
    found.extend(violations(&trainer, "list, dark").await);

    // Searching by name narrows the list as one types, in any case, in Cyrillic too.
    let search = trainer.find(Locator::Css("input.search")).await.unwrap();
    let names = || async {
        let names = trainer
            .execute(
                "return Array.from(document.querySelectorAll('button.conversation .name')).map(n => n.textContent)",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value::<Vec<String>>(names).unwrap()
    };
    let everyone = names().await;
    assert!(everyone.len() >= 2, "{everyone:?}");
    let someone = everyone[1].clone();
    let part: String = someone
        .chars()
        .skip(1)
        .take(3)
        .collect::<String>()
        .to_uppercase();
    search.send_keys(&part).await.unwrap();
    eventually(
        Duration::from_secs(5),
        "only the one searched for",
        || async { (names().await == [someone.clone()]).then_some(()) },
    )
    .await;
    search.send_keys("щщщ").await.unwrap();
    eventually(Duration::from_secs(5), "nobody found, said so", || async {
        let text = page_text(&trainer).await;
        (names().await.is_empty() && text.contains("Никой не отговаря на търсенето.")).then_some(())
    })
    .await;
    search.clear().await.unwrap();
    search.send_keys(" ").await.unwrap();
    eventually(Duration::from_secs(5), "everyone again", || async {
        (names().await == everyone).then_some(())
    })
    .await;

    // The keyboard: the list takes focus, arrows move, Enter opens; the composer is ready.
    trainer
        .execute(
            "document.querySelector('button.conversation').focus()",
            vec![],
        )
        .await
        .unwrap();
    press(&trainer, Key::Down).await;
    let second = trainer
        .execute(
            "return document.activeElement.dataset.conversation || null",
            vec![],
        )
        .await
        .unwrap();
    let all = trainer
        .execute(
            "return Array.from(document.querySelectorAll('button.conversation')).map(b => b.dataset.conversation)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(second, all[1], "Down moves to the next conversation");
    press(&trainer, Key::Up).await;
    press(&trainer, Key::Enter).await;
    wait_subscribed(&trainer).await;
    eventually(Duration::from_secs(5), "the composer focused", || async {
        (focused(&trainer).await == "textarea").then_some(())
    })
    .await;
    send(
        &trainer,
        "Как мина тренировката? https://coach.example/plan",
    )
    .await;
    wait_for_ticks(
        &trainer,
        "Как мина тренировката? https://coach.example/plan",
        "Изпратено",
        Duration::from_secs(10),
    )
    .await;
    found.extend(violations(&trainer, "chat, dark").await);
    screenshot(&trainer, "desktop-dark").await;
    set_theme(&trainer, "light").await;
    found.extend(violations(&trainer, "chat, light").await);
    screenshot(&trainer, "desktop-light").await;
    // Diagnostics for a support request: the socket, each channel, the last error.
    click(&trainer, ".diagnostics-toggle").await;
    let report = eventually(Duration::from_secs(5), "the diagnostics", || async {
        text_of(&trainer, ".diagnostics pre")
            .await
            .filter(|t| t.contains("socket: Open"))
    })
    .await;
    assert!(report.starts_with("Coach Chat "), "{report}");
    for part in [
        "realtime:user:",
        "realtime:conversation:",
        ": Joined",
        "heartbeat round trip:",
        "last error:",
        "online: true",
    ] {
        assert!(report.contains(part), "{part:?} missing from:\n{report}");
    }
    found.extend(violations(&trainer, "diagnostics, light").await);
    click(&trainer, ".diagnostics-toggle").await;
    click(&trainer, ".topbar .lang").await;
    found.extend(violations(&trainer, "chat, light, English").await);
    click(&trainer, ".topbar .lang").await;

    // On a phone, Esc goes back from the chat to the list.
    trainer.set_window_size(390, 800).await.unwrap();
    // Nothing wider than the phone: no sideways scrolling, every control reachable.
    eventually(Duration::from_secs(5), "the page fits the phone", || async {
        let fits = trainer
            .execute(
                "const d = document.documentElement;
                 return d.scrollWidth <= d.clientWidth &&
                   Array.from(document.querySelectorAll('button')).every(b => b.getBoundingClientRect().right <= d.clientWidth + 1)",
                vec![],
            )
            .await
            .ok()?;
        (fits == json!(true)).then_some(())
    })
    .await;
    set_theme(&trainer, "dark").await;
    found.extend(violations(&trainer, "chat, phone, dark").await);
    screenshot(&trainer, "phone-chat-dark").await;
    trainer
        .find(Locator::Css(".composer textarea"))
        .await
        .unwrap()
        .send_keys(&char::from(Key::Escape).to_string())
        .await
        .unwrap();
    eventually(Duration::from_secs(5), "back to the list", || async {
        let list_shown = trainer
            .execute(
                "const list = document.querySelector('.conversations');
                 return !!list && list.getBoundingClientRect().width > 0 && !document.querySelector('.chat .composer')",
                vec![],
            )
            .await
            .ok()?;
        (list_shown == json!(true)).then_some(())
    })
    .await;
    found.extend(violations(&trainer, "list, phone, dark").await);
    screenshot(&trainer, "phone-list-dark").await;

    assert!(
        found.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        found.join("\n")
    );
    trainer.close().await.unwrap();
}

//! End-to-end reliability: nothing lost, nothing doubled, through a server restart.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use support::*;

/// Texts with `prefix`, in the order shown.
async fn texts_with(browser: &fantoccini::Client, prefix: &str) -> Vec<String> {
    bubble_texts(browser)
        .await
        .into_iter()
        .filter(|t| t.starts_with(prefix))
        .collect()
}

async fn pending_bubbles(browser: &fantoccini::Client) -> usize {
    let script = "return document.querySelectorAll('.bubble.mine:not([data-delivery=Изпратено]):not([data-delivery=Прочетено]):not([data-delivery=Sent]):not([data-delivery=Read])').length";
    browser
        .execute(script, vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(u64::MAX) as usize
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_restart_mid_conversation_loses_and_doubles_nothing() {
    let mut localbase = Localbase::start();
    let driver = Driver::start();
    let trainer = driver.browser().await;
    let client = driver.browser().await;
    let app = localbase.app_url();
    sign_in(&trainer, &app, TRAINER, PASSWORD).await;
    sign_in(&client, &app, CLIENT, PASSWORD).await;
    open_conversation(&trainer, TRAINER_CLIENT_CONVERSATION).await;
    wait_subscribed(&client).await;

    let run = unique("R").replace(' ', "");
    for i in 0..50 {
        send(&trainer, &format!("{run} T{i:02}")).await;
        send(&client, &format!("{run} C{i:02}")).await;
        if i == 20 {
            tokio::task::block_in_place(|| localbase.restart());
        }
    }

    for (name, browser) in [("trainer", &trainer), ("client", &client)] {
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            let texts = texts_with(browser, &run).await;
            let pending = pending_bubbles(browser).await;
            if texts.len() >= 100 && pending == 0 {
                break;
            }
            if std::time::Instant::now() > deadline {
                let status = browser
                    .find(fantoccini::Locator::Css(".channel-status"))
                    .await
                    .unwrap()
                    .text()
                    .await;
                panic!(
                    "{name}: {} messages, {pending} pending, status {status:?}: {texts:?}",
                    texts.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let at_trainer = texts_with(&trainer, &run).await;
    let at_client = texts_with(&client, &run).await;
    assert_eq!(at_trainer.len(), 100, "exactly once: {at_trainer:?}");
    assert_eq!(
        at_trainer, at_client,
        "both sides show the same conversation in the same order"
    );
    for sender in ["T", "C"] {
        let own: Vec<&String> = at_trainer
            .iter()
            .filter(|t| t.contains(&format!(" {sender}")))
            .collect();
        let expected: Vec<String> = (0..50).map(|i| format!("{run} {sender}{i:02}")).collect();
        assert_eq!(
            own,
            expected.iter().collect::<Vec<_>>(),
            "{sender}'s messages keep their order"
        );
    }
    trainer.close().await.unwrap();
    client.close().await.unwrap();
}

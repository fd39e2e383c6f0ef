//! End-to-end: two real browser sessions (trainer and client) chat through localbase.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn trainer_and_client_chat_in_real_time_and_history_survives_reload() {
    let localbase = Localbase::start();
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);

    let question = unique("Как си днес? 💪");
    send(trainer, &question).await;
    let sent_at = Instant::now();
    eventually(
        Duration::from_secs(5),
        "trainer's message at the client",
        || async { bubble_texts(client).await.contains(&question).then_some(()) },
    )
    .await;
    println!(
        "trainer → client shown after {:?} (incl. WebDriver polling)",
        sent_at.elapsed()
    );

    let answer = unique("Отлично, благодаря!\nДо утре.");
    send(client, &answer).await;
    eventually(
        Duration::from_secs(5),
        "client's reply at the trainer",
        || async { bubble_texts(trainer).await.contains(&answer).then_some(()) },
    )
    .await;

    // Nothing doubled on the sender's side either (optimistic bubble + database row).
    for browser in [trainer, client] {
        let texts = bubble_texts(browser).await;
        assert_eq!(
            texts.iter().filter(|t| **t == question).count(),
            1,
            "{texts:?}"
        );
        assert_eq!(
            texts.iter().filter(|t| **t == answer).count(),
            1,
            "{texts:?}"
        );
    }

    trainer.refresh().await.unwrap();
    client.refresh().await.unwrap();
    // The session survives the reload; the trainer reopens the conversation.
    open_conversation(trainer, TRAINER_CLIENT_CONVERSATION).await;
    wait_subscribed(client).await;
    for browser in [trainer, client] {
        let texts = eventually(Duration::from_secs(10), "history after reload", || async {
            let texts = bubble_texts(browser).await;
            texts.contains(&answer).then_some(texts)
        })
        .await;
        let q = texts
            .iter()
            .position(|t| *t == question)
            .expect("question kept");
        let a = texts
            .iter()
            .position(|t| *t == answer)
            .expect("answer kept");
        assert!(q < a, "order kept: {texts:?}");
        assert_eq!(
            texts
                .iter()
                .filter(|t| **t == question || **t == answer)
                .count(),
            2,
            "{texts:?}"
        );
        assert!(texts.len() >= 5, "seeded history is shown too: {texts:?}");
    }

    chat.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_explained_and_another_client_sees_nothing_of_the_conversation() {
    let localbase = Localbase::start();
    let driver = Driver::start();
    let app = localbase.app_url();

    let stranger = driver.browser().await;
    sign_in(&stranger, &app, CLIENT2, "not-the-password").await;
    let error = stranger
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form.card .error"))
        .await
        .expect("an error is shown");
    assert_eq!(error.text().await.unwrap(), "Грешен имейл или парола.");

    stranger.goto(&app).await.unwrap();
    sign_in(&stranger, &app, CLIENT2, PASSWORD).await;
    wait_subscribed(&stranger).await;
    let conversations = stranger
        .find_all(Locator::Css("button.conversation"))
        .await
        .unwrap();
    assert_eq!(
        conversations.len(),
        1,
        "client2 has only their own conversation"
    );
    let hidden = format!("button.conversation[data-conversation='{TRAINER_CLIENT_CONVERSATION}']");
    assert!(stranger.find(Locator::Css(&hidden)).await.is_err());
    let texts = bubble_texts(&stranger).await;
    assert!(
        !texts.iter().any(|t| t.contains("клековете")),
        "no message of another conversation: {texts:?}"
    );
    stranger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_forgets_the_session_and_the_language_can_be_switched() {
    let localbase = Localbase::start();
    let driver = Driver::start();
    let app = localbase.app_url();
    let browser = driver.browser().await;

    browser.goto(&app).await.unwrap();
    let switch = browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("main.sign-in button.lang"))
        .await
        .expect("language switch on the sign-in page");
    let title = || async {
        browser
            .find(Locator::Css("form.card h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert_eq!(title().await, "Вход в Coach Chat");
    switch.click().await.unwrap();
    assert_eq!(title().await, "Sign in to Coach Chat");

    sign_in(&browser, &app, CLIENT, PASSWORD).await;
    wait_subscribed(&browser).await;
    browser.refresh().await.unwrap();
    wait_subscribed(&browser).await; // still signed in after a reload
    assert_eq!(
        browser
            .find(Locator::Css(".topbar button.lang"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "Български",
        "the chosen language is remembered"
    );

    browser
        .find(Locator::Css(".topbar button.sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form.card"))
        .await
        .expect("back at sign-in");
    let stored = browser
        .execute(
            "return window.localStorage.getItem('coach-chat.session')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        stored,
        serde_json::Value::Null,
        "stored credentials are cleared"
    );
    browser.refresh().await.unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form.card"))
        .await
        .expect("still signed out after a reload");
    browser.close().await.unwrap();
}

//! End-to-end: presence, typing, last seen and the unread count in the title, between
//! two real browser sessions through localbase.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::time::Duration;

use fantoccini::{key::Key, Client, Locator};
use serde_json::json;
use support::*;

/// The text of the first element matching `selector`, if there is one.
async fn text_of(browser: &Client, selector: &str) -> Option<String> {
    let script = "const e = document.querySelector(arguments[0]); return e ? e.textContent : null";
    browser
        .execute(script, vec![json!(selector)])
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
}

async fn wait_for_text(browser: &Client, selector: &str, what: &str, check: impl Fn(&str) -> bool) {
    eventually(Duration::from_secs(10), what, || async {
        text_of(browser, selector)
            .await
            .filter(|text| check(text))
            .map(drop)
    })
    .await;
}

async fn title(browser: &Client) -> String {
    browser.title().await.unwrap_or_default()
}

async fn type_into_composer(browser: &Client, text: &str) {
    browser
        .find(Locator::Css(".composer textarea"))
        .await
        .expect("composer")
        .send_keys(text)
        .await
        .expect("type");
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_typing_last_seen_and_unread_title() {
    let localbase = Localbase::start();
    let chat = Chat::open(&localbase.app_url()).await;
    let (trainer, client) = (&chat.trainer, &chat.client);

    // Both have the conversation open: each sees the other online.
    wait_for_text(
        trainer,
        ".chat .presence.online",
        "client online at the trainer",
        |t| t == "на линия",
    )
    .await;
    wait_for_text(
        client,
        ".chat .presence.online",
        "trainer online at the client",
        |t| t == "на линия",
    )
    .await;
    // The list says so too (last seen moments ago); Елена never opened the app: nothing.
    wait_for_text(
        trainer,
        &format!("button.conversation[data-conversation='{TRAINER_CLIENT_CONVERSATION}'] .seen"),
        "client online in the trainer's list",
        |t| t == "на линия",
    )
    .await;
    assert!(
        !shows(
            trainer,
            "button.conversation[data-conversation='c1000000-0000-4000-8000-000000000002'] .seen"
        )
        .await,
        "someone never seen has no presence line"
    );

    // Typing shows with the name, and clears when the message arrives.
    type_into_composer(client, "Hello coach").await;
    wait_for_text(
        trainer,
        ".chat .presence.typing",
        "client typing at the trainer",
        |t| t == "Иван Георгиев пише…",
    )
    .await;
    client
        .find(Locator::Css(".composer textarea"))
        .await
        .unwrap()
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    eventually(
        Duration::from_secs(5),
        "typing cleared by the message",
        || async {
            let typing = shows(trainer, ".chat .presence.typing").await;
            let arrived = bubble_texts(trainer)
                .await
                .iter()
                .any(|t| t == "Hello coach");
            (!typing && arrived).then_some(())
        },
    )
    .await;

    // An emptied draft stops the indicator at once (no 6 s wait).
    type_into_composer(client, "x").await;
    wait_for_text(trainer, ".chat .presence.typing", "typing again", |_| true).await;
    type_into_composer(client, &char::from(Key::Backspace).to_string()).await;
    eventually(
        Duration::from_secs(3),
        "typing stopped by an empty draft",
        || async { (!shows(trainer, ".chat .presence.typing").await).then_some(()) },
    )
    .await;

    // Leaving the composer stops it too, at once — well before the 6 s a lost stop takes.
    type_into_composer(client, "y").await;
    wait_for_text(
        trainer,
        ".chat .presence.typing",
        "typing once more",
        |_| true,
    )
    .await;
    client
        .execute(
            "document.querySelector('.composer textarea').blur()",
            vec![],
        )
        .await
        .unwrap();
    eventually(
        Duration::from_secs(2),
        "typing stopped by leaving the composer",
        || async { (!shows(trainer, ".chat .presence.typing").await).then_some(()) },
    )
    .await;
    type_into_composer(client, &char::from(Key::Backspace).to_string()).await;

    // A pause stops it as well: 4 s without a keystroke, not the 6 s a lost stop takes.
    let typed = std::time::Instant::now();
    type_into_composer(client, "z").await;
    wait_for_text(
        trainer,
        ".chat .presence.typing",
        "typing before a pause",
        |_| true,
    )
    .await;
    eventually(
        Duration::from_secs(8),
        "typing stopped by the pause",
        || async { (!shows(trainer, ".chat .presence.typing").await).then_some(()) },
    )
    .await;
    let paused = typed.elapsed();
    assert!(
        paused < Duration::from_millis(5_300),
        "the indicator went {paused:?} after the last keystroke (idle stop: 4 s; a lost stop: 6 s)"
    );
    type_into_composer(client, &char::from(Key::Backspace).to_string()).await;

    // The title counts what the client has not read: their tab goes to the background,
    // two messages arrive, then they come back and read them.
    // (What the open conversation marked read leaves the count with the list's next read.)
    eventually(Duration::from_secs(5), "nothing unread yet", || async {
        (title(client).await == "Coach Chat").then_some(())
    })
    .await;
    // The app's badge (Badging API) follows it: what the page asks of the browser is recorded.
    client
        .execute(
            "window.__badge = [];
             navigator.setAppBadge = (n) => { window.__badge.push(n); return Promise.resolve(); };
             navigator.clearAppBadge = () => { window.__badge.push(0); return Promise.resolve(); };",
            vec![],
        )
        .await
        .unwrap();
    let badge = || async {
        let asked = client
            .execute("return window.__badge.at(-1)", vec![])
            .await
            .ok()?;
        asked.as_i64()
    };
    set_hidden(client, true).await;
    send(trainer, "Първо").await;
    send(trainer, "Второ").await;
    eventually(
        Duration::from_secs(10),
        "(2) in the client's title and on the app badge",
        || async {
            (title(client).await == "(2) Coach Chat" && badge().await == Some(2)).then_some(())
        },
    )
    .await;
    set_hidden(client, false).await;
    eventually(
        Duration::from_secs(10),
        "title back to the name once read, badge cleared",
        || async {
            (title(client).await == "Coach Chat" && badge().await == Some(0)).then_some(())
        },
    )
    .await;

    // Two tabs of the client are one presence: closing one keeps them online, closing the
    // other (mid-draft: its stop is never sent) makes them offline and clears typing.
    let first_tab = client.window().await.unwrap();
    let second_tab = client.new_window(true).await.unwrap();
    client.switch_to_window(second_tab.handle).await.unwrap();
    client.goto(&localbase.app_url()).await.unwrap();
    wait_subscribed(client).await;
    client.switch_to_window(first_tab.clone()).await.unwrap();
    client.close_window().await.unwrap();
    client
        .switch_to_window(client.windows().await.unwrap()[0].clone())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await; // a leave would have arrived by now
    assert_eq!(
        text_of(trainer, ".chat .presence").await.as_deref(),
        Some("на линия"),
        "the second tab keeps the client online"
    );
    type_into_composer(client, "half a thought").await;
    wait_for_text(
        trainer,
        ".chat .presence.typing",
        "typing from the second tab",
        |_| true,
    )
    .await;
    client.close_window().await.unwrap();
    wait_for_text(
        trainer,
        ".chat .presence",
        "client offline once the last tab closed",
        |t| t.starts_with("последно на линия преди"),
    )
    .await;
    assert!(!shows(trainer, ".chat .presence.typing").await);

    let _ = chat.trainer.close().await;
}

/// A REST call with the anon key and, if given, a user's token; the answer parsed.
fn rest(
    localbase: &Localbase,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("apikey", ANON_KEY)];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    let (status, text) = http(localbase, method, path, &headers, body.as_ref());
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Last seen is written only by its owner, by the server's clock, and read only by the
/// people who share a conversation with them.
#[tokio::test(flavor = "multi_thread")]
async fn last_seen_is_private_and_only_the_server_dates_it() {
    let localbase = Localbase::start();
    let (client_token, client_id) = api_sign_in(&localbase, CLIENT);
    let (trainer_token, _) = api_sign_in(&localbase, TRAINER);
    let (stranger_token, _) = api_sign_in(&localbase, CLIENT2);

    let (status, _) = rest(
        &localbase,
        "POST",
        "/rest/v1/rpc/touch_last_seen",
        Some(&client_token),
        Some(json!({})),
    );
    assert_eq!(status, 200);
    let path = format!("/rest/v1/profiles?select=last_seen_at&id=eq.{client_id}");
    let (_, seen_by_trainer) = rest(&localbase, "GET", &path, Some(&trainer_token), None);
    assert!(
        seen_by_trainer[0]["last_seen_at"].is_string(),
        "{seen_by_trainer}"
    );
    let (_, seen_by_stranger) = rest(&localbase, "GET", &path, Some(&stranger_token), None);
    assert_eq!(seen_by_stranger, json!([]), "a stranger sees nothing");

    // "Online forever" is refused: the column is not theirs to write.
    let (status, _) = rest(
        &localbase,
        "PATCH",
        &format!("/rest/v1/profiles?id=eq.{client_id}"),
        Some(&client_token),
        Some(json!({ "last_seen_at": "2099-01-01T00:00:00Z" })),
    );
    assert!(
        status == 401 || status == 403,
        "PATCH last_seen_at gave {status}"
    );
    let (status, _) = rest(
        &localbase,
        "POST",
        "/rest/v1/rpc/touch_last_seen",
        None,
        Some(json!({})),
    );
    assert!(
        status == 401 || status == 403 || status == 404,
        "anonymous touch gave {status}"
    );
}
